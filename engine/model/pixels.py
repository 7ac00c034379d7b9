"""The decoder's colour range (about [-1, 1]) as displayable uint8 levels."""

from __future__ import annotations

import torch


def pixels_to_uint8(pixels: torch.Tensor) -> torch.Tensor:
    """Colours in about [-1, 1] -> uint8 0..255: clamped, then rounded to the nearest level."""
    return pixels.float().clamp(-1, 1).add(1).mul(127.5).round().to(torch.uint8)
