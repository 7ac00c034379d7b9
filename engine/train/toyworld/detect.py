"""Reading toy-world videos back, for evaluating generated ones: the main object's colour, shape and motion.

It knows the palette and nothing else of the world, so it judges any frames, blurry or noisy ones included.
Per frame: the background is a plane per channel fitted robustly to the border pixels (plain and linear
gradient backgrounds alike); pixels far from it are foreground; each connected blob is named by the palette
colour nearest its median interior colour, and measured through its coverage (how far each pixel lies from the
background towards the blob's colour), so area and centroid are sub-pixel even on soft edges.
Per clip: the main object is the colour covering the most area; its motion is "bouncing" when its track runs
out and back along an axis by REVERSAL or more (a bounce off a wall right at the start or end of a clip is
not seen, and reads as the direction it mostly went), else the direction of its net displacement (least
squares over the clip), else growing/shrinking from its area, else still. Shapes come from the blob's
rotational symmetry (angular_moments), so a rotated shape reads the same. Two objects that overlap merge into
one blob named by the colour covering more of it.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass

import cv2
import numpy as np

from engine.train.toyworld.palette import OBJECT_COLOURS

BORDER = 2  # pixels of border the background is fitted to
# A border pixel further from the fitted plane than OUTLIER times the median distance (and MIN_OUTLIER) is
# left out of the refit: it belongs to an object touching the edge.
OUTLIER = 2.5
MIN_OUTLIER = 20.0
FOREGROUND_DISTANCE = 60.0  # RGB distance from the background that makes a pixel foreground
MIN_AREA = 0.001  # of the frame: smaller blobs are ignored
MOVE = 0.1  # net displacement, in frame sides, that counts as moving
REVERSAL = 0.08  # how far a track must run out and come back along an axis to count as bouncing
GROWTH = 0.25  # |log area ratio| over a clip that counts as growing or shrinking
ORDERS = (3, 4, 5)  # the symmetries measured, see angular_moments
# Each shape's symmetry order and its measure on clean renders; a blob is round unless one of its measures
# reaches ROUND of the clean value.
SHAPE_SYMMETRY = {"triangle": (3, 0.77), "square": (4, 0.56), "star": (5, 1.45)}
ROUND = 0.35
OCTANTS = ("right", "up-right", "up", "up-left", "left", "down-left", "down", "down-right")

_PALETTE_NAMES = tuple(OBJECT_COLOURS)
_PALETTE = np.array([OBJECT_COLOURS[n] for n in _PALETTE_NAMES], np.float32)


@dataclass(frozen=True)
class Blob:
    colour: str  # nearest palette name
    rgb: tuple[float, float, float]  # median interior colour
    x: float  # centroid, fractions of the frame side
    y: float
    area: float  # fraction of the frame
    symmetry: tuple[float, ...]  # angular_moments

    @property
    def shape(self) -> str:
        return classify_shape(self.symmetry)


@dataclass(frozen=True)
class Reading:
    """What one clip shows of its main object; None where it could not be told."""

    colour: str | None
    shape: str | None
    motion: str | None  # None for the image clip
    track: np.ndarray  # [n, 4]: frame index, x, y, area wherever the object was found


@functools.cache
def _border(h: int, w: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row and column indices of the border pixels, and their [n, 3] float32 design rows (1, x / w, y / h)."""
    ring = np.zeros((h, w), bool)
    ring[:BORDER], ring[-BORDER:], ring[:, :BORDER], ring[:, -BORDER:] = True, True, True, True
    ys, xs = np.nonzero(ring)
    return ys, xs, np.stack([np.ones(len(xs)), xs / w, ys / h], axis=1).astype(np.float32)


