"""One job in the engine: prepare, load (or reuse) the model, generate, write the files, report every step.

Files, for a job whose output is `out.mp4`: `out.mp4` (the whole video, with its provenance in the metadata) and
`out.bits.safetensors` (continue from it); as each clip is decoded, `out.clips/clip_NN.mp4` holds that clip's frames
and `out.clips/clip_NN.bits.safetensors` every pass so far, so a clip can be played or continued before the job
ends. Every file appears whole or not at all.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from engine.config import ConfigError
from engine.media.errors import MediaError
from engine.media.layout import bits_path, clips_folder
from engine.media.mp4 import Mp4Stream, mp4_writer
from engine.pipeline import ClipFrames, PassProgress, PipelineInputError, run_generation
from engine.pipeline import Finished as PipelineFinished
from engine.pipeline.bits import save_bits
from engine.runtime.device import DeviceError
from engine.sampler import GenerationCancelled, SamplerInputError
from engine.service import protocol as p
from engine.service.jobs import JobInputError, JobSpec
from engine.service.model_cache import ModelCache
from engine.service.prepare import PreparedJob, prepare
from engine.service.provenance import provenance
from engine.text.errors import PromptError, TextEncoderError
from engine.weights.errors import CheckpointError
from engine.weights.loader import ModelLoadError
from engine.weights.manifest import ModelStoreError
from engine.weights.store import ModelStore

PREVIEW_INTERVAL = 0.1  # seconds: previews at most 10 per second, so a fast model does not flood the pipe
log = logging.getLogger("istar.engine")

BAD_INPUT = (PipelineInputError, JobInputError, PromptError, ConfigError, MediaError, SamplerInputError, DeviceError)
MEMORY_HINT = "try a lower precision (int8 or nf4), a shorter duration, or close other programs using the GPU"
CHECKPOINT_HINT = "check the model's files with `istar models verify {model}`, or install it again"


def classify(err: BaseException, model: str) -> tuple[str, str]:
    """(failure kind, hint for the user) of an exception a job raised."""
    if isinstance(err, torch.OutOfMemoryError | MemoryError | ModelLoadError):
        return "out_of_memory", MEMORY_HINT
    if isinstance(err, BAD_INPUT):
        return "bad_input", ""
    if isinstance(err, CheckpointError | ModelStoreError | TextEncoderError):
        return "bad_checkpoint", CHECKPOINT_HINT.format(model=model)
    return "crashed", "an error inside the engine; its log has the details"


class JobRunner:
    def __init__(self, store: ModelStore, emit: Callable[[p.Message], None]) -> None:
        self.store = store
        self.models = ModelCache(store)
        self.emit = emit

    def run(self, spec: JobSpec, cancelled: Callable[[], bool]) -> None:
        """Run `spec` to its end; its last event is Finished, Failed or Cancelled. Never raises for a job's fault."""
        try:
            self._run(spec, cancelled)
        except GenerationCancelled:
            self.emit(p.Cancelled(spec.id))
        except p.ConnectionLost:
            raise
        except Exception as err:  # noqa: BLE001 - every failure becomes the job's Failed event; the engine serves on
            kind, hint = classify(err, spec.model)
            if kind == "crashed":
                log.exception("job %s failed", spec.id)
            if kind == "out_of_memory":
                self.models.clear()
            self.emit(p.Failed(spec.id, kind, str(err) or type(err).__name__, hint))

    def _run(self, spec: JobSpec, cancelled: Callable[[], bool]) -> None:
        job = prepare(spec, self.store)
        output = Path(spec.output)
        if not output.parent.is_dir():
            raise PipelineInputError(f"cannot write {output}: the folder {output.parent} does not exist")
        request = job.request
        model = self.models.get(spec.model, spec.device, spec.precision, request.seconds, request.aspect, log.info)
        plan = model.plan.plan
        events = run_generation(model, request, model.preview, plan.decode_chunk_latents, plan.decode_tiling,
                                cancel=cancelled)
        started = next(events)
        self.emit(p.Started(spec.id, started.passes, started.clips, started.frames, started.width, started.height,
                            started.fps, model.precision, str(model.device), list(started.notes)))
        meta = provenance(job.manifest, model.precision, started.settings, job.inputs)
        with mp4_writer(output, started.fps, meta) as video:
            finished = self._stream(job, events, video, meta, started.fps)
            if job.tail is not None:
                video.write(job.tail)
        bits = bits_path(output)
        save_bits(bits, finished.bits, self._bits_meta(job, request.seconds, len(job.clip_prompts)))
        self.emit(p.Finished(spec.id, str(output), str(bits), meta, finished.seconds, finished.sampling_seconds,
                             finished.decode_seconds))

    def _stream(
        self, job: PreparedJob, events, video: Mp4Stream, meta: dict[str, Any], fps: int
    ) -> PipelineFinished:
        last_preview = 0.0
        for event in events:
            if isinstance(event, PassProgress):
                self.emit(p.Progress(job.spec.id, event.index, event.total, event.clip, event.seconds,
                                     event.eta_seconds))
                now = time.monotonic()
                due = now - last_preview >= PREVIEW_INTERVAL or event.index == event.total - 1
                if event.preview is not None and due:
                    self.emit(p.Preview.from_image(job.spec.id, event.index, event.total, event.clip, event.preview))
                    last_preview = now
            elif isinstance(event, ClipFrames):
                video.write(event.frames)
                self.emit(self._clip_ready(job, event, meta, fps))
            elif isinstance(event, PipelineFinished):
                return event
        raise RuntimeError("the generation ended without its result")

    def _clip_ready(self, job: PreparedJob, event: ClipFrames, meta: dict[str, Any], fps: int) -> p.ClipReady:
        folder = clips_folder(Path(job.spec.output))
        folder.mkdir(exist_ok=True)
        video = folder / f"clip_{event.clip:02d}.mp4"
        with mp4_writer(video, fps, meta) as stream:
            stream.write(event.frames)
        seconds = (event.frame_start + len(event.frames) - 1) // fps
        bits = bits_path(video)
        save_bits(bits, event.bits, self._bits_meta(job, seconds, max(1, event.clip)))
        return p.ClipReady(job.spec.id, event.clip, event.frame_start, len(event.frames), str(video), str(bits), meta)

    @staticmethod
    def _bits_meta(job: PreparedJob, seconds: int, video_clips: int) -> dict[str, str]:
        """What a continuation needs to know of the video these bits make."""
        return {
            "model": job.spec.model,
            "seconds": str(seconds),
            "aspect_h_over_w": str(job.schedule.aspect),
            "prompts": json.dumps(job.clip_prompts[:video_clips]),
        }
