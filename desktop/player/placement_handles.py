"""Handles on the monitor for the selected clip's placement: its outline over the picture, dragged inside to move the
clip, by a corner to scale it about its centre, and by the round handle above its top edge to turn it about its
centre (in steps of SNAP_DEGREES while Shift is held). The round handle sits inside the box instead where above it
would be off the monitor, as it is for a clip that fills the frame.

The outline shows while one visual clip of an unlocked track is selected and under the playhead. A drag is one undo
step (its edits share a merge key, desktop.project.commands.SetClipTransform); dragging a fitted, filled or
stretched clip makes it custom from where it shows. Elsewhere on the picture the mouse does what it did without
the handles: the events go on to the monitor.
"""

from __future__ import annotations

import math
from dataclasses import replace

from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPen, QPolygonF
from PySide6.QtWidgets import QWidget

from desktop.media.titles import text_block
from desktop.project.commands import SetClipTransform
from desktop.project.model import Clip, ProjectError
from desktop.project.transform import POSITION_RANGE, ROTATION_RANGE, SCALE_RANGE, Transform
from desktop.timeline.view import TimelineView

HANDLE = 8  # side of a corner handle, in screen pixels
GRAB = 10  # how near a corner a press takes that corner
ARM = 24  # how far the rotation handle is from the middle of the top edge, in screen pixels
SNAP_DEGREES = 15.0


def _shrunk(corners: list[tuple[float, float]], share: tuple[float, float]) -> list[tuple[float, float]]:
    """The corners (top left, top right, bottom right, bottom left) of the part of that box `share` of its width
    and height, centred in it."""
    (x0, y0), (x1, y1), _, (x3, y3) = corners
    across, down = ((x1 - x0) * share[0] / 2, (y1 - y0) * share[0] / 2), ((x3 - x0) * share[1] / 2,
                                                                        (y3 - y0) * share[1] / 2)
    cx, cy = sum(x for x, _ in corners) / 4, sum(y for _, y in corners) / 4
    return [(cx + sx * across[0] + sy * down[0], cy + sx * across[1] + sy * down[1])
            for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1))]


def _clamp(value: float, limits: tuple[float, float]) -> float:
    return min(max(value, limits[0]), limits[1])


def _turned(start: float, centre: QPointF, pressed: QPointF, at: QPointF, snap: bool) -> float:
    """The rotation after the mouse went from `pressed` to `at` around `centre`, from `start` (degrees clockwise as
    seen: screen y grows downwards); to a whole number of SNAP_DEGREES when `snap`. A turn past a half circle may come
    out 360 degrees from the way the mouse went round, which shows the same."""
    def angle(point: QPointF) -> float:
        return math.degrees(math.atan2(point.y() - centre.y(), point.x() - centre.x()))

    turn = (angle(at) - angle(pressed) + 180) % 360 - 180
    rotation = start + turn
    if snap:
        rotation = round(rotation / SNAP_DEGREES) * SNAP_DEGREES
    low, high = ROTATION_RANGE
    return rotation - 360 if rotation > high else rotation + 360 if rotation < low else rotation


