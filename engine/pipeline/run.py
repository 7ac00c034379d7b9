"""One generation in process: request -> text features and forced bits -> sampler -> streamed previews and frames."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Protocol

import torch

from engine.config import Preset
from engine.model.preview import PreviewMap
from engine.model.transformer import InfinityStarTransformer
from engine.model.vae import Tiling, VideoVAE
from engine.pipeline.eta import Eta
from engine.pipeline.events import ClipFrames, Finished, PassProgress, PipelineEvent, Started
from engine.pipeline.first_frame import first_frame_bits
from engine.pipeline.frames import ClipDecoder
from engine.pipeline.request import GenerationRequest, PipelineInputError, settings, storyboard_note
from engine.pipeline.text import TextEncoder, prompt_features, prompt_notes
from engine.sampler import ClipEvent, Guidance, PassEvent, generate
from engine.schedule import Schedule, build_schedule

PREVIEW_PIXELS_PER_TOKEN = 4  # a 720p preview is 320x180: enough for a monitor thumbnail, cheap to send


class GenerationModel(Protocol):
    """What a generation needs of a loaded model (engine.weights.loader.LoadedModel fits)."""

    preset: Preset
    transformer: InfinityStarTransformer
    vae: VideoVAE
    text_encoder: TextEncoder | None


def _text(model: GenerationModel, request: GenerationRequest) -> torch.Tensor:
    if request.text_features is not None:
        return request.text_features
    if not request.prompts:
        raise PipelineInputError("the request has no prompt")
    if model.text_encoder is None:
        raise PipelineInputError(
            f"{model.preset.name} has no text encoder, so a prompt cannot be encoded; give text features instead"
        )
    return prompt_features(model.text_encoder, model.preset, request.prompts[0], request.seconds)


def _forced(model: GenerationModel, request: GenerationRequest, schedule: Schedule) -> list[torch.Tensor]:
    if request.first_frame is None:
        return list(request.continue_bits)
    c = model.transformer.cfg
    return first_frame_bits(model.vae, schedule, request.first_frame, c.semantic_bits, c.detail_bits)


def video_frames(schedule: Schedule, time_factor: int) -> int:
    """Frames of the decoded video: one for latent frame 0, `time_factor` for every later one."""
    return 1 + time_factor * (schedule.latent_shape[0] - 1)


def run_generation(
    model: GenerationModel,
    request: GenerationRequest,
    preview: PreviewMap | None = None,
    chunk_latents: int | None = 2,
    tiling: Tiling | None = None,
    cancel: Callable[[], bool] | None = None,
) -> Iterator[PipelineEvent]:
    """Run `request` and yield its events as they happen (see engine.pipeline.events).

    `chunk_latents` and `tiling` are the decode settings of the model's load plan. `cancel` is checked
    before every pass; when it returns True, GenerationCancelled is raised from the sampler.
    """
    started = time.perf_counter()
    preset = model.preset
    if preset.mode != "video":
        raise PipelineInputError(f"{preset.name} is an Interact model: it generates segment by segment, not here")
    cfg = request.schedule_config(preset.schedule)
    schedule = build_schedule(cfg, request.seconds, request.aspect)
    text = _text(model, request)
    forced = _forced(model, request, schedule)
    height, width = schedule.pixel_size
    notes = [note] if (note := storyboard_note(request.prompts)) else []
    if request.text_features is None and request.prompts:
        notes += prompt_notes(model.text_encoder, request.prompts[0])
    yield Started(
        passes=len(schedule.passes),
        clips=schedule.clips,
        frames=video_frames(schedule, preset.vae.time_factor),
        height=height,
        width=width,
        fps=cfg.fps,
        settings=settings(cfg, schedule, request),
        notes=tuple(notes),
    )
    decoder = ClipDecoder(model.vae, schedule.clips, chunk_latents, tiling)
    eta = Eta(schedule, len(forced))
    sampling_seconds = decode_seconds = 0.0
    guidance = Guidance.from_schedule(cfg)
    for event in generate(model.transformer, schedule, text, guidance, request.seed, forced=forced, cancel=cancel):
        if isinstance(event, PassEvent):
            sampling_seconds += event.seconds
            eta.pass_done(event.index, event.seconds)
            image = None
            if preview is not None:
                newest = event.running_sum[0, :, -1]
                image = preview.frame(newest, upscale=PREVIEW_PIXELS_PER_TOKEN).cpu().numpy()
            yield PassProgress(event.index, event.total, event.clip, event.seconds, eta.seconds, image)
        elif isinstance(event, ClipEvent):
            t0 = time.perf_counter()
            decoded = decoder.decode(event.clip, event.latent)
            seconds = time.perf_counter() - t0
            decode_seconds += seconds
            eta.clip_decoded(event.latent.shape[2], seconds)
            if decoded is not None:
                yield ClipFrames(event.clip, *decoded)
        else:
            bits = [b.cpu() for b in event.bits]
            yield Finished(bits, sampling_seconds, decode_seconds, time.perf_counter() - started)
