"""Checks of a weight file before transformers reads it: a safetensors file is complete, a pickle holds only tensors.

transformers reports a truncated safetensors file as "incomplete metadata" and a refused pickle as a long torch
message; these checks name the file and say what is wrong in the user's terms.
"""

from __future__ import annotations

from pathlib import Path

from engine.tensors.errors import CheckpointError
from engine.tensors.safetensors_file import SafetensorsFile
from engine.tensors.torch_pickle import load_tensor_pickle
from engine.text.errors import TextEncoderError


def check_safetensors(file: Path) -> None:
    """Raise TextEncoderError if `file` is not a complete safetensors file; reads its header only."""
    try:
        SafetensorsFile.open(file)
    except CheckpointError as e:
        raise TextEncoderError(str(e)) from e


def check_pickle(file: Path) -> None:
    """Raise TextEncoderError unless `file` unpickles as plain tensors. Only torch's weights_only unpickler reads
    it, so a pickle that would run code on load is refused before any of that code runs. Only the pickle is read,
    not the tensor data (zip-format checkpoints are memory-mapped)."""
    try:
        load_tensor_pickle(file)
    except CheckpointError as e:
        raise TextEncoderError(str(e)) from e
