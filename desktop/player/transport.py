"""The transport under the monitor: go to the start, a second back, a frame back, play/pause, a frame on, a second
on, go to the end; the playhead's timecode and the timeline's length; the preview quality.

The buttons do what the timeline's keys do (Home, Shift+Left, Left, Space, Right, Shift+Right, End: named in their
tooltips) and move the one playhead the timeline, playback and the monitor share (desktop.player.wiring). A click
leaves the keyboard with the timeline, so the keys go on from there.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPalette, QPixmap, QPolygonF
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSizePolicy, QToolButton, QWidget

from desktop.player.playback import Playback
from desktop.player.preview import PREVIEW_SCALES
from desktop.timecode import timecode
from desktop.timeline.view import TimelineView

ICON = 18  # pixels
# Each icon as bars (x, width) and triangles (x of the flat side, x of the point, half height) in an 18-pixel box.
_SHAPES: dict[str, tuple[list[tuple[float, float]], list[tuple[float, float, float]]]] = {
    "start": ([(3, 2)], [(14, 5, 5.5)]),
    "second_back": ([], [(9.5, 2, 5.5), (16.5, 9, 5.5)]),
    "frame_back": ([(12.5, 2)], [(11, 5, 4.5)]),
    "play": ([], [(4, 15, 6.5)]),
    "pause": ([(4.5, 3), (10.5, 3)], []),
    "frame_on": ([(3.5, 2)], [(7, 13, 4.5)]),
    "second_on": ([], [(1.5, 9, 5.5), (8.5, 16, 5.5)]),
    "end": ([(13, 2)], [(4, 13, 5.5)]),
}


def transport_icon(shape: str, colour: QColor) -> QIcon:
    """A transport symbol drawn in `colour` (the palette's text colour: plain on any theme)."""
    pixmap = QPixmap(ICON * 2, ICON * 2)  # drawn at twice the size: sharp on a high-density screen too
    pixmap.setDevicePixelRatio(2)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(colour)
    bars, triangles = _SHAPES[shape]
    middle = ICON / 2
    for x, width in bars:
        painter.drawRect(QRectF(x, middle - 6, width, 12))
    for flat, point, half in triangles:
        painter.drawPolygon(QPolygonF([QPointF(flat, middle - half), QPointF(point, middle),
                                       QPointF(flat, middle + half)]))
    painter.end()
    return QIcon(pixmap)


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
        colour = self.palette().color(QPalette.ColorRole.ButtonText)
        self._icons = {shape: transport_icon(shape, colour) for shape in _SHAPES}
        self.start = self._button("start", "Go to the start (Home)", lambda: timeline.set_playhead(0))
        self.second_back = self._button("second_back", "One second back (Shift+Left)",
                                        lambda: self._step(-self._second()))
        self.frame_back = self._button("frame_back", "One frame back (Left)", lambda: self._step(-1))
        self.play = self._button("play", "Play / pause (Space)", playback.toggle)
        self.frame_on = self._button("frame_on", "One frame on (Right)", lambda: self._step(1))
        self.second_on = self._button("second_on", "One second on (Shift+Right)", lambda: self._step(self._second()))
        self.end = self._button("end", "Go to the end (End)", lambda: timeline.set_playhead(playback.end))
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

    def _button(self, shape: str, tip: str, slot) -> QToolButton:
        button = QToolButton(self)
        button.setToolTip(tip)
        button.setAutoRaise(True)
        button.setIcon(self._icons[shape])
        button.setIconSize(QSize(ICON, ICON))
        button.clicked.connect(slot)
        button.clicked.connect(lambda: self.timeline.setFocus(Qt.FocusReason.OtherFocusReason))
        return button

    def _second(self) -> int:
        return self.timeline.project.fps  # asked for when pressed: the project's rate can change

    def _step(self, frames: int) -> None:
        self.timeline.set_playhead(self.timeline.playhead + frames)

    def _show_playing(self, playing: bool) -> None:
        self.play.setIcon(self._icons["pause" if playing else "play"])
