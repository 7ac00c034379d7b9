"""Seeded toy-world videos: one or two shapes moving over a plain or gradient background, captioned per clip.

A video is an image clip (frame 0) followed by `seconds` clips of `clip_frames` frames, T = 1 + seconds *
clip_frames. Frame 0 is where clip 1's motion starts, so clip 0 shares clip 1's caption and truth, as a
text-to-video model makes the first frame under the prompt of the first second. A 0-second video is one image:
its caption describes the scene without motion and its truth says "still". At each later clip boundary the
motion may change; objects, colours and background stay and the motion continues from where it was.

Seeds: training uses seeds in [0, 10**8), evaluation seeds from 10**9 up (eval_prompts), so no evaluation
scene is a training scene. The caption space is finite, so an evaluation caption's text can still occur in
training; what is held out is the scene behind it (placement, pace, paraphrase).
Everything is a function of the seed; the frame size only changes the rasterisation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np

from engine.train.toyworld.captions import caption_for
from engine.train.toyworld.draw import background, draw
from engine.train.toyworld.palette import OBJECT_COLOURS, backgrounds_for
from engine.train.toyworld.spec import BACKGROUND_KINDS, CLIP_FRAMES, MOTIONS, SHAPES, SIZES, ClipSpec, ObjectSpec
from engine.train.toyworld.tracks import Pace, Plan, place, plan_changing, plan_fixed

TRAIN_SEEDS = range(10**8)
EVAL_SEED_START = 10**9
EVAL_SET_SIZE = 10**6  # eval_prompts(n, seed) uses seeds EVAL_SEED_START + seed * EVAL_SET_SIZE + [0, n)
TWO_OBJECT_CHANCE = 0.4
PLAIN_CHANCE = 0.5
CHANGE_CHANCE = 0.5
MIN_SIZE = 16  # pixels; at 16 a shrunk small object is already under 2 pixels wide


@dataclass
class Video:
    frames: np.ndarray  # [T, H, W, 3] uint8 RGB
    captions: list[str]  # one per clip; clip 0 is frame 0
    truth: list[ClipSpec]  # one per clip
    tracks: np.ndarray  # [objects, T, 3]: centre x, centre y, half-size, as fractions of the frame side
    clip_frames: int = CLIP_FRAMES


class Batch(NamedTuple):
    frames: np.ndarray  # [B, T, H, W, 3] uint8 RGB
    captions: list[list[str]]  # [B][clip]


def frame_count(seconds: int, clip_frames: int = CLIP_FRAMES) -> int:
    return 1 + seconds * clip_frames


def _check_layout(seconds: int, size: int, clip_frames: int) -> None:
    if seconds < 0 or clip_frames < 1 or size < MIN_SIZE:
        raise ValueError(
            f"a toy-world video needs seconds >= 0, clip_frames >= 1 and size >= {MIN_SIZE}; "
            f"got {seconds}, {clip_frames}, {size}"
        )


def _pick(rng: np.random.Generator, options: Sequence[str]) -> str:
    return options[rng.integers(len(options))]


def sample_spec(rng: np.random.Generator, objects: int | None = None) -> ClipSpec:
    """A random clip: distinct object colours, a background that clashes with none of them, any motions."""
    if objects not in (None, 1, 2):
        raise ValueError(f"a toy-world scene has 1 or 2 objects, not {objects}")
    count = objects or (2 if rng.random() < TWO_OBJECT_CHANCE else 1)
    colours = [str(c) for c in rng.permutation(list(OBJECT_COLOURS))[:count]]
    name = _pick(rng, backgrounds_for(set(colours)))
    kind = "plain" if rng.random() < PLAIN_CHANCE else _pick(rng, BACKGROUND_KINDS[1:])
    shown = tuple(
        ObjectSpec(colour, _pick(rng, SHAPES), _pick(rng, list(SIZES)), _pick(rng, MOTIONS)) for colour in colours
    )
    return ClipSpec(shown, name, kind)


def with_motions(spec: ClipSpec, motions: Sequence[str]) -> ClipSpec:
    """`spec` with its objects' motions replaced, in order."""
    return replace(spec, objects=tuple(replace(o, motion=m) for o, m in zip(spec.objects, motions, strict=True)))


def _render(spec: ClipSpec, tracks: np.ndarray, size: int, out: np.ndarray | None = None) -> np.ndarray:
    frames = np.empty((tracks.shape[1], size, size, 3), np.uint8) if out is None else out
    frames[:] = background(spec.background, spec.background_kind, size)
    for obj, track in zip(spec.objects, tracks, strict=True):
        rgb = OBJECT_COLOURS[obj.colour]
        for frame, (x, y, half) in zip(frames, track, strict=True):
            draw(frame, obj.shape, x, y, half, rgb)
    return frames


def _video(
    scene: ClipSpec,
    motions: list[list[str]],
    rng: np.random.Generator,
    size: int,
    clip_frames: int,
    plans: list[Plan],
    out: np.ndarray | None = None,
) -> Video:
    """The video of `scene` along `plans`, with `motions` [clip][object] (no clips: an image), captioned with `rng`."""
    tracks = place(plans, rng)
    if motions:
        clips = [with_motions(scene, clip) for clip in motions]
        captions = [caption_for(clip, rng) for clip in clips]
        captions, truth = [captions[0], *captions], [clips[0], *clips]
    else:
        truth = [with_motions(scene, ["still"] * len(scene.objects))]
        captions = [caption_for(truth[0], rng, static=True)]
    frames = _render(scene, tracks, size, out)
    return Video(frames, captions, truth, tracks, clip_frames)


