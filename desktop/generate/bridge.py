"""The one place the engine client meets Qt: its calls run on a worker thread, its events arrive as signals.

The client (engine.api.client) does blocking work: starting an engine process, writing to its pipe. Those run one
at a time, in the order made, on the bridge's own desktop.workers pool, so the GUI thread never waits on them.
Events come from the client's reader thread and are re-emitted as `event` on the GUI thread (workers.run_on_gui),
in the order they came, so widgets change only there. A call that raises is logged and reported as `failed`.
`switch_engine` replaces the client on that thread, between two calls, so each call goes to the client current
when it runs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from desktop.workers import WorkerPool, run_on_gui
from engine.api.client import EngineClient
from engine.api.job_book import JobBook
from engine.api.jobs import JobSpec
from engine.api.transport import Transport

log = logging.getLogger(__name__)


class EngineBridge(QObject):
    """`event(message)` carries every engine event (engine.api.protocol) on the GUI thread; `failed(text)` says
    why a call could not be made (a job that cannot be retried or moved, an engine that cannot be reached)."""

    event = Signal(object)
    failed = Signal(str)

    def __init__(self, connect: Callable[[], Transport], queue: JobBook, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.queue = queue
        self._calls = WorkerPool(1, name="engine-bridge")  # one thread: calls run in the order they were made
        self._client = EngineClient(connect, self._engine_event, queue)

    @property
    def engine_pid(self) -> int | None:
        transport = self._client.transport
        return getattr(transport, "pid", None)

    def submit(self, spec: JobSpec) -> None:
        self._call(self._on_client, "submit", spec)

    def cancel(self, job_id: str) -> None:
        self._call(self._on_client, "cancel", job_id)

    def retry(self, job_id: str) -> None:
        self._call(self._on_client, "retry", job_id)

    def resume(self) -> None:
        """Send again the jobs the queue file left queued or running."""
        self._call(self._on_client, "resume")

    def move(self, job_id: str, before: str | None) -> None:
        """Put a waiting job just before waiting job `before` (None: last)."""
        self._call(self._on_client, "move", job_id, before or None)

    def list_models(self, device: str = "auto", seconds: int = 5) -> None:
        """Ask for the installed models and their plans: a Models event answers."""
        self._call(self._on_client, "list_models", device, seconds)

    def switch_engine(self, connect: Callable[[], Transport]) -> None:
        """Use the engine `connect` reaches from now on. After the calls made before, the current engine is let go
        (the client's `close`: its jobs in flight stay queued in the job book) and a new client made, to which
        those jobs are sent, and only those: jobs left queued by an earlier session wait to be offered back. The
        caller then asks for the models (`list_models`), so they come from the new engine."""
        self._call(self._replace_client, connect)

    def close(self) -> None:
        """Stop the engine (jobs in flight stay queued in the file) and the bridge's thread; waits for both."""
        if self._calls.closed:
            return
        self._call(self._on_client, "close")
        self._calls.close(cancel=False)

    def _on_client(self, name: str, *args: object) -> object:
        """On the bridge's thread: the client current now, not when the call was made, does `name`."""
        return getattr(self._client, name)(*args)

    def _replace_client(self, connect: Callable[[], Transport]) -> None:
        old, self._client = self._client, EngineClient(connect, self._engine_event, self.queue)
        moving = old.in_flight
        old.close()
        if moving:
            self._client.resume(moving)

    def _call(self, method: Callable[..., object], *args: object) -> None:
        """`method(*args)` on the bridge's thread, after the calls before it; none once the bridge is closed."""
        if not self._calls.closed:
            self._calls.submit(method, *args, on_error=self._call_failed, context=self)

    def _call_failed(self, error: Exception) -> None:
        log.error("the engine client failed: %s", error, exc_info=error)
        self.failed.emit(str(error))

    def _engine_event(self, message: object) -> None:
        """On the client's reader thread (or the bridge's): hand the event to the GUI thread."""
        run_on_gui(self.event.emit, message, context=self)
