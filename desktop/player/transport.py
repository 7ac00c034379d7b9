"""The transport under the monitor: go to the start, a second back, a frame back, play/pause, a frame on, a second
on, go to the end; the playhead's timecode and the timeline's length; the preview quality.

The buttons do what the timeline's keys do (Home, Shift+Left, Left, Space, Right, Shift+Right, End: named in their
tooltips) and move the one playhead the timeline, playback and the monitor share (desktop.player.wiring). A click
leaves the keyboard with the timeline, so the keys go on from there.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSizePolicy, QStyle, QToolButton, QWidget

from desktop.player.playback import Playback
from desktop.player.preview import PREVIEW_SCALES
from desktop.timecode import timecode
from desktop.timeline.view import TimelineView

QUALITY_TIP = ("Preview quality: the monitor renders its frames at this fraction of the project's size, so playback "
               "keeps time on a slower computer. Export is always full quality.")


def read_scale(value: object) -> float:
    """A preview scale as remembered in the settings (a number, or its text); full size for anything else."""
    try:
        scale = float(value)
    except (TypeError, ValueError):
        return 1.0
    return scale if 0 < scale <= 1 else 1.0


class Transport(QWidget):
    """`scale_changed(scale)` when another preview quality is chosen (1, 0.5 or 0.25)."""

    scale_changed = Signal(float)

    def __init__(self, timeline: TimelineView, playback: Playback, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.timeline, self.playback = timeline, playback
        icon = self.style().standardIcon
        pixmap = QStyle.StandardPixmap
        self.start = self._button("Go to the start (Home)", lambda: timeline.set_playhead(0),
                                  icon=icon(pixmap.SP_MediaSkipBackward))
        self.second_back = self._button("One second back (Shift+Left)", lambda: self._step(-self._second()),
                                        icon=icon(pixmap.SP_MediaSeekBackward))
        self.frame_back = self._button("One frame back (Left)", lambda: self._step(-1), text="◂")
        self.play = self._button("Play / pause (Space)", playback.toggle, icon=icon(pixmap.SP_MediaPlay))
        self.frame_on = self._button("One frame on (Right)", lambda: self._step(1), text="▸")
        self.second_on = self._button("One second on (Shift+Right)", lambda: self._step(self._second()),
                                      icon=icon(pixmap.SP_MediaSeekForward))
        self.end = self._button("Go to the end (End)", lambda: timeline.set_playhead(playback.end),
                                icon=icon(pixmap.SP_MediaSkipForward))
        self.time = QLabel(self)
        self.time.setObjectName("transportTime")
        self.time.setToolTip("The playhead's time / the timeline's length (minutes:seconds.frames)")
        font = QFont("Monospace")
        font.setStyleHint(QFont.StyleHint.TypeWriter)
        self.time.setFont(font)
        self.quality = QComboBox(self)
        for name, scale in PREVIEW_SCALES.items():
            self.quality.addItem(name, scale)
        self.quality.setToolTip(QUALITY_TIP)
        self.quality.setFocusPolicy(Qt.FocusPolicy.TabFocus)  # a click leaves the keys with the timeline
        self.quality.currentIndexChanged.connect(lambda _: self.scale_changed.emit(self.scale))
        quality_label = QLabel("Preview", self)
        quality_label.setToolTip(QUALITY_TIP)

        # It never makes the window wider: in a narrow one the quality choice at its right end is cut off first.
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        layout.setSpacing(2)
        for button in (self.start, self.second_back, self.frame_back, self.play, self.frame_on, self.second_on,
                       self.end):
            layout.addWidget(button)
        layout.addSpacing(10)
        layout.addWidget(self.time)
        layout.addStretch(1)
        layout.addWidget(quality_label)
        layout.addWidget(self.quality)

        timeline.playhead_moved.connect(self.show_time)
        timeline.refreshed.connect(self.show_time)  # an edit or a live clip can change the length
        playback.playing_changed.connect(self._show_playing)
        self.show_time()

    @property
    def scale(self) -> float:
        return float(self.quality.currentData())

    def set_scale(self, scale: float) -> None:
        """Choose the preview quality nearest to `scale`."""
        nearest = min(range(self.quality.count()), key=lambda i: abs(self.quality.itemData(i) - scale))
        self.quality.setCurrentIndex(nearest)

    def show_time(self) -> None:
        fps = self.timeline.project.fps
        self.time.setText(f"{timecode(self.timeline.playhead, fps)} / {timecode(self.playback.end, fps)}")

    def _button(self, tip: str, slot, icon=None, text: str = "") -> QToolButton:
        button = QToolButton(self)
        button.setToolTip(tip)
        button.setAutoRaise(True)
        if icon is not None:
            button.setIcon(icon)
        else:
            button.setText(text)
        button.clicked.connect(slot)
        button.clicked.connect(lambda: self.timeline.setFocus(Qt.FocusReason.OtherFocusReason))
        return button

    def _second(self) -> int:
        return self.timeline.project.fps  # asked for when pressed: the project's rate can change

    def _step(self, frames: int) -> None:
        self.timeline.set_playhead(self.timeline.playhead + frames)

    def _show_playing(self, playing: bool) -> None:
        pixmap = QStyle.StandardPixmap.SP_MediaPause if playing else QStyle.StandardPixmap.SP_MediaPlay
        self.play.setIcon(self.style().standardIcon(pixmap))
