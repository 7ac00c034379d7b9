"""Binary spherical quantisation: bits <-> codes and the resizes that move codes between scales."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def bits_to_codes(bits: torch.Tensor) -> torch.Tensor:
    """Bits [B, t, h, w, d] in {0, 1} -> codes [B, d, t, h, w] of +-1/sqrt(d) (unit L2 norm per token)."""
    d = bits.shape[-1]
    codes = bits.to(torch.float32).mul(2).sub(1).div(math.sqrt(d))
    return codes.permute(0, 4, 1, 2, 3)


def upsample_codes(codes: torch.Tensor, channels: int, height: int, width: int) -> torch.Tensor:
    """Codes [B, d, t, h, w] -> [B, channels, t, height, width], trilinear over (channel, h, w) per frame.

    The channel axis is interpolated together with h and w, which is how a 16-bit semantic code
    lives in the 64-channel latent.
    """
    b, d, t, h, w = codes.shape
    if (d, h, w) == (channels, height, width):
        return codes
    per_frame = codes.permute(0, 2, 1, 3, 4)
    resized = F.interpolate(per_frame, size=(channels, height, width), mode="trilinear", align_corners=False)
    return resized.permute(0, 2, 1, 3, 4)


def area_downsample(latent: torch.Tensor, t: int, h: int, w: int) -> torch.Tensor:
    """Latent [B, C, T, H, W] -> [B, C, t, h, w] by area averaging."""
    if latent.shape[-3:] == (t, h, w):
        return latent
    return F.adaptive_avg_pool3d(latent, (t, h, w))
