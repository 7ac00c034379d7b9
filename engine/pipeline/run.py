"""One generation in process: request -> text features and forced bits -> sampler -> streamed previews and frames."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from typing import Protocol

import torch

from engine.config import Preset
from engine.model.preview import PreviewMap
from engine.model.transformer import InfinityStarTransformer
from engine.model.vae import Tiling, VideoVAE
from engine.pipeline.bits import ClipBits
from engine.pipeline.eta import Eta
from engine.pipeline.events import ClipFrames, Finished, PassProgress, PipelineEvent, Started
from engine.pipeline.first_frame import first_frame_bits
from engine.pipeline.frames import ClipDecoder
from engine.pipeline.request import (
    ClipText,
    GenerationRequest,
    PipelineInputError,
    clip_texts,
    decoder_context_clips,
    request_schedule,
    settings,
)
from engine.pipeline.text import TextEncoder, prompt_features, prompt_notes
from engine.sampler import ClipEvent, Guidance, PassEvent, generate
from engine.schedule import Schedule

PREVIEW_PIXELS_PER_TOKEN = 4  # a 720p preview is 320x180: enough for a monitor thumbnail, cheap to send


class GenerationModel(Protocol):
    """What a generation needs of a loaded model (engine.loader.LoadedModel fits)."""

    preset: Preset
    transformer: InfinityStarTransformer
    vae: VideoVAE
    text_encoder: TextEncoder | None


class _PromptFeatures(Sequence[torch.Tensor]):
    """Each clip's text features, encoded when its clip first runs; consecutive clips with one text share one
    tensor (the sampler then keeps its prefix), and only the newest text is held, so a storyboard of any length
    costs one prompt's features."""

    def __init__(self, model: GenerationModel, texts: list[ClipText]) -> None:
        self.model = model
        self.texts = texts
        self._key: ClipText | None = None
        self._value: torch.Tensor | None = None

    def __len__(self) -> int:
        return len(self.texts)

    def __getitem__(self, clip: int) -> torch.Tensor:  # type: ignore[override]
        key = self.texts[clip]
        if key != self._key:
            if key.prompt is None:
                raise PipelineInputError(
                    "the video to continue was made from text features, not a prompt: give those features again"
                )
            self._key = None
            self._value = prompt_features(self.model.text_encoder, self.model.preset, key.prompt, key.tag_seconds)
            self._key = key
        return self._value


def _text(model: GenerationModel, request: GenerationRequest, texts: list[ClipText]) -> Sequence[torch.Tensor]:
    if request.text_features is not None:
        return [request.text_features] * len(texts)
    if all(t.prompt is None for t in texts):
        raise PipelineInputError("the request has no prompt")
    if model.text_encoder is None:
        raise PipelineInputError(
            f"{model.preset.name} has no text encoder, so a prompt cannot be encoded; give text features instead"
        )
    return _PromptFeatures(model, texts)


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
    if request.continue_from:
        return [b for clip in request.continue_from for b in clip.bits]
    if request.first_frame is None:
        return list(request.forced)
    c = model.transformer.cfg
    return first_frame_bits(model.vae, schedule, request.first_frame, c.semantic_bits, c.detail_bits)


def video_frames(schedule: Schedule, time_factor: int, context: int = 0) -> int:
    """Frames of the decoded video: one for a new video's latent frame 0, `time_factor` for every later one; the
    first `context` clips give none."""
    latent = sum(schedule.clip_lengths[context:])
    return 1 + time_factor * (latent - 1) if schedule.starts_video(0) and not context else time_factor * latent


def run_generation(
    model: GenerationModel,
    request: GenerationRequest,
    preview: PreviewMap | None = None,
    chunk_latents: int | None = 2,
    tiling: Tiling | None = None,
    cancel: Callable[[], bool] | None = None,
    kv_on_host: bool = False,
) -> Iterator[PipelineEvent]:
    """Run `request` and yield its events as they happen (see engine.pipeline.events).

    `chunk_latents`, `tiling` and `kv_on_host` are the decode and K/V settings of the model's load plan.
    `cancel` is checked before every pass; when it returns True, GenerationCancelled is raised from the
    sampler. A continuation first runs the clips it continues from (forced: only their final scales and their
    decode), which report nothing; its passes, clips and frames are counted from its first new clip.
    """
    started = time.perf_counter()
    preset = model.preset
    if preset.mode != "video":
        raise PipelineInputError(f"{preset.name} is an Interact model: this engine plans it, never generates with it")
    cfg = request.schedule_config(preset.schedule)
    schedule = request_schedule(cfg, request)
    texts = clip_texts(preset, schedule, request)
    text = _text(model, request, texts)
    forced = _forced(model, request, schedule)
    context = len(request.continue_from)
    context_passes = sum(len(schedule.clip_passes(c)) for c in range(context))
    first_frame = request.continue_from[0].frame if context else 0
    height, width = schedule.pixel_size
    yield Started(
        passes=len(schedule.passes) - context_passes,
        clips=schedule.clips - context,
        frames=video_frames(schedule, preset.vae.time_factor, context),
        height=height,
        width=width,
        fps=cfg.fps,
        settings=settings(cfg, schedule, request, texts),
        notes=tuple(_notes(model, request)),
    )
    decoder = ClipDecoder(model.vae, schedule, context, decoder_context_clips(preset), chunk_latents, tiling)
    eta = Eta(schedule, len(forced), decoder.first_decoded)
    sampling_seconds = decode_seconds = 0.0
    guidance = Guidance.from_schedule(cfg)
    total = len(schedule.passes) - context_passes
    records: list[ClipBits] = []
    events = generate(model.transformer, schedule, text, guidance, request.seed, forced=forced, cancel=cancel,
                      kv_on_host=kv_on_host)
    for event in events:
        if isinstance(event, PassEvent):
            eta.pass_done(event.index, event.seconds)
            if event.index < context_passes:
                continue
            sampling_seconds += event.seconds
            image = None
            if preview is not None:
                newest = event.running_sum[0, :, -1]
                image = preview.frame(newest, upscale=PREVIEW_PIXELS_PER_TOKEN).cpu().numpy()
            yield PassProgress(event.index - context_passes, total, event.clip - context, event.seconds, eta.seconds,
                               image)
        elif isinstance(event, ClipEvent):
            t0 = time.perf_counter()
            decoded = decoder.decode(event.clip, event.latent)
            seconds = time.perf_counter() - t0
            decode_seconds += seconds
            if event.clip >= decoder.first_decoded:
                eta.clip_decoded(event.latent.shape[2], seconds)
            if event.clip >= context:
                text_of = texts[event.clip]
                records.append(ClipBits(
                    schedule.first_clip + event.clip, first_frame + event.frame_start, event.latent.shape[2],
                    text_of.prompt, text_of.tag_seconds, [b.cpu() for b in event.bits],
                ))
            if decoded is not None:
                yield ClipFrames(event.clip - context, *decoded, records=tuple(records))
                records = []
        else:
            yield Finished(sampling_seconds, decode_seconds, time.perf_counter() - started)
