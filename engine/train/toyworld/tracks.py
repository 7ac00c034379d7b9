"""Object tracks: each object's centre and half-size, frame by frame, as fractions of the frame side.

Motions are planned before the start is placed. A plan simulates a set of random candidate starts at once and
keeps, per axis, the starts from which every clip so far stays in frame (the axes move independently, so any
surviving x pairs with any surviving y). A video's first frame is the first clip's start; each later clip
continues from where the previous one ended.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.train.toyworld.spec import DIRECTIONS, FPS

SPEED = (1 / 3, 1 / 2)  # linear motions: frame sides per second
GROWTH = (1.4, 1.6)  # growing and shrinking: size factor per second
BOUNCE_SPEED = (1.0, 1.25)  # bouncing, along each axis: more than the free run, so a clip always hits a wall
SCALE_RANGE = (0.5, 2.0)  # of an object's size as first shown
MIN_LEG = 0.15  # a bounce heads for the nearer wall only when that first leg is at least this long
TOLERANCE = 0.01  # how far past the edge a non-bouncing motion may carry an object's box
CANDIDATES = 48
RATE_STEP = 0.8  # a fixed motion too long to fit is slowed by this factor until it fits
MIN_RATE = 0.04
PLACE_TRIES = 8


@dataclass(frozen=True)
class Pace:
    """How fast one object moves, drawn once per object."""

    speed: float
    growth: float
    bounce: float

    @classmethod
    def sample(cls, rng: np.random.Generator) -> Pace:
        return cls(rng.uniform(*SPEED), rng.uniform(*GROWTH), rng.uniform(*BOUNCE_SPEED))


@dataclass(frozen=True)
class Plan:
    half: float  # half-size as first shown
    pace: Pace
    scales: np.ndarray  # [T]
    paths: np.ndarray  # [T, 2, CANDIDATES]: x and y of every candidate start
    fits: np.ndarray  # [2, CANDIDATES]: which starts keep the object in frame along each axis

    @classmethod
    def start(cls, half: float, pace: Pace, rng: np.random.Generator) -> Plan:
        starts = rng.uniform(half, 1 - half, (1, 2, CANDIDATES))
        return cls(half, pace, np.ones(1), starts, np.ones((2, CANDIDATES), bool))

    def extend(self, motion: str, frames: int, rate: float = 1.0) -> Plan | None:
        """This plan followed by `frames` frames of `motion`, or None when no start keeps the object in frame."""
        steps = np.arange(1, frames + 1)
        scale = self.scales[-1]
        if motion in ("growing", "shrinking"):
            sign = 1 if motion == "growing" else -1
            scales = scale * self.pace.growth ** (sign * rate * steps / FPS)
        else:
            scales = np.full(frames, scale)
        if scales.min() < SCALE_RANGE[0] - 1e-9 or scales.max() > SCALE_RANGE[1] + 1e-9:
            return None
        half = self.half * scales
        start = self.paths[-1]
        fits = self.fits
        if motion == "bouncing":
            path = _bounce(start, self.half * scale, half, self.pace.bounce / FPS)
        else:
            if motion in DIRECTIONS:
                unit = np.array(DIRECTIONS[motion], float)
                unit /= np.linalg.norm(unit)
                path = start + steps[:, None, None] * unit[None, :, None] * (self.pace.speed * rate / FPS)
            else:
                path = np.broadcast_to(start, (frames, *start.shape))
            lo = half[:, None, None] - TOLERANCE
            fits = fits & ((path >= lo) & (path <= 1 - lo)).all(axis=0)
        if not fits.any(axis=1).all():
            return None
        return Plan(
            self.half, self.pace, np.concatenate([self.scales, scales]), np.concatenate([self.paths, path]), fits
        )

    def track(self, x: int, y: int) -> np.ndarray:
        """[T, 3]: centre x, centre y and half-size of candidate start (x, y)."""
        return np.stack([self.paths[:, 0, x], self.paths[:, 1, y], self.half * self.scales], axis=1)


def _bounce(start: np.ndarray, half0: float, half: np.ndarray, step: float) -> np.ndarray:
    """[frames, 2, K]: straight runs at `step` per frame along each axis, reflected off the frame edges."""
    pos = start.copy()
    near_low = pos - half0 <= 1 - half0 - pos
    near = np.minimum(pos - half0, 1 - half0 - pos)
    direction = np.where(near_low == (near >= MIN_LEG), -1.0, 1.0)
    path = np.empty((len(half), *start.shape))
    for i, h in enumerate(half):
        pos = pos + direction * step
        past = (pos > 1 - h) | (pos < h)
        pos = np.where(pos > 1 - h, 2 * (1 - h) - pos, np.where(pos < h, 2 * h - pos, pos))
        direction = np.where(past, -direction, direction)
        path[i] = pos
    return path


def plan_fixed(motions: list[str], half: float, pace: Pace, rng: np.random.Generator, clip_frames: int) -> Plan:
    """A plan for exactly `motions`, one per clip, slowed evenly when the clips together would leave the frame."""
    first = Plan.start(half, pace, rng)
    rate = 1.0
    while rate >= MIN_RATE:
        plan: Plan | None = first
        for motion in motions:
            plan = plan.extend(motion, clip_frames, rate)
            if plan is None:
                break
        if plan is not None:
            return plan
        rate *= RATE_STEP
    raise ValueError(f"the motions {motions} do not fit in the frame even slowed down")


def plan_changing(
    first: str,
    clips: int,
    half: float,
    pace: Pace,
    rng: np.random.Generator,
    clip_frames: int,
    motions: tuple[str, ...],
    change: float,
) -> tuple[Plan, list[str]]:
    """A plan starting with `first`; at each later clip the motion changes with probability `change`, and also
    whenever the kept motion would leave the frame (standing still always fits)."""
    plan = plan_fixed([first], half, pace, rng, clip_frames)
    chosen = [first]
    for _ in range(clips - 1):
        others = [m for m in motions if m != chosen[-1]]
        order = [others[i] for i in rng.permutation(len(others))]
        if rng.random() >= change:
            order.insert(0, chosen[-1])
        for motion in [*order, "still"]:
            extended = plan.extend(motion, clip_frames)
            if extended is not None:
                plan = extended
                chosen.append(motion)
                break
    return plan, chosen


def _fitting(plan: Plan) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = (np.flatnonzero(fit) for fit in plan.fits)
    return xs, ys


def place(plans: list[Plan], rng: np.random.Generator) -> np.ndarray:
    """[objects, T, 3] tracks from random fitting starts. A second object takes a start that never overlaps the
    first, trying a few starts of the first; when none is clear, the pair overlapping least."""
    xs, ys = _fitting(plans[0])
    if len(plans) == 1:
        return plans[0].track(rng.choice(xs), rng.choice(ys))[None]
    second = plans[1]
    xs2, ys2 = _fitting(second)
    best = None
    for _ in range(PLACE_TRIES):
        first = plans[0].track(rng.choice(xs), rng.choice(ys))
        dx = second.paths[:, 0, xs2].T[:, None, :] - first[:, 0]
        dy = second.paths[:, 1, ys2].T[None, :, :] - first[:, 1]
        clearance = np.sqrt(dx**2 + dy**2) - (second.half * second.scales + first[:, 2])
        margin = clearance.min(axis=2)
        clear = np.argwhere(margin >= 0)
        if len(clear):
            i, j = clear[rng.integers(len(clear))]
            return np.stack([first, second.track(xs2[i], ys2[j])])
        if best is None or margin.max() > best[0]:
            best = (margin.max(), first, np.unravel_index(margin.argmax(), margin.shape))
    _, first, (i, j) = best
    return np.stack([first, second.track(xs2[i], ys2[j])])
