"""Scale schedules: aspect templates, the spacetime pyramid, scale repetitions and SSA visibility (no torch)."""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass

from engine.api.jobs import MAX_VIDEO_SECONDS
from engine.config import RESOLUTIONS, SCALE_SIDES, ConfigError, ScheduleConfig, canonical_resolution

BASE_ASPECTS = (1.0, 100 / 116, 3 / 4, 2 / 3, 9 / 16, 1 / 2, 2 / 5, 1 / 3)
ASPECT_TOLERANCE = 1.06


@dataclass(frozen=True)
class Scale:
    """One spatial-temporal scale of one clip."""

    index: int
    clip: int
    index_in_clip: int
    t: int
    h: int
    w: int
    frame_start: int
    semantic: bool
    reps: int

    @property
    def tokens(self) -> int:
        return self.t * self.h * self.w


@dataclass(frozen=True)
class Pass:
    """One transformer pass: one repetition of one scale.

    `sees` lists the scales whose last-repetition K/V this pass attends to besides the prefix blocks
    and itself; `keeps` says its own K/V must be stored for later passes; `releases` lists stored
    scales no later pass refers to once this pass is done. `rope_scale` and `rope_frame` place it in
    RoPE: its scale position (after the text) and its first latent frame, those of its clip's trained slot.
    """

    index: int
    scale: int
    clip: int
    scale_in_clip: int
    rep: int
    reps: int
    t: int
    h: int
    w: int
    frame_start: int
    semantic: bool
    tau: float
    sees: tuple[int, ...]
    keeps: bool
    releases: tuple[int, ...]
    rope_scale: int
    rope_frame: int

    @property
    def tokens(self) -> int:
        return self.t * self.h * self.w

    @property
    def first_in_clip(self) -> bool:
        return self.scale_in_clip == 0 and self.rep == 0

    @property
    def last_rep(self) -> bool:
        return self.rep == self.reps - 1


@dataclass(frozen=True)
class Condition:
    """A prefilled visual block (Interact): latents placed at fixed RoPE positions, attended by every pass."""

    name: str
    t: int
    h: int
    w: int
    frames: tuple[int, ...]
    scale_id: int

    @property
    def tokens(self) -> int:
        return self.t * self.h * self.w


@dataclass(frozen=True)
class Schedule:
    """Everything one generation walks through, in order.

    Clips are numbered from 0 within the schedule; `first_clip` is the number of clip 0 in the whole video
    (0: the schedule starts the video, its clip 0 is the first frame; more: it continues a video from its clip
    `first_clip`, which then sees no clip before it). `seconds` is the length of the video it makes.
    """

    resolution: str
    aspect: float
    seconds: int
    clip_lengths: tuple[int, ...]
    scales: tuple[Scale, ...]
    passes: tuple[Pass, ...]
    conditions: tuple[Condition, ...] = ()
    first_clip: int = 0

    @property
    def latent_shape(self) -> tuple[int, int, int]:
        """(T, H, W) of the whole latent video."""
        last = self.scales[-1]
        return sum(self.clip_lengths), last.h, last.w

    @property
    def pixel_size(self) -> tuple[int, int]:
        """(height, width) in pixels."""
        _, h, w = self.latent_shape
        pixels = RESOLUTIONS[self.resolution].pixels_per_token
        return h * pixels, w * pixels

    @property
    def clips(self) -> int:
        return len(self.clip_lengths)

    @property
    def clip_spans(self) -> tuple[tuple[int, int], ...]:
        """Per clip, its latent frames [start, end) in the whole latent video."""
        ends = tuple(itertools.accumulate(self.clip_lengths))
        return tuple(zip((0, *ends[:-1]), ends, strict=True))

    @property
    def query_tokens(self) -> int:
        return sum(p.tokens for p in self.passes)

    @property
    def largest_pass(self) -> int:
        return max(p.tokens for p in self.passes)

    def clip_passes(self, clip: int) -> tuple[Pass, ...]:
        return tuple(p for p in self.passes if p.clip == clip)

    def visible_passes(self, index: int) -> tuple[int, ...]:
        """Indices of earlier passes whose tokens pass `index` attends to (its own excluded)."""
        last_rep = {p.scale: p.index for p in self.passes if p.last_rep}
        return tuple(last_rep[s] for s in self.passes[index].sees)

    def starts_video(self, clip: int) -> bool:
        """Whether `clip` is the video's first frame (the image clip)."""
        return clip == 0 and self.first_clip == 0

    def seen_position(self, clip: int) -> tuple[int, int]:
        """(RoPE scale position, first RoPE frame) at which the passes of `clip` see the final scale of the clip
        before: the slot just before theirs. Within the trained length that is where it was computed; past it,
        its keys are turned there (engine.sampler)."""
        first = next(p for p in self.passes if p.clip == clip)
        return first.rope_scale - 1, first.rope_frame - self.clip_lengths[clip - 1]


