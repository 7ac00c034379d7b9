"""The job queue dock: every job with its state and progress; cancel, retry, reorder and remove.

Rows come from the JobBook (so jobs from an earlier session show too) and follow the engine's events: the running
job shows its clip, pass and time left. A failed job shows its kind and the hint that says what to try.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.generate.progress import JobProgress
from desktop.timecode import clock
from engine.api import protocol as p
from engine.api.job_book import JobBook, JobRecord

STATE_TEXT = {"queued": "queued", "running": "running", "done": "done", "failed": "failed", "cancelled": "cancelled"}
COLUMNS = ("Job", "State", "Progress")
JOB_ID = Qt.ItemDataRole.UserRole


def describe(record: JobRecord) -> str:
    spec = record.spec
    what = {"generate": "Generate", "storyboard": "Storyboard", "continue": "Continue", "bridge": "Bridge"}[spec.kind]
    prompt = spec.prompts[0] if spec.prompts else ""
    if spec.seconds is None:
        seconds = f"{len(spec.prompts)} clips"
    elif spec.seconds == 0 and spec.kind == "generate":
        seconds = "image"
    else:
        seconds = f"{spec.seconds} s" if spec.seconds < 60 else clock(spec.seconds)
    return f"{what} {seconds}: {prompt}" if prompt else f"{what} {seconds}"


class QueueView(QWidget):
    """Emits the user's requests; the owner sends them to the engine bridge."""

    cancel_requested = Signal(str)
    retry_requested = Signal(str)
    move_requested = Signal(str, str)  # job, the job to go before ("" for last)
    open_requested = Signal(str)

    def __init__(self, queue: JobBook, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.queue = queue
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(COLUMNS)
        self.tree.setRootIsDecorated(False)
        header = self.tree.header()  # the job's text gives way, so its state and progress always show
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in (1, 2):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.itemSelectionChanged.connect(self._update_buttons)
        self.tree.itemDoubleClicked.connect(lambda item: self.open_requested.emit(item.data(0, JOB_ID)))
        self.buttons = {}
        row = QHBoxLayout()
        for name, slot in (("Cancel", self._cancel), ("Retry", self._retry), ("Up", lambda: self._move(-1)),
                           ("Down", lambda: self._move(1)), ("Remove", self._remove)):
            button = QPushButton(name)
            button.clicked.connect(slot)
            row.addWidget(button)
            self.buttons[name] = button
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.tree)
        layout.addLayout(row)
        self._items: dict[str, QTreeWidgetItem] = {}
        self._progress: dict[str, JobProgress] = {}
        self._notes: dict[str, list[str]] = {}  # what the engine said of each job as it started (words left out...)
        self.refresh()

    def refresh(self) -> None:
        """Rebuild the rows from the queue, keeping the selection."""
        selected = self.selected_id()
        self.tree.clear()
        self._items = {}
        for record in self.queue.records:
            item = QTreeWidgetItem([describe(record), "", ""])
            item.setData(0, JOB_ID, record.spec.id)
            self._items[record.spec.id] = item
            self.tree.addTopLevelItem(item)
            self._show_state(record)
        if selected in self._items:
            self._items[selected].setSelected(True)
        self._update_buttons()

    def _show_state(self, record: JobRecord) -> None:
        item = self._items[record.spec.id]
        item.setText(1, STATE_TEXT[record.state] if record.state != "failed" else f"failed: {record.failure}")
        notes = self._notes.get(record.spec.id, [])
        tip = record.message + (f"\n\nWhat to try: {record.hint}" if record.hint else "")
        tip = "\n\n".join(part for part in (tip or describe(record), *notes) if part)
        for column in range(len(COLUMNS)):
            item.setToolTip(column, tip)
        if record.state in ("done", "failed", "cancelled"):
            item.setText(2, record.hint if record.state == "failed" else notes[0] if notes else "")

    def on_event(self, message: p.Message) -> None:
        job_id = getattr(message, "job_id", None)
        if job_id is None:
            return
        if job_id not in self._items:
            self.refresh()
        item = self._items.get(job_id)
        if item is None:
            return
        record = self.queue.get(job_id)
        if isinstance(message, p.Started) and record is not None:
            self._progress[job_id] = JobProgress.of(record.spec, message)
            self._notes[job_id] = list(message.notes)
        elif isinstance(message, p.TERMINAL):
            self._progress.pop(job_id, None)
        if isinstance(message, p.Progress):
            progress = self._progress.get(job_id, JobProgress())
            item.setText(2, progress.text(message.index, message.total, message.clip, message.eta_seconds))
        if record is not None and not isinstance(message, p.Progress | p.Preview):
            self._show_state(record)
        self._update_buttons()

    def selected_id(self) -> str | None:
        items = self.tree.selectedItems()
        return items[0].data(0, JOB_ID) if items else None

    def select(self, job_id: str) -> None:
        self.tree.clearSelection()
        if job_id in self._items:
            self._items[job_id].setSelected(True)

    def _selected(self) -> JobRecord | None:
        job_id = self.selected_id()
        return self.queue.get(job_id) if job_id else None

    def _update_buttons(self) -> None:
        record = self._selected()
        state = record.state if record else None
        self.buttons["Cancel"].setEnabled(state in ("queued", "running"))
        self.buttons["Retry"].setEnabled(state in ("failed", "cancelled"))
        self.buttons["Up"].setEnabled(state == "queued")
        self.buttons["Down"].setEnabled(state == "queued")
        self.buttons["Remove"].setEnabled(state in ("done", "failed", "cancelled"))

    def _queued(self) -> list[str]:
        return [r.spec.id for r in self.queue.records if r.state == "queued"]

    def _cancel(self) -> None:
        if (record := self._selected()) is not None:
            self.cancel_requested.emit(record.spec.id)

    def _retry(self) -> None:
        if (record := self._selected()) is not None:
            self.retry_requested.emit(record.spec.id)

    def _move(self, step: int) -> None:
        record = self._selected()
        if record is None:
            return
        queued = self._queued()
        index = queued.index(record.spec.id)
        if step < 0 and index > 0:
            self.move_requested.emit(record.spec.id, queued[index - 1])
        elif step > 0 and index + 1 < len(queued):
            self.move_requested.emit(record.spec.id, queued[index + 2] if index + 2 < len(queued) else "")

    def _remove(self) -> None:
        record = self._selected()
        if record is not None and record.state in ("done", "failed", "cancelled"):
            self.queue.remove(record.spec.id)
            self.refresh()
