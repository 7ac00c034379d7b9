"""What one generation is asked to make, and the schedule settings that follow from it."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from engine.config import ScheduleConfig
from engine.schedule import Schedule


class PipelineInputError(ValueError):
    """A request does not fit the model; the message names the field and what was expected."""


@dataclass(frozen=True)
class GenerationRequest:
    """One generation. The text comes from `prompts` through the model's text encoder, or, for a model without one,
    from `text_features` [tokens, text_channels] given directly (any prompts are then only recorded).

    `prompts` holds one prompt, or one per clip for a storyboard: only the first is encoded yet (see
    `storyboard_note`). `seconds` 0 makes an image. The overrides replace the preset's guidance scale and
    sampling temperatures. `first_frame` (uint8 RGB [H, W, 3]) makes image-to-video; `continue_bits` (one
    tensor per leading pass, as a finished run returns them) continues an earlier video. At most one of the two.
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


def storyboard_note(prompts: tuple[str, ...]) -> str | None:
    """Per-clip text needs the sampler to switch the text prefix at clip boundaries, which it does not do yet:
    until then a storyboard runs on its first prompt, and the caller is told so."""
    if len(prompts) <= 1:
        return None
    return f"only the first of {len(prompts)} prompts is used: per-clip prompts are not supported yet"


def settings(cfg: ScheduleConfig, schedule: Schedule, request: GenerationRequest) -> dict[str, Any]:
    """The settings a run actually used, for provenance: enough to make the same video again."""
    return {
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
