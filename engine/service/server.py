"""The engine's side of its clients: one queue of jobs, run one at a time, and each client's connection to it.

JobQueue holds the jobs of every connection and runs them one at a time on one thread, the device's; a job's events
go to the connections that want it. EngineServer is one connection: it reads messages as they come, so a cancel
reaches the running job (which checks it before every pass) and a bad line is answered at once with a Failed event,
and the engine reads on.

A connection that ends (a shutdown, its input closing, its output failing) lets its jobs go: its queued jobs are
dropped and its running job is cancelled at the next pass boundary, because nobody is left to hear of them, unless
another connection submitted the same job (same id, same spec) and still wants it. Events for a connection that is
gone are dropped; the engine serves on. The engine the studio spawns (engine_main) has one connection with a queue of
its own and runs its jobs on the calling thread; `istar serve` (engine.service.tcp) shares one queue between all
its connections, and gives each connection the files of its jobs through engine.service.served_files.
"""

from __future__ import annotations

import collections
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from engine.api import protocol as p
from engine.api.jobs import JobInputError, JobSpec
from engine.api.remote_files import INPUT_FIELDS
from engine.service.models_info import describe_models
from engine.service.provenance import engine_version
from engine.service.runner import JobRunner
from engine.service.served_files import ConnectionFiles, UploadError

log = logging.getLogger("istar.engine")
RunnerFactory = Callable[[Callable[[p.Message], None]], JobRunner]  # given the emit function
Write = Callable[[bytes], None]


@dataclass(eq=False)
class _Job:
    spec: JobSpec
    wanted_by: list[EngineServer]  # the connections that get its events
    cancel_asked: bool = False
    started: p.Started | None = None  # sent again to a connection that joins the job while it runs

    @property
    def cancelled(self) -> bool:
        return self.cancel_asked or not self.wanted_by


