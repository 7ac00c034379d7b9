"""The studio's side of the engine: submit and cancel jobs, receive their events, survive the engine dying.

No torch, no Qt: the desktop calls it from a worker (desktop/generate/bridge.py), the CLI directly. Events are
delivered to `on_event` on the client's reader thread, in the order the engine sent them.

When the engine goes away unasked (killed, crashed, out of memory), the job it was running gets a Failed event of
kind `crashed` with the reason, and the jobs queued behind it go to a fresh engine. A job's state is kept in the
JobBook, which may be saved to a file so the queue also outlives the app.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable

from engine.api import protocol as p
from engine.api.job_book import JobBook, JobRecord
from engine.api.jobs import JobInputError, JobSpec
from engine.api.transport import Transport

log = logging.getLogger("istar.client")
CRASH_HINT = "the next job starts a fresh engine; if this one crashes again, try a lower precision or a shorter video"
STARTUP_HINT = "the engine could not start; its log says why"
CLOSE_TIMEOUT = 10.0
IDLE_CLOSE_TIMEOUT = 1.0  # an engine with no job holds nothing to lose: one still importing torch is not waited for


class EngineClient:
    def __init__(
        self,
        connect: Callable[[], Transport],
        on_event: Callable[[p.Message], None],
        queue: JobBook | None = None,
    ) -> None:
        self.queue = queue or JobBook()
        self._connect = connect
        self._on_event = on_event
        self._lock = threading.RLock()
        self._transport: Transport | None = None
        self._ready = False
        self._in_flight: list[str] = []  # sent to the current engine and not yet ended, in the engine's order
        self._started: set[str] = set()  # the jobs of ours the engine said it started, until they end (a farm
        # runs several at once)
        self._mismatch: str | None = None  # why the engine could not be spoken to
        self._readers: list[threading.Thread] = []
        self._closing = False

    @property
    def in_flight(self) -> list[str]:
        with self._lock:
            return list(self._in_flight)

    @property
    def transport(self) -> Transport | None:
        return self._transport

    def submit(self, spec: JobSpec) -> JobRecord:
        """Queue `spec`; its events follow, starting with Accepted (or Failed if the engine refuses it)."""
        record = self.queue.add(spec)
        with self._lock:
            self._send_job(spec)
        return record

    def resume(self, job_ids: list[str] | None = None) -> list[JobRecord]:
        """Send again the jobs the queue file holds as queued or running (after a restart of the app), or only those
        of them named in `job_ids`."""
        records = [r for r in self.queue.unfinished()
                   if r.spec.id not in self.in_flight and (job_ids is None or r.spec.id in job_ids)]
        with self._lock:
            for record in records:
                self.queue.update(record.spec.id, state="queued")
                self._send_job(record.spec)
        return records

    def retry(self, job_id: str) -> None:
        """Send a failed or cancelled job again, as it was."""
        record = self.queue.get(job_id)
        if record is None or record.state not in ("failed", "cancelled"):
            raise ValueError(f"job {job_id} has not failed or been cancelled, so there is nothing to retry")
        self.queue.update(job_id, state="queued", failure="", message="", hint="")
        with self._lock:
            self._send_job(record.spec)

    def list_models(self, device: str = "auto", seconds: int = 5) -> None:
        """Ask the engine for its installed models and their plans; a Models event answers."""
        with self._lock:
            self._send(p.ListModels(device, seconds))

    def move(self, job_id: str, before: str | None) -> None:
        """Put a waiting job just before waiting job `before` (None: last), here and in the engine. By name, not by
        position: the engine may have started the next job meanwhile (it then refuses the move)."""
        with self._lock:
            running = [j for j in self._in_flight if j in self._started]
            waiting = [j for j in self._in_flight if j not in self._started]
            if job_id not in waiting:
                raise ValueError(f"job {job_id} is not waiting in the engine's queue")
            waiting.remove(job_id)
            at = waiting.index(before) if before in waiting else len(waiting)
            self.queue.move(job_id, before if before in waiting else None)
            self._in_flight = running + waiting[:at] + [job_id] + waiting[at:]
            self._send(p.Move(job_id, before))

    def cancel(self, job_id: str) -> None:
        """Cancel a job: a queued one at once, the running one at its next pass boundary (a Cancelled event follows)."""
        with self._lock:
            if job_id in self._in_flight:
                self._send(p.Cancel(job_id))
                return
        record = self.queue.get(job_id)
        if record is not None and record.state == "queued":
            self.queue.update(job_id, state="cancelled")
            self._on_event(p.Cancelled(job_id))

    def close(self) -> None:
        """Stop the engine; jobs still queued or running stay so in the queue, to be offered back (`resume`)."""
        with self._lock:
            self._closing = True
            transport, self._transport = self._transport, None
            interrupted, self._in_flight = self._in_flight, []
        if transport is not None:
            with contextlib.suppress(p.ConnectionLost):
                transport.send(p.encode(p.Shutdown()))
            transport.close(CLOSE_TIMEOUT if interrupted else IDLE_CLOSE_TIMEOUT)
        for reader in self._readers:
            reader.join(CLOSE_TIMEOUT)
        for job_id in interrupted:  # the shutdown cancelled them, but the user did not: offer them back
            self.queue.update(job_id, state="queued")

    def _send_job(self, spec: JobSpec) -> None:
        """Submit `spec` on the current engine (starting one if there is none). An input the engine cannot be sent
        fails the job here."""
        if self._transport is None:
            self._start()
        try:
            message = self._transport.job_message(spec)
        except JobInputError as err:
            self.queue.update(spec.id, state="failed", failure="bad_input", message=str(err), hint="")
            self._on_event(p.Failed(spec.id, "bad_input", str(err)))
            return
        except p.ConnectionLost as err:  # the reader sees the same end: the job is resent or failed there
            log.info("send failed: %s", err)
        else:
            self._send(message)
        self._in_flight.append(spec.id)

    def _send(self, message: p.Message) -> None:
        """Send on the current engine, starting one if there is none. A send that finds the engine gone is left
        to the reader, which sees the same end and handles it."""
        if self._transport is None:
            self._start()
        try:
            self._transport.send(p.encode(message))
        except p.ConnectionLost as err:
            log.info("send failed: %s", err)

    def _start(self) -> None:
        self._closing = False
        self._ready = False
        self._started = set()
        self._mismatch = None
        transport = self._connect()
        self._transport = transport
        reader = threading.Thread(target=self._read, args=(transport,), name="engine-client-reader", daemon=True)
        self._readers = [r for r in self._readers if r.is_alive()] + [reader]
        reader.start()

    def _read(self, transport: Transport) -> None:
        for line in transport.lines():
            try:
                message = transport.arrived(p.decode(line))
            except p.ProtocolError as err:
                version = p.version_of(line)
                if version is not None and version != p.PROTOCOL_VERSION:
                    self._mismatch = (f"the engine speaks protocol {version} and this client {p.PROTOCOL_VERSION}: "
                                      "update the older of the two")
                    log.warning("%s", self._mismatch)
                    transport.close(0)
                    break
                log.warning("the engine sent a line that is not a message: %s", err)
                continue
            if message is not None:
                self._handle(message)
        self._gone(transport)

    def _handle(self, message: p.Message) -> None:
        job_id = getattr(message, "job_id", None)
        if isinstance(message, p.Ready):
            self._ready = True
        elif isinstance(message, p.Started):
            self.queue.update(job_id, state="running")
            with self._lock:
                self._started.add(job_id)
        elif isinstance(message, p.ClipReady):
            self.queue.update(job_id, video=message.video, bits=message.bits,
                              provenance=message.record.to_json())
        elif isinstance(message, p.Finished):
            self.queue.update(job_id, state="done", video=message.video, bits=message.bits,
                              provenance=message.record.to_json())
        elif isinstance(message, p.Failed) and job_id is not None:
            self.queue.update(job_id, state="failed", failure=message.kind, message=message.message, hint=message.hint)
        elif isinstance(message, p.Cancelled):
            self.queue.update(job_id, state="cancelled")
        if isinstance(message, p.TERMINAL) and job_id is not None:
            with self._lock:
                if job_id in self._in_flight:
                    self._in_flight.remove(job_id)
                self._started.discard(job_id)
        self._on_event(message)

    def _gone(self, transport: Transport) -> None:
        """The engine's output ended. Unless we closed it: fail the running job, resend the others to a new one."""
        with self._lock:
            if transport is not self._transport or self._closing:
                return
            reason = self._mismatch or transport.gone_reason()
            log.warning("%s", reason)
            transport.close(0)
            self._transport = None
            # the job the engine was on: the one it said it started, kept first, or else the oldest, which it may
            # have been loading the model for
            running, waiting = self._in_flight[:1], self._in_flight[1:]
            self._in_flight = []
            started = self._ready
            hint = CRASH_HINT if started else "" if self._mismatch else STARTUP_HINT
            for job_id in running if started else running + waiting:
                self._fail(job_id, reason, hint)
            if started:
                for job_id in waiting:
                    record = self.queue.get(job_id)
                    if record is not None:
                        self._send_job(record.spec)

    def _fail(self, job_id: str, reason: str, hint: str) -> None:
        message = p.Failed(job_id, "crashed", reason, hint)
        self.queue.update(job_id, state="failed", failure="crashed", message=reason, hint=hint)
        self._on_event(message)