def scene_of(seed: int, objects: int | None = None) -> ClipSpec:
    """The scene sample_video(seed, ..., objects) shows, with its first motions, without rendering it."""
    return sample_spec(np.random.default_rng(seed), objects)


def drawn(seeds: Sequence[int], frames: np.ndarray) -> np.ndarray:
    """[B, T, H, W] bool of [B, T, H, W, 3] `frames` of the videos of `seeds`: where an object is drawn, that is where a
    frame differs from its scene's plain background."""
    size = frames.shape[2]
    plain = np.stack([background(scene.background, scene.background_kind, size) for scene in map(scene_of, seeds)])
    return (frames != plain[:, None]).any(axis=-1)


def sample_video(
    seed: int,
    seconds: int,
    size: int = 128,
    objects: int | None = None,
    change_motion: bool = True,
    clip_frames: int = CLIP_FRAMES,
    out: np.ndarray | None = None,
) -> Video:
    """A random video; `objects` fixes the count (1 or 2), `change_motion=False` keeps each object's first motion
    throughout (slowed evenly if it would leave the frame). `out` [T, size, size, 3] receives the frames."""
    _check_layout(seconds, size, clip_frames)
    rng = np.random.default_rng(seed)
    scene = sample_spec(rng, objects)
    plans, per_object = [], []
    for obj in scene.objects:
        half, pace = SIZES[obj.size], Pace.sample(rng)
        if change_motion and seconds > 1:
            plan, chosen = plan_changing(obj.motion, seconds, half, pace, rng, clip_frames, MOTIONS, CHANGE_CHANCE)
        else:
            chosen = [obj.motion] * seconds
            plan = plan_fixed(chosen, half, pace, rng, clip_frames)
        plans.append(plan)
        per_object.append(chosen)
    return _video(scene, [list(clip) for clip in zip(*per_object, strict=True)], rng, size, clip_frames, plans, out)


def render_clips(clips: Sequence[ClipSpec], size: int = 128, seed: int = 0, clip_frames: int = CLIP_FRAMES) -> Video:
    """The video showing `clips`, one per second, which differ only in their motions; `seed` places the objects
    and paces them. Motions that together would leave the frame are slowed evenly."""
    if not clips:
        raise ValueError("render_clips needs at least one clip; render(spec, 0) makes an image")
    for clip in clips:
        clip.check()
        if with_motions(clip, [o.motion for o in clips[0].objects]) != clips[0]:
            raise ValueError("the clips of one video must show the same objects on the same background")
    return _render_motions(clips[0], [[o.motion for o in clip.objects] for clip in clips], size, seed, clip_frames)


def render(spec: ClipSpec, seconds: int, size: int = 128, seed: int = 0, clip_frames: int = CLIP_FRAMES) -> Video:
    """A `seconds`-long video of `spec`, its motions kept throughout (0 seconds: the scene as one image)."""
    spec.check()
    _check_layout(seconds, size, clip_frames)
    motions = [[o.motion for o in spec.objects]] * seconds
    return _render_motions(spec, motions, size, seed, clip_frames)


def _render_motions(scene: ClipSpec, motions: list[list[str]], size: int, seed: int, clip_frames: int) -> Video:
    _check_layout(len(motions), size, clip_frames)
    rng = np.random.default_rng(seed)
    plans = []
    for i, obj in enumerate(scene.objects):
        plans.append(plan_fixed([clip[i] for clip in motions], SIZES[obj.size], Pace.sample(rng), rng, clip_frames))
    return _video(scene, motions, rng, size, clip_frames, plans)


def sample_batch(
    seeds: Sequence[int],
    seconds: int,
    size: int = 64,
    objects: int | None = None,
    change_motion: bool = True,
    clip_frames: int = CLIP_FRAMES,
) -> Batch:
    """sample_video for each seed, its frames stacked into one preallocated array (truth: call sample_video)."""
    frames = np.empty((len(seeds), frame_count(seconds, clip_frames), size, size, 3), np.uint8)
    videos = [
        sample_video(seed, seconds, size, objects, change_motion, clip_frames, out=frames[i])
        for i, seed in enumerate(seeds)
    ]
    return Batch(frames, [v.captions for v in videos])


def eval_seed(seed: int, index: int) -> int:
    if not 0 <= index < EVAL_SET_SIZE or seed < 0:
        raise ValueError(f"evaluation prompt {index} of set {seed} is outside the held-out seeds")
    return EVAL_SEED_START + seed * EVAL_SET_SIZE + index


def eval_prompts(n: int, seed: int = 0, objects: int | None = 1) -> list[tuple[str, ClipSpec]]:
    """`n` held-out (caption, truth) pairs of one clip each, drawn from seeds no training video uses; render(truth,
    seconds) shows one."""
    prompts = []
    for index in range(n):
        rng = np.random.default_rng(eval_seed(seed, index))
        spec = sample_spec(rng, objects)
        prompts.append((caption_for(spec, rng), spec))
    return prompts