class JobQueue:
    """The jobs of every connection, run one at a time by `work`. Replies go to the asking connection; a job's
    events to the connections that want it."""

    def __init__(self, runner_factory: RunnerFactory) -> None:
        self._changed = threading.Condition()  # over a reentrant lock: a reply may be answered on the spot
        self._queue: collections.deque[_Job] = collections.deque()
        self._running: _Job | None = None
        self._models = threading.Lock()  # one model listing at a time
        self.runner = runner_factory(self._route)

    def work(self, until: Callable[[], bool] = lambda: False) -> None:
        """Run the queued jobs on this thread, one at a time, until `until()` holds while none is queued."""
        while (job := self._next(until)) is not None:
            try:
                self.runner.run(job.spec, lambda job=job: job.cancelled)
            finally:
                with self._changed:
                    self._running = None

    def _next(self, until: Callable[[], bool]) -> _Job | None:
        with self._changed:
            while not self._queue:
                if until():
                    return None
                self._changed.wait()
            self._running = self._queue.popleft()
            return self._running

    def _route(self, message: p.Message) -> None:
        """An event of the running job, to each connection that wants it (one that is gone drops it)."""
        with self._changed:
            job = self._running
            if job is None:
                return
            if isinstance(message, p.Started):
                job.started = message
            elif isinstance(message, p.TERMINAL):  # over: a cancel or the same job submitted now finds it gone
                self._running = None
            to = list(job.wanted_by)
        for connection in to:
            connection.emit(message)

    def _find(self, job_id: str) -> _Job | None:
        if self._running is not None and self._running.spec.id == job_id:
            return self._running
        return next((j for j in self._queue if j.spec.id == job_id), None)

    def _ahead(self, job: _Job) -> int:
        running = self._running is not None
        return 0 if job is self._running else self._queue.index(job) + running

    def submit(self, connection: EngineServer, spec: JobSpec) -> None:
        """Queue `spec` for `connection`. The same job (id and spec) submitted by another connection is shared:
        `connection` gets its events too, from Accepted on (and its Started again when it runs)."""
        with self._changed:  # replies under the lock, so that no event of the job can pass its Accepted
            job = self._find(spec.id)
            if job is None:
                job = _Job(spec, [connection])
                self._queue.append(job)
                self._changed.notify_all()
            elif connection in job.wanted_by or job.spec != spec:
                # the reply names no job: the one with that id is fine and goes on
                connection.emit(p.Failed(None, "bad_input", f"job {spec.id} is already queued or running"))
                return
            else:
                job.wanted_by.append(connection)
                log.info("job %s is wanted by one more connection", spec.id)
            connection.emit(p.Accepted(spec.id, self._ahead(job)))
            if job is self._running and job.started is not None:
                connection.emit(job.started)

    def cancel(self, connection: EngineServer, job_id: str) -> None:
        """Cancel a job of `connection`'s: a queued one at once, the running one at its next pass. A job that
        another connection still wants goes on for that one; this one is told it is cancelled at once."""
        with self._changed:
            job = self._find(job_id)
            if job is None or connection not in job.wanted_by:
                # it may have just ended: the reply names no job, so nothing is marked failed
                connection.emit(p.Failed(None, "bad_input", f"no job {job_id} is queued or running"))
            elif len(job.wanted_by) > 1:
                job.wanted_by.remove(connection)
                connection.emit(p.Cancelled(job_id))
            elif job is self._running:
                job.cancel_asked = True  # the runner's Cancelled follows, with the clips it kept
            else:
                self._queue.remove(job)
                connection.emit(p.Cancelled(job_id))

    def move(self, connection: EngineServer, job_id: str, before: str | None) -> None:
        """Move a queued job of `connection`'s just before its queued job `before` (otherwise: to the end)."""
        with self._changed:
            job = next((j for j in self._queue if j.spec.id == job_id and connection in j.wanted_by), None)
            if job is None:
                connection.emit(p.Failed(None, "bad_input", f"job {job_id} is not queued, so it cannot be moved"))
                return
            self._queue.remove(job)
            at = next((i for i, j in enumerate(self._queue) if j.spec.id == before and connection in j.wanted_by),
                      len(self._queue))
            self._queue.insert(at, job)

    def list_models(self, connection: EngineServer, message: p.ListModels) -> None:
        try:
            with self._models:
                answer = p.Models(*describe_models(self.runner.store, message.device, message.seconds))
        except (ValueError, OSError) as err:
            connection.emit(p.Failed(None, "bad_input", f"cannot list the models: {err}"))
        else:
            connection.emit(answer)

    def busy_paths(self) -> set[Path]:
        """The files and folders the queued and running jobs use: a sweep of the jobs folder keeps them."""
        with self._changed:
            jobs = ([self._running] if self._running is not None else []) + list(self._queue)
        paths = set()
        for job in jobs:
            paths.add(Path(job.spec.output).parent)
            paths.update(Path(v) for v in (getattr(job.spec, f) for f in INPUT_FIELDS) if v is not None)
        return paths

    def leave(self, connection: EngineServer) -> None:
        """`connection` is gone: its jobs that nobody else wants are dropped, the running one at its next pass."""
        with self._changed:
            for job in [j for j in self._queue if connection in j.wanted_by]:
                job.wanted_by.remove(connection)
                if not job.wanted_by:
                    self._queue.remove(job)
                    log.info("dropped job %s: the client that submitted it is gone", job.spec.id)
            job = self._running
            if job is not None and connection in job.wanted_by:
                job.wanted_by.remove(connection)
                if not job.wanted_by and not job.cancel_asked:
                    log.info("cancelling job %s at its next pass: the client that submitted it is gone",
                             job.spec.id)
            self._changed.notify_all()


