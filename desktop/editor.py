"""One open project in the window: its undo stack, the monitor with its transport above the timeline, and playback
between them; all three show the live clips of a running generation over the project (desktop.project.live)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import QSplitter, QVBoxLayout, QWidget

from desktop.media.render import TimelineRenderer
from desktop.player.monitor import Monitor
from desktop.player.playback import Playback
from desktop.player.transport import Transport
from desktop.player.wiring import connect_player
from desktop.project.commands import frame_at_rate
from desktop.project.live import LiveClips
from desktop.project.model import Project
from desktop.timeline.previews import MediaPreviews
from desktop.timeline.view import TimelineView


class Editor(QWidget):
    def __init__(self, project: Project, previews: MediaPreviews, parent: QWidget | None = None,
                 live: LiveClips | None = None) -> None:
        super().__init__(parent)
        self.project = project
        self.live = live if live is not None else LiveClips()
        self.stack = QUndoStack(self)
        self.timeline = TimelineView(project, self.stack, previews, live=self.live)
        self.monitor = Monitor(project, TimelineRenderer(project, live=self.live))
        self.playback = Playback(project, parent=self, live=self.live)
        connect_player(self.timeline, self.playback, self.monitor)
        self.transport = Transport(self.timeline, self.playback)
        self.transport.scale_changed.connect(self.monitor.set_preview_scale)
        self.monitor.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.monitor.setFocusProxy(self.timeline)  # a click on the picture gives the player's keys to the timeline
        player = QWidget()
        player_layout = QVBoxLayout(player)
        player_layout.setContentsMargins(0, 0, 0, 0)
        player_layout.setSpacing(0)
        player_layout.addWidget(self.monitor, 1)
        player_layout.addWidget(self.transport)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(player)
        self.splitter.addWidget(self.timeline)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setSizes([540, 360])  # scaled to the real height when shown; the monitor's hint would take all
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.splitter)
        self._fps = project.fps
        self.stack.indexChanged.connect(self._follow_frame_rate)

    def _follow_frame_rate(self) -> None:
        """After an edit that changed the frame rate (Project settings, or its undo or redo) the playhead stays at
        the same time, and playing goes on at the new rate."""
        old, self._fps = self._fps, self.project.fps
        if old == self._fps:
            return
        rate = self.playback.rate
        self.playback.pause()
        self.timeline.set_playhead(frame_at_rate(self.timeline.playhead, old, self._fps))
        if rate:
            self.playback.play(rate)

    def live_changed(self) -> None:
        """The live clips changed (the project did not): show them as they are now."""
        self.timeline.refresh()
        self.monitor.refresh()

    def close_parts(self) -> None:
        self.playback.close()
        self.monitor.close()
        self.timeline.close()