def _template(h_div_w: float) -> tuple[tuple[int, int], ...]:
    sizes = []
    for side in SCALE_SIDES:
        pw = math.sqrt(side * side / h_div_w)
        sizes.append((round(pw * h_div_w), round(pw)))
    return tuple(sizes)


@functools.cache
def aspect_templates() -> dict[float, tuple[tuple[int, int], ...]]:
    """Every h/w template (key: h/w of the largest scale, truncated to 3 decimals) -> all 15 (h, w)."""
    templates: dict[float, tuple[tuple[int, int], ...]] = {}
    for base in BASE_ASPECTS:
        sizes = _template(base)
        h, w = sizes[-1]
        templates[int(h / w * 1000) / 1000] = sizes
        if base != 1.0:
            templates[int(w / h * 1000) / 1000] = tuple((b, a) for a, b in sizes)
    return dict(sorted(templates.items()))


def parse_aspect(aspect: str | float) -> float:
    """'16:9' (width:height) or a number (height / width) -> height / width."""
    if isinstance(aspect, int | float):
        value = float(aspect)
    else:
        text = aspect.strip()
        try:
            if ":" in text:
                w_part, h_part = text.split(":", 1)
                value = float(h_part) / float(w_part)
            else:
                value = float(text)
        except (ValueError, ZeroDivisionError):
            raise ConfigError(f"aspect {aspect!r} is not 'W:H' (like 16:9) nor a number h/w") from None
    if not math.isfinite(value) or value <= 0:
        raise ConfigError(f"aspect {aspect!r} must be a positive ratio")
    return value


def describe_templates(resolution: str) -> list[str]:
    spec = RESOLUTIONS[canonical_resolution(resolution)]
    out = []
    for sizes in aspect_templates().values():
        h, w = sizes[spec.indices[-1]]
        out.append(f"{w * spec.pixels_per_token}x{h * spec.pixels_per_token}")
    return out


def select_template(aspect: str | float, resolution: str) -> tuple[float, tuple[tuple[int, int], ...]]:
    """The template for an aspect (within ~6 %), cut to the resolution's scales."""
    name = canonical_resolution(resolution)
    wanted = parse_aspect(aspect)
    key = min(aspect_templates(), key=lambda k: abs(math.log(wanted / k)))
    if abs(math.log(wanted / key)) > math.log(ASPECT_TOLERANCE):
        raise ConfigError(
            f"aspect {aspect!r} (h/w {wanted:.3f}) has no template at {name}; available (WxH): "
            + ", ".join(describe_templates(name))
        )
    sizes = aspect_templates()[key]
    return key, tuple(sizes[i] for i in RESOLUTIONS[name].indices)


