"""A small project, synthetic thumbnails and waveform peaks (no media files needed), and mouse drags."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent, QUndoStack
from PySide6.QtWidgets import QApplication

from desktop.project.model import Clip, MediaItem, Project, Track
from desktop.timeline.previews import MediaPreviews
from desktop.timeline.view import TimelineView


class SyntheticMedia:
    """Thumbnail and peaks sources that make pictures and sound from numbers, noting the threads they ran on."""

    def __init__(self) -> None:
        self.threads: set[str] = set()

    def thumbnail(self, media: MediaItem, time_s: float, height: int) -> np.ndarray:
        self.threads.add(threading.current_thread().name)
        picture = np.zeros((height, height * 16 // 9, 3), np.uint8)
        picture[..., 0] = int(time_s * 25) % 256
        return picture

    def peaks(self, media: MediaItem, buckets_per_second: float) -> np.ndarray:
        self.threads.add(threading.current_thread().name)
        level = np.abs(np.sin(np.arange(int(media.duration * buckets_per_second)) / 50)).astype(np.float32)
        return np.stack([-level, level], axis=1)


@contextmanager
def shown_timeline(qtbot, project: Project, synthetic: SyntheticMedia, height: int) -> Iterator[TimelineView]:
    """`project` on a timeline 1100 px wide, shown and exposed, its previews from `synthetic`."""
    previews = MediaPreviews(synthetic.thumbnail, synthetic.peaks)
    widget = TimelineView(project, QUndoStack(), previews)
    qtbot.addWidget(widget)
    widget.resize(1100, height)
    widget.show()
    qtbot.waitExposed(widget)
    try:
        yield widget
    finally:
        previews.close()


def small_project() -> Project:
    """Video 2 (empty) above Video 1 (c1 0..48, c2 60..140 from media frame 10), Audio 1 (c3 10..110)."""
    project = Project(fps=16)
    project.media = {
        "v": MediaItem("v", Path("/media/clip.mp4"), "video", 10.0, 16, 1280, 720, has_audio=True),
        "a": MediaItem("a", Path("/media/voice.wav"), "audio", 10.0),
    }
    project.tracks = [
        Track("t2", "video", "Video 2"),
        Track("t1", "video", "Video 1", clips=[Clip("c1", "v", 0, 48), Clip("c2", "v", 60, 80, source_in=10)]),
        Track("t3", "audio", "Audio 1", clips=[Clip("c3", "a", 10, 100)]),
    ]
    return project


def viewport_point(view: TimelineView, frame: float, track_index: int, dy: float = 30) -> QPoint:
    """Where frame `frame` of track row `track_index` is in the viewport (dy pixels below the row's top)."""
    y = view.track_top(view.project.tracks[track_index].id) + dy
    return view.mapFromScene(QPointF(view.scale.x(frame), y))


def send_mouse(view: TimelineView, kind: QEvent.Type, point: QPoint, buttons: Qt.MouseButton,
               modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    button = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseMove else Qt.MouseButton.LeftButton
    viewport = view.viewport()
    event = QMouseEvent(kind, QPointF(point), QPointF(viewport.mapToGlobal(point)), button, buttons, modifiers)
    QApplication.sendEvent(viewport, event)


def drag(view: TimelineView, start: QPoint, end: QPoint, steps: int = 4) -> None:
    """Press at `start`, move in `steps` to `end` with the button held, release there."""
    left = Qt.MouseButton.LeftButton
    send_mouse(view, QEvent.Type.MouseButtonPress, start, left)
    for step in range(1, steps + 1):
        point = start + (end - start) * step / steps
        send_mouse(view, QEvent.Type.MouseMove, point, left)
    send_mouse(view, QEvent.Type.MouseButtonRelease, end, Qt.MouseButton.NoButton)
