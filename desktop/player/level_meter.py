"""A horizontal level meter for the microphone: RMS as a bar, the peak as a tick, on a -60..0 dBFS scale."""

from __future__ import annotations

import math

from PySide6.QtCore import QSize
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QWidget

FLOOR_DB = -60.0
_HOT_DB = -6.0  # from here the bar turns red: close to clipping


def meter_fraction(level: float) -> float:
    """Where a linear level (0..1) sits on the meter, 0 at FLOOR_DB and below, 1 at 0 dBFS."""
    if level <= 0:
        return 0.0
    return min(1.0, max(0.0, 1 - 20 * math.log10(level) / FLOOR_DB))


class LevelMeter(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rms = 0.0
        self.peak = 0.0
        self.setToolTip("Microphone level (RMS bar, peak tick)")

    def sizeHint(self) -> QSize:
        return QSize(160, 12)

    def set_level(self, rms: float, peak: float) -> None:
        self.rms, self.peak = rms, peak
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(25, 25, 27))
        width, height = self.width(), self.height()
        hot = meter_fraction(10 ** (_HOT_DB / 20)) * width
        bar = meter_fraction(self.rms) * width
        painter.fillRect(0, 0, round(min(bar, hot)), height, QColor(70, 190, 100))
        if bar > hot:
            painter.fillRect(round(hot), 0, round(bar - hot), height, QColor(220, 70, 60))
        peak = round(meter_fraction(self.peak) * width)
        painter.fillRect(max(0, peak - 2), 0, 2, height, QColor(240, 240, 240))
