"""Weight precisions: which tensors a precision quantises and what each tensor costs in bytes."""

from __future__ import annotations

import math

from engine.config import ConfigError

PRECISIONS = ("fp32", "bf16", "int8", "nf4")
QUANTIZED_LINEARS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
NF4_BLOCK = 64
NF4_NESTED_BLOCK = 256
NF4_CODE_ENTRIES = 256


def check_precision(precision: str) -> str:
    if precision not in PRECISIONS:
        raise ConfigError(f"unknown precision {precision!r}; allowed: {', '.join(PRECISIONS)}")
    return precision


def is_quantized(name: str, precision: str) -> bool:
    """Block linears are quantised at int8/nf4; embeddings, norms and the heads keep a dense dtype."""
    parts = name.split(".")
    return (
        precision in ("int8", "nf4")
        and name.startswith("block_chunks.")
        and parts[-1] == "weight"
        and parts[-2] in QUANTIZED_LINEARS
    )


def compute_bytes(precision: str) -> int:
    """Bytes per element of activations and of the dense (unquantised) weights."""
    return 4 if check_precision(precision) == "fp32" else 2


def tensor_bytes(name: str, shape: tuple[int, ...], precision: str, double_quant: bool = True) -> int:
    """Stored bytes of one checkpoint tensor at a precision (bitsandbytes layouts for int8 / nf4)."""
    numel = math.prod(shape)
    if not is_quantized(name, precision):
        return numel * compute_bytes(precision)
    if precision == "int8":
        return numel + 4 * shape[0]  # int8 weight + one float32 scale per output row
    blocks = math.ceil(numel / NF4_BLOCK)
    packed = math.ceil(numel / 2)
    if not double_quant:
        return packed + 4 * blocks
    # absmax re-quantised to uint8, plus float32 second-level scales, its code table and offset
    return packed + blocks + 4 * math.ceil(blocks / NF4_NESTED_BLOCK) + 4 * NF4_CODE_ENTRIES + 4