def video_clip_lengths(seconds: int, cfg: ScheduleConfig) -> tuple[int, ...]:
    """Latent frames of each video clip of `seconds`: full clips, then a shorter last clip if any."""
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds != int(seconds):
        raise ConfigError(
            f"duration {seconds!r} s is not on the 1 s grid; allowed: 0 (image) or 1..{MAX_VIDEO_SECONDS}"
        )
    seconds = int(seconds)
    if not 0 <= seconds <= MAX_VIDEO_SECONDS:
        raise ConfigError(
            f"duration {seconds} s is longer than one job makes; allowed: 0 (image) or 1..{MAX_VIDEO_SECONDS} "
            "(continue the video for more)"
        )
    video = seconds * cfg.fps // cfg.frames_per_latent
    full, rest = divmod(video, cfg.clip_frames)
    return (cfg.clip_frames,) * full + ((rest,) if rest else ())


def clip_lengths(seconds: int, cfg: ScheduleConfig) -> tuple[int, ...]:
    """Latent frames per clip: the image clip, then full clips, then a shorter last clip if any."""
    return (1, *video_clip_lengths(seconds, cfg))


def trained_slot(cfg: ScheduleConfig, clip: int) -> tuple[int, int]:
    """(RoPE scale position of its first pass, its first RoPE frame) of video clip number `clip`.

    Clip k of a video is placed where the weights saw clip k, up to the last clip they saw in one video; every
    later clip takes that last trained slot, so no pass ever sits at a position training did not reach.
    """
    if clip == 0:
        return 0, 0
    slot = min(clip, cfg.trained_video_clips)
    return sum(cfg.image_repetitions) + (slot - 1) * sum(cfg.video_repetitions), 1 + (slot - 1) * cfg.clip_frames


def _check_split(cfg: ScheduleConfig, sizes: tuple[tuple[int, int], ...]) -> None:
    for i, (h, w) in enumerate(sizes):
        if (i < cfg.semantic_scales) != (h * w < cfg.detail_min_area):
            raise ConfigError(
                f"semantic_scales={cfg.semantic_scales} and detail_min_area={cfg.detail_min_area} disagree at "
                f"scale {i} ({h}x{w}): the transformer and the tokenizer would use different bit widths"
            )


def _template_sizes(cfg: ScheduleConfig, aspect: str | float) -> tuple[float, tuple[tuple[int, int], ...]]:
    key, sizes = select_template(aspect, cfg.resolution)
    if len(sizes) != cfg.scales_per_clip:
        raise ConfigError(
            f"resolution {cfg.resolution} has {len(sizes)} scales but the repetitions list {cfg.scales_per_clip}"
        )
    _check_split(cfg, sizes)
    return key, sizes


def build_schedule(cfg: ScheduleConfig, seconds: int, aspect: str | float = "16:9") -> Schedule:
    """The pass list of a text/image-to-video generation: clip 0 is the first frame, then video clips."""
    return build_clips_schedule(cfg, clip_lengths(seconds, cfg), aspect, seconds=int(seconds))


