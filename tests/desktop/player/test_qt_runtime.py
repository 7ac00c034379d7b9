"""Playback makes thousands of Qt calls a second, so the Qt binding must keep Python's reference counts.

PySide6 6.12.0 on CPython 3.11 does not: its void methods return None, and Signal.emit returns True, without a
reference of their own, so each call takes one from None or True; after a few thousand calls CPython frees None and
aborts ("Fatal Python error: none_dealloc"). From CPython 3.12 None and True are immortal and this cannot happen.
"""

from __future__ import annotations

import sys

import PySide6
import pytest
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QColor, QImage, QPainter


class _Emitter(QObject):
    ping = Signal()


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None and True are immortal")
def test_qt_calls_keep_the_reference_counts_of_none_and_true(qapp):
    image = QImage(4, 4, QImage.Format.Format_RGB32)
    painter = QPainter(image)
    colour = QColor(1, 2, 3)
    emitter = _Emitter()
    nones, trues = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(100):
        painter.setPen(colour)
        emitter.ping.emit()
    lost = nones - sys.getrefcount(None), trues - sys.getrefcount(True)
    painter.end()
    assert max(lost) < 50, (
        f"PySide6 {PySide6.__version__} on Python {sys.version.split()[0]} drops a reference at every call "
        f"(lost {lost[0]} on None, {lost[1]} on True in 100 calls): the studio would abort within seconds of "
        "playback. Use PySide6 6.11.3 (or CPython 3.12+)."
    )