def backgrounds(frames: np.ndarray) -> np.ndarray:
    """[T, H, W, 3] float32 for [T, H, W, 3] frames: per frame and channel, the plane a + b x + c y fitted to the
    border, refitted twice without the pixels that stick out of it."""
    h, w = frames.shape[1:3]
    ys, xs, design = _border(h, w)
    values = frames[:, ys, xs].astype(np.float32)  # [T, n, 3]
    weighted = np.broadcast_to(design, (len(frames), *design.shape))
    for refit in range(3):
        coef = np.linalg.solve(weighted.transpose(0, 2, 1) @ design, weighted.transpose(0, 2, 1) @ values)
        if refit == 2:
            break
        squared = ((values - design @ coef) ** 2).sum(axis=2)
        outlier = squared > np.maximum(OUTLIER**2 * np.median(squared, axis=1, keepdims=True), MIN_OUTLIER**2)
        weighted = design * ~outlier[..., None]
    a, b, c = (coef[:, None, i].astype(np.float32) for i in range(3))  # [T, 1, 3]
    x = (np.arange(w, dtype=np.float32) / w)[None, :, None]
    y = (np.arange(h, dtype=np.float32) / h)[None, :, None]
    # rows flattened to [W * 3] so the broadcast runs over long rows, not over 3 channels at a time
    plane = np.tile(c, (1, 1, w)) * y
    plane += (a + b * x).reshape(len(coef), 1, w * 3)
    return plane.reshape(len(coef), h, w, 3)


def nearest_colour(rgb: np.ndarray) -> str:
    return _PALETTE_NAMES[int(np.argmin(np.linalg.norm(_PALETTE - rgb, axis=1)))]


def classify_shape(symmetry: tuple[float, ...]) -> str:
    """The shape whose symmetry measure, relative to its clean render, is largest; a circle if none reaches ROUND."""
    scores = {shape: symmetry[order - ORDERS[0]] / clean for shape, (order, clean) in SHAPE_SYMMETRY.items()}
    best = max(scores, key=scores.__getitem__)
    return best if scores[best] >= ROUND else "circle"


def angular_moments(coverage: np.ndarray) -> tuple[float, ...]:
    """|E[z^n]| / E[|z|^2]^(n/2) for each n in ORDERS, z the position about the centroid as a complex number.

    A shape with n-fold symmetry (triangle 3, square 4, five-pointed star 5) has a large one at its own n and
    small ones at the others, whatever its rotation; a disc has all of them near zero. Blur and noise shrink
    them only a little, being averages over the whole blob."""
    gy, gx = np.mgrid[0 : coverage.shape[0], 0 : coverage.shape[1]]
    weights = coverage / coverage.sum()
    z = gx + 1j * gy
    z = z - (weights * z).sum()
    spread = (weights * np.abs(z) ** 2).sum()
    return tuple(float(abs((weights * z**n).sum()) / spread ** (n / 2)) for n in ORDERS)


def find_blobs(frame: np.ndarray, bg: np.ndarray | None = None) -> list[Blob]:
    """The objects in one [H, W, 3] uint8 frame, largest first; `bg` is its background if already known."""
    h, w = frame.shape[:2]
    pixels = frame.astype(np.float32)
    bg = backgrounds(frame[None])[0] if bg is None else bg
    offset = pixels - bg
    mask = (np.einsum("ijk,ijk->ij", offset, offset) > FOREGROUND_DISTANCE**2).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    blobs = []
    kernel = np.ones((3, 3), np.uint8)
    for label in range(1, count):
        if stats[label, cv2.CC_STAT_AREA] < MIN_AREA * h * w:
            continue
        x0, y0, bw, bh = stats[label, :4]
        # a window around the blob, two pixels wider on each side so soft edges are included
        x0, y0, x1, y1 = max(x0 - 2, 0), max(y0 - 2, 0), min(x0 + bw + 2, w), min(y0 + bh + 2, h)
        own = (labels[y0:y1, x0:x1] == label).astype(np.uint8)
        interior = cv2.erode(own, kernel)
        core = interior if interior.sum() >= 4 else own
        rgb = np.median(pixels[y0:y1, x0:x1][core > 0], axis=0)
        towards = rgb - bg[y0:y1, x0:x1]
        coverage = (offset[y0:y1, x0:x1] * towards).sum(axis=2) / np.maximum((towards**2).sum(axis=2), 1.0)
        coverage = np.clip(coverage, 0, 1) * cv2.dilate(own, kernel, iterations=2)
        area = float(coverage.sum())
        if area <= 0:
            continue
        cx = float(coverage.sum(axis=0) @ (np.arange(x0, x1) + 0.5)) / area / w
        cy = float(coverage.sum(axis=1) @ (np.arange(y0, y1) + 0.5)) / area / h
        symmetry = angular_moments(coverage)
        blobs.append(Blob(nearest_colour(rgb), tuple(rgb.tolist()), cx, cy, area / (h * w), symmetry))
    return sorted(blobs, key=lambda b: -b.area)