def build_clips_schedule(
    cfg: ScheduleConfig,
    lengths: tuple[int, ...],
    aspect: str | float = "16:9",
    first_clip: int = 0,
    seconds: int | None = None,
) -> Schedule:
    """The pass list of clips `first_clip`, `first_clip + 1`, ... of a video, with `lengths` latent frames each
    (clip 0 of a video is its first frame, one latent frame). `seconds` (default: the clips' own) is recorded."""
    key, sizes = _template_sizes(cfg, aspect)
    if first_clip < 0 or not lengths or (first_clip == 0 and lengths[0] != 1):
        raise ConfigError(f"clips from {first_clip} of lengths {lengths}: a video's clip 0 is one latent frame")
    if any(not 1 <= t <= cfg.clip_frames for t in lengths[1 if first_clip == 0 else 0 :]):
        raise ConfigError(f"video clips hold 1..{cfg.clip_frames} latent frames, got {lengths}")
    scales: list[Scale] = []
    frame = 0
    for clip, t in enumerate(lengths):
        reps = cfg.image_repetitions if first_clip + clip == 0 else cfg.video_repetitions
        for i, (h, w) in enumerate(sizes):
            scales.append(Scale(len(scales), clip, i, t, h, w, frame, i < cfg.semantic_scales, reps[i]))
        frame += t
    n = cfg.scales_per_clip
    sees = [(s.clip * n - 1,) if s.clip > 0 else () for s in scales]
    taus = [cfg.tau_image if first_clip + s.clip == 0 else cfg.tau_video for s in scales]
    slots = [trained_slot(cfg, first_clip + clip) for clip in range(len(lengths))]
    passes = _expand_passes(scales, sees, taus, slots)
    if seconds is None:
        video = sum(lengths) - (1 if first_clip == 0 else 0)
        seconds = round(video * cfg.frames_per_latent / cfg.fps)
    return Schedule(canonical_resolution(cfg.resolution), key, seconds, tuple(lengths), tuple(scales), passes,
                    first_clip=first_clip)


def build_interact_schedule(cfg: ScheduleConfig, aspect: str | float = "16:9") -> Schedule:
    """One Interact segment: a full clip whose passes see the text and two prefilled condition blocks."""
    key, sizes = select_template(aspect, cfg.resolution)
    _check_split(cfg, sizes)
    t = cfg.clip_frames
    scales = tuple(
        Scale(i, 0, i, t, h, w, 0, i < cfg.semantic_scales, cfg.image_repetitions[i]) for i, (h, w) in enumerate(sizes)
    )
    passes = _expand_passes(list(scales), [()] * len(scales), [cfg.tau_image] * len(scales), [(0, 0)])
    sem_h, sem_w = sizes[cfg.interact_semantic_scale]
    full_h, full_w = sizes[-1]
    detail_frames = (0,) + tuple(f + 1 for f in cfg.interact_detail_frames)
    conditions = (
        Condition("semantic_condition", t, sem_h, sem_w, tuple(range(1, t + 1)), cfg.interact_scale_ids[0]),
        Condition("detail_condition", len(detail_frames), full_h, full_w, detail_frames, cfg.interact_scale_ids[1]),
    )
    seconds = t * cfg.frames_per_latent // cfg.fps
    return Schedule(canonical_resolution(cfg.resolution), key, seconds, (t,), scales, passes, conditions)


def _expand_passes(
    scales: list[Scale], sees: list[tuple[int, ...]], taus: list[float], slots: list[tuple[int, int]]
) -> tuple[Pass, ...]:
    """The passes of `scales`; `slots` holds, per clip, the RoPE scale position of its first pass and its first
    RoPE frame."""
    last_user: dict[int, int] = {}
    for s in scales:
        for ref in sees[s.index]:
            last_user[ref] = s.index
    releases_after: dict[int, list[int]] = {}
    for ref, user in last_user.items():
        releases_after.setdefault(user, []).append(ref)
    passes: list[Pass] = []
    in_clip: dict[int, int] = {}
    for s in scales:
        for rep in range(s.reps):
            order = in_clip.setdefault(s.clip, 0)
            in_clip[s.clip] += 1
            last = rep == s.reps - 1
            passes.append(
                Pass(
                    index=len(passes),
                    scale=s.index,
                    clip=s.clip,
                    scale_in_clip=s.index_in_clip,
                    rep=rep,
                    reps=s.reps,
                    t=s.t,
                    h=s.h,
                    w=s.w,
                    frame_start=s.frame_start,
                    semantic=s.semantic,
                    tau=taus[s.index],
                    sees=sees[s.index],
                    keeps=last and s.index in last_user,
                    releases=tuple(sorted(releases_after.get(s.index, ()))) if last else (),
                    rope_scale=slots[s.clip][0] + order,
                    rope_frame=slots[s.clip][1],
                )
            )
    return tuple(passes)
