"""Building blocks of the causal video VAE: causal 3D convs with a time cache, RMS and spatial norms, resnets,
and the space-to-depth / depth-to-space resamplers. Attribute names follow the released checkpoint's keys."""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


class CausalCache:
    """What one causal pass carries from a time chunk to the next.

    `tails` maps every causal conv with a 3-frame kernel to the last two frames of its time-padded input,
    so the next chunk sees exactly the past a one-shot pass would: nothing else crosses chunk borders.
    `first` is True while the chunk holding frame 0 runs; frame 0 is special everywhere (its conv past is
    itself, replicated, and it stands alone in every temporal resampling). `keep` is False for the last
    chunk, which then stores nothing.
    """

    def __init__(self) -> None:
        self.tails: dict[nn.Module, torch.Tensor] = {}
        self.first = True
        self.keep = True


class CausalConv3d(nn.Module):
    """A 3D conv that is causal in time (past frames only) and zero-padded in space."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3) -> None:
        super().__init__()
        self.past = kernel_size - 1
        self.conv = nn.Conv3d(in_channels, out_channels, kernel_size, padding=(0, kernel_size // 2, kernel_size // 2))

    def forward(self, x: torch.Tensor, cache: CausalCache) -> torch.Tensor:
        if self.past:
            past = cache.tails.get(self)
            if past is None:
                past = x[:, :, :1].expand(-1, -1, self.past, -1, -1)
            x = torch.cat([past, x], dim=2)
            if cache.keep:
                cache.tails[self] = x[:, :, -self.past :].clone()
        return self.conv(x)


class RMSNorm(nn.Module):
    """Per-position L2 normalisation over channels, times sqrt(C) and a learned gain."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.scale = channels**0.5
        self.gamma = nn.Parameter(torch.ones(channels, 1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(x, dim=1) * self.scale * self.gamma


def resize_condition(zq: torch.Tensor, size: torch.Size, first: bool) -> torch.Tensor:
    """Nearest-resize the decoder's latent input to a feature map's (T, H, W).

    In the chunk holding frame 0 that frame maps to the first feature frame alone and the other latent
    frames share the rest, mirroring how the decoder grows time (1 + r * (T - 1) frames).
    """
    t, h, w = size
    if first and t > 1:
        head = F.interpolate(zq[:, :, :1], size=(1, h, w))
        tail = F.interpolate(zq[:, :, 1:], size=(t - 1, h, w))
        return torch.cat([head, tail], dim=2)
    return F.interpolate(zq, size=(t, h, w))


class SpatialNorm(nn.Module):
    """RMS norm whose gain and shift are 1x1 convs of the decoder's latent input (spatially conditioned norm)."""

    def __init__(self, channels: int, zq_channels: int) -> None:
        super().__init__()
        self.norm_layer = RMSNorm(channels)
        self.conv_y = CausalConv3d(zq_channels, channels, kernel_size=1)
        self.conv_b = CausalConv3d(zq_channels, channels, kernel_size=1)

    def forward(self, f: torch.Tensor, zq: torch.Tensor, cache: CausalCache) -> torch.Tensor:
        zq = resize_condition(zq, f.shape[2:], cache.first)
        return self.norm_layer(f) * self.conv_y(zq, cache) + self.conv_b(zq, cache)


class ResnetBlock(nn.Module):
    """norm -> silu -> conv, twice, plus the input. Decoder blocks use spatial norms on the latent input."""

    def __init__(self, channels: int, zq_channels: int | None = None) -> None:
        super().__init__()
        if zq_channels is None:
            self.norm1, self.norm2 = RMSNorm(channels), RMSNorm(channels)
        else:
            self.norm1, self.norm2 = SpatialNorm(channels, zq_channels), SpatialNorm(channels, zq_channels)
        self.conv1 = CausalConv3d(channels, channels)
        self.conv2 = CausalConv3d(channels, channels)

    def _norm(self, norm: nn.Module, x: torch.Tensor, zq: torch.Tensor | None, cache: CausalCache) -> torch.Tensor:
        return norm(x) if zq is None else norm(x, zq, cache)

    def forward(self, x: torch.Tensor, cache: CausalCache, zq: torch.Tensor | None = None) -> torch.Tensor:
        h = self.conv1(F.silu(self._norm(self.norm1, x, zq, cache)), cache)
        h = self.conv2(F.silu(self._norm(self.norm2, h, zq, cache)), cache)
        return x + h


def space_to_depth(x: torch.Tensor) -> torch.Tensor:
    """[B, C, T, H, W] -> [B, 4C, T, H/2, W/2], channels ordered (row offset, column offset, C)."""
    b, c, t, h, w = x.shape
    x = x.reshape(b, c, t, h // 2, 2, w // 2, 2)
    return x.permute(0, 4, 6, 1, 2, 3, 5).reshape(b, 4 * c, t, h // 2, w // 2)


def depth_to_space(x: torch.Tensor, time_factor: int) -> torch.Tensor:
    """[B, pt*4*C, T, H, W] -> [B, C, T*pt, 2H, 2W], channels read as (time offset, row offset, column offset, C)."""
    b, n, t, h, w = x.shape
    c = n // (4 * time_factor)
    x = x.reshape(b, time_factor, 2, 2, c, t, h, w)
    return x.permute(0, 4, 5, 1, 6, 2, 7, 3).reshape(b, c, t * time_factor, 2 * h, 2 * w)


def _group_frames(x: torch.Tensor, factor: int, first: bool) -> torch.Tensor:
    """Average groups of `factor` frames; in the first chunk frame 0 stays alone."""
    if factor == 1:
        return x
    head, rest = (x[:, :, :1], x[:, :, 1:]) if first else (x[:, :, :0], x)
    b, c, t, h, w = rest.shape
    rest = rest.reshape(b, c, t // factor, factor, h, w).mean(dim=3)
    return torch.cat([head, rest], dim=2)


class SpaceToDepthDown(nn.Module):
    """Halves H and W (and divides time by `time_factor`): a conv branch folded into channels, plus the input
    folded the same way and averaged over channel groups as a shortcut."""

    def __init__(self, in_channels: int, out_channels: int, time_factor: int) -> None:
        super().__init__()
        self.time_factor = time_factor
        self.norm = RMSNorm(in_channels)
        self.conv = CausalConv3d(in_channels, out_channels // 4)
        self.groups = 4 * in_channels // out_channels

    def forward(self, x: torch.Tensor, cache: CausalCache) -> torch.Tensor:
        frames = x.shape[2] - (1 if cache.first else 0)
        if frames % self.time_factor:
            raise ValueError(
                f"a time chunk reaching this {self.time_factor}x temporal downsampler has {x.shape[2]} frames; "
                f"expected {'1 + ' if cache.first else ''}a multiple of {self.time_factor}"
            )
        h = self.conv(F.silu(self.norm(x)), cache)
        h = _group_frames(space_to_depth(h), self.time_factor, cache.first)
        y = _group_frames(space_to_depth(x), self.time_factor, cache.first)
        b, _, t, hh, ww = y.shape
        y = y.reshape(b, self.groups, -1, t, hh, ww).mean(dim=1)
        return h + y


class DepthToSpaceUp(nn.Module):
    """Doubles H and W (and multiplies time by `time_factor`): a conv branch unfolded from channels, plus the
    input repeated over channels and unfolded the same way as a shortcut. In the first chunk the frames
    produced from frame 0 are averaged back into one."""

    def __init__(self, in_channels: int, out_channels: int, time_factor: int) -> None:
        super().__init__()
        self.time_factor = time_factor
        self.norm = RMSNorm(in_channels)
        conv_out = out_channels * 4 * time_factor
        self.conv = CausalConv3d(in_channels, conv_out)
        self.repeats = conv_out // in_channels

    def forward(self, x: torch.Tensor, cache: CausalCache) -> torch.Tensor:
        h = self.conv(F.silu(self.norm(x)), cache)
        out = depth_to_space(h, self.time_factor) + depth_to_space(x.repeat(1, self.repeats, 1, 1, 1), self.time_factor)
        if cache.first and self.time_factor > 1:
            out = torch.cat([out[:, :, : self.time_factor].mean(dim=2, keepdim=True), out[:, :, self.time_factor :]], 2)
        return out


class Resample(nn.Module):
    """Holds a resampler under `conv`, the extra level the checkpoint's key names have."""

    def __init__(self, resampler: nn.Module) -> None:
        super().__init__()
        self.conv = resampler

    def forward(self, x: torch.Tensor, cache: CausalCache) -> torch.Tensor:
        return self.conv(x, cache)
