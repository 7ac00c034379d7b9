"""Checks of a weight file before transformers reads it: a safetensors file is complete, a pickle holds only tensors.

transformers reports a truncated safetensors file as "incomplete metadata" and a refused pickle as a long torch
message; these checks name the file and say what is wrong in the user's terms.
"""

from __future__ import annotations

import pickle
import zipfile
from pathlib import Path

import torch

from engine.tensors.errors import CheckpointError
from engine.tensors.safetensors_file import SafetensorsFile
from engine.text.errors import TextEncoderError


def check_safetensors(file: Path) -> None:
    """Raise TextEncoderError if `file` is not a complete safetensors file; reads its header only."""
    try:
        SafetensorsFile.open(file)
    except CheckpointError as e:
        raise TextEncoderError(str(e)) from e


def check_pickle(file: Path) -> None:
    """Raise TextEncoderError unless `file` unpickles as plain tensors. Only torch's weights_only unpickler reads
    it, so a pickle that would run code on load is refused before any of that code runs."""
    try:
        # mmap: only the pickle is read, not the tensor data (zip-format checkpoints, i.e. torch >= 1.6)
        torch.load(file, map_location="cpu", weights_only=True, mmap=zipfile.is_zipfile(file))
    except pickle.UnpicklingError as e:
        code = next((line.strip() for line in str(e).splitlines() if "GLOBAL" in line), None)
        if code:
            raise TextEncoderError(
                f"{file} was refused: it holds more than tensors, and loading it would run code it names ({code}). "
                "Use the release's .safetensors files or a clean copy"
            ) from e
        raise TextEncoderError(
            f"{file} was refused for safety: it is not a plain tensor checkpoint (a raw pickle, or damaged). "
            "What loads: the release's .safetensors files, or a torch.save of tensors only"
        ) from e
    except (RuntimeError, EOFError, OSError, ValueError) as e:
        raise TextEncoderError(f"{file} is not a readable PyTorch checkpoint (truncated or damaged?): {e}") from e
