"""The engine's side of its clients: one queue of jobs, run one at a time, and each client's connection to it.

JobQueue holds the jobs of every connection (their bookkeeping is engine.service.shared_jobs', which the farm's
dispatcher shares) and runs them one at a time on one thread, the device's; a job's events go to the connections
that want it. EngineServer is one connection: it reads messages as they come, so a cancel
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

import logging
import threading
from collections.abc import Callable, Iterable, Iterator

from engine.api import protocol as p
from engine.api.jobs import JobInputError, JobSpec
from engine.service.models_info import describe_models
from engine.service.provenance import engine_version
from engine.service.runner import JobRunner
from engine.service.served_files import ConnectionFiles, UploadError
from engine.service.shared_jobs import Connection, Job, SharedJobs
from engine.weights.store import ModelStore

log = logging.getLogger("istar.engine")
RunnerFactory = Callable[[Callable[[p.Message], None]], JobRunner]  # given the emit function
Write = Callable[[bytes], None]


class JobQueue(SharedJobs):
    """The jobs of every connection, run one at a time by `work` on one runner and its loaded models."""

    def __init__(self, runner_factory: RunnerFactory) -> None:
        super().__init__()
        self._models = threading.Lock()  # one model listing at a time
        self.runner = runner_factory(self._route)

    def work(self, until: Callable[[], bool] = lambda: False) -> None:
        """Run the queued jobs on this thread, one at a time, until `until()` holds while none is queued."""
        while (job := self._next(until)) is not None:
            try:
                self.runner.run(job.spec, lambda job=job: job.cancelled)
            finally:
                with self._changed:
                    if job in self._running:
                        self._running.remove(job)

    def _next(self, until: Callable[[], bool]) -> Job | None:
        with self._changed:
            while not self._queue:
                if until():
                    return None
                self._changed.wait()
            job = self._queue.popleft()
            self._running.append(job)
            return job

    def _route(self, message: p.Message) -> None:
        """An event of the running job."""
        with self._changed:
            job = self._running[0] if self._running else None
        if job is not None:
            self._deliver(job, message)

    def list_models(self, connection: Connection, message: p.ListModels) -> None:
        with self._models:
            answer = models_answer(self.runner.store, message)
        connection.emit(answer)


def models_answer(store: ModelStore, message: p.ListModels) -> p.Models | p.Failed:
    """The answer to `message`: the models in `store` and their plans, or a Failed saying why they cannot be listed."""
    try:
        return p.Models(*describe_models(store, message.device, message.seconds))
    except (ValueError, OSError) as err:
        return p.Failed(None, "bad_input", f"cannot list the models: {err}")


class EngineServer:
    """One client's connection: its messages in, the replies and its jobs' events out through `write` (previews
    through `write_preview`, which may skip them for a client that reads slowly). Given a runner factory rather
    than a shared JobQueue, it has a queue of its own and runs the jobs itself (see `serve`). With `files` (a
    network connection) its jobs name uploads, not paths, and their files are sent with their events."""

    def __init__(self, jobs: SharedJobs | RunnerFactory, write: Write, pid: int,
                 write_preview: Write | None = None, files: ConnectionFiles | None = None) -> None:
        self._own_queue = not isinstance(jobs, SharedJobs)
        self.jobs = JobQueue(jobs) if self._own_queue else jobs
        self._write = write
        self._write_preview = write_preview or write
        self._write_lock = threading.Lock()
        self._pid = pid
        self.files = files
        self._closed = False
        self._close_lock = threading.Lock()

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
