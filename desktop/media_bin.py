"""The media bin: the project's files with a thumbnail, length and kind; generated ones are marked."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QAction, QColor, QIcon, QKeySequence, QPixmap
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QPushButton, QVBoxLayout, QWidget

from desktop.project.model import MediaItem, Project
from desktop.timecode import timecode
from desktop.timeline.previews import MediaPreviews

ICON = QSize(96, 54)
MEDIA_ID = Qt.ItemDataRole.UserRole
WAVEFORM_COLOUR = QColor("#7fd18b")


def label(media: MediaItem, fps: int) -> str:
    if media.title is not None:
        return f"{media.name}\ntitle"
    length = "still" if media.kind == "image" else timecode(round(media.duration * fps), fps)
    generated = "  \N{BLACK STAR} generated" if media.provenance else ""
    return f"{media.name}\n{media.kind}, {length}{generated}"


class MediaBin(QWidget):
    """`place_requested(media_id)` when an item is double-clicked (the owner puts it at the playhead);
    `remove_requested(media_id)` from its context menu or the Delete key (the owner removes it from the project,
    which is refused while clips use it)."""

    place_requested = Signal(str)
    remove_requested = Signal(str)
    import_requested = Signal()

    def __init__(self, previews: MediaPreviews, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.previews = previews
        self.list = QListWidget()
        self.list.setIconSize(ICON)
        self.list.setWordWrap(True)
        self.list.itemDoubleClicked.connect(lambda item: self.place_requested.emit(item.data(MEDIA_ID)))
        self.remove_action = QAction("Remove from project", self.list)
        self.remove_action.setShortcut(QKeySequence.StandardKey.Delete)
        self.remove_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.remove_action.triggered.connect(self._remove_selected)
        self.list.addAction(self.remove_action)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        button = QPushButton("Import media...")
        button.clicked.connect(self.import_requested)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.list)
        layout.addWidget(button)
        self.project: Project | None = None
        previews.changed.connect(self._refresh_icons)

    def show_project(self, project: Project) -> None:
        self.project = project
        selected = self.selected_id()
        self.list.clear()
        for media in project.media.values():
            item = QListWidgetItem(label(media, project.fps))
            item.setData(MEDIA_ID, media.id)
            item.setToolTip(media.title.text if media.title is not None else str(media.path))
            self.list.addItem(item)
            if media.id == selected:
                item.setSelected(True)
        self._refresh_icons()

    def selected_id(self) -> str | None:
        items = self.list.selectedItems()
        return items[0].data(MEDIA_ID) if items else None

    def _remove_selected(self) -> None:
        media_id = self.selected_id()
        if media_id is not None:
            self.remove_requested.emit(media_id)

    def _refresh_icons(self) -> None:
        if self.project is None:
            return
        for row in range(self.list.count()):
            item = self.list.item(row)
            media = self.project.media.get(item.data(MEDIA_ID))
            if media is None or not item.icon().isNull():
                continue
            pixmap = self._icon(media)
            if pixmap is not None:
                item.setIcon(QIcon(pixmap))

    def _icon(self, media: MediaItem) -> QPixmap | None:
        """A frame from its first second, or for sound its whole waveform."""
        if media.kind != "audio":
            return self.previews.thumbnail(media, min(1.0, media.duration / 2), ICON.height())
        whole = ICON.width() / max(media.duration, 1e-3)
        tile = self.previews.waveform_tile(media, whole, ICON.height(), 0, WAVEFORM_COLOUR)
        return None if tile is None else tile.copy(0, 0, ICON.width(), ICON.height())
