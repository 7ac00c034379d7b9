"""Load an installed model onto a device as its load plan says: precision, text encoder place, VAE dtype.

The one module that puts the model store (engine.weights), the model, the text encoders and the runtime's load
plan together, so it sits above all four and none of them imports it.

A quantised precision the store does not hold yet is made once (and recorded in the store), so every later
load reads the quantised checkpoint directly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from engine.config import Preset, get_preset
from engine.model.preview import PreviewMap
from engine.model.transformer import InfinityStarTransformer
from engine.model.vae import VideoVAE
from engine.runtime.hardware import DeviceInfo, detect_device
from engine.runtime.load_plan import LoadPlan, choose_load_plan
from engine.runtime.precision import QUANTIZED_PRECISIONS
from engine.text import T5TextEncoder
from engine.text.words import WORDS_FILE, WordTextEncoder
from engine.weights.store import ModelStore, ResolvedModel
from engine.weights.transformer_checkpoint import load_transformer

DENSE_DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}
DEFAULT_SECONDS = 5
VAE_DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}


class ModelLoadError(ValueError):
    """The model cannot be loaded as asked: the message says why and what would fit."""


@dataclass
class LoadedModel:
    model_id: str
    preset: Preset
    precision: str
    device: torch.device
    transformer: InfinityStarTransformer
    vae: VideoVAE
    text_encoder: T5TextEncoder | None
    plan: LoadPlan
    resolved: ResolvedModel
    preview: PreviewMap | None = None


def load_model(
    model_id: str,
    device: str | DeviceInfo = "auto",
    precision: str | None = None,
    seconds: int | None = None,
    aspect: str | float = "16:9",
    store: ModelStore | None = None,
    progress: Callable[[str], None] = print,
) -> LoadedModel:
    """`precision` None lets the load plan choose; a plan that does not fit the device is refused with its reasons.
    The plan is made for videos of `seconds` (default: 5 s)."""
    store = store or ModelStore()
    manifest = store.manifest(model_id)
    preset = get_preset(manifest.preset)
    info = device if isinstance(device, DeviceInfo) else detect_device(device)
    seconds = DEFAULT_SECONDS if seconds is None else seconds
    choice = choose_load_plan(preset, info, seconds, aspect, precision=precision)
    if not choice.fits:
        raise ModelLoadError(f"{model_id} does not fit {info.device}:\n  " + "\n  ".join(choice.describe()))
    chosen = choice.plan.precision
    for line in choice.describe():
        progress(line)
    if chosen in QUANTIZED_PRECISIONS and chosen not in manifest.variants:
        progress(f"quantising {model_id} to {chosen} (once; the result is kept in the store)")
        store.quantize(model_id, chosen)
    resolved = store.resolve(model_id, chosen if chosen in QUANTIZED_PRECISIONS else None)
    target = torch.device(info.device)
    transformer = _transformer(resolved, chosen, target)
    vae = VideoVAE.from_file(preset.vae, resolved.vae, target).to(VAE_DTYPES[choice.plan.decode_dtype])
    where = "cpu" if choice.plan.text_encoder_on_cpu else target
    text_encoder = _text_encoder(resolved, where) if resolved.text_encoder is not None else None
    preview = PreviewMap.load(resolved.preview) if resolved.preview is not None else None
    return LoadedModel(model_id, preset, chosen, target, transformer, vae, text_encoder, choice, resolved, preview)


def _text_encoder(resolved: ResolvedModel, device: str | torch.device) -> T5TextEncoder | WordTextEncoder:
    if resolved.preset.text_encoder == "toyworld-words":
        return WordTextEncoder.from_file(resolved.text_encoder / WORDS_FILE, device)
    return T5TextEncoder.from_folder(
        resolved.text_encoder, device=device, channels=resolved.preset.transformer.text_channels
    )


def _transformer(resolved: ResolvedModel, precision: str, device: torch.device) -> InfinityStarTransformer:
    cfg = resolved.preset.transformer
    if precision in QUANTIZED_PRECISIONS:
        from engine.weights.quantize import load_quantized

        return load_quantized(resolved.transformer, cfg, device)
    return load_transformer(resolved.transformer, cfg, DENSE_DTYPES[precision], device).fuse_projections()