class EngineServer:
    """One client's connection: its messages in, the replies and its jobs' events out through `write` (previews
    through `write_preview`, which may skip them for a client that reads slowly). Given a runner factory rather
    than a shared JobQueue, it has a queue of its own and runs the jobs itself (see `serve`). With `files` (a
    network connection) its jobs name uploads, not paths, and their files are sent with their events."""

    def __init__(self, jobs: JobQueue | RunnerFactory, write: Write, pid: int,
                 write_preview: Write | None = None, files: ConnectionFiles | None = None) -> None:
        self._own_queue = not isinstance(jobs, JobQueue)
        self.jobs = JobQueue(jobs) if self._own_queue else jobs
        self._write = write
        self._write_preview = write_preview or write
        self._write_lock = threading.Lock()
        self._pid = pid
        self.files = files
        self._closed = False
        self._close_lock = threading.Lock()

    @property
    def runner(self) -> JobRunner:
        return self.jobs.runner

    @property
    def closed(self) -> bool:
        return self._closed

    def emit(self, message: p.Message) -> None:
        """Send `message`; once sending fails the client is gone: the connection closes and later messages are
        dropped. Never raises for a client's fault."""
        if self._closed:
            return
        write = self._write_preview if isinstance(message, p.Preview) else self._write
        gone = None
        with self._write_lock:  # a job's files go out just before the event that names them, never after
            try:
                if self.files is not None:
                    message = self.files.outgoing(message)
            except p.ConnectionLost as err:
                gone = err
            else:
                line = p.encode(message)  # raises for a message that cannot be sent: the job's fault, not the client's
                try:
                    write(line)
                except (OSError, ValueError, p.ConnectionLost) as err:  # a closed pipe or socket
                    gone = err
        if gone is not None:
            log.info("client gone: %s", gone)
            self.close()

    def serve(self, lines: Iterable[bytes]) -> None:
        """Answer `lines` until they end or a Shutdown comes. With a queue of its own it also runs the queued jobs
        on this thread meanwhile (the reader gets a thread), and returns once the running one has stopped."""
        self.emit(p.Ready(p.PROTOCOL_VERSION, engine_version(), self._pid))
        if not self._own_queue:
            self._read(lines)
            return
        reader = threading.Thread(target=self._read, args=(lines,), name="engine-reader", daemon=True)
        reader.start()
        self.jobs.work(until=lambda: self._closed)

    def _read(self, lines: Iterable[bytes]) -> None:
        try:
            for line in _until_closed(lines):
                if self._closed:
                    break
                if line.strip():
                    self.handle(line)
        except OSError as err:
            log.info("connection closed: %s", err)
        finally:
            self.close()

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
            self.jobs.cancel(self, message.job_id)
        elif isinstance(message, p.Move):
            self.jobs.move(self, message.job_id, message.before)
        elif isinstance(message, p.ListModels):
            self.jobs.list_models(self, message)
        elif isinstance(message, p.Upload):
            self._upload(message)
        elif isinstance(message, p.Shutdown):
            self.close()
        else:
            self.emit(p.Failed(None, "bad_input", f"the engine does not take {message.type!r} messages"))

    def _upload(self, chunk: p.Upload) -> None:
        if self.files is None:
            self.emit(p.Failed(None, "bad_input", "this engine shares its client's disk and reads its files by path; "
                                                  "uploads are for an engine served over the network (istar serve)"))
            return
        try:
            self.files.receive(chunk)
        except UploadError as err:
            self.emit(p.Failed(None, "bad_input", str(err)))

    def _submit(self, message: p.Submit) -> None:
        try:
            spec = JobSpec.from_json(message.job)
            if self.files is not None:
                spec = self.files.admit(spec)
        except (JobInputError, TypeError) as err:
            job_id = message.job.get("id")
            self.emit(p.Failed(job_id if isinstance(job_id, str) else None, "bad_input", str(err)))
            return
        self.jobs.submit(self, spec)

    def close(self) -> None:
        """The client is done or gone: nothing more is read or sent, and its jobs are let go (JobQueue.leave)."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        self.jobs.leave(self)
        if self.files is not None:
            self.files.close()


def _until_closed(lines: Iterable[bytes]) -> Iterator[bytes]:
    """The stream's lines, ending like end of input when the stream is closed under the reader (shutdown closes
    it from another thread, and reading a closed file raises ValueError)."""
    try:
        yield from lines
    except ValueError as err:
        log.info("input closed: %s", err)
