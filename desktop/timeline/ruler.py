"""The time ruler above the tracks: ticks and timecodes at the view's zoom and scroll, the project's markers (with
their names) and the playhead's. Pressing or dragging on it asks for the playhead there; double-clicking a marker
asks to name it."""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
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


MARKER_GRIP = 6  # pixels either side of a marker's tab where a double-click names it


class Ruler(QWidget):
    seek = Signal(int)
    name_marker = Signal(int)  # the frame of the marker double-clicked

    def __init__(self, scale: TimeScale, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.scale = scale
        self.offset = 0  # the scene x at the ruler's left edge
        self.playhead = 0
        self.markers: list[int] = []  # the project's marked frames
        self.marker_names: dict[int, str] = {}
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
        for index, frame in enumerate(self.markers):
            x = scale.x(frame) - self.offset
            name = self.marker_names.get(frame)
            if name and x + 8 < self.width():  # the name runs right, up to the next marker
                room = (scale.x(self.markers[index + 1]) - self.offset if index + 1 < len(self.markers)
                        else self.width()) - x - 12
                if room > 12:
                    text = painter.fontMetrics().elidedText(name, Qt.TextElideMode.ElideRight, int(room))
                    painter.fillRect(QRectF(x + 6, 0, painter.fontMetrics().horizontalAdvance(text) + 4, 12),
                                     _BACKGROUND)  # over the timecodes, readable
                    painter.setPen(MARKER_COLOR)
                    painter.drawText(QPointF(x + 8, 10), text)
                    painter.setPen(Qt.PenStyle.NoPen)
            if -6 <= x <= self.width() + 6:
                painter.drawPolygon(QPolygonF([QPointF(x - 5, 0), QPointF(x + 5, 0), QPointF(x + 5, 6),
                                               QPointF(x, 11), QPointF(x - 5, 6)]))
        x = scale.x(self.playhead) - self.offset
        painter.setBrush(PLAYHEAD_COLOR)
        painter.drawPolygon(QPolygonF([QPointF(x - 6, height - 10), QPointF(x + 6, height - 10), QPointF(x, height)]))

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self._seek_to(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        x = event.position().x() + self.offset
        near = [m for m in self.markers if abs(self.scale.x(m) - x) <= MARKER_GRIP]
        if near:
            self.name_marker.emit(min(near, key=lambda m: abs(self.scale.x(m) - x)))
        else:
            self._seek_to(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton:
            self._seek_to(event)

    def _seek_to(self, event: QMouseEvent) -> None:
        self.seek.emit(max(0, self.scale.nearest_frame(event.position().x() + self.offset)))
