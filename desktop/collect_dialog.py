"""The offer, on a project's first save into a folder, to copy the media it uses from outside that folder into its
own media folder (desktop.project.collect): one tick per file, the studio's own ticked and imported files not
(they may be big and are often kept where they are on purpose), with "Studio-made only" and "Everything" to tick
them at once and the size of what the ticked files add up to."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.project.model import MediaItem

_ID = Qt.ItemDataRole.UserRole


def _size(item: MediaItem) -> int:
    with contextlib.suppress(OSError):
        return item.path.stat().st_size
    return 0


def _megabytes(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


class CollectDialog(QDialog):
    """Which of `items` to copy into `target`; `made`: the ids of those the studio made. `chosen()` once accepted."""

    def __init__(self, items: list[MediaItem], made: set[str], target: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Collect media")
        self._items = {item.id: item for item in items}
        self._made = made
        self._sizes = {item.id: _size(item) for item in items}
        intro = QLabel(f"This project uses {len(items)} media file(s) from outside its folder. Copy the ticked ones "
                       f"(with their bits and clips) into {target.name} beside the project, so that the folder holds "
                       "everything the project needs and can be moved as a whole. The project uses the copies once "
                       "all of them are made; the originals stay where they are.")
        intro.setWordWrap(True)
        self.files = QListWidget()
        for item in items:
            source = "made by the studio" if item.id in made else "imported"
            row = QListWidgetItem(f"{item.path.name}  ({_megabytes(self._sizes[item.id])}, {source}, in "
                                  f"{item.path.parent})")
            row.setToolTip(str(item.path))
            row.setData(_ID, item.id)
            row.setFlags(row.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            self.files.addItem(row)
        self.studio_only = QPushButton("Studio-made only")
        self.everything = QPushButton("Everything")
        self.studio_only.clicked.connect(lambda: self._tick(lambda media_id: media_id in self._made))
        self.everything.clicked.connect(lambda: self._tick(lambda media_id: True))
        self.total = QLabel()
        self.buttons = QDialogButtonBox()
        self.collect = self.buttons.addButton("Collect", QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.addButton("Keep where they are", QDialogButtonBox.ButtonRole.RejectRole)
        self.collect.setDefault(True)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.files.itemChanged.connect(self._update_total)

        presets = QHBoxLayout()
        presets.addWidget(QLabel("Tick:"))
        presets.addWidget(self.studio_only)
        presets.addWidget(self.everything)
        presets.addStretch()
        presets.addWidget(self.total)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.files)
        layout.addLayout(presets)
        layout.addWidget(self.buttons)
        self.resize(620, 380)
        self._tick(lambda media_id: media_id in self._made)

    def chosen(self) -> list[MediaItem]:
        """The ticked media, in the order shown."""
        return [self._items[row.data(_ID)] for row in self._rows() if row.checkState() == Qt.CheckState.Checked]

    def _rows(self) -> list[QListWidgetItem]:
        return [self.files.item(i) for i in range(self.files.count())]

    def _tick(self, wanted: Callable[[str], bool]) -> None:
        for row in self._rows():
            row.setCheckState(Qt.CheckState.Checked if wanted(row.data(_ID)) else Qt.CheckState.Unchecked)
        self._update_total()

    def _update_total(self) -> None:
        chosen = self.chosen()
        size = sum(self._sizes[item.id] for item in chosen)
        self.total.setText(f"{len(chosen)} of {len(self._items)} file(s), {_megabytes(size)}")
        self.collect.setEnabled(bool(chosen))
