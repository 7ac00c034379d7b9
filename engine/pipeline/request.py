"""What one generation is asked to make, and the schedule settings that follow from it."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from engine.config import Preset, ScheduleConfig
from engine.schedule import Schedule


class PipelineInputError(ValueError):
    """A request does not fit the model; the message names the field and what was expected."""


@dataclass(frozen=True)
class GenerationRequest:
    """One generation. The text comes from `prompts` through the model's text encoder, or, for a model without one,
    from `text_features` [tokens, text_channels] given directly for every clip (one prompt is then only recorded).

    `prompts` holds one prompt for the whole video, or a storyboard: one per video clip, in order (the first
    frame, clip 0, takes the first). `seconds` 0 makes an image. The overrides replace the preset's guidance scale
    and sampling temperatures. `first_frame` (uint8 RGB [H, W, 3]) makes image-to-video; `continue_bits` (one
    tensor per leading pass, as a finished run returns them) continues an earlier video. At most one of the two.
    To continue a video with a new prompt, give the prompts of the whole longer video: those the continued clips
    were made with, then the new ones.
    """

    prompts: tuple[str, ...] = ()
    seconds: int = 5
    aspect: str | float = "16:9"
    seed: int = 0
    guidance_scale: float | None = None
    tau_image: float | None = None
    tau_video: float | None = None
    first_frame: np.ndarray | None = None
    continue_bits: tuple[torch.Tensor, ...] = ()
    text_features: torch.Tensor | None = None

    def __post_init__(self) -> None:
        if isinstance(self.prompts, str):
            raise PipelineInputError("prompts must be a sequence of prompts, not one string")
        if self.first_frame is not None and self.continue_bits:
            raise PipelineInputError("give a first frame or bits to continue from, not both: both fix clip 0")
        if self.guidance_scale is not None and not self.guidance_scale > 0:
            raise PipelineInputError(f"guidance_scale must be > 0, got {self.guidance_scale}")

    def schedule_config(self, base: ScheduleConfig) -> ScheduleConfig:
        """The preset's schedule settings with this request's overrides (validated as the preset's are)."""
        overrides = {"guidance_scale": self.guidance_scale, "tau_image": self.tau_image, "tau_video": self.tau_video}
        return dataclasses.replace(base, **{k: v for k, v in overrides.items() if v is not None})


def _clips_phrase(preset: Preset, schedule: Schedule) -> str:
    """'a 3 s toyworld video has 3 clips of 1 s' (the lengths listed when the last clip is shorter)."""
    if schedule.clips == 1:
        return f"a {preset.name} image is one clip"
    cfg = preset.schedule
    seconds = [f"{t * cfg.frames_per_latent / cfg.fps:g} s" for t in schedule.clip_lengths[1:]]
    lengths = f"of {seconds[0]}" if len(set(seconds)) == 1 else f"({', '.join(seconds)})"
    clips = f"{len(seconds)} clip{'s' if len(seconds) > 1 else ''}"
    return f"a {schedule.seconds} s {preset.name} video has {clips} {lengths}"


def clip_prompts(preset: Preset, schedule: Schedule, request: GenerationRequest) -> tuple[str, ...]:
    """The prompt of every clip of `schedule` (clip 0 first), or () when the request has none."""
    prompts = request.prompts
    video_clips = schedule.clips - 1
    if len(prompts) > 1 and len(prompts) != video_clips:
        raise PipelineInputError(
            f"{len(prompts)} prompts given, but {_clips_phrase(preset, schedule)}: give 1 prompt"
            + (f" or {video_clips}" if video_clips > 1 else "")
        )
    if request.text_features is not None and len(set(prompts)) > 1:
        raise PipelineInputError("text features are one text for every clip: a storyboard needs a text encoder")
    if len(prompts) == 1:
        return prompts * schedule.clips
    return prompts[:1] + prompts


def settings(
    cfg: ScheduleConfig, schedule: Schedule, request: GenerationRequest, prompts: tuple[str, ...]
) -> dict[str, Any]:
    """The settings a run actually used, for provenance: enough to make the same video again. `prompts` holds
    the prompt of every clip."""
    return {
        "prompts": list(prompts),
        "seconds": schedule.seconds,
        "aspect_h_over_w": schedule.aspect,
        "resolution": schedule.resolution,
        "seed": request.seed,
        "guidance": cfg.guidance,
        "guidance_scale": cfg.guidance_scale,
        "apg_norm_threshold": cfg.apg_norm_threshold,
        "tau_image": cfg.tau_image,
        "tau_video": cfg.tau_video,
        "image_to_video": request.first_frame is not None,
        "continued_passes": len(request.continue_bits),
    }
