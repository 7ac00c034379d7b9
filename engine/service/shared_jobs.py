"""The jobs of every connection to one engine and who wants each: what a queue that runs one job at a time
(engine.service.server.JobQueue) and the farm's dispatcher over many engines (engine.farm.dispatch) share.

A job waits in the queue, then runs (one at a time on one device; one per engine actor on a farm); its events go to
the connections that want it. The same job (same id, same spec) submitted by a second connection is shared: that one
gets its events too. A connection that ends lets its jobs go: queued ones nobody else wants are dropped, and a running
one is stopped at its next pass (`_stop`), since nobody is left to hear of it.
"""

from __future__ import annotations

import collections
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from engine.api import protocol as p
from engine.api.jobs import JobSpec
from engine.api.remote_files import INPUT_FIELDS

log = logging.getLogger("istar.engine")


class Connection(Protocol):
    def emit(self, message: p.Message) -> None: ...


@dataclass(eq=False)
class Job:
    spec: JobSpec
    wanted_by: list[Connection]  # the connections that get its events
    cancel_asked: bool = False
    started: p.Started | None = None  # sent again to a connection that joins the job while it runs

    @property
    def cancelled(self) -> bool:
        return self.cancel_asked or not self.wanted_by


def spec_paths(spec: JobSpec) -> set[Path]:
    """The files and folders a job uses: its output's folder and its input files."""
    paths = {Path(spec.output).parent}
    paths.update(Path(v) for v in (getattr(spec, f) for f in INPUT_FIELDS) if v is not None)
    return paths


class SharedJobs:
    """The queued and running jobs of every connection. Replies go to the asking connection; a job's events (through
    `_deliver`) to the connections that want it. Subclasses run the jobs, and stop a running one in `_stop`."""

    def __init__(self) -> None:
        self._changed = threading.Condition()  # over a reentrant lock: a reply may be answered on the spot
        self._queue: collections.deque[Job] = collections.deque()
        self._running: list[Job] = []

    def list_models(self, connection: Connection, message: p.ListModels) -> None:
        """Answer `connection` with the models and their plans (a Models event), or a Failed saying why not."""
        raise NotImplementedError

    def _stop(self, job: Job) -> None:
        """`job` runs and nobody wants it any more, or a cancel was asked: stop it at its next pass. Under the lock.
        A runner that asks `job.cancelled` before every pass needs nothing more."""

    def _resume(self, job: Job) -> None:
        """Running `job`, stopped by `_stop` when nobody wanted it, is wanted again (its client came back and sent it
        anew): let it go on if it has not stopped yet. Under the lock. A runner that asks `job.cancelled` before every
        pass needs nothing more."""

    def _queued(self) -> None:
        """A job was queued. Under the lock."""
        self._changed.notify_all()

    def _deliver(self, job: Job, message: p.Message) -> None:
        """An event of running `job`, to each connection that wants it (one that is gone drops it)."""
        with self._changed:
            if isinstance(message, p.Started):
                job.started = message
            elif isinstance(message, p.TERMINAL) and job in self._running:
                self._running.remove(job)  # over: a cancel or the same job submitted now finds it gone
            to = list(job.wanted_by)
        for connection in to:
            connection.emit(message)

    def _find(self, job_id: str) -> Job | None:
        running = next((j for j in self._running if j.spec.id == job_id), None)
        return running or next((j for j in self._queue if j.spec.id == job_id), None)

    def _ahead(self, job: Job) -> int:
        return 0 if job in self._running else self._queue.index(job) + len(self._running)

    def submit(self, connection: Connection, spec: JobSpec) -> None:
        """Queue `spec` for `connection`. The same job (id and spec) submitted by another connection is shared:
        `connection` gets its events too, from Accepted on (and its Started again when it runs)."""
        with self._changed:  # replies under the lock, so that no event of the job can pass its Accepted
            job = self._find(spec.id)
            new = job is None
            if new:
                job = Job(spec, [connection])
                self._queue.append(job)
            elif connection in job.wanted_by or job.spec != spec:
                # the reply names no job: the one with that id is fine and goes on
                connection.emit(p.Failed(None, "bad_input", f"job {spec.id} is already queued or running"))
                return
            else:
                job.wanted_by.append(connection)
                log.info("job %s is wanted by one more connection", spec.id)
                if job in self._running and len(job.wanted_by) == 1 and not job.cancel_asked:
                    self._resume(job)
            connection.emit(p.Accepted(spec.id, self._ahead(job)))
            if job in self._running and job.started is not None:
                connection.emit(job.started)
            if new:
                self._queued()

    def cancel(self, connection: Connection, job_id: str) -> None:
        """Cancel a job of `connection`'s: a queued one at once, a running one at its next pass. A job that
        another connection still wants goes on for that one; this one is told it is cancelled at once."""
        with self._changed:
            job = self._find(job_id)
            if job is None or connection not in job.wanted_by:
                # it may have just ended: the reply names no job, so nothing is marked failed
                connection.emit(p.Failed(None, "bad_input", f"no job {job_id} is queued or running"))
            elif len(job.wanted_by) > 1:
                job.wanted_by.remove(connection)
                connection.emit(p.Cancelled(job_id))
            elif job in self._running:
                job.cancel_asked = True  # the runner's Cancelled follows, with the clips it kept
                self._stop(job)
            else:
                self._queue.remove(job)
                connection.emit(p.Cancelled(job_id))

    def move(self, connection: Connection, job_id: str, before: str | None) -> None:
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

    def busy_paths(self) -> set[Path]:
        """The files and folders the queued and running jobs use: a sweep of the jobs folder keeps them."""
        with self._changed:
            jobs = self._running + list(self._queue)
        return set().union(*(spec_paths(job.spec) for job in jobs))

    def leave(self, connection: Connection) -> None:
        """`connection` is gone: its jobs that nobody else wants are dropped, the running ones at their next pass."""
        with self._changed:
            for job in [j for j in self._queue if connection in j.wanted_by]:
                job.wanted_by.remove(connection)
                if not job.wanted_by:
                    self._queue.remove(job)
                    log.info("dropped job %s: the client that submitted it is gone", job.spec.id)
            for job in [j for j in self._running if connection in j.wanted_by]:
                job.wanted_by.remove(connection)
                if not job.wanted_by and not job.cancel_asked:
                    log.info("cancelling job %s at its next pass: the client that submitted it is gone",
                             job.spec.id)
                    self._stop(job)
            self._changed.notify_all()
