"""A title's picture (desktop.project.title): premultiplied RGBA at exactly the size asked for, transparent but for the
text block centred in it, drawn at that size so it is sharp at any frame size rather than enlarged from a small
bitmap.

Text is drawn by Qt (QPainter on a QImage, which Qt allows on any thread) so that the fonts are the ones the
inspector's font box lists and preview and export draw alike. Qt's fonts need a QGuiApplication: the studio has one;
`istar-studio --render`, which has no window, makes an offscreen one (`text_support`) before it renders.
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QGuiApplication, QImage, QPainter, QPainterPath, QPen

from desktop.media.errors import MediaReadError
from desktop.media.frames import FrameCache
from desktop.project.title import Title

Size = tuple[int, int]
BOX_PADDING = 0.3  # the box reaches this many ems beyond the text on each side
_drawing = threading.Lock()  # Qt's font engines are shared between threads: one title is laid out at a time


def text_support() -> None:
    """Make sure titles can be drawn: a QGuiApplication, offscreen (no display needed) when none exists. Call it on
    the main thread before rendering."""
    if QGuiApplication.instance() is None:
        QGuiApplication(["istar-studio", "-platform", "offscreen"])


def title_key(title: Title) -> str:
    """The frame cache's name for `title`'s picture: every property, so an edited title is drawn anew."""
    return "title:" + json.dumps(asdict(title), sort_keys=True)


def cached_title(cache: FrameCache, title: Title, size: Size) -> np.ndarray:
    """`title`'s picture at `size`, from `cache` when drawn before."""
    key = (title_key(title), 0, size)
    picture = cache.get(key)
    if picture is None:
        picture = render_title(title, size)
        cache.put(key, picture)
    return picture


def _font(title: Title, height: int) -> QFont:
    font = QFont(title.font)
    font.setPixelSize(max(1, round(title.size * height)))
    font.setBold(title.bold)
    font.setStyleStrategy(QFont.StyleStrategy.PreferAntialias)
    return font


def text_block(title: Title, size: Size) -> tuple[float, float]:
    """The width and height of `title`'s text block (with its box or outline) as fractions of a `size` picture's
    width and height: what the monitor outlines for the clip."""
    _need_fonts()
    with _drawing:
        font = _font(title, size[1])
        metrics = QFontMetricsF(font)
        lines = title.text.splitlines() or [""]
        width = max(metrics.horizontalAdvance(line) for line in lines)
        height = metrics.lineSpacing() * (len(lines) - 1) + metrics.ascent() + metrics.descent()
    pad = (BOX_PADDING * font.pixelSize(), BOX_PADDING * font.pixelSize() / 2) if title.box else (0.0, 0.0)
    margin = title.outline_width * size[1]
    return (min(1.0, (width + 2 * max(pad[0], margin)) / size[0]),
            min(1.0, (height + 2 * max(pad[1], margin)) / size[1]))


def _need_fonts() -> None:
    if not isinstance(QGuiApplication.instance(), QGuiApplication):
        raise MediaReadError("a title needs Qt's fonts, which need a QGuiApplication (desktop.media.titles."
                             "text_support makes one)")


def render_title(title: Title, size: Size) -> np.ndarray:
    """uint8 RGBA [height, width, 4], colour premultiplied by alpha: `title` drawn into a `size` picture whose height
    stands for the frame's (so the text's size is `title.size` of it). Lines are aligned within the block as
    `title.align` says; the block's centre is the picture's."""
    _need_fonts()
    width, height = size
    image = QImage(width, height, QImage.Format.Format_RGBA8888_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    with _drawing:
        font = _font(title, height)
        metrics = QFontMetricsF(font)
        lines = title.text.splitlines() or [""]
        widths = [metrics.horizontalAdvance(line) for line in lines]
        block_w, line_h = max(widths), metrics.lineSpacing()
        block_h = line_h * (len(lines) - 1) + metrics.ascent() + metrics.descent()
        left, top = (width - block_w) / 2, (height - block_h) / 2
        path = QPainterPath()
        for index, (line, line_w) in enumerate(zip(lines, widths, strict=True)):
            x = {"left": left, "center": left + (block_w - line_w) / 2, "right": left + block_w - line_w}[title.align]
            path.addText(QPointF(x, top + metrics.ascent() + index * line_h), font, line)
        painter = QPainter(image)
        try:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            if title.box:
                pad = BOX_PADDING * font.pixelSize()
                box = QColor(title.box_colour)
                box.setAlphaF(title.box_opacity)
                painter.fillRect(QRectF(left - pad, top - pad / 2, block_w + 2 * pad, block_h + pad), box)
            outline = title.outline_width * height
            if outline > 0:
                # stroked under the fill, at twice the width: half of it shows outside the letters
                pen = QPen(QColor(title.outline_colour), 2 * outline, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                           Qt.PenJoinStyle.RoundJoin)
                painter.strokePath(path, pen)
            painter.fillPath(path, QBrush(QColor(title.colour)))
        finally:
            painter.end()
    data = np.frombuffer(image.constBits(), np.uint8, count=image.sizeInBytes())
    return data.reshape(height, image.bytesPerLine())[:, : width * 4].reshape(height, width, 4).copy()
