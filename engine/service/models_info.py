"""What the studio shows in its model picker and first-run wizard: each installed model, what it can make and its plan
on this device, then the catalogue's models not installed yet (`installed` false) with the plan they would have.

Computed in the engine (the desktop never imports torch, and planning builds models on the meta device).
"""

from __future__ import annotations

from dataclasses import replace

from engine.api.jobs import MAX_VIDEO_SECONDS
from engine.api.records import DeviceSummary, ModelInfo, PlanSummary
from engine.config import ConfigError, Preset, get_preset
from engine.runtime.hardware import DeviceInfo, detect_device
from engine.runtime.load_plan import choose_load_plan
from engine.runtime.precision import PRECISIONS
from engine.schedule import parse_aspect, select_template
from engine.tensors.errors import CheckpointError
from engine.text.errors import TextEncoderError
from engine.text.words import WORDS_FILE, read_vocabulary
from engine.weights.catalogue import CATALOGUE
from engine.weights.manifest import ModelStoreError
from engine.weights.store import ModelStore

GB = 1e9
ASPECT_CHOICES = ("16:9", "9:16", "1:1", "4:3", "3:4", "3:2", "2:3", "2:1", "1:2")


def supported_aspects(preset: Preset) -> list[str]:
    """The W:H ratios the model was trained on, or else the usual ones its resolution has a scale template for."""
    if preset.aspects:
        return list(preset.aspects)
    found = []
    for aspect in ASPECT_CHOICES:
        try:
            key, _ = select_template(aspect, preset.schedule.resolution)
        except ConfigError:
            continue
        if abs(key - parse_aspect(aspect)) / key < 0.06:
            found.append(aspect)
    return found


def _plan(preset: Preset, device: DeviceInfo, seconds: int) -> PlanSummary:
    choice = choose_load_plan(preset, device, seconds, preset.default_aspect)
    return PlanSummary(choice.fits, choice.plan.precision, round(choice.peak_bytes / GB, 2), tuple(choice.describe()))


def describe_model(model_id: str, preset: Preset, device: DeviceInfo, seconds: int) -> ModelInfo:
    cfg = preset.schedule
    return ModelInfo(
        id=model_id, preset=preset.name, description=preset.description, builtin=CATALOGUE[model_id].builtin,
        installed=False, verified=False, needs_text_features=preset.text_encoder == "none", fps=cfg.fps,
        frames_per_latent=cfg.frames_per_latent, clip_latents=cfg.clip_frames, trained_seconds=cfg.trained_seconds,
        max_seconds=MAX_VIDEO_SECONDS, aspects={a: parse_aspect(a) for a in supported_aspects(preset)},
        default_aspect=preset.default_aspect,
        guidance_scale=cfg.guidance_scale, tau_video=cfg.tau_video, plan=_plan(preset, device, seconds),
        precisions=PRECISIONS,
    )


def vocabulary(store: ModelStore, model_id: str, preset: Preset) -> tuple[str, ...] | None:
    """The words an installed model with a fixed vocabulary knows (None for one that reads any text, or whose encoder
    cannot be read: loading it says what is wrong)."""
    if preset.text_encoder != "toyworld-words":
        return None
    try:
        resolved = store.resolve(model_id)
        return read_vocabulary(resolved.text_encoder / WORDS_FILE) if resolved.text_encoder is not None else None
    except (ModelStoreError, CheckpointError, TextEncoderError, OSError):
        return None


def describe_models(store: ModelStore, device: str = "auto", seconds: int = 5) -> tuple[DeviceSummary, list[ModelInfo]]:
    info = detect_device(device)
    models = []
    for installed in store.installed():
        preset = get_preset(installed.preset)
        model = describe_model(installed.model_id, preset, info, seconds)
        models.append(replace(model, installed=True, variants=tuple(installed.variants), verified=installed.verified,
                              vocabulary=vocabulary(store, installed.model_id, preset)))
    listed = {m.id for m in models}
    for entry in CATALOGUE.values():
        if entry.model_id not in listed and not entry.for_tests:
            models.append(describe_model(entry.model_id, get_preset(entry.preset), info, seconds))
    return info, models
