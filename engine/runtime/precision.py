"""Weight precisions: which tensors a precision quantises and what each tensor costs in bytes."""

from __future__ import annotations

import math

from engine.config import ConfigError

PRECISIONS = ("fp32", "bf16", "int8", "nf4")
# Where the kept K/V of a clip's final scale lives, in the order their cost rises: the device's memory, or the
# host's, streamed back layer by layer (a copy of it per pass over the bus).
KV_PLACEMENTS = ("device", "host")
QUANTIZED_PRECISIONS = ("nf4", "int8")
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


# bitsandbytes also stores each nf4 layer's quant state as a small packed JSON (about 170 bytes); counted as this.
QUANT_STATE_JSON_BYTES = 192


def quantized_layout(shape: tuple[int, ...], precision: str, double_quant: bool = True) -> dict[str, tuple]:
    """The tensors bitsandbytes stores for one quantised weight: suffix -> (shape, dtype name).

    The suffixes follow the layer's state dict ("weight", "weight.absmax", ...). The packed quant-state
    JSON of nf4 has no fixed length: its shape is given as None.
    """
    numel = math.prod(shape)
    if precision == "int8":
        return {"weight": (shape, "int8"), "SCB": ((shape[0],), "float32"), "weight_format": ((), "uint8")}
    blocks = math.ceil(numel / NF4_BLOCK)
    layout = {"weight": ((math.ceil(numel / 2), 1), "uint8"), "weight.quant_map": ((16,), "float32")}
    if double_quant:
        layout["weight.absmax"] = ((blocks,), "uint8")
        layout["weight.nested_absmax"] = ((math.ceil(blocks / NF4_NESTED_BLOCK),), "float32")
        layout["weight.nested_quant_map"] = ((NF4_CODE_ENTRIES,), "float32")
    else:
        layout["weight.absmax"] = ((blocks,), "float32")
    layout["weight.quant_state.bitsandbytes__nf4"] = (None, "uint8")
    return layout


def tensor_bytes(name: str, shape: tuple[int, ...], precision: str, double_quant: bool = True) -> int:
    """Stored bytes of one checkpoint tensor at a precision (bitsandbytes layouts for int8 / nf4)."""
    if not is_quantized(name, precision):
        return math.prod(shape) * compute_bytes(precision)
    total = 0
    for part_shape, dtype in quantized_layout(shape, precision, double_quant).values():
        if part_shape is None:
            total += QUANT_STATE_JSON_BYTES
        else:
            total += math.prod(part_shape) * (4 if dtype == "float32" else 1)
    return total
