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
from engine.pipeline.request import GenerationRequest, PipelineInputError, clip_prompts, settings
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


def _text(
    model: GenerationModel, request: GenerationRequest, prompts: tuple[str, ...]
) -> torch.Tensor | list[torch.Tensor]:
    """The text features of every clip (`prompts` holds the prompt of each); each distinct prompt is encoded once,
    so clips sharing a prompt share one tensor and the sampler keeps its prefix."""
    if request.text_features is not None:
        return request.text_features
    if not prompts:
        raise PipelineInputError("the request has no prompt")
    if model.text_encoder is None:
        raise PipelineInputError(
            f"{model.preset.name} has no text encoder, so a prompt cannot be encoded; give text features instead"
        )
    encoder, preset = model.text_encoder, model.preset
    features = {p: prompt_features(encoder, preset, p, request.seconds) for p in dict.fromkeys(prompts)}
    return [features[p] for p in prompts]


def _notes(model: GenerationModel, request: GenerationRequest) -> list[str]:
    """What the text encoder could not read of each distinct prompt, each note naming its prompt in a storyboard."""
    if request.text_features is not None:
        return []
    distinct = list(dict.fromkeys(request.prompts))
    if len(distinct) == 1:
        return prompt_notes(model.text_encoder, distinct[0])
    encoder = model.text_encoder
    return [f"prompt {request.prompts.index(p) + 1}: {note}" for p in distinct for note in prompt_notes(encoder, p)]


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
    prompts = clip_prompts(preset, schedule, request)
    text = _text(model, request, prompts)
    forced = _forced(model, request, schedule)
    height, width = schedule.pixel_size
    yield Started(
        passes=len(schedule.passes),
        clips=schedule.clips,
        frames=video_frames(schedule, preset.vae.time_factor),
        height=height,
        width=width,
        fps=cfg.fps,
        settings=settings(cfg, schedule, request, prompts),
        notes=tuple(_notes(model, request)),
    )
    decoder = ClipDecoder(model.vae, schedule.clips, chunk_latents, tiling)
    eta = Eta(schedule, len(forced))
    sampling_seconds = decode_seconds = 0.0
    guidance = Guidance.from_schedule(cfg)
    bits: list[torch.Tensor] = []  # on the CPU, pass by pass: every clip's frames carry the bits so far
    for event in generate(model.transformer, schedule, text, guidance, request.seed, forced=forced, cancel=cancel):
        if isinstance(event, PassEvent):
            bits.append(event.bits.cpu())
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
                yield ClipFrames(event.clip, *decoded, bits=list(bits))
        else:
            yield Finished(bits, sampling_seconds, decode_seconds, time.perf_counter() - started)