class PlacementHandles(QWidget):
    """An overlay on `screen` (the monitor's picture widget), the same size, drawing the selected clip's outline."""

    def __init__(self, screen: QWidget, timeline: TimelineView) -> None:
        super().__init__(screen)
        self.screen_widget = screen
        self.timeline = timeline
        self.setMouseTracking(True)
        self.setGeometry(screen.rect())
        screen.installEventFilter(self)
        self._drag: tuple[str, Transform, QPointF, int] | None = None  # kind, transform at the press, where, key
        self._drags = 0
        timeline.selection_changed.connect(self.update)
        timeline.playhead_moved.connect(self.update)
        timeline.undo_stack.indexChanged.connect(self.update)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.screen_widget and event.type() == QEvent.Type.Resize:
            self.setGeometry(self.screen_widget.rect())
        return False

    # what is shown

    def selected(self) -> Clip | None:
        """The clip whose handles show, or None."""
        ids = self.timeline.selected_clip_ids()
        if len(ids) != 1:
            return None
        project = self.timeline.project
        try:
            track, clip = project.find_clip(ids[0])
        except ProjectError:
            return None  # a live clip: not the project's to place
        if track.locked or project.media_of(clip).kind == "audio":
            return None
        return clip if clip.start <= self.timeline.playhead < clip.end else None

    def _picture(self) -> QRectF:
        """Where the frame is painted in the screen: as large as fits, centred (as the monitor paints it)."""
        project = self.timeline.project
        image = getattr(self.screen_widget, "image", None)
        shape = image.size() if image is not None and not image.isNull() else QSize(project.width, project.height)
        size = shape.scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio)
        return QRectF((self.width() - size.width()) / 2, (self.height() - size.height()) / 2, size.width(),
                      size.height())

    def _source(self, clip: Clip) -> tuple[int, int]:
        project = self.timeline.project
        media = project.media_of(clip)
        return (media.width, media.height) if media.width and media.height else (project.width, project.height)

    def _outline(self, clip: Clip, transform: Transform | None = None) -> QPolygonF:
        project = self.timeline.project
        layout = (transform or clip.transform).layout(self._source(clip), (project.width, project.height))
        picture = self._picture()
        per_x, per_y = picture.width() / project.width, picture.height() / project.height
        corners = layout.corners()
        title = project.media_of(clip).title
        if title is not None:  # a title's picture is the frame: outline its text block, centred in it
            corners = _shrunk(corners, text_block(title, (project.width, project.height)))
        return QPolygonF([QPointF(picture.x() + x * per_x, picture.y() + y * per_y) for x, y in corners])

    def _rotation_handle(self, outline: QPolygonF) -> tuple[QPointF, QPointF]:
        """The middle of the outline's top edge, and the rotation handle ARM pixels from it: away from the box's
        centre, or towards it where that would be off the monitor."""
        top = (outline[0] + outline[1]) / 2
        away = top - (outline[0] + outline[1] + outline[2] + outline[3]) / 4
        length = math.hypot(away.x(), away.y())
        step = away * (ARM / length) if length > 0 else QPointF(0, -ARM)
        handle = top + step
        return top, handle if QRectF(self.rect()).contains(handle) else top - step

    def paintEvent(self, event: QPaintEvent) -> None:
        clip = self.selected()
        if clip is None or getattr(self.screen_widget, "error", ""):
            return
        outline = self._outline(clip)
        top, knob = self._rotation_handle(outline)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        for pen in (QPen(QColor(0, 0, 0, 160), 3), QPen(QColor(255, 255, 255), 1, Qt.PenStyle.DashLine)):
            painter.setPen(pen)
            painter.drawPolygon(outline)
            painter.drawLine(top, knob)
        painter.setPen(QPen(QColor(0, 0, 0), 1))
        painter.setBrush(QColor(255, 255, 255))
        for corner in outline:
            painter.drawRect(QRectF(corner.x() - HANDLE / 2, corner.y() - HANDLE / 2, HANDLE, HANDLE))
        painter.drawEllipse(knob, HANDLE / 2 + 1, HANDLE / 2 + 1)

    # dragging

    def _grab(self, clip: Clip, at: QPointF) -> str | None:
        outline = self._outline(clip)
        knob = self._rotation_handle(outline)[1]
        if math.dist((knob.x(), knob.y()), (at.x(), at.y())) <= GRAB:
            return "rotate"
        if any(math.dist((corner.x(), corner.y()), (at.x(), at.y())) <= GRAB for corner in outline):
            return "scale"
        return "move" if outline.containsPoint(at, Qt.FillRule.OddEvenFill) else None

    def mousePressEvent(self, event: QMouseEvent) -> None:
        clip = self.selected()
        kind = self._grab(clip, event.position()) if clip is not None else None
        if kind is None or event.button() != Qt.MouseButton.LeftButton:
            event.ignore()
            return
        project = self.timeline.project
        start = clip.transform.as_custom(self._source(clip), (project.width, project.height))
        self._drags += 1
        self._drag = (kind, start, event.position(), self._drags)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._drag is None:
            clip = self.selected()
            kind = self._grab(clip, event.position()) if clip is not None else None
            shapes = {"move": Qt.CursorShape.SizeAllCursor, "scale": Qt.CursorShape.SizeFDiagCursor,
                      "rotate": Qt.CursorShape.PointingHandCursor}
            self.setCursor(shapes.get(kind, Qt.CursorShape.ArrowCursor))
            event.ignore()
            return
        clip = self.selected()
        if clip is None:
            return
        kind, start, pressed, key = self._drag
        picture = self._picture()
        at = event.position()
        if kind == "move":
            moved = replace(start, x=_clamp(start.x + (at.x() - pressed.x()) / picture.width(), POSITION_RANGE),
                            y=_clamp(start.y + (at.y() - pressed.y()) / picture.height(), POSITION_RANGE))
            self._edit(clip, moved, "position", key)
            return
        centre = QPointF(picture.x() + start.x * picture.width(), picture.y() + start.y * picture.height())
        if kind == "rotate":
            snap = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
            self._edit(clip, replace(start, rotation=_turned(start.rotation, centre, pressed, at, snap)), "rotation",
                       key)
        else:
            before = math.dist((pressed.x(), pressed.y()), (centre.x(), centre.y()))
            now = math.dist((at.x(), at.y()), (centre.x(), centre.y()))
            if before > 0:
                self._edit(clip, replace(start, scale=_clamp(start.scale * now / before, SCALE_RANGE)), "scale", key)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._drag is None:
            event.ignore()
            return
        self._drag = None

    def _edit(self, clip: Clip, transform: Transform, what: str, key: int) -> None:
        if transform != clip.transform:
            self.timeline.edit(SetClipTransform(clip.id, transform, what, merge_key=("monitor", key)))
        self.update()

