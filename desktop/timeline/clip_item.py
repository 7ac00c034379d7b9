"""A clip on the timeline: a rectangle naming its media, with a filmstrip (pictures) or a waveform (sound).

Painting is the hot path (every scroll and every playhead step repaints what is under it): it draws only the
exposed part, from pixmaps that are ready, and never lays anything out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen, QPolygonF, QStaticText
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from desktop.project.model import Clip, MediaItem, Project, Track
from desktop.project.transitions import fades
from desktop.timecode import speed_text
from desktop.timeline.layout import LABEL_HEIGHT, track_height
from desktop.timeline.previews import WAVEFORM_TILE, MediaPreviews
from desktop.timeline.scale import TimeScale

_BODY = {"video": QColor(48, 84, 128), "audio": QColor(44, 104, 72)}
_WAVE = QColor(150, 230, 170)
_BORDER = QPen(QColor(20, 20, 22), 1)
_SELECTED = QPen(QColor(255, 200, 60), 2)
_REFUSED = QColor(200, 60, 60)
_LOCKED_SHADE = QColor(0, 0, 0, 90)
_TEXT = QColor(235, 235, 238)
_MIN_DETAIL_WIDTH = 20  # narrower clips are a plain block: their pictures would hardly be seen
_MIN_LABEL_WIDTH = 28
_FADE_SHADE = QColor(0, 0, 0, 120)
_FADE_LINE = QPen(QColor(240, 240, 240), 1)
_VOLUME = QColor(250, 200, 90)  # the volume keys' line
VOLUME_GRIP = 5  # pixels around a volume key's dot where a press takes hold of it
_FADE_HANDLE = QColor(240, 240, 240)
FADE_HANDLE_SIZE = 7  # the square at the top of a fade's ramp (at a clip's top corner while it has none)


@dataclass
class ClipLook:
    """What every clip item paints with, shared so a zoom or a new picture reaches all of them at once."""

    scale: TimeScale
    previews: MediaPreviews
    font: QFont = field(default_factory=lambda: QFont("Sans", 8))
    _labels: dict[tuple[str, int], QStaticText] = field(default_factory=dict)

    def label(self, text: str, width: int) -> QStaticText:
        key = (text, width)
        label = self._labels.get(key)
        if label is None:
            if len(self._labels) > 5000:
                self._labels.clear()
            elided = QFontMetrics(self.font).elidedText(text, Qt.TextElideMode.ElideRight, width)
            label = self._labels[key] = QStaticText(elided)
            label.prepare(font=self.font)
        return label


class ClipItem(QGraphicsItem):
    def __init__(self, look: ClipLook) -> None:
        super().__init__()
        self.look = look
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption)
        self.refused = False  # a drag would put it where it cannot go
        self.live = False  # a running generation's clip, only shown: not the project's, so not edited
        self._rect = QRectF()

    def show_clip(self, project: Project, track: Track, clip: Clip, top: float,
                  live_media: MediaItem | None = None) -> None:
        """Take the clip's place and looks from the project (after an edit, a zoom, a track change); `live_media`:
        the media of a live clip, which is not in the project (desktop.project.live)."""
        self.clip_id = clip.id
        self.track_id = track.id
        self.kind = track.kind
        self.live = live_media is not None
        self.media: MediaItem = live_media if live_media is not None else project.media_of(clip)
        self.start, self.length, self.source_in, self.speed = clip.start, clip.length, clip.source_in, clip.speed
        self.fade_in, self.fade_out = fades(clip)
        self.source_frames = project.source_frames(self.media)
        self.locked, self.muted = track.locked, track.muted
        self._body = _BODY[self.kind].darker(170) if self.muted else _BODY[self.kind]
        self.set_refused(False)
        notes = [speed_text(clip.speed)] if clip.speed != 1 else []
        notes += ["reversed"] if clip.reverse else []
        self.name = self.media.name + (f" ({', '.join(notes)})" if notes else "")
        self.reverse = clip.reverse
        self.volume = clip.volume
        self.link = clip.link
        self.has_sound = self.media.kind == "audio" or self.media.has_audio
        self.setToolTip(f"{self.name}\n{project.seconds(clip.length):.2f} s")
        self.show_span(clip.start, clip.length, clip.source_in, top)

    def set_refused(self, refused: bool) -> None:
        """Show that the drag in progress would put it where it cannot go."""
        self.refused = refused
        self._fill = _REFUSED if refused else self._body
        self.update()

    def show_span(self, start: int, length: int, source_in: float, top: float) -> None:
        """Show it at `start` for `length` frames from `source_in` on the row at `top` (also while dragging)."""
        scale = self.look.scale
        rect = QRectF(0, 0, max(1.0, scale.x(length)), track_height(self.kind))
        if rect != self._rect:
            self.prepareGeometryChange()
            self._rect = rect
            self._outline = rect.adjusted(0.5, 0.5, -0.5, -0.5)
            self._strip = QRectF(1, LABEL_HEIGHT, rect.width() - 2, rect.height() - LABEL_HEIGHT - 1)
        self._shown_source_in = source_in
        self.setPos(scale.x(start), top)
        self.update()

    def boundingRect(self) -> QRectF:
        return self._rect

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        rect, width = self._rect, self._rect.width()
        painter.fillRect(rect, self._fill)
        if width >= _MIN_DETAIL_WIDTH:
            strip = self._strip
            exposed = option.exposedRect.intersected(strip)
            if not exposed.isEmpty():
                painter.save()
                painter.setClipRect(exposed)
                if self.kind == "audio":
                    if self.reverse:  # a waveform read backwards is its mirror image
                        painter.translate(width, 0)
                        painter.scale(-1, 1)
                        exposed = QRectF(width - exposed.right(), exposed.top(), exposed.width(), exposed.height())
                    self._paint_waveform(painter, strip, exposed)
                else:
                    self._paint_filmstrip(painter, strip, exposed)
                painter.restore()
        self._paint_fade_ramps(painter, rect)
        if self.volume and width >= _MIN_DETAIL_WIDTH:
            self._paint_volume(painter)
        if width >= _MIN_LABEL_WIDTH:
            painter.setFont(self.look.font)
            painter.setPen(_TEXT)
            painter.drawStaticText(QPointF(4, 1), self.look.label(self.name, int(width) - 8))
        self._paint_fade_handles(painter, rect)
        if self.locked:
            painter.fillRect(rect, _LOCKED_SHADE)
        painter.setPen(_SELECTED if self.isSelected() else _BORDER)
        painter.drawRect(self._outline)

    def show_fades(self, fade_in: int, fade_out: int) -> None:
        """Show fades of these lengths (while a fade handle is dragged)."""
        self.fade_in, self.fade_out = fade_in, fade_out
        self.update()

    def fade_handle_x(self, edge: str) -> float:
        """Where the handle of the fade at `edge` ("in" or "out") is, in the item's x."""
        width = self._rect.width()
        if edge == "in":
            return min(width, self.look.scale.x(self.fade_in))
        return max(0.0, width - self.look.scale.x(self.fade_out))

    def show_volume(self, keys: tuple[tuple[int, float], ...]) -> None:
        """Show these volume keys (while one is dragged)."""
        self.volume = keys
        self.update()

    def volume_key_at(self, x: float, y: float) -> int | None:
        """The index of the volume key drawn within VOLUME_GRIP of item point (x, y), or None."""
        for index, point in enumerate(self._volume_points()):
            if abs(point.x() - x) <= VOLUME_GRIP and abs(point.y() - y) <= VOLUME_GRIP:
                return index
        return None

    def level_at_y(self, y: float) -> float:
        """The level the volume line shows at item height `y`: 0 at the strip's bottom, 2 at its top."""
        strip = self._strip
        return min(max((strip.bottom() - y) / strip.height() * 2.0, 0.0), 2.0)

    def _volume_points(self) -> list[QPointF]:
        strip, scale = self._strip, self.look.scale
        return [QPointF(scale.x(frame), strip.bottom() - min(level, 2.0) / 2.0 * strip.height())
                for frame, level in self.volume]

    def _paint_volume(self, painter: QPainter) -> None:
        """The volume keys as a line over the strip, from the bottom (silence) to the top (twice the level), flat
        before the first key and after the last, each key a dot."""
        strip, points = self._strip, self._volume_points()
        line = [QPointF(strip.left(), points[0].y()), *points, QPointF(strip.right(), points[-1].y())]
        painter.setPen(_VOLUME)
        painter.drawPolyline(QPolygonF(line))
        painter.setBrush(_VOLUME)
        for point in points:
            painter.drawEllipse(point, 2.5, 2.5)
        painter.setBrush(Qt.BrushStyle.NoBrush)

    def _paint_fade_ramps(self, painter: QPainter, rect: QRectF) -> None:
        """Each fade as a shaded ramp from the clip's bottom corner to its handle on the top edge."""
        bottom = rect.height()
        for edge, frames in (("in", self.fade_in), ("out", self.fade_out)):
            if frames:
                corner = 0.0 if edge == "in" else rect.width()
                handle = self.fade_handle_x(edge)
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(_FADE_SHADE)
                painter.drawPolygon(QPolygonF([QPointF(corner, 0), QPointF(handle, 0), QPointF(corner, bottom)]))
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.setPen(_FADE_LINE)
                painter.drawLine(QPointF(corner, bottom), QPointF(handle, 0))

    def _paint_fade_handles(self, painter: QPainter, rect: QRectF) -> None:
        """The handle of each fade on the top edge; a selected clip shows them without fades too, at its top
        corners, where a drag adds one."""
        if rect.width() < 3 * FADE_HANDLE_SIZE or self.locked:
            return
        half = FADE_HANDLE_SIZE / 2
        for edge, frames in (("in", self.fade_in), ("out", self.fade_out)):
            if frames or self.isSelected():
                x = min(max(self.fade_handle_x(edge), half), rect.width() - half)
                painter.fillRect(QRectF(x - half, 1, FADE_HANDLE_SIZE, FADE_HANDLE_SIZE), _FADE_HANDLE)

    def _source_x(self) -> float:
        """Where the clip's left edge falls in the media, in pixels at this zoom and the clip's speed (the media is
        drawn stretched by 1 / speed, as it plays)."""
        return self.look.scale.x(self._shown_source_in) / self.speed

    def _paint_filmstrip(self, painter: QPainter, strip: QRectF, exposed: QRectF) -> None:
        media, scale = self.media, self.look.scale
        height = int(strip.height())
        aspect = media.width / media.height if media.width and media.height else 16 / 9
        slot = max(8, round(height * aspect))
        source_x, width = self._source_x(), self._rect.width()
        # media pixel m (source_x + x forwards) shows at clip x, or at width - (m - source_x) for a reversed clip,
        # whose slots are laid from its right edge (the pictures themselves not mirrored)
        seen = (width - exposed.right(), width - exposed.left()) if self.reverse else (exposed.left(), exposed.right())
        last_frame = (self.source_frames or 1) - 1
        for k in range(math.floor((source_x + seen[0]) / slot), math.floor((source_x + seen[1]) / slot) + 1):
            frame = 0 if self.source_frames is None else min(last_frame, math.floor(k * slot * self.speed
                                                                                    / scale.pixels_per_frame))
            pixmap = self.look.previews.thumbnail(media, frame / scale.fps, height)
            if pixmap is not None:
                x = width - (k + 1) * slot + source_x if self.reverse else k * slot - source_x
                painter.drawPixmap(QPointF(x, strip.top()), pixmap)

    def _paint_waveform(self, painter: QPainter, strip: QRectF, exposed: QRectF) -> None:
        scale = self.look.scale
        pixels_per_second = scale.pixels_per_frame * scale.fps / self.speed
        source_x = self._source_x()
        for index in range(math.floor((source_x + exposed.left()) / WAVEFORM_TILE),
                           math.floor((source_x + exposed.right()) / WAVEFORM_TILE) + 1):
            tile = self.look.previews.waveform_tile(self.media, pixels_per_second, int(strip.height()), index, _WAVE)
            if tile is not None:
                painter.drawPixmap(QPointF(index * WAVEFORM_TILE - source_x, strip.top()), tile)
