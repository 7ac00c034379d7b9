"""The engine's side of one connection: read messages, queue jobs, run them one at a time, report events.

A reader thread takes messages as they come, so a cancel reaches the running job (which checks it before every
pass) and a bad line is answered at once; the calling thread runs the jobs, because that is where the device work
belongs. A line that is not a valid message is answered with a Failed event and the engine reads on.
"""

from __future__ import annotations

import collections
import logging
import threading
from collections.abc import Callable, Iterable, Iterator

from engine.api import protocol as p
from engine.api.jobs import JobInputError, JobSpec
from engine.service.models_info import describe_models
from engine.service.provenance import engine_version
from engine.service.runner import JobRunner

log = logging.getLogger("istar.engine")
RunnerFactory = Callable[[Callable[[p.Message], None]], JobRunner]  # given the emit function


class EngineServer:
    def __init__(self, runner_factory: RunnerFactory, write: Callable[[bytes], None], pid: int) -> None:
        self._write = write
        self._write_lock = threading.Lock()
        self._changed = threading.Condition()
        self._queue: collections.deque[JobSpec] = collections.deque()
        self._running: JobSpec | None = None
        self._cancelled: set[str] = set()
        self._stopping = False
        self._pid = pid
        self.runner = runner_factory(self.emit)

    def emit(self, message: p.Message) -> None:
        try:
            with self._write_lock:
                self._write(p.encode(message))
        except (OSError, ValueError) as err:  # a closed pipe or socket
            with self._changed:
                self._stopping = True
                self._changed.notify_all()
            raise p.ConnectionLost(str(err)) from None

    def serve(self, lines: Iterable[bytes]) -> None:
        """Answer `lines` until they end or a Shutdown comes, running queued jobs meanwhile."""
        self.emit(p.Ready(p.PROTOCOL_VERSION, engine_version(), self._pid))
        reader = threading.Thread(target=self._read, args=(lines,), name="engine-reader", daemon=True)
        reader.start()
        try:
            while (job := self._next_job()) is not None:
                self.runner.run(job, lambda job=job: self._stopping or job.id in self._cancelled)
                with self._changed:
                    self._running = None
        except p.ConnectionLost as err:
            log.info("client gone: %s", err)

    def _next_job(self) -> JobSpec | None:
        with self._changed:
            while not self._queue and not self._stopping:
                self._changed.wait()
            if self._stopping:
                return None
            self._running = self._queue.popleft()
            return self._running

    def _read(self, lines: Iterable[bytes]) -> None:
        try:
            for line in _until_closed(lines):
                if line.strip():
                    self.handle(line)
        except (OSError, p.ConnectionLost) as err:
            log.info("connection closed: %s", err)
        finally:
            self._stop()

    def handle(self, line: bytes) -> None:
        try:
            message = p.decode(line)
        except p.ProtocolError as err:
            log.warning("refused a message: %s", err)
            self.emit(p.Failed(p.job_id_of(line), "bad_input", f"refused a message: {err}"))
            return
        if isinstance(message, p.Submit):
            self._submit(message)
        elif isinstance(message, p.Cancel):
            self._cancel(message.job_id)
        elif isinstance(message, p.Move):
            self._move(message.job_id, message.before)
        elif isinstance(message, p.ListModels):
            self._list_models(message)
        elif isinstance(message, p.Shutdown):
            self._stop()
        else:
            self.emit(p.Failed(None, "bad_input", f"the engine does not take {message.type!r} messages"))

    def _submit(self, message: p.Submit) -> None:
        try:
            spec = JobSpec.from_json(message.job)
        except (JobInputError, TypeError) as err:
            job_id = message.job.get("id")
            self.emit(p.Failed(job_id if isinstance(job_id, str) else None, "bad_input", str(err)))
            return
        with self._changed:
            known = {j.id for j in self._queue} | ({self._running.id} if self._running else set())
            if spec.id in known:
                duplicate = True
            else:
                duplicate = False
                self._queue.append(spec)
                ahead = len(self._queue) - 1 + (self._running is not None)
                self._changed.notify_all()
        if duplicate:  # the reply names no job: the one with that id is fine and goes on
            self.emit(p.Failed(None, "bad_input", f"job {spec.id} is already queued or running"))
        else:
            self.emit(p.Accepted(spec.id, ahead))

    def _cancel(self, job_id: str) -> None:
        with self._changed:
            queued = next((j for j in self._queue if j.id == job_id), None)
            if queued is not None:
                self._queue.remove(queued)
            running = self._running is not None and self._running.id == job_id
            if running:
                self._cancelled.add(job_id)
        if queued is not None:
            self.emit(p.Cancelled(job_id))
        elif not running:  # it may have just ended: the reply names no job, so nothing is marked failed
            self.emit(p.Failed(None, "bad_input", f"no job {job_id} is queued or running"))

    def _move(self, job_id: str, before: str | None) -> None:
        with self._changed:
            job = next((j for j in self._queue if j.id == job_id), None)
            if job is not None:
                self._queue.remove(job)
                at = next((i for i, j in enumerate(self._queue) if j.id == before), len(self._queue))
                self._queue.insert(at, job)
        if job is None:
            self.emit(p.Failed(None, "bad_input", f"job {job_id} is not queued, so it cannot be moved"))

    def _list_models(self, message: p.ListModels) -> None:
        try:
            self.emit(p.Models(*describe_models(self.runner.store, message.device, message.seconds)))
        except (ValueError, OSError) as err:
            self.emit(p.Failed(None, "bad_input", f"cannot list the models: {err}"))

    def _stop(self) -> None:
        with self._changed:
            self._stopping = True
            self._queue.clear()
            self._changed.notify_all()


def _until_closed(lines: Iterable[bytes]) -> Iterator[bytes]:
    """The stream's lines, ending like end of input when the stream is closed under the reader (shutdown closes
    it from another thread, and reading a closed file raises ValueError)."""
    try:
        yield from lines
    except ValueError as err:
        log.info("input closed: %s", err)
