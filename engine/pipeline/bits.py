"""A finished generation's bits in one file beside its video, so continuing it never needs a pixel round trip."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from engine.pipeline.request import PipelineInputError
from engine.weights.safetensors_file import SafetensorsFile, save_safetensors


def _name(index: int) -> str:
    return f"pass_{index:04d}"


def save_bits(path: str | Path, bits: Sequence[torch.Tensor], metadata: dict[str, str]) -> None:
    """One tensor per pass, [B, t, h, w, d] with d a multiple of 8, packed 8 bits a byte (an eighth of the size)."""
    tensors = {}
    for i, b in enumerate(bits):
        if b.shape[-1] % 8:
            raise ValueError(f"bits of pass {i} have {b.shape[-1]} per token; packing needs a multiple of 8")
        tensors[_name(i)] = torch.from_numpy(np.packbits(b.cpu().numpy(), axis=-1))
    save_safetensors(tensors, path, metadata)


def load_bits(path: str | Path) -> tuple[list[torch.Tensor], dict[str, str]]:
    """The bits `save_bits` wrote (uint8 0/1, one tensor per pass) and its metadata."""
    file = SafetensorsFile.open(path)
    passes = len(file.entries)
    names_ok = passes and sorted(file.entries) == [_name(i) for i in range(passes)]
    if not names_ok or any(e.dtype != torch.uint8 for e in file.entries.values()):
        raise PipelineInputError(f"{file.path} holds no generation bits (uint8 tensors pass_0000, pass_0001, ...)")
    bits = [torch.from_numpy(np.unpackbits(file.read(_name(i)).numpy(), axis=-1)) for i in range(passes)]
    return bits, file.metadata
