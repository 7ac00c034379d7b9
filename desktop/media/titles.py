"""A title's picture (desktop.project.title): premultiplied RGBA at exactly the size asked for, transparent but for the
text block centred in it, drawn at that size so it is sharp at any frame size rather than enlarged from a small
bitmap. Lines wrap at the title's wrap width, a share of the picture's width.

Text is drawn by Qt (QPainter on a QImage, which Qt allows on any thread) so that the fonts are the ones the
inspector's font box lists and preview and export draw alike. Qt's fonts need a QGuiApplication: the studio has one;
`istar-studio --render`, which has no window, makes an offscreen one (`text_support`) before it renders.
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetricsF,
    QGuiApplication,
    QImage,
    QPainter,
    QPainterPath,
    QPen,
    QTextLayout,
    QTextOption,
)

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


def _wrapped(text: str, font: QFont, width: float) -> list[str]:
    """The lines `text` is drawn in: each of its own lines broken between words, or inside a word wider than `width`
    alone, so that none is wider than `width` pixels."""
    option = QTextOption()
    option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
    lines = []
    for paragraph in text.splitlines() or [""]:
        layout = QTextLayout(paragraph, font)
        layout.setTextOption(option)
        layout.beginLayout()
        while (line := layout.createLine()).isValid():
            line.setLineWidth(width)
            lines.append(paragraph[line.textStart(): line.textStart() + line.textLength()].rstrip())
        layout.endLayout()
    return lines or [""]


@dataclass(frozen=True)
class _Block:
    """A title's text laid out for one picture size, in pixels: its lines and their widths, the block's width and
    height, and the distance between two lines' baselines."""

    font: QFont
    ascent: float
    lines: list[str]
    widths: list[float]
    width: float
    height: float
    line_height: float


def _block(title: Title, size: Size) -> _Block:
    """`title` laid out in a `size` picture; call it holding `_drawing`."""
    font = _font(title, size[1])
    metrics = QFontMetricsF(font)
    lines = _wrapped(title.text, font, title.wrap_width * size[0])
    widths = [metrics.horizontalAdvance(line) for line in lines]
    line_height = metrics.lineSpacing()
    return _Block(font, metrics.ascent(), lines, widths, max(widths),
                  line_height * (len(lines) - 1) + metrics.ascent() + metrics.descent(), line_height)


def text_block(title: Title, size: Size) -> tuple[float, float]:
    """The width and height of `title`'s text block (with its box or outline) as fractions of a `size` picture's
    width and height: what the monitor outlines for the clip."""
    _need_fonts()
    with _drawing:
        block = _block(title, size)
    pad = (BOX_PADDING * block.font.pixelSize(), BOX_PADDING * block.font.pixelSize() / 2) if title.box else (0, 0)
    margin = title.outline_width * size[1]
    return (min(1.0, (block.width + 2 * max(pad[0], margin)) / size[0]),
            min(1.0, (block.height + 2 * max(pad[1], margin)) / size[1]))


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
        block = _block(title, size)
        font, block_w, block_h = block.font, block.width, block.height
        left, top = (width - block_w) / 2, (height - block_h) / 2
        path = QPainterPath()
        for index, (line, line_w) in enumerate(zip(block.lines, block.widths, strict=True)):
            x = {"left": left, "center": left + (block_w - line_w) / 2, "right": left + block_w - line_w}[title.align]
            path.addText(QPointF(x, top + block.ascent + index * block.line_height), font, line)
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