def _turns_back(path: np.ndarray) -> bool:
    """Whether `path` runs at least REVERSAL out and at least REVERSAL back (either way round)."""
    if len(path) >= 3:
        path = np.convolve(np.pad(path, 1, mode="edge"), np.ones(3) / 3, mode="valid")
    start, end = path[0], path[-1]
    return bool((path.max() - max(start, end) >= REVERSAL) or (min(start, end) - path.min() >= REVERSAL))


def classify_motion(times: np.ndarray, xs: np.ndarray, ys: np.ndarray, areas: np.ndarray) -> str:
    """The motion of a track sampled at two or more frame `times` (positions in frame sides, areas in any unit)."""
    if _turns_back(xs) or _turns_back(ys):
        return "bouncing"
    span = times[-1] - times[0]
    dx = np.polyfit(times, xs, 1)[0] * span
    dy = np.polyfit(times, ys, 1)[0] * span
    if np.hypot(dx, dy) >= MOVE:
        return OCTANTS[round(np.degrees(np.arctan2(-dy, dx)) / 45) % 8]
    growth = np.polyfit(times, np.log(areas), 1)[0] * span
    if growth >= GROWTH:
        return "growing"
    if growth <= -GROWTH:
        return "shrinking"
    return "still"


def _clip_frames(count: int, clip_frames: int) -> list[range]:
    """Frame ranges per clip: clip 0 is frame 0; clip k starts at the previous clip's last frame."""
    clips = [range(0, 1)]
    start = 0
    while start + 1 < count:
        clips.append(range(start, min(start + clip_frames, count - 1) + 1))
        start += clip_frames
    return clips


def _read(blobs: list[list[Blob]], frames: range, motion: bool) -> Reading:
    totals: dict[str, float] = {}
    for t in frames:
        for blob in blobs[t]:
            totals[blob.colour] = totals.get(blob.colour, 0.0) + blob.area
    if not totals:
        return Reading(None, None, None, np.zeros((0, 4)))
    colour = max(totals, key=totals.__getitem__)
    # the largest blob of that colour per frame (blobs are sorted largest first)
    seen = [(t, b) for t in frames for b in [next((b for b in blobs[t] if b.colour == colour), None)] if b]
    track = np.array([(t, b.x, b.y, b.area) for t, b in seen])
    votes: dict[str, float] = {}
    for _, blob in seen:
        votes[blob.shape] = votes.get(blob.shape, 0.0) + blob.area
    shape = max(votes, key=votes.__getitem__)
    moved = classify_motion(*track.T) if motion and len(track) >= 2 else None
    return Reading(colour, shape, moved, track)


def read_video(frames: np.ndarray, clip_frames: int = 16) -> list[Reading]:
    """One Reading per clip of [T, H, W, 3] uint8 `frames` laid out as 1 + clips * clip_frames (a last clip
    may be shorter); clip 0 is frame 0 and has no motion."""
    blobs = [find_blobs(frame, bg) for frame, bg in zip(frames, backgrounds(frames), strict=True)]
    return [_read(blobs, frames_of, k > 0) for k, frames_of in enumerate(_clip_frames(len(frames), clip_frames))]


def boundary_consistency(readings: list[Reading]) -> list[bool]:
    """Per clip boundary (0|1, 1|2, ...): whether the main object keeps its colour and shape across it; False
    where it is not seen."""
    return [
        before.colour is not None and (before.colour, before.shape) == (after.colour, after.shape)
        for before, after in itertools.pairwise(readings)
    ]
