"""Quantise the transformer's block linears with bitsandbytes (nf4 or int8), once, and load the result directly.

Only the attention and MLP projections of the blocks are quantised: they hold almost all of the 8B's
weights. Embeddings, norms, the text projection and both bit heads stay in the compute dtype, because
the bits are sampled straight from the heads' logits. The quantised checkpoint is one safetensors file
(bitsandbytes' own serialisation of each layer) plus quantization.json saying how it was made.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from pathlib import Path

import bitsandbytes as bnb
import torch
from torch import nn

from engine.api.json_text import loads_limited
from engine.atomic import write_text_atomic
from engine.config import TransformerConfig
from engine.model.transformer import InfinityStarTransformer
from engine.runtime.precision import QUANTIZED_PRECISIONS, is_quantized, quantized_layout
from engine.tensors.errors import CheckpointError
from engine.tensors.safetensors_file import SafetensorsFile, save_safetensors
from engine.tensors.validate import check_shapes
from engine.weights.transformer_checkpoint import assign_tensors, expected_shapes, open_transformer_checkpoint

FORMAT = "infinitystar-studio/quantized-transformer"
FORMAT_VERSION = 1
MODEL_FILE = "model.safetensors"
MANIFEST_FILE = "quantization.json"
# LLM.int8(): activation columns above this magnitude run in 16 bit, the rest through int8 weights.
INT8_OUTLIER_THRESHOLD = 6.0
# bitsandbytes warns on every int8 matmul that bf16 inputs go through fp16; that cast is the int8 kernels' design.
warnings.filterwarnings("ignore", message="MatMul8bitLt: inputs will be cast")
DTYPE_NAMES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def check_quantized_precision(precision: str) -> str:
    if precision not in QUANTIZED_PRECISIONS:
        raise ValueError(f"cannot quantise to {precision!r}; choose one of {', '.join(QUANTIZED_PRECISIONS)}")
    return precision


def _empty_layer(shape: tuple[int, ...], precision: str, double_quant: bool, compute_dtype: torch.dtype) -> nn.Module:
    out_features, in_features = shape
    if precision == "nf4":
        return bnb.nn.Linear4bit(
            in_features, out_features, bias=False, compute_dtype=compute_dtype,
            compress_statistics=double_quant, quant_type="nf4", device="meta",
        )
    return bnb.nn.Linear8bitLt(
        in_features, out_features, bias=False, has_fp16_weights=False,
        threshold=INT8_OUTLIER_THRESHOLD, device="meta",
    )


def quantize_linear(
    weight: torch.Tensor, precision: str, double_quant: bool, compute_dtype: torch.dtype, device: torch.device | str
) -> nn.Module:
    """A bitsandbytes layer holding `weight` [out, in] quantised on `device` (bitsandbytes quantises on the move)."""
    layer = _empty_layer(tuple(weight.shape), precision, double_quant, compute_dtype)
    if precision == "nf4":
        layer.weight = bnb.nn.Params4bit(
            weight, requires_grad=False, compress_statistics=double_quant, quant_type="nf4"
        )
    else:
        layer.weight = bnb.nn.Int8Params(weight, requires_grad=False, has_fp16_weights=False)
    return layer.to(device)


def restore_linear(
    parts: dict[str, torch.Tensor],
    shape: tuple[int, ...],
    precision: str,
    double_quant: bool,
    compute_dtype: torch.dtype,
    device: torch.device | str,
) -> nn.Module:
    """The layer back from its saved tensors (suffix -> tensor, as in the layer's state dict), not requantised."""
    layer = _empty_layer(shape, precision, double_quant, compute_dtype)
    if precision == "nf4":
        stats = {k: v for k, v in parts.items() if k != "weight"}
        layer.weight = bnb.nn.Params4bit.from_prequantized(parts["weight"], stats, requires_grad=False, device=device)
        layer.quant_state = layer.weight.quant_state
        return layer
    weight = bnb.nn.Int8Params(parts["weight"].to(device), requires_grad=False, has_fp16_weights=False)
    weight.CB, weight.SCB = weight.data, parts["SCB"].to(device)
    layer.weight = weight
    return layer


def _set_module(model: nn.Module, name: str, module: nn.Module) -> None:
    owner, _, attr = name.rpartition(".")
    setattr(model.get_submodule(owner), attr, module)


def quantize_model(
    model: InfinityStarTransformer, precision: str, double_quant: bool = True
) -> InfinityStarTransformer:
    """Quantise a loaded dense model in place, layer by layer (each dense weight is freed as its layer is done)."""
    check_quantized_precision(precision)
    device = model.word_embed.weight.device
    for name, tensor in list(model.state_dict().items()):
        if is_quantized(name, precision):
            layer = name.removesuffix(".weight")
            _set_module(model, layer, quantize_linear(tensor, precision, double_quant, model.compute_dtype, device))
    return model


def quantize_checkpoint(
    index_json: str | Path,
    cfg: TransformerConfig,
    precision: str,
    out_dir: str | Path,
    double_quant: bool = True,
    device: str | torch.device = "cpu",
    compute_dtype: torch.dtype = torch.bfloat16,
) -> list[Path]:
    """Stream a dense checkpoint into a quantised one: each tensor is read, quantised (block linears) or
    converted, and kept only in its stored form. Writes model.safetensors and quantization.json."""
    check_quantized_precision(precision)
    ckpt = open_transformer_checkpoint(index_json, cfg)
    with torch.device("meta"):
        model = InfinityStarTransformer(cfg)

    def dense() -> Iterator[tuple[str, torch.Tensor]]:
        for name in ckpt.where:
            if is_quantized(name, precision):
                weight = ckpt.read(name, device=device)
                layer = quantize_linear(weight, precision, double_quant, compute_dtype, device).to("cpu")
                _set_module(model, name.removesuffix(".weight"), layer)
            else:
                yield name, ckpt.read(name, compute_dtype)

    assign_tensors(model, dense())
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    save_safetensors(model.state_dict(), out_dir / MODEL_FILE, metadata={"format": FORMAT, "precision": precision})
    manifest = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "precision": precision,
        "double_quant": double_quant if precision == "nf4" else False,
        "compute_dtype": str(compute_dtype).removeprefix("torch."),
        "bitsandbytes": bnb.__version__,
        "source": [p.name for p in ckpt.files()],
    }
    write_text_atomic(out_dir / MANIFEST_FILE, json.dumps(manifest, indent=2))
    return [out_dir / MODEL_FILE, out_dir / MANIFEST_FILE]


