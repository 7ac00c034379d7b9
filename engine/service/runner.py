"""One job in the engine: prepare, load (or reuse) the model, generate, write the files, report every step.

The files are engine.service.job_output's: the video and its bits grow clip by clip; a cancelled or failed job
keeps every clip it finished, playable and continuable, and says where in its Cancelled or Failed event.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

import torch

from engine.api import protocol as p
from engine.api.jobs import JobInputError, JobSpec
from engine.api.records import BitsHeader, GenerationRecord
from engine.config import ConfigError
from engine.loader import ModelLoadError
from engine.media.errors import MediaError
from engine.pipeline import ClipFrames, PassProgress, PipelineInputError, run_generation
from engine.pipeline import Finished as PipelineFinished
from engine.pipeline.request import context_clips
from engine.runtime.device import DeviceError
from engine.sampler import GenerationCancelled, SamplerInputError
from engine.service.job_output import JobOutput
from engine.service.model_cache import ModelCache
from engine.service.prepare import PreparedJob, prepare
from engine.service.provenance import generation_record
from engine.tensors.errors import CheckpointError
from engine.text.errors import PromptError, TextEncoderError
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


class KeptClips(Exception):
    """A job stopped by `error` after finishing some clips, which are kept in `video` and `bits`."""

    def __init__(self, error: Exception, video: str, bits: str) -> None:
        super().__init__(str(error))
        self.error, self.video, self.bits = error, video, bits


class JobRunner:
    def __init__(self, store: ModelStore, emit: Callable[[p.Message], None]) -> None:
        self.store = store
        self.models = ModelCache(store)
        self.emit = emit

    def run(self, spec: JobSpec, cancelled: Callable[[], bool]) -> None:
        """Run `spec` to its end; its last event is Finished, Failed or Cancelled. Never raises for a job's fault."""
        kept: KeptClips | None = None
        try:
            self._run(spec, cancelled)
            return
        except KeptClips as partial:
            kept, err = partial, partial.error
        except Exception as failure:  # noqa: BLE001 - every failure becomes the job's Failed event; the engine serves on
            err = failure
        if isinstance(err, p.ConnectionLost):
            raise err
        video, bits = (kept.video, kept.bits) if kept else (None, None)
        if isinstance(err, GenerationCancelled):
            self.emit(p.Cancelled(spec.id, video, bits))
            return
        kind, hint = classify(err, spec.model)
        if kind == "crashed":
            log.error("job %s failed", spec.id, exc_info=err)
        if kind == "out_of_memory":
            self.models.clear()
        self.emit(p.Failed(spec.id, kind, str(err) or type(err).__name__, hint, video, bits))

    def _run(self, spec: JobSpec, cancelled: Callable[[], bool]) -> None:
        job = prepare(spec, self.store)
        output = Path(spec.output)
        if not output.parent.is_dir():
            raise PipelineInputError(f"cannot write {output}: the folder {output.parent} does not exist")
        request = job.request
        model = self.models.get(spec.model, spec.device, spec.precision, request.seconds, request.aspect, log.info)
        plan = model.plan.plan
        events = run_generation(model, request, model.preview, plan.decode_chunk_latents, plan.decode_tiling,
                                cancel=cancelled, kv_on_host=plan.kv_placement == "host")
        started = next(events)
        self.emit(p.Started(spec.id, started.passes, started.clips, started.frames, started.width, started.height,
                            started.fps, model.precision, str(model.device), list(started.notes)))
        record = generation_record(job.manifest, model.precision, started.settings, job.inputs)
        header = BitsHeader(spec.model, job.schedule.aspect, started.fps)
        out = JobOutput(output, started.fps, record, header, request.continue_from, context_clips(job.preset),
                        job.crossfade)
        try:
            with out:
                finished = self._stream(job, events, out, record)
        except Exception as err:
            if out.clips:
                raise KeptClips(err, str(output), str(out.bits)) from err
            raise
        self.emit(p.Finished(spec.id, str(output), str(out.bits), record, finished.seconds, finished.sampling_seconds,
                             finished.decode_seconds))

    def _stream(self, job: PreparedJob, events, out: JobOutput, record: GenerationRecord) -> PipelineFinished:
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
                video, bits = out.add(event.frames, event.records)
                self.emit(p.ClipReady(job.spec.id, event.clip, event.frame_start, len(event.frames), str(video),
                                      str(bits), record))
            elif isinstance(event, PipelineFinished):
                return event
        raise RuntimeError("the generation ended without its result")
