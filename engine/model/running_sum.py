"""Per-clip running sums of codes: how sampled bits become the latent and the next pass's input."""

from __future__ import annotations

import torch

from engine.model.bsq import area_downsample, bits_to_codes, upsample_codes
from engine.schedule import Pass, Schedule


class RunningSums:
    """One float32 sum [batch, C, t_clip, H, W] per clip, zero at the clip start.

    Every pass's codes are upsampled to (C, H, W) and added to its clip's sum; a pass's input is
    the sum area-downsampled to the pass's (t, h, w), except the first pass of a clip, which
    sees zeros. Nothing flows from one clip's sum into the next clip's input. A clip's sum is made
    when its first pass is added and dropped by `release`, so a long video holds one clip's.
    """

    def __init__(self, schedule: Schedule, channels: int, device: torch.device | str, batch: int = 1) -> None:
        self.channels = channels
        self.batch = batch
        self.device = device
        self.lengths = schedule.clip_lengths
        _, self.height, self.width = schedule.latent_shape
        self.sums: dict[int, torch.Tensor] = {}

    def _sum(self, clip: int) -> torch.Tensor:
        if clip not in self.sums:
            self.sums[clip] = torch.zeros(
                self.batch, self.channels, self.lengths[clip], self.height, self.width, device=self.device
            )
        return self.sums[clip]

    def input_for(self, p: Pass) -> torch.Tensor:
        """Input features [batch, C, t, h, w] of pass p, given all earlier passes were added."""
        if p.first_in_clip:
            return torch.zeros(self.batch, self.channels, p.t, p.h, p.w, device=self.device)
        return area_downsample(self._sum(p.clip), p.t, p.h, p.w)

    def add(self, p: Pass, bits: torch.Tensor) -> None:
        # out of place: inputs taken from the previous sum stay valid (autograd, and events holding it)
        total = self._sum(p.clip)
        codes = bits_to_codes(bits.to(total.device))
        self.sums[p.clip] = total + upsample_codes(codes, self.channels, self.height, self.width)

    def clip_latent(self, clip: int) -> torch.Tensor:
        return self._sum(clip)

    def release(self, clip: int) -> torch.Tensor:
        """The final sum of `clip`, no longer held here."""
        total = self._sum(clip)
        del self.sums[clip]
        return total

    def latent(self) -> torch.Tensor:
        """[batch, C, T, H, W]: the sums of the clips still held, concatenated along time."""
        return torch.cat([self.sums[c] for c in sorted(self.sums)], dim=2)


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
    return torch.cat([sums.clip_latent(c) for c in range(ends.index(len(bits_per_pass)) + 1)], dim=2)
