"""The column left of the tracks: each track's name with mute, lock, remove and, for an audio track, duck buttons
(also on its right-click menu), and buttons to add tracks. The buttons only ask (signals); the view turns each into
an undoable edit. A lane that is not the project's (the live clips of a running generation) shows its name only."""

from __future__ import annotations

from collections.abc import Collection

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QContextMenuEvent, QResizeEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QMenu, QToolButton, QWidget

from desktop.project.model import Track
from desktop.timeline.layout import track_height

LIVE_TIP = ("The clips of the generation running now, shown as they are made; when it ends they are placed on the "
            "timeline as one undoable edit")


class TrackHeader(QFrame):
    def __init__(self, track: Track, parent: QWidget, editable: bool = True) -> None:
        super().__init__(parent)
        self.track_id = track.id
        self.editable = editable
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.name = QLabel(track.name)
        self.name.setToolTip(f"{track.kind.capitalize()} track")
        self.mute = self._button("M", "Mute: leave this track out of the picture or the sound")
        self.lock = self._button("L", "Lock: keep this track's clips from being edited")
        self.duck = self._button("D", "Duck: lower this track (music, say) by 12 dB wherever another audio track "
                                      "plays a clip (a voice-over, say)")
        self.remove = self._button("✕", "Remove this track and its clips")
        self.remove.setCheckable(False)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 2, 4, 2)
        layout.setSpacing(2)
        layout.addWidget(self.name, 1)
        for button in (self.mute, self.lock, self.duck, self.remove):
            layout.addWidget(button)
            button.setVisible(editable and (button is not self.duck or track.kind == "audio"))
        if not editable:
            self.name.setToolTip(LIVE_TIP)
        self.show_flags(track)

    def _button(self, text: str, tip: str) -> QToolButton:
        button = QToolButton(self)
        button.setText(text)
        button.setToolTip(tip)
        button.setCheckable(True)
        button.setAutoRaise(True)
        return button

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        """Its buttons as a menu (each entry clicks the button, so it asks the same as a click would)."""
        if not self.editable:
            return  # a lane that is not the project's: nothing to do with it
        menu = QMenu(self)
        entries = [(self.mute, "&Mute track"), (self.lock, "&Lock track"), (self.duck, "&Duck under other audio"),
                   (self.remove, "&Remove track")]
        for button, text in entries:
            if button.isHidden():
                continue
            action = menu.addAction(text, button.click)
            action.setCheckable(button.isCheckable())
            action.setChecked(button.isChecked())
            action.setEnabled(button.isEnabled())
            action.setStatusTip(button.toolTip())
        self.menu = menu  # while it is open: a test finds it here
        menu.exec(event.globalPos())
        self.menu = None
        menu.deleteLater()

    def show_flags(self, track: Track) -> None:
        self.name.setText(track.name)
        self.mute.setChecked(track.muted)
        self.lock.setChecked(track.locked)
        self.duck.setChecked(track.ducked)
        self.remove.setEnabled(not track.locked)


class TrackHeaders(QWidget):
    """`flag_changed(track_id, "muted" | "locked" | "ducked", value)`, `remove_requested(track_id)`."""

    flag_changed = Signal(str, str, bool)
    remove_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: dict[str, TrackHeader] = {}
        self._tracks: list[tuple[str, str]] = []  # id and kind, top to bottom
        self._tops: list[int] = []
        self._offset = 0

    def show_tracks(self, tracks: list[Track], tops: list[int], shown_only: Collection[str] = ()) -> None:
        """Headers for `tracks` at `tops`; those in `shown_only` are not the project's (no buttons)."""
        for gone in set(self.rows) - {t.id for t in tracks}:
            self.rows.pop(gone).deleteLater()
        for track in tracks:
            row = self.rows.get(track.id)
            if row is None:
                row = self.rows[track.id] = TrackHeader(track, self, editable=track.id not in shown_only)
                row.mute.clicked.connect(lambda on, t=track.id: self.flag_changed.emit(t, "muted", on))
                row.lock.clicked.connect(lambda on, t=track.id: self.flag_changed.emit(t, "locked", on))
                row.duck.clicked.connect(lambda on, t=track.id: self.flag_changed.emit(t, "ducked", on))
                row.remove.clicked.connect(lambda _=False, t=track.id: self.remove_requested.emit(t))
                row.show()
            row.show_flags(track)
        self._tracks = [(t.id, t.kind) for t in tracks]
        self._tops = tops
        self._place_rows()

    def scroll_to(self, offset: int) -> None:
        self._offset = offset
        self._place_rows()

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._place_rows()

    def _place_rows(self) -> None:
        for (track_id, kind), top in zip(self._tracks, self._tops, strict=False):
            self.rows[track_id].setGeometry(0, top - self._offset, self.width(), track_height(kind))


class AddTrackButtons(QWidget):
    """`add_requested(kind)`."""

    add_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        self.buttons: dict[str, QToolButton] = {}
        for kind in ("video", "audio"):
            button = self.buttons[kind] = QToolButton(self)
            button.setText(f"+ {kind.capitalize()}")
            button.setToolTip(f"Add a {kind} track")
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            button.clicked.connect(lambda _=False, k=kind: self.add_requested.emit(k))
            layout.addWidget(button)
        layout.addStretch(1)
