"""Laying clips' pictures into one frame: each placed by its transform (desktop.project.transform) over the ones
below it, with its opacity and, for a still with transparency, its alpha.

A picture that is not turned is scaled whole to its size in the frame (a size the frame cache keeps, the same on
every frame of the clip) and copied in at whole pixels: an opaque one is one copy, with no arithmetic. A turned one,
or one so enlarged that its whole would far exceed the frame, is mapped by an affine warp onto just the part of the
frame it covers, from a copy first shrunk by area averaging when it gets smaller. A layer that covers the whole frame
opaquely hides everything below it, which is then neither decoded nor drawn.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from desktop.project.transform import Layout, Size, Transform

MAX_SCALED_AREA = 4  # a picture scaled whole may have up to this many times the frame's pixels; beyond, it is warped


@dataclass(frozen=True)
class Layer:
    """One clip's picture at one frame: `picture(size)` is the whole source scaled to `size` (RGB, or RGBA
    premultiplied), `source` its size as decoded."""

    source: Size
    transform: Transform
    picture: Callable[[Size], np.ndarray]


@dataclass(frozen=True)
class _Paste:
    """The picture asked for at `request` goes at `at` in the frame: whole when `crop` is None (it is then `size`
    already), else its `crop` box (left, top, right, bottom pixels) scaled to `size`."""

    request: Size
    crop: tuple[int, int, int, int] | None
    size: tuple[int, int]
    at: tuple[int, int]

    def part(self, picture: np.ndarray) -> np.ndarray:
        if self.crop is None:
            return picture
        left, top, right, bottom = self.crop
        kept = picture[top:bottom, left:right]
        if (kept.shape[1], kept.shape[0]) == self.size:
            return kept
        enlarging = self.size[0] > kept.shape[1] or self.size[1] > kept.shape[0]
        # on every frame, not cached: cubic, a quarter of Lanczos' time
        return cv2.resize(kept, self.size, interpolation=cv2.INTER_CUBIC if enlarging else cv2.INTER_AREA)

    def covers(self, frame: Size) -> bool:
        return self.at[0] <= 0 and self.at[1] <= 0 and self.at[0] + self.size[0] >= frame[0] and \
            self.at[1] + self.size[1] >= frame[1]


def _half_up(value: float) -> int:
    return math.floor(value + 0.5)


def _paste(layout: Layout, source: Size, frame: Size) -> _Paste | None:
    """How to draw `layout` by scaling and copying, or None where it must be warped. Uncropped, the picture is asked
    for at its size in the frame (what the cache keeps); cropped, at its own size, so that the filter scaling the
    kept part reads nothing of what was cropped off."""
    if layout.turned:
        return None
    width, height = layout.size
    size = (max(1, _half_up(width)), max(1, _half_up(height)))
    if size[0] * size[1] > MAX_SCALED_AREA * frame[0] * frame[1]:
        return None
    at = (_half_up(layout.centre[0] - size[0] / 2), _half_up(layout.centre[1] - size[1] / 2))
    left, top, right, bottom = (_half_up(side) for side in layout.crop)
    if (left, top, right, bottom) == (0, 0, *source):
        return _Paste(size, None, size, at)
    return _Paste(source, (left, top, max(left + 1, right), max(top + 1, bottom)), size, at)


def compose(layers: Sequence[Layer], frame: Size) -> np.ndarray:
    """uint8 RGB [height, width, 3]: `layers` (bottom first) over black."""
    planned = []
    for layer in layers:
        if layer.transform.opacity > 0:
            layout = layer.transform.layout(layer.source, frame)
            planned.append((layer, layout, _paste(layout, layer.source, frame)))
    base, pictures = 0, {}
    for index in range(len(planned) - 1, -1, -1):  # the topmost layer that hides all below it
        layer, _, paste = planned[index]
        if paste is not None and layer.transform.opacity >= 1 and paste.covers(frame):
            pictures[index] = layer.picture(paste.request)
            if pictures[index].shape[2] == 3:
                base = index
                break
    canvas = np.zeros((frame[1], frame[0], 3), np.uint8)
    for index in range(base, len(planned)):
        layer, layout, paste = planned[index]
        if paste is None:
            _warp(canvas, layer, layout)
        else:
            picture = pictures[index] if index in pictures else layer.picture(paste.request)
            _copy(canvas, paste.part(picture), paste, layer.transform.opacity)
    return canvas


def _copy(canvas: np.ndarray, picture: np.ndarray, paste: _Paste, opacity: float) -> None:
    """Put `picture` (of `paste.size`) at `paste.at`, the part of it inside the frame."""
    height, width = canvas.shape[:2]
    x0, y0 = max(0, paste.at[0]), max(0, paste.at[1])
    x1, y1 = min(width, paste.at[0] + paste.size[0]), min(height, paste.at[1] + paste.size[1])
    if x0 >= x1 or y0 >= y1:
        return
    sx, sy = x0 - paste.at[0], y0 - paste.at[1]
    part = picture[sy : sy + y1 - y0, sx : sx + x1 - x0]
    region = canvas[y0:y1, x0:x1]
    if part.shape[2] == 4:
        _over(region, part, opacity)
    elif opacity >= 1:
        region[:] = part
    else:
        region[:] = cv2.addWeighted(part, opacity, region, 1 - opacity, 0)


def _over(region: np.ndarray, rgba: np.ndarray, opacity: float) -> None:
    """Lay premultiplied `rgba` over `region` in place, at `opacity`; only where its alpha is above 0 is touched."""
    left, top, width, height = cv2.boundingRect(np.ascontiguousarray(rgba[..., 3]))
    if width == 0 or height == 0:
        return
    rgba = rgba[top : top + height, left : left + width]
    region = region[top : top + height, left : left + width]
    alpha = rgba[..., 3]
    cover = cv2.merge([alpha, alpha, alpha])
    colour = rgba[..., :3]
    if opacity < 1:
        cover = cv2.convertScaleAbs(cover, alpha=opacity)
        colour = cv2.convertScaleAbs(colour, alpha=opacity)
    region[:] = cv2.add(np.ascontiguousarray(colour), cv2.multiply(region, cv2.bitwise_not(cover), scale=1 / 255))


def _warp(canvas: np.ndarray, layer: Layer, layout: Layout) -> None:
    """Map the layer onto the part of `canvas` it covers: from the picture shrunk to about its size in the frame
    when it gets smaller (so the warp's own filter never skips pixels), else at its own size."""
    height, width = canvas.shape[:2]
    xs, ys = zip(*layout.corners(), strict=True)
    x0, y0 = max(0, math.floor(min(xs))), max(0, math.floor(min(ys)))
    x1, y1 = min(width, math.ceil(max(xs))), min(height, math.ceil(max(ys)))
    if x0 >= x1 or y0 >= y1:
        return
    source = layer.source
    shrink_x, shrink_y = min(1.0, layout.scale_x), min(1.0, layout.scale_y)
    size = (max(1, round(source[0] * shrink_x)), max(1, round(source[1] * shrink_y)))
    picture = layer.picture(size)
    left, top, right, bottom = layout.crop
    fx, fy = size[0] / source[0], size[1] / source[1]
    px0, py0 = min(size[0] - 1, round(left * fx)), min(size[1] - 1, round(top * fy))
    px1, py1 = max(px0 + 1, round(right * fx)), max(py0 + 1, round(bottom * fy))
    part = picture[py0:py1, px0:px1]
    if part.shape[2] == 3:
        part = cv2.cvtColor(part, cv2.COLOR_RGB2RGBA)
    kept_w, kept_h = layout.size
    scale_x, scale_y = kept_w / part.shape[1], kept_h / part.shape[0]
    turn = math.radians(layout.rotation)
    linear = np.array([[math.cos(turn), -math.sin(turn)], [math.sin(turn), math.cos(turn)]]) @ np.diag(
        [scale_x, scale_y])
    # edges at whole numbers, pixel centres at halves: the part's centre goes to the layout's centre
    centre = np.array([part.shape[1] / 2, part.shape[0] / 2])
    shift = np.array(layout.centre) - linear @ centre + linear @ [0.5, 0.5] - [0.5, 0.5] - [x0, y0]
    matrix = np.hstack([linear, shift[:, None]])
    enlarging = scale_x > 1 or scale_y > 1
    warped = cv2.warpAffine(part, matrix, (x1 - x0, y1 - y0), flags=cv2.INTER_CUBIC if enlarging else
                            cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0, 0))
    _over(canvas[y0:y1, x0:x1], warped, layer.transform.opacity)
