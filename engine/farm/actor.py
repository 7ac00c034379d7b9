"""One engine of the farm, as a Ray actor on one GPU (or CPU slot): it keeps its loaded models between jobs, as the
engine process does, and runs one job at a time from the same job spec, streaming back the same events.

The actor may be on another machine than the head, so nothing travels as a path. A job comes as the spec a network
client sends (`istar serve`'s: inputs named `upload:<sha256><suffix>`, output a file name) with the bytes of its
uploads; the actor keeps them in a jobs folder of its own (engine.service.served_files, under `farm/actors/NAME` in
its machine's studio folder) and writes the job's files there. Its stream yields each output file's bytes
(stream.OutputFile) just before the event that names it, events naming files by their path in the job's folder, and
ends with the models it holds (stream.Held). The job's folder is removed once it is streamed; the head keeps the
copies. A cancel (another call: the actor serves calls on a few threads) stops the job at its next pass.
"""

from __future__ import annotations

import hashlib
import os
import queue
import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

from engine.api import protocol as p
from engine.api.jobs import JobInputError, JobSpec
from engine.atomic import write_bytes_atomic
from engine.farm.stream import ActorInfo, Held, OutputFile
from engine.home import studio_home
from engine.service.served_files import ConnectionFiles, JobsFolder

KEEP_HOURS = 1.0  # uploads a job of this actor's used, kept for the next job (a continuation of the same video)
Item = p.Message | OutputFile | Held


class EngineActor:
    def __init__(self, name: str, threads: int | None = None) -> None:
        """`threads`: torch's CPU threads in this actor (None: torch's default)."""
        import torch

        from engine.runtime.hardware import detect_device
        from engine.service.runner import JobRunner
        from engine.weights.store import ModelStore

        if threads is not None:
            torch.set_num_threads(threads)
        self.info = ActorInfo(name, socket.gethostname(), os.getpid(), detect_device("auto").device)
        self._folder = JobsFolder(studio_home() / "farm" / "actors" / name, KEEP_HOURS * 3600)
        self._files = ConnectionFiles(self._folder, self._send_file)
        self._events: queue.Queue[p.Message | None] = queue.Queue()
        self._runner = JobRunner(ModelStore(), self._events.put)
        self._out: list[OutputFile] = []
        self._cancelled: set[str] = set()
        self._models = threading.Lock()

    def ready(self) -> ActorInfo:
        return self.info

    def held(self) -> tuple[str, ...]:
        """The models loaded here, oldest use first."""
        return tuple(dict.fromkeys(model for model, _, _ in self._runner.models.loaded))

    def models(self, message: p.ListModels) -> p.Models | p.Failed:
        from engine.service.server import models_answer

        with self._models:
            return models_answer(self._runner.store, message)

    def cancel(self, job_id: str) -> None:
        """Stop job `job_id` at its next pass (before its first, if it has not begun)."""
        self._cancelled.add(job_id)

    def resume(self, job_id: str) -> None:
        """Go on with job `job_id` after all, if a cancel has not stopped it yet."""
        self._cancelled.discard(job_id)

    def run(self, spec: JobSpec, uploads: dict[str, bytes]) -> Iterator[Item]:
        """Run `spec` (a network client's spec: see the module), whose uploads are `uploads` (by their stored name,
        `<sha256><suffix>`); its events and files as they come, then the models held."""
        self._folder.sweep()
        try:
            for name, data in uploads.items():
                self._keep_upload(name, data)
            admitted = self._files.admit(spec)
        except (JobInputError, OSError) as err:
            yield p.Failed(spec.id, "bad_input", str(err))
            yield Held(self.held())
            return
        worker = threading.Thread(target=self._run, args=(admitted,), name=f"farm-job-{spec.id}", daemon=True)
        worker.start()
        try:
            while (message := self._events.get()) is not None:
                message = self._files.outgoing(message)
                files, self._out = self._out, []
                for file in files:  # noqa: UP028 - not `yield from`: Ray drives the generator by next() alone
                    yield file
                yield message
        finally:
            worker.join()
            self._cancelled.discard(spec.id)
            shutil.rmtree(self._folder.job_folder(spec.id), ignore_errors=True)
        yield Held(self.held())

    def _run(self, spec: JobSpec) -> None:
        try:
            self._runner.run(spec, lambda: spec.id in self._cancelled)
        finally:
            self._events.put(None)

    def _keep_upload(self, name: str, data: bytes) -> None:
        sha256 = hashlib.sha256(data).hexdigest()
        if not name.startswith(sha256) or Path(name).name != name:
            raise JobInputError(f"an input file came as {name[:80]!r}, which is not its SHA-256 ({sha256})")
        target = self._folder.uploads / name
        if not target.is_file():
            write_bytes_atomic(target, data)
        self._folder.touch(target)

    def _send_file(self, job_id: str, name: str, path: Path) -> None:
        try:
            self._out.append(OutputFile(name, path.read_bytes()))
        except OSError as err:
            self._out.append(OutputFile(name, None, f"the engine actor {self.info.name} cannot read it "
                                                    f"({err.strerror or err})"))
