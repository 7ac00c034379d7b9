"""A job -> the generation request that makes it, checked before any model loads.

Every input file is read here, so a missing or unreadable one fails the job with its name before the (slow) model
load. Prompts become one per video clip, the form a continuation needs to extend them later.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from engine.config import Preset, get_preset
from engine.media.image import read_rgb
from engine.media.mp4 import read_frames, read_provenance
from engine.pipeline import GenerationRequest, PipelineInputError
from engine.pipeline.bits import load_bits
from engine.schedule import Schedule, build_schedule
from engine.service.jobs import JobSpec
from engine.weights.files import sha256_file
from engine.weights.manifest import Manifest
from engine.weights.safetensors_file import SafetensorsFile
from engine.weights.store import ModelStore


@dataclass
class PreparedJob:
    """`clip_prompts` has one prompt per video clip (one in all for an image); `tail` holds frames to append after
    the generated ones (a bridge's second video); `inputs` go in the provenance."""

    spec: JobSpec
    manifest: Manifest
    preset: Preset
    schedule: Schedule
    request: GenerationRequest
    clip_prompts: list[str]
    inputs: dict[str, Any]
    tail: np.ndarray | None = field(default=None, repr=False)


def _manifest(store: ModelStore, model_id: str) -> Manifest:
    installed = [m.model_id for m in store.installed()]
    if model_id not in installed:
        have = ", ".join(installed) if installed else "none"
        raise PipelineInputError(f"model {model_id!r} is not installed (installed: {have}); see `istar models list`")
    return store.manifest(model_id)


def _existing(path: str, what: str) -> Path:
    p = Path(path)
    if not p.is_file():
        raise PipelineInputError(f"{what} {p} does not exist or is not a file")
    return p


def _text_features(path: Path, channels: int) -> torch.Tensor:
    file = SafetensorsFile.open(path)
    shapes = list(file.shapes().items())
    if len(shapes) != 1 or len(shapes[0][1]) != 2 or shapes[0][1][1] != channels:
        found = ", ".join(f"{name} {list(shape)}" for name, shape in shapes) or "no tensors"
        raise PipelineInputError(f"{path} must hold one tensor [tokens, {channels}]; it holds {found}")
    return file.read(shapes[0][0], torch.float32)


def _video_clips(schedule: Schedule) -> int:
    return max(1, schedule.clips - 1)


def _spread(prompts: tuple[str, ...], clips: int, what: str) -> list[str]:
    """One prompt for all `clips`, or one each."""
    if len(prompts) == 1:
        return list(prompts) * clips
    if len(prompts) != clips:
        raise PipelineInputError(f"{what} has {clips} clip{'s' if clips > 1 else ''}: give 1 prompt or {clips}")
    return list(prompts)


@dataclass
class _Continued:
    bits: list[torch.Tensor]
    seconds: int
    prompts: list[str]
    aspect: float


def _continued(path: Path, model_id: str) -> _Continued:
    bits, meta = load_bits(path)
    if meta.get("model") != model_id:
        raise PipelineInputError(f"{path} holds a video of {meta.get('model')!r}; continue it with that model")
    try:
        prompts = json.loads(meta["prompts"])
        seconds = int(meta["seconds"])
        aspect = float(meta["aspect_h_over_w"])
    except (KeyError, ValueError, TypeError):
        raise PipelineInputError(
            f"{path} does not record its video's prompts, length and aspect; it cannot be continued"
        ) from None
    return _Continued(bits, seconds, prompts, aspect)


def _bridge_target(path: Path, schedule: Schedule, fps: int) -> tuple[np.ndarray, list[str]]:
    """The frames of the video to bridge toward, and its prompts (none for a video the studio did not make)."""
    frames, video_fps = read_frames(path)
    if tuple(frames.shape[1:3]) != schedule.pixel_size or round(video_fps) != fps:
        h, w = schedule.pixel_size
        raise PipelineInputError(
            f"{path} is {frames.shape[2]}x{frames.shape[1]} at {video_fps:g} fps; the bridge makes {w}x{h} at {fps} fps"
        )
    try:
        prompts = read_provenance(path)["inputs"]["prompts"]
    except (ValueError, KeyError, TypeError):
        prompts = []
    return frames, [p for p in prompts if isinstance(p, str)]


def prepare(spec: JobSpec, store: ModelStore) -> PreparedJob:
    manifest = _manifest(store, spec.model)
    preset = get_preset(manifest.preset)
    aspect: str | float = spec.aspect or preset.default_aspect
    inputs: dict[str, Any] = {"kind": spec.kind}
    forced: tuple[torch.Tensor, ...] = ()
    earlier: list[str] = []
    seconds = spec.seconds
    if spec.continue_from is not None:
        path = _existing(spec.continue_from, "the bits file to continue")
        continued = _continued(path, spec.model)
        forced, seconds = tuple(continued.bits), continued.seconds + spec.seconds
        earlier = continued.prompts if continued.seconds else []  # an image's prompt does not carry into a video
        inputs["continued_from_sha256"] = sha256_file(path)
        if spec.aspect is None:
            aspect = continued.aspect
    schedule = build_schedule(preset.schedule, seconds, aspect)
    if spec.continue_from is not None and schedule.aspect != continued.aspect:
        raise PipelineInputError(
            f"{spec.continue_from} holds a video of aspect h/w {continued.aspect:g}; continue it at that aspect"
        )
    if len(forced) > len(schedule.passes):
        raise PipelineInputError(f"{spec.continue_from} holds more passes than a {seconds} s video of {spec.model}")
    tail, prompts = None, spec.prompts
    if spec.bridge_to is not None:
        path = _existing(spec.bridge_to, "the video to bridge toward")
        tail, target_prompts = _bridge_target(path, schedule, preset.schedule.fps)
        prompts = prompts or tuple(target_prompts[:1])
        if not prompts:
            raise PipelineInputError(f"{path} records no prompt; give the bridge a prompt")
        inputs["bridge_to_sha256"] = sha256_file(path)
    if not prompts:
        prompts = tuple(earlier[-1:])
    new_clips = _video_clips(schedule) - len(earlier)
    if prompts or spec.text_features is None:
        clip_prompts = earlier + _spread(prompts, new_clips, f"a {seconds} s video of {spec.model}")
    else:
        clip_prompts = []  # the text features are the whole conditioning
    inputs["prompts"] = clip_prompts
    image = None
    if spec.image is not None:
        path = _existing(spec.image, "the first frame")
        image = read_rgb(path)
        inputs["first_frame_sha256"] = sha256_file(path)
    features = None
    if spec.text_features is not None:
        path = _existing(spec.text_features, "the text features file")
        features = _text_features(path, preset.transformer.text_channels)
        inputs["text_features_sha256"] = sha256_file(path)
    elif preset.text_encoder == "none":
        raise PipelineInputError(
            f"{spec.model} has no text encoder, so it cannot read a prompt; give text features instead "
            f"(a safetensors file with one [tokens, {preset.transformer.text_channels}] tensor)"
        )
    request = GenerationRequest(
        prompts=tuple(clip_prompts), seconds=seconds, aspect=aspect, seed=spec.seed,
        guidance_scale=spec.guidance_scale, tau_image=spec.tau_image, tau_video=spec.tau_video,
        first_frame=image, continue_bits=forced, text_features=features,
    )
    return PreparedJob(spec, manifest, preset, schedule, request, clip_prompts, inputs, tail)
