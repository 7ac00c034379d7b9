"""What one generation is asked to make, and the schedule settings that follow from it."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
import torch

from engine.api.records import GenerationSettings
from engine.config import Preset, ScheduleConfig
from engine.model.vae import decoder_history
from engine.pipeline.bits import ClipBits
from engine.pipeline.errors import PipelineInputError
from engine.schedule import Schedule, build_clips_schedule, build_schedule, video_clip_lengths


@dataclass(frozen=True)
class GenerationRequest:
    """One generation. The text comes from `prompts` through the model's text encoder, or, for a model without one,
    from `text_features` [tokens, text_channels] given directly for every clip (one prompt is then only recorded).

    `prompts` holds one prompt for the whole video, or a storyboard: one per video clip, in order (the first
    frame, clip 0, takes the first). `seconds` 0 makes an image. The overrides replace the preset's guidance scale
    and sampling temperatures. `first_frame` (uint8 RGB [H, W, 3]) makes image-to-video. `continue_from` holds the
    last clips of an earlier video, as its bits file stores them: the request then makes `seconds` more of that
    video (its prompts are the new clips'), and only those are decoded into frames. `forced` fixes the bits of the
    leading passes of a new video (any number, clips cut anywhere: for studying what the model makes of them).
    At most one of `first_frame`, `continue_from` and `forced`.
    """

    prompts: tuple[str, ...] = ()
    seconds: int = 5
    aspect: str | float = "16:9"
    seed: int = 0
    guidance_scale: float | None = None
    tau_image: float | None = None
    tau_video: float | None = None
    first_frame: np.ndarray | None = None
    continue_from: tuple[ClipBits, ...] = ()
    forced: tuple[torch.Tensor, ...] = ()
    text_features: torch.Tensor | None = None

    def __post_init__(self) -> None:
        if isinstance(self.prompts, str):
            raise PipelineInputError("prompts must be a sequence of prompts, not one string")
        if sum((self.first_frame is not None, bool(self.continue_from), bool(self.forced))) > 1:
            raise PipelineInputError("give a first frame, a video to continue or forced bits, not more than one")
        if self.continue_from and self.seconds < 1:
            raise PipelineInputError(f"a continuation adds at least 1 s, got {self.seconds}")
        if self.guidance_scale is not None and not self.guidance_scale > 0:
            raise PipelineInputError(f"guidance_scale must be > 0, got {self.guidance_scale}")
        clips = self.continue_from
        for a, b in zip(clips, clips[1:], strict=False):
            if (b.clip, b.frame) != (a.clip + 1, a.frame + a.t):
                raise PipelineInputError(
                    f"the clips to continue from must follow each other: clip {b.clip} at latent frame {b.frame} "
                    f"comes after clip {a.clip} ({a.t} frames from {a.frame})"
                )

    def schedule_config(self, base: ScheduleConfig) -> ScheduleConfig:
        """The preset's schedule settings with this request's overrides (validated as the preset's are)."""
        overrides = {"guidance_scale": self.guidance_scale, "tau_image": self.tau_image, "tau_video": self.tau_video}
        return dataclasses.replace(base, **{k: v for k, v in overrides.items() if v is not None})

    def video_seconds(self, cfg: ScheduleConfig) -> int:
        """Seconds of the whole video once this request is done."""
        before = self.continue_from[-1].end_seconds(cfg) if self.continue_from else 0
        return before + self.seconds


# A continuation runs the last clips of the video it extends again (forced: only their final passes run). The clip
# before gives the K/V its first new clip sees; those K/V saw the clip before them one layer down, so a model of
# depth L needs L clips for an exact continuation. Each clip further back moved toyworld's logits ten times less
# (bench/continuation_context.py: mean |dP(bit)| 0.045, 0.015, 0.0014, 0 for 1-4 clips); four bound the cost of
# starting a continuation of the 8B, whose 36 would be seven clips' worth of passes.
TRANSFORMER_CONTEXT_CLIPS = 4


def decoder_context_clips(preset: Preset) -> int:
    """Clips the decoder must be fed before a continuation's first new clip to reach the state the video's own
    decode had there (engine.model.vae.decoder_history)."""
    return math.ceil(decoder_history(preset.vae) / preset.schedule.clip_frames)


def context_clips(preset: Preset) -> int:
    """How many clips of a video a continuation reads and runs again: the transformer's context and the
    decoder's."""
    return max(min(TRANSFORMER_CONTEXT_CLIPS, preset.transformer.depth), decoder_context_clips(preset))


def request_schedule(cfg: ScheduleConfig, request: GenerationRequest) -> Schedule:
    """The clips a request runs: the clips it continues from (their bits forced), then the new ones."""
    if not request.continue_from:
        return build_schedule(cfg, request.seconds, request.aspect)
    context = request.continue_from
    lengths = (*(c.t for c in context), *video_clip_lengths(request.seconds, cfg))
    return build_clips_schedule(cfg, lengths, request.aspect, first_clip=context[0].clip, seconds=request.seconds)


def _clips_phrase(preset: Preset, schedule: Schedule, new_clips: int) -> str:
    """'a 3 s toyworld video has 3 clips of 1 s' (the lengths listed when the last clip is shorter)."""
    if new_clips == 0:
        return f"a {preset.name} image is one clip"
    cfg = preset.schedule
    seconds = [f"{t * cfg.frames_per_latent / cfg.fps:g} s" for t in schedule.clip_lengths[-new_clips:]]
    lengths = f"of {seconds[0]}" if len(set(seconds)) == 1 else f"({', '.join(seconds)})"
    clips = f"{len(seconds)} clip{'s' if len(seconds) > 1 else ''}"
    return f"a {schedule.seconds} s {preset.name} video has {clips} {lengths}"


def first_new_video_clip(schedule: Schedule, context: int) -> int:
    """The first clip of `schedule` that is a video clip the run makes: after the `context` clips it continues
    from, or after a new video's first frame."""
    return context or (1 if schedule.starts_video(0) else 0)


@dataclass(frozen=True)
class ClipText:
    """What one clip's passes read: a prompt (None: the request's text features) tagged for a video of
    `tag_seconds`."""

    prompt: str | None
    tag_seconds: int


def clip_texts(preset: Preset, schedule: Schedule, request: GenerationRequest) -> list[ClipText]:
    """The text of every clip of `schedule`: the continued clips' own, then the new clips' from the request."""
    cfg = preset.schedule
    context = request.continue_from
    new_clips = schedule.clips - first_new_video_clip(schedule, len(context))
    prompts = request.prompts
    if not prompts and context and context[-1].prompt is not None and request.text_features is None:
        prompts = (context[-1].prompt,)  # a continuation goes on with the prompt it ended on
    if len(prompts) > 1 and len(prompts) != new_clips:
        raise PipelineInputError(
            f"{len(prompts)} prompts given, but {_clips_phrase(preset, schedule, new_clips)}: give 1 prompt"
            + (f" or {new_clips}" if new_clips > 1 else "")
        )
    if request.text_features is not None and len(set(prompts)) > 1:
        raise PipelineInputError("text features are one text for every clip: a storyboard needs a text encoder")
    tag = cfg.tag_seconds(request.video_seconds(cfg))
    own_clips = schedule.clips - len(context)  # a new video's first frame takes its first video clip's prompt
    if not prompts:
        own = [ClipText(None, tag)] * own_clips
    elif len(prompts) == 1:
        own = [ClipText(prompts[0], tag)] * own_clips
    else:
        own = [ClipText(p, tag) for p in prompts[:1] * (own_clips - new_clips) + prompts]
    return [ClipText(c.prompt, c.tag_seconds) for c in context] + own


def settings(
    cfg: ScheduleConfig, schedule: Schedule, request: GenerationRequest, texts: list[ClipText]
) -> GenerationSettings:
    """The settings a run actually used, for provenance: enough to make the same video again. `texts` holds the
    text of every clip of the schedule; the prompts recorded are those of the clips this run makes."""
    made = texts[len(request.continue_from) :]
    return GenerationSettings(
        prompts=tuple(t.prompt for t in made if t.prompt is not None),
        seconds=schedule.seconds,
        aspect_h_over_w=schedule.aspect,
        resolution=schedule.resolution,
        seed=request.seed,
        guidance=cfg.guidance,
        guidance_scale=cfg.guidance_scale,
        apg_norm_threshold=cfg.apg_norm_threshold,
        tau_image=cfg.tau_image,
        tau_video=cfg.tau_video,
        image_to_video=request.first_frame is not None,
        continued_from_clip=request.continue_from[-1].clip if request.continue_from else None,
    )
