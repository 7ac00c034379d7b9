"""The one place the engine client meets Qt: its calls run on a QThread, its events arrive as signals.

The client (engine.api.client) does blocking work: starting an engine process, writing to its pipe. Those run
on the bridge's own thread, queued there by signals, so the GUI thread never waits on them. Events come from the
client's reader thread and are re-emitted as `event`; Qt queues them to receivers on the GUI thread, so widgets
change only there.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QMetaObject, QObject, Qt, QThread, Signal, Slot

from engine.api.client import EngineClient
from engine.api.job_book import JobBook
from engine.api.jobs import JobSpec
from engine.api.transport import Transport


class _Worker(QObject):
    event = Signal(object)

    def __init__(self, connect: Callable[[], Transport], queue: JobBook) -> None:
        super().__init__()
        self.client = EngineClient(connect, self.event.emit, queue)

    @Slot(object)
    def submit(self, spec: JobSpec) -> None:
        self.client.submit(spec)

    @Slot(str)
    def cancel(self, job_id: str) -> None:
        self.client.cancel(job_id)

    @Slot(str)
    def retry(self, job_id: str) -> None:
        self.client.retry(job_id)

    @Slot()
    def resume(self) -> None:
        self.client.resume()

    @Slot(str, str)
    def move(self, job_id: str, before: str) -> None:
        self.client.move(job_id, before or None)

    @Slot(str, int)
    def list_models(self, device: str, seconds: int) -> None:
        self.client.list_models(device, seconds)

    @Slot()
    def close(self) -> None:
        self.client.close()


class EngineBridge(QObject):
    """`event(message)` carries every engine event (engine.api.protocol) on the GUI thread."""

    event = Signal(object)
    _submit = Signal(object)
    _cancel = Signal(str)
    _retry = Signal(str)
    _resume = Signal()
    _move = Signal(str, str)
    _list_models = Signal(str, int)

    def __init__(self, connect: Callable[[], Transport], queue: JobBook, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.queue = queue
        self._thread = QThread()
        self._thread.setObjectName("engine-bridge")
        self._worker = _Worker(connect, queue)
        self._worker.moveToThread(self._thread)
        self._worker.event.connect(self.event)
        self._submit.connect(self._worker.submit)
        self._cancel.connect(self._worker.cancel)
        self._retry.connect(self._worker.retry)
        self._resume.connect(self._worker.resume)
        self._move.connect(self._worker.move)
        self._list_models.connect(self._worker.list_models)
        self._thread.start()

    @property
    def engine_pid(self) -> int | None:
        transport = self._worker.client.transport
        return getattr(transport, "pid", None)

    def submit(self, spec: JobSpec) -> None:
        self._submit.emit(spec)

    def cancel(self, job_id: str) -> None:
        self._cancel.emit(job_id)

    def retry(self, job_id: str) -> None:
        self._retry.emit(job_id)

    def resume(self) -> None:
        """Send again the jobs the queue file left queued or running."""
        self._resume.emit()

    def move(self, job_id: str, before: str | None) -> None:
        """Put a waiting job just before waiting job `before` (None: last)."""
        self._move.emit(job_id, before or "")

    def list_models(self, device: str = "auto", seconds: int = 5) -> None:
        """Ask for the installed models and their plans: a Models event answers."""
        self._list_models.emit(device, seconds)

    def close(self) -> None:
        """Stop the engine (jobs in flight stay queued in the file) and the bridge's thread; waits for both."""
        if not self._thread.isRunning():
            return
        QMetaObject.invokeMethod(self._worker, "close", Qt.ConnectionType.BlockingQueuedConnection)
        self._thread.quit()
        self._thread.wait()
