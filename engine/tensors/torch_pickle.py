"""Open a PyTorch checkpoint (a `torch.save` file) safely: only torch's weights_only unpickler reads it.

A pickle that would run code on load, a raw pickle and a damaged or truncated file are each refused with a
CheckpointError naming the file, in the user's terms rather than torch's.
"""

from __future__ import annotations

import pickle
import zipfile
from pathlib import Path
from typing import Any

import torch

from engine.tensors.errors import CheckpointError


def load_tensor_pickle(file: Path) -> Any:
    """What `file` holds, unpickled as plain tensors and containers. A zip-format file (torch >= 1.6) is
    memory-mapped, so its tensor data is read only when used; a legacy one is read into memory."""
    try:
        return torch.load(file, map_location="cpu", weights_only=True, mmap=zipfile.is_zipfile(file))
    except pickle.UnpicklingError as e:
        code = next((line.strip() for line in str(e).splitlines() if "GLOBAL" in line), None)
        if code:
            raise CheckpointError(
                f"{file} was refused: it holds more than tensors, and loading it would run code it names ({code}). "
                "Use the release's .safetensors files or a clean copy"
            ) from e
        raise CheckpointError(
            f"{file} was refused for safety: it is not a plain tensor checkpoint (a raw pickle, or damaged). "
            "What loads: the release's .safetensors files, or a torch.save of tensors only"
        ) from e
    except (RuntimeError, EOFError, OSError, ValueError) as e:
        raise CheckpointError(f"{file} is not a readable PyTorch checkpoint (truncated or damaged?): {e}") from e
