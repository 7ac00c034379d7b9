"""Guidance on bit logits (APG and plain CFG) and the per-bit sampler."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def apg(cond: torch.Tensor, uncond: torch.Tensor, scale: float, norm_threshold: float) -> torch.Tensor:
    """Adaptive projected guidance over each video's whole pass [b, n, V] (eta 0, no momentum).

    The update cond - uncond is capped to RMS <= norm_threshold, then only its part orthogonal
    to cond (projection in float64) is added, (scale - 1) times.
    """
    diff = cond - uncond
    if norm_threshold > 0:
        rms = diff.norm(dim=(-2, -1), keepdim=True) / math.sqrt(diff[0].numel())
        diff = diff * torch.clamp(norm_threshold / rms, max=1.0)
    direction = F.normalize(cond.double().flatten(1), dim=1)
    flat = diff.double().flatten(1)
    parallel = (flat * direction).sum(dim=1, keepdim=True) * direction
    return cond + (scale - 1) * (flat - parallel).view_as(diff).to(cond.dtype)


def cfg(cond: torch.Tensor, uncond: torch.Tensor, scale: float) -> torch.Tensor:
    return scale * cond + (1 - scale) * uncond


def sample_bits(logits: torch.Tensor, generators: list[torch.Generator]) -> torch.Tensor:
    """Logits [b, n, 2*bits] -> bits [b, n, bits] (uint8), each bit drawn from its own 2-way softmax.

    Video i draws from generators[i] alone, so its bits do not depend on the other videos.
    """
    pairs = logits.unflatten(-1, (-1, 2))
    p_one = torch.sigmoid(pairs[..., 1] - pairs[..., 0])
    draws = [
        torch.rand(p_one.shape[1:], generator=g, device=p_one.device, dtype=p_one.dtype) for g in generators
    ]
    return (torch.stack(draws) < p_one).to(torch.uint8)
