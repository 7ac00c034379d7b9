"""Per-clip running sums of codes: how sampled bits become the latent and the next pass's input."""

from __future__ import annotations

import torch

from engine.model.bsq import area_downsample, bits_to_codes, upsample_codes
from engine.schedule import Pass, Schedule


class RunningSums:
    """One float32 sum [batch, C, t_clip, H, W] per clip, zero at the clip start.

    Every pass's codes are upsampled to (C, H, W) and added to its clip's sum; a pass's input is
    the sum area-downsampled to the pass's (t, h, w), except the first pass of a clip, which
    sees zeros. Nothing flows from one clip's sum into the next clip's input.
    """

    def __init__(self, schedule: Schedule, channels: int, device: torch.device | str, batch: int = 1) -> None:
        self.channels = channels
        self.batch = batch
        _, self.height, self.width = schedule.latent_shape
        self.sums = [
            torch.zeros(batch, channels, t, self.height, self.width, device=device) for t in schedule.clip_lengths
        ]

    def input_for(self, p: Pass) -> torch.Tensor:
        """Input features [batch, C, t, h, w] of pass p, given all earlier passes were added."""
        if p.first_in_clip:
            return self.sums[p.clip].new_zeros(self.batch, self.channels, p.t, p.h, p.w)
        return area_downsample(self.sums[p.clip], p.t, p.h, p.w)

    def add(self, p: Pass, bits: torch.Tensor) -> None:
        # out of place: inputs taken from the previous sum stay valid (autograd, and events holding it)
        codes = bits_to_codes(bits.to(self.sums[p.clip].device))
        self.sums[p.clip] = self.sums[p.clip] + upsample_codes(codes, self.channels, self.height, self.width)

    def clip_latent(self, clip: int) -> torch.Tensor:
        return self.sums[clip]

    def latent(self) -> torch.Tensor:
        """[batch, C, T, H, W]: the clips' sums concatenated along time."""
        return torch.cat(self.sums, dim=2)


def bits_to_latent(bits_per_pass: list[torch.Tensor], schedule: Schedule, channels: int = 64) -> torch.Tensor:
    """The inverse of `quantize_multiscale`: the running sums after the given passes, clips concatenated
    along T -> [B, channels, T, H, W]. The bits may cover only the passes of the leading clips; the latent
    then covers those clips."""
    passes = schedule.passes
    ends = [i + 1 for i, p in enumerate(passes) if i + 1 == len(passes) or passes[i + 1].clip != p.clip]
    if not bits_per_pass or len(bits_per_pass) not in ends:
        raise ValueError(
            f"{len(bits_per_pass)} bits tensors given; expected the passes of whole leading clips: one of {ends}"
        )
    first = bits_per_pass[0]
    sums = RunningSums(schedule, channels, first.device, batch=first.shape[0])
    for p, bits in zip(passes, bits_per_pass, strict=False):
        if tuple(bits.shape[1:4]) != (p.t, p.h, p.w):
            raise ValueError(
                f"bits of pass {p.index} have shape {tuple(bits.shape)}; expected [B, {p.t}, {p.h}, {p.w}, d]"
            )
        sums.add(p, bits)
    return torch.cat(sums.sums[: ends.index(len(bits_per_pass)) + 1], dim=2)
