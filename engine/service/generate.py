"""What `istar generate` does: check the inputs, load the model, generate with a progress bar, write the MP4 with
its provenance and the bits beside it.

Models without a text encoder (the test sizes) cannot read a prompt: they take `--text-features`, a safetensors
file holding one [tokens, text_channels] tensor, such as the features a parity fixture recorded. Nothing is
made up from the prompt's text, so what such a model is conditioned on is always a real, named file.
"""

from __future__ import annotations

import argparse
import secrets
import sys
from pathlib import Path
from typing import Any, TextIO

import torch

from engine.config import Preset, get_preset
from engine.media.image import read_rgb
from engine.media.mp4 import mp4_writer
from engine.pipeline import ClipFrames, Finished, GenerationRequest, PassProgress, PipelineInputError, run_generation
from engine.pipeline.bits import bits_path, load_bits, save_bits
from engine.schedule import build_schedule
from engine.service.provenance import provenance
from engine.text.prompt import check_prompt
from engine.weights.files import sha256_file
from engine.weights.loader import load_model
from engine.weights.safetensors_file import SafetensorsFile
from engine.weights.store import ModelStore

BAR = 24


def _preset(store: ModelStore, model_id: str) -> Preset:
    installed = [m.model_id for m in store.installed()]
    if model_id not in installed:
        have = ", ".join(installed) if installed else "none"
        raise PipelineInputError(
            f"model {model_id!r} is not installed (installed: {have}); see `istar models list`"
        )
    return get_preset(store.manifest(model_id).preset)


def _check_duration(preset: Preset, model_id: str, seconds: int) -> None:
    longest = preset.schedule.max_seconds
    if not 0 <= seconds <= longest:
        raise PipelineInputError(f"--duration {seconds}: {model_id} makes 1..{longest} s videos (0 for an image)")


def _text_features(path: Path, channels: int) -> torch.Tensor:
    file = SafetensorsFile.open(path)
    shapes = list(file.shapes().items())
    if len(shapes) != 1 or len(shapes[0][1]) != 2 or shapes[0][1][1] != channels:
        found = ", ".join(f"{name} {list(shape)}" for name, shape in shapes) or "no tensors"
        raise PipelineInputError(f"{path} must hold one tensor [tokens, {channels}]; it holds {found}")
    return file.read(shapes[0][0], torch.float32)


def _text_inputs(args: argparse.Namespace, preset: Preset, model_id: str) -> tuple[torch.Tensor | None, dict]:
    """(features from --text-features or None, what goes in the provenance); checked before the model loads."""
    if args.prompt is not None:
        check_prompt(args.prompt)
    if args.text_features is not None:
        features = _text_features(args.text_features, preset.transformer.text_channels)
        return features, {"prompt": args.prompt, "text_features_sha256": sha256_file(args.text_features)}
    if preset.text_encoder == "none":
        raise PipelineInputError(
            f"{model_id} has no text encoder, so it cannot read a prompt; give --text-features FILE "
            f"(a safetensors file with one [tokens, {preset.transformer.text_channels}] tensor)"
        )
    if args.prompt is None:
        raise PipelineInputError("give --prompt TEXT: what the video should show")
    return None, {"prompt": args.prompt}


def _continuation(path: Path, model_id: str, aspect: float) -> list[torch.Tensor]:
    bits, meta = load_bits(path)
    if meta.get("model") != model_id:
        raise PipelineInputError(f"{path} holds a video of {meta.get('model')!r}; continue it with that model")
    if meta.get("aspect_h_over_w") != str(aspect):
        raise PipelineInputError(
            f"{path} holds a video of aspect h/w {meta.get('aspect_h_over_w')}; continue it at that --aspect"
        )
    return bits


