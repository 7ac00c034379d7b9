"""Four-axis rotary position embedding: [scale | frame | height | width] on interleaved pairs."""

from __future__ import annotations

from collections.abc import Sequence

import torch


def inverse_frequencies(head_dim: int, base: float) -> torch.Tensor:
    """The head_dim/8 frequencies every axis uses, in float32 like the release."""
    n = head_dim // 8
    return 1.0 / (base ** (torch.arange(n, dtype=torch.int64).float() / n))


def grid_positions(size: int, full: int) -> torch.Tensor:
    """Positions of a `size`-long axis on the final grid of `full`: round(i * full / size), half to even."""
    return (torch.arange(size) * (full / size)).round()


def text_positions(length: int) -> torch.Tensor:
    """[length, 4]: text token j sits at scale position j, frame/height/width 0."""
    pos = torch.zeros(length, 4)
    pos[:, 0] = torch.arange(length, dtype=torch.float32)
    return pos


def visual_positions(
    scale_pos: int, frames: Sequence[int], h: int, w: int, full_h: int, full_w: int
) -> torch.Tensor:
    """[t*h*w, 4] positions of a (t, h, w) block in token order t, h, w."""
    t = len(frames)
    frame = torch.tensor(list(frames), dtype=torch.float32)
    pos = torch.empty(t, h, w, 4)
    pos[..., 0] = float(scale_pos)
    pos[..., 1] = frame[:, None, None]
    pos[..., 2] = grid_positions(h, full_h)[None, :, None]
    pos[..., 3] = grid_positions(w, full_w)[None, None, :]
    return pos.reshape(t * h * w, 4)


def rope_angles(positions: torch.Tensor, head_dim: int, base: float) -> torch.Tensor:
    """Rotation angles [N, head_dim/2] for positions [N, 4]: each axis takes head_dim/8 pairs."""
    freqs = inverse_frequencies(head_dim, base).to(positions.device)
    return (positions[:, :, None] * freqs).reshape(positions.shape[0], head_dim // 2)


def rope_rotations(positions: torch.Tensor, head_dim: int, base: float) -> torch.Tensor:
    """Unit complex numbers cos + i sin [N, head_dim/2], one per rotary pair of each token."""
    angles = rope_angles(positions, head_dim, base)
    return torch.complex(torch.cos(angles), torch.sin(angles))


def rope_turn(old: torch.Tensor, new: torch.Tensor, head_dim: int, base: float) -> torch.Tensor:
    """Rotations [N, head_dim/2] that take keys rotated for positions `old` [N, 4] to positions `new` [N, 4].

    The angle of each pair is the difference of the two angles as rope_angles computes them (float32), taken in
    float64: a turned key then equals one rotated for `new` directly to float32 rounding, even where the angles
    are large enough for float32 to round them coarsely.
    """
    delta = rope_angles(new, head_dim, base).double() - rope_angles(old, head_dim, base).double()
    return torch.polar(torch.ones_like(delta), delta).to(torch.complex64)


def block_turn(
    scale_offset: int, block: tuple[int, int, int], full: tuple[int, int], old: tuple[int, int],
    new: tuple[int, int], head_dim: int, base: float
) -> torch.Tensor:
    """rope_turn for a (t, h, w) `block` of a (full_h, full_w) latent moved from RoPE place `old` to `new`, each
    (scale position after the `scale_offset` text positions, first frame)."""
    t, h, w = block

    def at(place: tuple[int, int]) -> torch.Tensor:
        return visual_positions(scale_offset + place[0], range(place[1], place[1] + t), h, w, *full)

    return rope_turn(at(old), at(new), head_dim, base)


def apply_rope(x: torch.Tensor, rotations: torch.Tensor) -> torch.Tensor:
    """Rotate pairs (x[2m], x[2m+1]) of x [..., D] by `rotations` (broadcast to [..., D/2]), in float32.

    A pair read as the complex number x[2m] + i x[2m+1] rotates by one complex product.
    """
    pairs = x.float().unflatten(-1, (-1, 2))
    if pairs.stride(-1) != 1 or any(step % 2 for step in pairs.stride()[:-1]):
        pairs = pairs.contiguous()
    pairs = torch.view_as_complex(pairs)
    return torch.view_as_real(pairs * rotations).flatten(-2).to(x.dtype)
