"""Binary spherical quantisation: bits <-> codes and the resizes that move codes between scales."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import torch
import torch.nn as nn
import torch.nn.functional as F

from engine.schedule import Schedule


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


def codes_to_bits(codes: torch.Tensor) -> torch.Tensor:
    """Codes [B, d, t, h, w] -> bits [B, t, h, w, d] uint8: 1 where the code is positive."""
    return (codes > 0).to(torch.uint8).permute(0, 2, 3, 4, 1)


def quantize_tokens(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Binary spherical quantisation of [B, d, t, h, w], token-wise: L2-normalise over d, take the sign
    (zero counts as negative), scale to +-1/sqrt(d). Returns (codes [B, d, t, h, w], bits [B, t, h, w, d])."""
    d = x.shape[1]
    positive = F.normalize(x, dim=1) > 0
    codes = torch.where(positive, 1.0, -1.0).to(x.dtype) / math.sqrt(d)
    return codes, positive.to(torch.uint8).permute(0, 2, 3, 4, 1)


def area_downsample_channels(x: torch.Tensor, channels: int, h: int, w: int) -> torch.Tensor:
    """[B, C, T, H, W] -> [B, channels, T, h, w]: area averaging over (channel, h, w) per frame, the inverse
    resize of `upsample_codes` (64 -> 16 channels averages 4 adjacent channels)."""
    if x.shape[1] == channels and x.shape[-2:] == (h, w):
        return x
    per_frame = x.permute(0, 2, 1, 3, 4)
    return F.adaptive_avg_pool3d(per_frame, (channels, h, w)).permute(0, 2, 1, 3, 4)


class BSQIndexWeights(nn.Module):
    """The checkpoint's `mask` buffer of one quantizer: 2^(d-1) .. 2^0 as int64 (the top weight of a 64-bit
    code wraps to -2^63), the weights that turn d bits into one integer index."""

    def __init__(self, bits: int) -> None:
        super().__init__()
        self.register_buffer("mask", 2 ** torch.arange(bits - 1, -1, -1, dtype=torch.int64))


class TwoStageBSQ(nn.Module):
    """The released quantizer's state: a semantic (16-bit) and a detail (64-bit) quantizer. Quantising needs
    no weights (see `quantize_tokens`); this module exists so the checkpoint loads unchanged."""

    def __init__(self, semantic_bits: int, detail_bits: int) -> None:
        super().__init__()
        self.lfq_semantic = BSQIndexWeights(semantic_bits)
        self.lfq_detail = BSQIndexWeights(detail_bits)


def _leading_clips(frames: int, schedule: Schedule) -> int:
    """How many whole leading clips `frames` latent frames cover; an error if they end inside a clip."""
    ends = [end for _, end in schedule.clip_spans]
    if frames not in ends:
        raise ValueError(
            f"a latent of {frames} frames does not end on a clip border of the schedule; "
            f"allowed lengths (whole leading clips): {ends}"
        )
    return ends.index(frames) + 1


def quantize_multiscale(
    latent: torch.Tensor, schedule: Schedule, semantic_bits: int = 16, detail_bits: int = 64
) -> list[torch.Tensor]:
    """Multi-scale residual quantisation of a latent [B, C, T, H, W] along a schedule.

    Per clip, at that clip's full resolution: every pass (each repetition included) area-downsamples the
    residual `target - running sum` to its (bits, h, w), quantises it, and adds the codes back upsampled
    with `upsample_codes`. Returns one bits tensor [B, t, h, w, bits] (uint8, token order t, h, w) per pass:
    the format the sampler forces and the transformer's training targets. The latent may cover only the
    leading clips (an image for I2V: clip 0; a video to continue: clips 0 and 1); then only their passes
    are returned.
    """
    return [bits for bits, _ in residual_passes(latent, schedule, semantic_bits, detail_bits)]


def residual_passes(
    latent: torch.Tensor,
    schedule: Schedule,
    semantic_bits: int,
    detail_bits: int,
    corrupt: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Per pass: (the bits quantising the residual, the bits actually added to the running sum).

    Without `corrupt` both are the same. With it (bitwise self-correction in training), the running sum is
    built from `corrupt(bits)`, so every later pass's bits quantise what is left after earlier mistakes.
    """
    _, height, width = schedule.latent_shape
    if latent.dim() != 5 or tuple(latent.shape[-2:]) != (height, width):
        raise ValueError(f"latent has shape {tuple(latent.shape)}; the schedule needs [B, C, T, {height}, {width}]")
    clips = _leading_clips(latent.shape[2], schedule)
    channels = latent.shape[1]
    latent = latent.to(torch.float32)
    spans = schedule.clip_spans
    running = latent.new_zeros(0)
    for p in schedule.passes:
        if p.clip >= clips:
            break
        start, end = spans[p.clip]
        if p.t != end - start:
            raise ValueError(f"pass {p.index} has t={p.t} but its clip holds {end - start} latent frames")
        target = latent[:, :, start:end]
        if p.first_in_clip:
            running = torch.zeros_like(target)
        bits = semantic_bits if p.semantic else detail_bits
        residual = area_downsample_channels(target - running, bits, p.h, p.w)
        codes, pass_bits = quantize_tokens(residual)
        used = pass_bits
        if corrupt is not None:
            used = corrupt(pass_bits)
            codes = bits_to_codes(used)
        running = running + upsample_codes(codes, channels, height, width)
        yield pass_bits, used
