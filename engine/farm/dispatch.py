"""The head's dispatcher: the jobs of every connection (engine.service.shared_jobs), each run on a free engine actor.

Jobs start in the order they came, each on a free actor that holds its model when there is one (else on one that
holds none, so that the models loaded elsewhere stay): independent jobs run side by side, and the clips of one video
stay in order on one actor, since a video is one job. An actor's stream (engine.farm.actor) brings the job's files,
which land in the job's folder here, and its events, which go to the connections that want the job with the paths
of those files; a connection then sends them on as `istar serve` does (engine.service.served_files).
A job's end (Finished, Failed, Cancelled) goes on once its actor's stream is over: by then the actor is free and the
models it holds are known, so a job sent on hearing of the end goes to the actor that holds its model.

An actor that dies in a job (killed, out of memory) leaves the farm, and the job runs once more on another actor; a
second death, or none left, fails it as `crashed` with the reason. The person sees nothing of the first try but its
progress starting over: a retried job's Started and the clips already delivered are not sent twice.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.api import protocol as p
from engine.api.jobs import JobSpec
from engine.api.remote_files import INPUT_FIELDS, job_file
from engine.atomic import write_bytes_atomic
from engine.farm import import_ray
from engine.farm.status import ActorStatus, FarmStatus
from engine.farm.stream import ActorInfo, Held, OutputFile
from engine.service.shared_jobs import Connection, Job, SharedJobs

log = logging.getLogger("istar.farm")
TRIES = 2  # a job whose actor dies runs once more on another
MODELS_TIMEOUT = 120.0  # seconds an actor may take to list its models
PING_TIMEOUT = 10.0  # seconds an idle actor may take to answer whether it is there
RETRIED_HINT = "it died again on a second engine actor; if this job always crashes, try a lower precision or a " \
               "shorter video"
NONE_LEFT_HINT = "no engine actor is left: start the farm again (istar farm stop, istar farm start) or add machines"


@dataclass(eq=False)
class Slot:
    """One engine actor as the head sees it: its Ray handle, what it holds, the job it runs."""

    handle: Any
    info: ActorInfo
    models: tuple[str, ...] = ()
    job: Job | None = None
    alive: bool = True


def pick(free: list[Slot], model: str) -> Slot:
    """The free actor for a job of `model`: one that holds it, else one that holds nothing, else the first."""
    return (next((s for s in free if model in s.models), None) or next((s for s in free if not s.models), None)
            or free[0])


@dataclass
class _Try:
    """What the head knows of a job across its tries on actors."""

    tries: int = 1
    clips_sent: set[int] = dataclasses.field(default_factory=set)
    broken: bool = False  # this try failed here (its files could not be stored): the rest of its stream is dropped
    ended: p.Message | None = None  # its terminal event, held until the actor's stream ends


class FarmJobs(SharedJobs):
    """The jobs of every connection to the farm, run on `slots`. `on_change(status)` hears of every change of the
    actors or the queue (the head writes it for `istar farm status`)."""

    def __init__(self, slots: list[Slot], on_change: Callable[[FarmStatus], None] | None = None) -> None:
        super().__init__()
        self._slots = slots
        self.address = ""  # where the head serves, HOST:PORT, once it listens
        self._on_change = on_change
        self._tries: dict[Job, _Try] = {}
        self._lost = ""

    @property
    def slots(self) -> list[Slot]:
        with self._changed:
            return list(self._slots)

    def add(self, slots: list[Slot]) -> None:
        """More engine actors, to run the waiting jobs at once."""
        with self._changed:
            self._slots.extend(slots)
            self._dispatch()

    def status(self) -> FarmStatus:
        with self._changed:
            actors = tuple(ActorStatus(s.info.name, s.info.host, s.info.device, s.info.pid, s.alive, s.models,
                                       s.job.spec.id if s.job else None) for s in self._slots)
            return FarmStatus(self.address, actors, len(self._queue), self._lost)

    # scheduling, under the lock

    def _queued(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        live = [s for s in self._slots if s.alive]
        if not live:
            while self._queue:
                self._fail(self._queue.popleft(), self._lost or "the farm has no engine actor", NONE_LEFT_HINT)
        while self._queue and (free := [s for s in live if s.job is None]):
            job = self._queue.popleft()
            slot = pick(free, job.spec.model)
            slot.job = job
            self._running.append(job)
            self._tries.setdefault(job, _Try())
            threading.Thread(target=self._drive, args=(slot, job), name=f"farm-{slot.info.name}",
                             daemon=True).start()
        self.publish()

    def publish(self) -> None:
        """Tell `on_change` how the farm stands now."""
        if self._on_change is not None:
            self._on_change(self.status())

    def _stop(self, job: Job) -> None:
        for slot in self._slots_of(job):
            slot.handle.cancel.remote(job.spec.id)

    def _resume(self, job: Job) -> None:
        for slot in self._slots_of(job):
            slot.handle.resume.remote(job.spec.id)

    def _slots_of(self, job: Job) -> list[Slot]:
        """The actor running `job` (none while it waits for its next try)."""
        return [s for s in self._slots if s.job is job]

    def _fail(self, job: Job, reason: str, hint: str) -> None:
        self._tries.pop(job, None)
        if job.cancel_asked:
            self._deliver(job, p.Cancelled(job.spec.id))
        else:
            self._deliver(job, p.Failed(job.spec.id, "crashed", reason, hint))

    # one job on one actor, on a thread of its own

    def _drive(self, slot: Slot, job: Job) -> None:
        ray = import_ray()
        died = None
        try:
            spec, uploads = _remote_spec(job.spec)
            for ref in slot.handle.run.options(num_returns="streaming").remote(spec, uploads):
                self._take(slot, job, ray.get(ref))
        except OSError as err:  # reading an input of the job, before it went to the actor
            self._deliver(job, p.Failed(job.spec.id, "bad_input", f"the farm cannot read an input of the job: {err}"))
        except ray.exceptions.RayActorError as err:
            died = err
        except ray.exceptions.RayError as err:
            log.error("job %s on %s failed in the farm", job.spec.id, slot.info.name, exc_info=err)
            if self._tries[job].ended is None:
                self._deliver(job, p.Failed(job.spec.id, "crashed", f"the farm could not run the job: "
                                            f"{_first_line(err)}", "the head's log has the details"))
        finally:
            if died is None:  # also after an error of the head's own, which goes on to the thread's log
                self._free(slot, job)
        if died is not None:
            self._died(slot, job, died)

    def _take(self, slot: Slot, job: Job, item: p.Message | OutputFile | Held) -> None:
        output = Path(job.spec.output)
        if isinstance(item, Held):
            with self._changed:
                slot.models = item.models
            return
        tried = self._tries[job]
        if tried.broken:
            return
        if isinstance(item, OutputFile):
            self._store(slot, job, item)
            return
        if isinstance(item, p.Started):
            if job.started is not None:
                return  # a retry: the client heard of the start already
            notes = [*item.notes, f"on the farm: {slot.info.name} ({slot.info.host}, {slot.info.device})"]
            item = dataclasses.replace(item, notes=notes)
        if isinstance(item, p.ClipReady):
            if item.clip in tried.clips_sent:
                return
            tried.clips_sent.add(item.clip)
        if isinstance(item, p.ClipReady | p.Finished | p.Failed | p.Cancelled):
            item = dataclasses.replace(item, **{f: _landed(output, getattr(item, f)) for f in ("video", "bits")})
        if isinstance(item, p.TERMINAL):
            tried.ended = item  # sent once the actor is free and the models it holds are known (_free)
            return
        self._deliver(job, item)

    def _store(self, slot: Slot, job: Job, file: OutputFile) -> None:
        """Land a file of the job in its folder here. One that cannot be written fails the job and stops it on its
        actor, whose stream is then read to its end, so that the actor is free when it is given another job."""
        target = job_file(Path(job.spec.output), file.name)
        if target is None or file.data is None:
            log.warning("job %s: %s did not come from %s (%s)", job.spec.id, file.name, slot.info.name,
                        file.missing or "not one of the job's files")
            return
        try:
            target.parent.mkdir(exist_ok=True)
            write_bytes_atomic(target, file.data)
        except OSError as err:
            self._tries[job].broken = True
            slot.handle.cancel.remote(job.spec.id)
            self._deliver(job, p.Failed(job.spec.id, "crashed", f"the farm's head cannot store {file.name}: "
                                        f"{err.strerror or err}", "free some space on the farm's first machine"))

    def _free(self, slot: Slot, job: Job) -> None:
        with self._changed:
            slot.job = None
            tried = self._tries.pop(job, None)
            if tried is not None and tried.ended is not None and job in self._running:
                self._deliver(job, tried.ended)
            elif job in self._running:  # its stream ended without its result
                self._running.remove(job)
                self._fail(job, f"the engine actor {slot.info.name} ended the job without its result",
                           "the head's log has the details")
            self._dispatch()

    def _lose(self, slot: Slot, reason: str) -> None:
        """`slot`'s actor died, as `reason` says: it leaves the farm. Under the lock."""
        log.warning("%s", reason)
        slot.alive, slot.job, self._lost = False, None, reason

    def _died(self, slot: Slot, job: Job, err: Exception) -> None:
        reason = f"the engine actor {slot.info.name} on {slot.info.host} died during the job: {_first_line(err)}"
        with self._changed:
            self._lose(slot, reason)
            if job not in self._running:
                self._dispatch()
                return
            tried = self._tries[job]
            if tried.ended is not None:  # it died after the job's end, tidying up
                self._tries.pop(job)
                self._deliver(job, tried.ended)
                self._dispatch()
                return
            self._running.remove(job)
            if tried.tries < TRIES and not job.cancelled and any(s.alive for s in self._slots):
                tried.tries += 1
                self._queue.appendleft(job)
                log.info("job %s runs again on another actor", job.spec.id)
            elif job.wanted_by:
                self._fail(job, reason, NONE_LEFT_HINT if not any(s.alive for s in self._slots) else RETRIED_HINT)
            self._dispatch()

    def check_idle(self, timeout: float = PING_TIMEOUT) -> None:
        """Ask each idle actor whether it is there, and let those that died while idle go (a job of theirs would
        otherwise learn it by a try lost)."""
        ray = import_ray()
        with self._changed:
            idle = [s for s in self._slots if s.alive and s.job is None]
        for slot in idle:
            try:
                ray.get(slot.handle.ready.remote(), timeout=timeout)
            except ray.exceptions.RayActorError as err:
                with self._changed:
                    self._lose(slot, f"the engine actor {slot.info.name} on {slot.info.host} died: {_first_line(err)}")
                    self._dispatch()
            except ray.exceptions.GetTimeoutError:
                pass  # busy importing or loading: asked again next time

    def list_models(self, connection: Connection, message: p.ListModels) -> None:
        ray = import_ray()
        with self._changed:
            live = sorted((s for s in self._slots if s.alive), key=lambda s: s.job is not None)
        if not live:
            connection.emit(p.Failed(None, "bad_input", f"cannot list the models: {NONE_LEFT_HINT}"))
            return
        try:
            answer = ray.get(live[0].handle.models.remote(message), timeout=MODELS_TIMEOUT)
        except ray.exceptions.RayError as err:
            answer = p.Failed(None, "bad_input", f"cannot list the models: the engine actor {live[0].info.name} did "
                                                 f"not answer ({_first_line(err)})")
        connection.emit(answer)


def _remote_spec(spec: JobSpec) -> tuple[JobSpec, dict[str, bytes]]:
    """`spec` (its files in this head's jobs folder) as an actor takes it: as a network client sends it, with the
    bytes of its uploads by their stored names."""
    inputs = {f: Path(v) for f in INPUT_FIELDS if (v := getattr(spec, f)) is not None}
    uploads = {path.name: path.read_bytes() for path in inputs.values()}
    names = {f: p.UPLOAD_PREFIX + path.name for f, path in inputs.items()}
    return dataclasses.replace(spec, output=Path(spec.output).name, **names), uploads


def _landed(output: Path, name: str | None) -> str | None:
    """The path here of the job's file that an actor named `name`."""
    target = None if name is None else job_file(output, name)
    return None if target is None else str(target)


def _first_line(err: Exception) -> str:
    """The gist of an error: the first line of its message, or of its cause's where Ray wraps one."""
    cause = getattr(err, "cause", None)
    if isinstance(cause, Exception):
        err = cause
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    return lines[0] if lines else type(err).__name__
