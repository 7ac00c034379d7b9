"""A job -> the generation request that makes it, checked before any model loads.

Every input file is read here, so a missing or unreadable one fails the job with its name before the (slow) model
load. A continuation reads only the end of the video it extends (engine.pipeline.request.context_clips).

Whatever is wrong with a file the user gave, or a precision the model cannot have, is a PipelineInputError (the
job fails as bad_input); only the model store's own files fail a job as bad_checkpoint.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from engine.api.jobs import DEFAULT_CROSSFADE_SECONDS, MAX_VIDEO_SECONDS, JobSpec
from engine.api.records import BitsHeader, GenerationInputs, read_provenance
from engine.config import Preset, get_preset
from engine.file_hash import sha256_file
from engine.media.errors import MediaError
from engine.media.image import read_rgb
from engine.media.layout import LEGACY_BITS_SUFFIX
from engine.media.mp4 import read_frames, read_metadata
from engine.pipeline import GenerationRequest, PipelineInputError
from engine.pipeline.bits import ClipBits, legacy_clips, read_bits
from engine.pipeline.request import ClipText, clip_texts, context_clips, first_new_video_clip, request_schedule
from engine.runtime.precision import PRECISIONS, QUANTIZED_PRECISIONS
from engine.schedule import Schedule, build_schedule
from engine.tensors.errors import CheckpointError
from engine.tensors.safetensors_file import SafetensorsFile
from engine.weights.manifest import Manifest
from engine.weights.store import ModelStore


@dataclass
class PreparedJob:
    """`crossfade` holds the first frames of the video a bridge heads for, which its last frames fade into; `inputs`
    go in the provenance."""

    spec: JobSpec
    manifest: Manifest
    preset: Preset
    schedule: Schedule
    request: GenerationRequest
    inputs: GenerationInputs
    crossfade: np.ndarray | None = field(default=None, repr=False)


def _manifest(store: ModelStore, model_id: str) -> Manifest:
    installed = [m.model_id for m in store.installed()]
    if model_id not in installed:
        have = ", ".join(installed) if installed else "none"
        raise PipelineInputError(f"model {model_id!r} is not installed (installed: {have}); see `istar models list`")
    return store.manifest(model_id)


def _precision(spec: JobSpec, store: ModelStore, manifest: Manifest) -> None:
    """A built-in model is read-only: it runs at the precisions it ships with and the dense ones, never quantised."""
    if spec.precision in QUANTIZED_PRECISIONS and spec.precision not in manifest.variants and store.is_builtin(
        spec.model
    ):
        usable = [q for q in PRECISIONS if q not in QUANTIZED_PRECISIONS or q in manifest.variants]
        raise PipelineInputError(
            f"precision {spec.precision} is not available for {spec.model}: it ships with the studio, read-only, and "
            f"cannot be quantised; choose {' or '.join(usable)}, or leave the precision to the load plan"
        )


def _existing(path: str, what: str) -> Path:
    p = Path(path)
    if not p.is_file():
        raise PipelineInputError(f"{what} {p} does not exist or is not a file")
    return p


@contextmanager
def _reading(path: Path, what: str) -> Iterator[None]:
    """Turn a checkpoint or OS error reading a file the user gave into a PipelineInputError naming it as theirs:
    the job fails as bad input, not as a damaged model."""
    try:
        yield
    except CheckpointError as err:
        text = str(err)
        raise PipelineInputError(f"{what} {text}" if text.startswith(str(path)) else f"{what} {path}: {text}") from None
    except OSError as err:
        raise PipelineInputError(f"{what} {path} cannot be read: {err.strerror or err}") from None


def _text_features(path: Path, channels: int) -> torch.Tensor:
    file = SafetensorsFile.open(path)
    shapes = list(file.shapes().items())
    if len(shapes) != 1 or len(shapes[0][1]) != 2 or shapes[0][1][1] != channels:
        found = ", ".join(f"{name} {list(shape)}" for name, shape in shapes) or "no tensors"
        raise PipelineInputError(f"{path} must hold one tensor [tokens, {channels}]; it holds {found}")
    return file.read(shapes[0][0], torch.float32)


def _video_end(path: Path, preset: Preset, model_id: str) -> tuple[BitsHeader, list[ClipBits]]:
    """The header and the last clips of the video whose bits are at `path`: as many as a continuation runs again."""
    keep = context_clips(preset)
    if path.name.endswith(LEGACY_BITS_SUFFIX):
        header, clips = legacy_clips(path, preset.schedule)
    else:
        header, clips = read_bits(path, last=keep)
    if header.model != model_id:
        raise PipelineInputError(f"{path} holds a video of {header.model!r}; continue it with that model")
    if not clips:
        raise PipelineInputError(f"{path} holds no finished clip to continue from")
    return header, clips[-keep:]


def _bridge_target(path: Path, size: tuple[int, int], fps: int, frames: int) -> tuple[np.ndarray, list[str]]:
    """The first `frames` frames of the video to bridge toward, and its prompts (none for a video the studio did
    not make)."""
    head, video_fps = read_frames(path, limit=max(frames, 1))
    if tuple(head.shape[1:3]) != size or round(video_fps) != fps:
        h, w = size
        raise PipelineInputError(
            f"{path} is {head.shape[2]}x{head.shape[1]} at {video_fps:g} fps; the bridge makes {w}x{h} at {fps} fps"
        )
    try:
        found = read_provenance(read_metadata(path))
    except MediaError:  # a video the studio did not make
        found = None
    single = found.single if found is not None else None
    return head[:frames], list(single[0].prompts) if single is not None else []


def _storyboard_seconds(spec: JobSpec, preset: Preset) -> int:
    """A storyboard without a length: one full clip per prompt."""
    return min(len(spec.prompts) * round(preset.schedule.clip_seconds), MAX_VIDEO_SECONDS)


def new_clip_prompts(schedule: Schedule, texts: list[ClipText], context: int) -> list[str]:
    """The prompt of each video clip a job makes (an image's one prompt for an image)."""
    skip = first_new_video_clip(schedule, context) if schedule.clips > 1 else 0
    return [t.prompt for t in texts[skip:] if t.prompt is not None]


def prepare(spec: JobSpec, store: ModelStore) -> PreparedJob:
    manifest = _manifest(store, spec.model)
    preset = get_preset(manifest.preset)
    aspect: str | float = spec.aspect or preset.default_aspect
    inputs: dict[str, Any] = {"kind": spec.kind}  # GenerationInputs' fields
    context: list[ClipBits] = []
    _precision(spec, store, manifest)
    if spec.continue_from is not None:
        path = _existing(spec.continue_from, "the bits file to continue")
        with _reading(path, "the bits file to continue"):
            header, context = _video_end(path, preset, spec.model)
            inputs["continued_from_sha256"] = sha256_file(path)
        inputs["continued_from_clip"] = context[-1].clip
        if spec.aspect is None:
            aspect = header.aspect_h_over_w
    seconds = _storyboard_seconds(spec, preset) if spec.seconds is None else spec.seconds
    prompts = spec.prompts
    crossfade = None
    if spec.bridge_to is not None:
        path = _existing(spec.bridge_to, "the video to bridge toward")
        size = build_schedule(preset.schedule, 0, aspect).pixel_size
        fade = DEFAULT_CROSSFADE_SECONDS if spec.crossfade_seconds is None else spec.crossfade_seconds
        fps = preset.schedule.fps
        with _reading(path, "the video to bridge toward"):
            crossfade, target_prompts = _bridge_target(path, size, fps, round(min(fade, seconds) * fps))
        prompts = prompts or tuple(target_prompts[:1])
        if not prompts:
            raise PipelineInputError(f"{path} records no prompt; give the bridge a prompt")
        with _reading(path, "the video to bridge toward"):
            inputs["bridge_to_sha256"] = sha256_file(path)
        inputs["crossfade_frames"] = len(crossfade)
    image = None
    if spec.image is not None:
        path = _existing(spec.image, "the first frame")
        with _reading(path, "the first frame"):
            image = read_rgb(path)
            inputs["first_frame_sha256"] = sha256_file(path)
    features = None
    if spec.text_features is not None:
        path = _existing(spec.text_features, "the text features file")
        with _reading(path, "the text features file"):
            features = _text_features(path, preset.transformer.text_channels)
            inputs["text_features_sha256"] = sha256_file(path)
    elif preset.text_encoder == "none":
        raise PipelineInputError(
            f"{spec.model} has no text encoder, so it cannot read a prompt; give text features instead "
            f"(a safetensors file with one [tokens, {preset.transformer.text_channels}] tensor)"
        )
    request = GenerationRequest(
        prompts=tuple(prompts), seconds=seconds, aspect=aspect, seed=spec.seed,
        guidance_scale=spec.guidance_scale, tau_image=spec.tau_image, tau_video=spec.tau_video,
        first_frame=image, continue_from=tuple(context), text_features=features,
    )
    schedule = request_schedule(request.schedule_config(preset.schedule), request)
    if context and abs(schedule.aspect - header.aspect_h_over_w) > 1e-6:
        raise PipelineInputError(
            f"{spec.continue_from} holds a video of aspect h/w {header.aspect_h_over_w}; continue it at that "
            "aspect"
        )
    texts = clip_texts(preset, schedule, request)
    inputs["prompts"] = tuple(new_clip_prompts(schedule, texts, len(context)))
    return PreparedJob(spec, manifest, preset, schedule, request, GenerationInputs(**inputs), crossfade)