def read_quantization_manifest(folder: Path) -> dict:
    path = folder / MANIFEST_FILE
    if not path.is_file():
        raise CheckpointError(f"{path} does not exist: a quantised checkpoint folder holds {MODEL_FILE} and it")
    try:
        manifest = loads_limited(path.read_text(), "its text")
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CheckpointError(f"{path} is not valid JSON: {err}") from None
    problems = []
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        problems.append(f"format is not {FORMAT!r}")
    elif manifest.get("version") != FORMAT_VERSION:
        problems.append(f"version {manifest.get('version')!r} is not {FORMAT_VERSION} (made by another studio version)")
    elif manifest.get("precision") not in QUANTIZED_PRECISIONS:
        problems.append(f"precision {manifest.get('precision')!r} is not one of {', '.join(QUANTIZED_PRECISIONS)}")
    elif manifest.get("compute_dtype") not in DTYPE_NAMES:
        problems.append(f"compute_dtype {manifest.get('compute_dtype')!r} is not one of {', '.join(DTYPE_NAMES)}")
    if problems:
        raise CheckpointError(f"{path}: " + "; ".join(problems))
    return manifest


def _expected_quantized(cfg: TransformerConfig, precision: str, double_quant: bool) -> dict[str, tuple | None]:
    shapes: dict[str, tuple | None] = {}
    for name, shape in expected_shapes(cfg).items():
        if not is_quantized(name, precision):
            shapes[name] = shape
            continue
        layer = name.removesuffix("weight")
        for suffix, (part_shape, _) in quantized_layout(shape, precision, double_quant).items():
            shapes[layer + suffix] = part_shape
    return shapes


def load_quantized(
    folder: str | Path, cfg: TransformerConfig, device: str | torch.device = "cpu"
) -> InfinityStarTransformer:
    """A quantised checkpoint written by quantize_checkpoint, validated from its header before anything is read."""
    folder = Path(folder)
    manifest = read_quantization_manifest(folder)
    precision, double_quant = manifest["precision"], manifest["double_quant"]
    compute_dtype = DTYPE_NAMES[manifest["compute_dtype"]]
    file = SafetensorsFile.open(folder / MODEL_FILE)
    expected = _expected_quantized(cfg, precision, double_quant)
    check_shapes(expected, file.shapes(), str(file.path), f"{precision} transformer")
    with torch.device("meta"):
        model = InfinityStarTransformer(cfg)
    dense_shapes = expected_shapes(cfg)

    def dense() -> Iterator[tuple[str, torch.Tensor]]:
        for name, shape in dense_shapes.items():
            if not is_quantized(name, precision):
                yield name, file.read(name, compute_dtype, device)
                continue
            layer = name.removesuffix(".weight")
            parts = {
                suffix: file.read(f"{layer}.{suffix}")
                for suffix in quantized_layout(shape, precision, double_quant)
            }
            _set_module(model, layer, restore_linear(parts, shape, precision, double_quant, compute_dtype, device))

    assign_tensors(model, dense())
    return model.eval()
