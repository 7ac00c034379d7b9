"""Which device a command runs on, checked before any model is built."""

from __future__ import annotations

import torch


class DeviceError(ValueError):
    """The requested device does not exist on this machine; the message says what does."""


def resolve_device(name: str) -> torch.device:
    try:
        device = torch.device(name)
    except RuntimeError:
        raise DeviceError(f"unknown device {name!r}; use cpu or cuda (cuda:N for a given GPU)") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            why = "this torch build has no CUDA" if torch.version.cuda is None else "no CUDA GPU is visible"
            raise DeviceError(f"device {name!r} is not available: {why}; use --device cpu")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise DeviceError(f"device {name!r} is not available: {torch.cuda.device_count()} CUDA GPU(s) found")
    elif device.type != "cpu":
        raise DeviceError(f"device {name!r} is not supported; use cpu or cuda")
    return device
