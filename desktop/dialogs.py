"""The editor's dialogs: offer a recovered project, relink missing media, show provenance, export with progress."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QGridLayout,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QProgressDialog,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.media.errors import MediaReadError
from desktop.media.probe import probe_media
from desktop.project.model import MediaItem
from desktop.workers import Cancelled, Task, current_task, run_in_background


def offer_recovery(parent: QWidget | None, recovery: Path, readable: bool, reason: str = "") -> str:
    """'recover', 'discard' or 'later'. A recovery file that cannot be read is only offered for discarding."""
    box = QMessageBox(parent)
    box.setWindowTitle("Recover unsaved work?")
    if readable:
        box.setText("The studio stopped before your last changes were saved. Recover them?")
        box.setInformativeText(f"Autosaved in {recovery}. Your project file has not been changed.")
        recover = box.addButton("Recover", QMessageBox.ButtonRole.AcceptRole)
    else:
        box.setText("An autosave was found, but it cannot be read.")
        box.setInformativeText(f"{recovery}: {reason}")
        recover = None
    discard = box.addButton("Discard autosave", QMessageBox.ButtonRole.DestructiveRole)
    box.addButton("Not now", QMessageBox.ButtonRole.RejectRole)
    box.exec()
    clicked = box.clickedButton()
    return "recover" if clicked is recover and recover is not None else "discard" if clicked is discard else "later"


class RelinkDialog(QDialog):
    """One row per missing file: where it was, and a button to find it. `found` maps media id -> probed item."""

    def __init__(self, missing: list[MediaItem], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Missing media")
        self.found: dict[str, MediaItem] = {}
        grid = QGridLayout()
        grid.addWidget(QLabel("These files were moved or deleted. Find them, or keep working without them:"),
                       0, 0, 1, 3)
        self._labels: dict[str, QLabel] = {}
        for row, media in enumerate(missing, start=1):
            grid.addWidget(QLabel(media.name), row, 0)
            where = QLabel(str(media.path))
            where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            grid.addWidget(where, row, 1)
            self._labels[media.id] = where
            button = QPushButton("Find...")
            button.clicked.connect(lambda _=False, m=media: self._find(m))
            grid.addWidget(button, row, 2)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        layout.addWidget(buttons)

    def _find(self, media: MediaItem) -> None:
        path, _ = QFileDialog.getOpenFileName(self, f"Find {media.name}", str(media.path.parent))
        if path:
            self.relink(media, Path(path))

    def relink(self, media: MediaItem, path: Path) -> None:
        try:
            probed = probe_media(path)
        except MediaReadError as err:
            QMessageBox.warning(self, "Cannot use that file", str(err))
            return
        if probed.kind != media.kind:
            QMessageBox.warning(self, "Cannot use that file", f"{path.name} is {probed.kind}; {media.name} was "
                                                               f"{media.kind}")
            return
        self.found[media.id] = probed
        self._labels[media.id].setText(f"{path}  \N{CHECK MARK}")


def show_provenance(parent: QWidget | None, title: str, text: str) -> None:
    dialog = QDialog(parent)
    dialog.setWindowTitle(title)
    view = QPlainTextEdit(text)
    view.setReadOnly(True)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
    buttons.rejected.connect(dialog.reject)
    layout = QVBoxLayout(dialog)
    layout.addWidget(view)
    layout.addWidget(buttons)
    dialog.resize(640, 480)
    dialog.exec()


class ProgressTask(QObject):
    """Runs `work(progress, cancelled)` in the background (desktop.workers) under a progress dialog with Cancel;
    `finished(error or None)` on the GUI thread, where the dialog is only ever touched."""

    finished = Signal(object)

    def __init__(self, parent: QWidget, title: str,
                 work: Callable[[Callable[[float], None], Callable[[], bool]], None]) -> None:
        super().__init__(parent)
        self.dialog = QProgressDialog(title, "Cancel", 0, 1000, parent)
        self.dialog.setWindowModality(Qt.WindowModality.WindowModal)
        self.dialog.setMinimumDuration(0)
        self.work = work
        self.task: Task[None] | None = None
        self._reported = False  # `finished` was emitted

    def start(self) -> None:
        self.task = run_in_background(self._run, on_done=lambda _: self._done(None), on_error=self._done,
                                      on_progress=self._progressed, context=self,
                                      on_cancelled=lambda: self._done(Cancelled("cancelled before it started")))
        self.dialog.canceled.connect(self.task.cancel)

    def _run(self) -> None:
        """On the worker thread: the work, reporting through the task and asking it about Cancel."""
        task = current_task()
        self.work(task.progress, task.cancel_requested)

    def stop(self) -> None:
        """Cancel the work, wait for it to end and report `finished` now rather than later on the event loop, which
        a closing window may not run again."""
        if self.task is None or self._reported:
            return
        self.task.cancel()
        try:
            self.task.result()
        except Exception as error:  # noqa: BLE001 - reported through `finished`, as _done's callers do
            self._done(error)
        else:
            self._done(None)

    def _progressed(self, fraction: float) -> None:
        self.dialog.setValue(round(fraction * 1000))

    def _done(self, error: object) -> None:
        if self._reported:  # stop() reported it already; this is the same end delivered by the event loop
            return
        self._reported = True
        self.dialog.reset()
        self.finished.emit(error)
