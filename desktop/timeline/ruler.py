"""The time ruler above the tracks: ticks and timecodes at the view's zoom and scroll, the project's markers and the
playhead's. Pressing or dragging on it asks for the playhead there."""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QMouseEvent, QPainter, QPaintEvent, QPolygonF
from PySide6.QtWidgets import QWidget

from desktop.timeline.scale import TimeScale

PLAYHEAD_COLOR = QColor(235, 70, 60)
_BACKGROUND = QColor(38, 38, 41)
_TICKS = QColor(150, 150, 155)
_LABELS = QColor(205, 205, 210)
MARKER_COLOR = QColor(240, 190, 60)
_MIN_TICK_SPACING = 7


def minor_step(label_step: int, pixels_per_frame: float) -> int:
    """Frames between the unlabelled ticks inside a labelled step."""
    for parts in (5, 4, 2):
        if label_step % parts == 0 and label_step // parts * pixels_per_frame >= _MIN_TICK_SPACING:
            return label_step // parts
    return label_step


class Ruler(QWidget):
    seek = Signal(int)

    def __init__(self, scale: TimeScale, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.scale = scale
        self.offset = 0  # the scene x at the ruler's left edge
        self.playhead = 0
        self.markers: list[int] = []  # the project's marked frames
        self._font = QFont("Sans", 8)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), _BACKGROUND)
        painter.setFont(self._font)
        scale, height = self.scale, self.height()
        step = scale.label_step()
        minor = minor_step(step, scale.pixels_per_frame)
        first = math.floor(scale.frame_at(self.offset) / minor) * minor
        last = scale.frame_at(self.offset + self.width()) + 1
        for frame in range(max(0, first), last + 1, minor):
            x = round(scale.x(frame) - self.offset)
            labelled = frame % step == 0
            painter.setPen(_TICKS)
            painter.drawLine(x, height - (12 if labelled else 5), x, height)
            if labelled:
                painter.setPen(_LABELS)
                painter.drawText(x + 3, height - 14, scale.timecode(frame))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(MARKER_COLOR)
        for frame in self.markers:
            x = scale.x(frame) - self.offset
            if -6 <= x <= self.width() + 6:
                painter.drawPolygon(QPolygonF([QPointF(x - 5, 0), QPointF(x + 5, 0), QPointF(x + 5, 6),
                                               QPointF(x, 11), QPointF(x - 5, 6)]))
        x = scale.x(self.playhead) - self.offset
        painter.setBrush(PLAYHEAD_COLOR)
        painter.drawPolygon(QPolygonF([QPointF(x - 6, height - 10), QPointF(x + 6, height - 10), QPointF(x, height)]))

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self._seek_to(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton:
            self._seek_to(event)

    def _seek_to(self, event: QMouseEvent) -> None:
        self.seek.emit(max(0, self.scale.nearest_frame(event.position().x() + self.offset)))
