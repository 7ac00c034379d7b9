"""The storyboard lane: a strip between the ruler and the tracks showing the prompt of each model clip.

A segment is one prompt's span on the timeline: a clip of a generated video (from its provenance), or a planned
one (the generate panel's storyboard, from the playhead). The lane only shows them and lets a double-click edit a
prompt in place; what an edit means is up to whoever listens to `edited`. A run of clips with one prompt (a long
video goes on with its prompt clip after clip) is labelled once, and boundaries too close together to tell apart
are not marked.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QKeyEvent, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QLineEdit, QToolTip, QWidget

from desktop.timeline.ruler import PLAYHEAD_COLOR
from desktop.timeline.scale import TimeScale

LANE_HEIGHT = 22
_BACKGROUND = QColor(32, 32, 35)
_FILL = QColor(92, 72, 130)
_BORDER = QColor(20, 20, 22)
_PLANNED_FILL = QColor(235, 180, 60, 55)
_PLANNED_PEN = QPen(QColor(235, 180, 60), 1, Qt.PenStyle.DashLine)
_TICK = QColor(240, 225, 255)
_TEXT = QColor(235, 235, 238)
_EMPTY_TEXT = QColor(170, 170, 175)
_MIN_LABEL_WIDTH = 24
_MIN_MARKED_WIDTH = 6  # a narrower segment gets no border nor boundary tick: hundreds of them would be a white bar
_MIN_EDITOR_WIDTH = 220


@dataclass(frozen=True)
class Segment:
    """Timeline frames [start, end) where prompt number `index` of a storyboard is shown. `clip_id`: the generated
    clip it belongs to, None for a planned segment. `cut`: `start` is a boundary between two model clips (not the
    video's first frame nor a trimmed edge)."""

    start: int
    end: int
    prompt: str
    index: int
    clip_id: str | None = None
    cut: bool = False

    @property
    def planned(self) -> bool:
        return self.clip_id is None

    @property
    def label(self) -> str:
        return f"{self.index + 1}. {self.prompt}" if self.prompt else f"{self.index + 1}. (no prompt yet)"


def label_runs(segments: list[Segment]) -> list[list[Segment]]:
    """`segments` in runs that share one label: each next clip of one video (or plan) with the same prompt."""
    runs: list[list[Segment]] = []
    for segment in segments:
        last = runs[-1][-1] if runs else None
        if last is not None and (last.clip_id, last.prompt, last.end, last.index + 1) == (
                segment.clip_id, segment.prompt, segment.start, segment.index):
            runs[-1].append(segment)
        else:
            runs.append([segment])
    return runs


def run_label(run: list[Segment]) -> str:
    """'3. prompt', or '3-9. prompt' for a run of clips."""
    first, last = run[0], run[-1]
    return first.label if first is last else f"{first.index + 1}-{last.label}"


class _Editor(QLineEdit):
    cancelled = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.cancelled.emit()
            return
        super().keyPressEvent(event)


class StoryboardLane(QWidget):
    """`edited(segment, text)` when an inline edit ends with a prompt different from the segment's."""

    edited = Signal(object, str)

    def __init__(self, scale: TimeScale, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.scale = scale
        self.offset = 0  # the scene x at the lane's left edge
        self.playhead = 0
        self.segments: list[Segment] = []  # painted in order: the last one is on top
        self._font = QFont("Sans", 8)
        self._editing: Segment | None = None
        self.editor = _Editor(self)
        self.editor.hide()
        self.editor.editingFinished.connect(self._commit)
        self.editor.cancelled.connect(self._cancel)

    def set_segments(self, segments: list[Segment]) -> None:
        if segments != self.segments:
            self.segments = segments
            self.update()

    def segment_rect(self, segment: Segment) -> QRectF:
        """Where `segment` is drawn, in lane pixels."""
        left = self.scale.x(segment.start) - self.offset
        return QRectF(left, 2, self.scale.x(segment.end) - self.offset - left, self.height() - 4)

    def segment_at(self, x: float) -> Segment | None:
        """The topmost segment at lane x."""
        return next((s for s in reversed(self.segments)
                     if self.scale.x(s.start) <= x + self.offset < self.scale.x(s.end)), None)

    def edit_segment(self, segment: Segment) -> None:
        """Open the inline editor on `segment` (at least wide enough to type in, even on a narrow segment)."""
        self._editing = segment
        rect = self.segment_rect(segment).toRect()
        width = max(rect.width(), _MIN_EDITOR_WIDTH)
        left = min(max(rect.left(), 0), max(0, self.width() - width))
        self.editor.setGeometry(left, 0, width, self.height())
        self.editor.setText(segment.prompt)
        self.editor.selectAll()
        self.editor.show()
        self.editor.setFocus()

    def _commit(self) -> None:
        segment, self._editing = self._editing, None
        if segment is None:
            return
        self.editor.hide()
        text = self.editor.text().strip()
        if text != segment.prompt:
            self.edited.emit(segment, text)

    def _cancel(self) -> None:
        self._editing = None  # first, so the focus leaving the hidden editor commits nothing
        self.editor.hide()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        segment = self.segment_at(event.position().x())
        if segment is not None:
            self.edit_segment(segment)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            segment = self.segment_at(event.pos().x())
            if segment is None:
                QToolTip.hideText()
            else:
                kind = "planned, double-click to edit" if segment.planned else "double-click to edit and regenerate"
                QToolTip.showText(event.globalPos(), f"{segment.label}\n({kind})", self)
            return True
        return super().event(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), _BACKGROUND)
        painter.setFont(self._font)
        metrics = QFontMetrics(self._font)
        visible = QRectF(self.rect())
        for run in label_runs(self.segments):
            whole = self.segment_rect(run[0]).united(self.segment_rect(run[-1]))
            if not whole.intersects(visible):
                continue
            for segment in run:
                self._paint_segment(painter, segment)
            shown = whole.intersected(visible)  # the label stays readable when the run starts off screen
            if shown.width() >= _MIN_LABEL_WIDTH:
                painter.setPen(_TEXT if run[0].prompt else _EMPTY_TEXT)
                text = metrics.elidedText(run_label(run), Qt.TextElideMode.ElideRight, int(shown.width()) - 8)
                painter.drawText(shown.adjusted(4, 0, -4, 0), Qt.AlignmentFlag.AlignVCenter, text)
        x = self.scale.x(self.playhead) - self.offset
        painter.setPen(QPen(PLAYHEAD_COLOR, 1))
        painter.drawLine(QPointF(x, 0), QPointF(x, self.height()))

    def _paint_segment(self, painter: QPainter, segment: Segment) -> None:
        rect = self.segment_rect(segment)
        marked = rect.width() >= _MIN_MARKED_WIDTH
        if segment.planned:
            painter.fillRect(rect, _BACKGROUND)  # covers the labels of a generated clip it lies over
            painter.fillRect(rect, _PLANNED_FILL)
            painter.setPen(_PLANNED_PEN)
        else:
            painter.fillRect(rect, _FILL)
            painter.setPen(_BORDER)
        if marked:
            painter.drawRect(rect.adjusted(0.5, 0.5, -0.5, -0.5))
        if segment.cut and marked:
            painter.setPen(QPen(_TICK, 2))
            painter.drawLine(QPointF(rect.left(), 0), QPointF(rect.left(), self.height()))
