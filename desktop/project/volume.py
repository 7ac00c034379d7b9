"""A clip's volume keys: levels (times its gain) at frames of the clip, the level between two keys on the straight
line from one to the other and before the first or after the last that key's. No keys: level 1 throughout.

Keys are counted from the clip's start in timeline frames, so they stay on the frames they were set at through
moves, and the edits that cut a clip keep the level of every frame they keep: a cut puts a key at the new edge with
the level that was there, and drops the keys beyond it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

Keys = tuple[tuple[int, float], ...]  # (frames from the clip's start, level), in order of frame
MAX_LEVEL = 4.0  # +12 dB, as the clip's gain


def levels(keys: Keys, frames: np.ndarray) -> np.ndarray:
    """The level at each of `frames` (from the clip's start, fractional)."""
    if not keys:
        return np.ones_like(frames, dtype=np.float64)
    at, level = zip(*keys, strict=True)
    return np.interp(frames, at, level)


def level_at(keys: Keys, frame: float) -> float:
    return float(levels(keys, np.array([frame], np.float64))[0])


def cut(keys: Keys, start: int, end: int) -> Keys:
    """The keys of frames [start, end] of a clip, counted from `start`: those inside, and one at each edge that a
    key lies beyond, at the level there."""
    if not keys:
        return ()
    inside = [(f - start, v) for f, v in keys if start <= f <= end]
    if keys[0][0] < start and (not inside or inside[0][0] > 0):
        inside.insert(0, (0, level_at(keys, start)))
    if keys[-1][0] > end and (not inside or inside[-1][0] < end - start):
        inside.append((end - start, level_at(keys, end)))
    return tuple(inside)


def stretched(keys: Keys, factor: float) -> Keys:
    """The keys of a clip made `factor` times as long (a new speed, a new frame rate): each at its share of the clip;
    keys that round to one frame keep the later."""
    by_frame = {round(f * factor): v for f, v in keys}
    return tuple(sorted(by_frame.items()))


def refit(keys: Keys, factor: float, length: int) -> Keys:
    """The keys of a clip made `factor` times as long, `length` frames now."""
    return cut(stretched(keys, factor), 0, length)


def with_key(keys: Keys, frame: int, level: float) -> Keys:
    return tuple(sorted({**dict(keys), frame: level}.items()))


def without_key(keys: Keys, frame: int) -> Keys:
    return tuple((f, v) for f, v in keys if f != frame)


def keys_problem(keys: Sequence[tuple[int, float]], length: int) -> str | None:
    """Why `keys` cannot be a clip of `length` frames' volume keys, or None."""
    frames = [f for f, _ in keys]
    if any(type(f) is not int or not 0 <= f <= length for f in frames):
        return f"each volume key should be on a frame of the clip, 0 to {length}, not {frames}"
    if frames != sorted(set(frames)):
        return f"volume keys should be on distinct frames in order, not {frames}"
    bad = [v for _, v in keys if type(v) not in (int, float) or not (math.isfinite(v) and 0 <= v <= MAX_LEVEL)]
    if bad:
        return f"a volume key's level should be a number from 0 to {MAX_LEVEL:g}, not {bad[0]!r}"
    return None