def _clock(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes // 60}:{minutes % 60:02d}:{secs:02d}" if minutes >= 60 else f"{minutes}:{secs:02d}"


def progress_line(event: PassProgress, clips: int) -> str:
    done = event.index + 1
    filled = BAR * done // event.total
    eta = "--:--" if event.eta_seconds is None else _clock(event.eta_seconds)
    return (f"[{'#' * filled}{'.' * (BAR - filled)}] pass {done}/{event.total}  clip {event.clip + 1}/{clips}  "
            f"{event.seconds:.2f} s/pass  ETA {eta}")


def _show(line: str, out: TextIO) -> None:
    if out.isatty():
        out.write(f"\r{line}\033[K")
        out.flush()
    else:
        print(line, file=out)


def generate(args: argparse.Namespace) -> int:
    err = sys.stderr
    store = ModelStore()
    model_id = args.model
    preset = _preset(store, model_id)
    _check_duration(preset, model_id, args.duration)
    args.aspect = args.aspect or preset.default_aspect
    schedule = build_schedule(preset.schedule, args.duration, args.aspect)  # a bad aspect fails before loading
    text, inputs = _text_inputs(args, preset, model_id)
    image = None
    if args.image is not None:
        image = read_rgb(args.image)
        inputs["first_frame_sha256"] = sha256_file(args.image)
    continue_bits: list[torch.Tensor] = []
    if args.continue_from is not None:
        continue_bits = _continuation(args.continue_from, model_id, schedule.aspect)
        inputs["continued_from_sha256"] = sha256_file(args.continue_from)
    if not args.output.parent.is_dir():
        raise PipelineInputError(f"cannot write {args.output}: the folder {args.output.parent} does not exist")
    request = GenerationRequest(
        prompts=(args.prompt,) if args.prompt is not None else (), seconds=args.duration, aspect=args.aspect,
        seed=secrets.randbelow(2**31) if args.seed is None else args.seed, guidance_scale=args.guidance_scale,
        tau_image=args.tau_image, tau_video=args.tau_video, first_frame=image, continue_bits=tuple(continue_bits),
        text_features=text,
    )
    try:
        finished = _run(args, store, request, inputs, err)
    except KeyboardInterrupt:
        print(f"\ncancelled; {args.output} was not written", file=err)
        return 130
    bits_file = bits_path(args.output)
    save_bits(bits_file, finished.bits, {"model": model_id, "seconds": str(args.duration),
                                         "aspect_h_over_w": str(schedule.aspect)})
    print(f"done in {finished.seconds:.1f} s (sampling {finished.sampling_seconds:.1f} s, decoding "
          f"{finished.decode_seconds:.1f} s); bits to continue from: {bits_file}", file=err)
    print(args.output)
    return 0


def _run(
    args: argparse.Namespace, store: ModelStore, request: GenerationRequest, inputs: dict[str, Any], err: TextIO
) -> Finished:
    """Load the model, generate with a progress bar on `err`, write the MP4 as clips arrive."""
    loaded = load_model(args.model, args.device, args.precision, args.duration, args.aspect, store,
                        progress=lambda line: print(line, file=err))
    plan = loaded.plan.plan
    events = run_generation(loaded, request, loaded.preview, plan.decode_chunk_latents, plan.decode_tiling)
    started = next(events)
    for note in started.notes:
        print(f"note: {note}", file=err)
    frames = f"{started.frames} frame{'s' if started.frames > 1 else ''}"
    print(f"seed {request.seed}: {frames} of {started.width}x{started.height} at {started.fps} fps, "
          f"{started.passes} passes", file=err)
    meta = provenance(loaded.resolved.manifest, loaded.precision, started.settings, inputs)
    finished = None
    with mp4_writer(args.output, started.fps, meta) as video:
        for event in events:
            if isinstance(event, PassProgress):
                _show(progress_line(event, started.clips), err)
            elif isinstance(event, ClipFrames):
                video.write(event.frames)
            elif isinstance(event, Finished):
                finished = event
    if err.isatty():
        print(file=err)
    return finished
