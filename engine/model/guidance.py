"""Guidance on bit logits (APG and plain CFG) and the per-bit sampler."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def apg(cond: torch.Tensor, uncond: torch.Tensor, scale: float, norm_threshold: float) -> torch.Tensor:
    """Adaptive projected guidance over one whole pass (eta 0, no momentum).

    The update cond - uncond is capped to RMS <= norm_threshold, then only its part orthogonal
    to cond (projection in float64) is added, (scale - 1) times.
    """
    diff = cond - uncond
    if norm_threshold > 0:
        rms = diff.norm() / math.sqrt(diff.numel())
        diff = diff * torch.clamp(norm_threshold / rms, max=1.0)
    direction = F.normalize(cond.double().flatten(), dim=0)
    flat = diff.double().flatten()
    orthogonal = (flat - (flat @ direction) * direction).view_as(diff).to(cond.dtype)
    return cond + (scale - 1) * orthogonal


def cfg(cond: torch.Tensor, uncond: torch.Tensor, scale: float) -> torch.Tensor:
    return scale * cond + (1 - scale) * uncond


def sample_bits(logits: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """Logits [n, 2*bits] -> bits [n, bits] (uint8), each bit drawn from its own 2-way softmax."""
    pairs = logits.view(logits.shape[0], -1, 2)
    p_one = torch.sigmoid(pairs[..., 1] - pairs[..., 0])
    draw = torch.rand(p_one.shape, generator=generator, device=p_one.device, dtype=p_one.dtype)
    return (draw < p_one).to(torch.uint8)
