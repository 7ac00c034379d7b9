"""InfinityStar-Interact: a long video steered by a new prompt every 5 s segment.

Each segment is one full clip whose passes see the segment's text and two prefilled condition
blocks made from the previous 21 latents: a semantic block (the last 20 latents shrunk to one
small scale) and a detail block (the first frame plus the last two latents at full size).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import torch

from engine.config import Preset
from engine.model.bsq import area_downsample
from engine.model.transformer import InfinityStarTransformer
from engine.sampler import ClipEvent, Event, FinishedEvent, Guidance, SamplerInputError, generate
from engine.schedule import Schedule, build_interact_schedule


@dataclass
class SegmentEvent:
    """An event of segment `segment`; with its FinishedEvent come the segment's `latent` and `context`, the next
    segment's 21 latents."""

    segment: int
    event: Event
    context: torch.Tensor | None = None
    latent: torch.Tensor | None = None


def condition_blocks(
    schedule: Schedule, context: torch.Tensor, first_frame: torch.Tensor, detail_frames: tuple[int, ...]
) -> dict[str, torch.Tensor]:
    """The semantic and detail condition latents from the previous 1 + clip latents and the first frame."""
    semantic, detail = schedule.conditions
    expected = semantic.t + 1
    if context.dim() != 5 or context.shape[2] != expected or context.shape[-2:] != schedule.latent_shape[1:]:
        raise SamplerInputError(
            f"Interact context latents have shape {tuple(context.shape)}; expected "
            f"[1, C, {expected}, {schedule.latent_shape[1]}, {schedule.latent_shape[2]}]"
        )
    if tuple(first_frame.shape) != (*context.shape[:2], 1, *context.shape[3:]):
        raise SamplerInputError(
            f"Interact first-frame latent has shape {tuple(first_frame.shape)}; expected "
            f"{(*context.shape[:2], 1, *context.shape[3:])}"
        )
    clip = context[:, :, 1:]
    return {
        semantic.name: area_downsample(clip, semantic.t, semantic.h, semantic.w),
        detail.name: torch.cat([first_frame, clip[:, :, list(detail_frames)]], dim=2),
    }


def interact(
    model: InfinityStarTransformer,
    preset: Preset,
    prompts: Iterable[torch.Tensor],
    context: torch.Tensor,
    aspect: str | float = "16:9",
    seed: int = 0,
    guidance: Guidance | None = None,
    cancel: Callable[[], bool] | None = None,
) -> Iterator[SegmentEvent]:
    """One segment per prompt embedding, each continuing from the previous 21 latents.

    `context` [1, C, 21, H, W] is the latent of the video so far (its first latent frame is the
    video's first frame). Segment k uses seed + k.
    """
    schedule = build_interact_schedule(preset.schedule, aspect)
    guidance = guidance or Guidance.from_schedule(preset.schedule)
    first_frame = context[:, :, :1]
    keep = context.shape[2]
    for segment, text in enumerate(prompts):
        conditions = condition_blocks(schedule, context, first_frame, preset.schedule.interact_detail_frames)
        for event in generate(model, schedule, text, guidance, seed + segment, conditions=conditions, cancel=cancel):
            if isinstance(event, ClipEvent):  # a segment is one clip
                latent = event.latent
                context = torch.cat([context, latent], dim=2)[:, :, -keep:]
            if isinstance(event, FinishedEvent):
                yield SegmentEvent(segment, event, context, latent)
            else:
                yield SegmentEvent(segment, event)
