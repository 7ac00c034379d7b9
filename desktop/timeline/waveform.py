"""A waveform picture from sound peaks: one column per pixel, drawn with numpy rather than a path per paint."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QColor, QImage


def column_peaks(peaks: np.ndarray, buckets_per_second: float, first_second: float, seconds_per_pixel: float,
                 width: int) -> tuple[np.ndarray, np.ndarray]:
    """The lowest and highest sample under each of `width` pixel columns from `first_second` on; 0 past the end."""
    bounds = np.floor((first_second + np.arange(width + 1) * seconds_per_pixel) * buckets_per_second)
    bounds = np.clip(bounds, -1, len(peaks)).astype(np.int64)
    inside = (bounds[:-1] >= 0) & (bounds[:-1] < len(peaks))
    low, high = np.zeros(width, np.float32), np.zeros(width, np.float32)
    if inside.any():
        columns = np.flatnonzero(inside)
        edges = bounds[columns[0] : columns[-1] + 2]  # each inside column's first bucket, then where the last ends
        padded = np.concatenate([peaks, np.zeros((1, 2), np.float32)])  # so the end may be len(peaks)
        # a column narrower than a bucket (equal edges) gets that bucket alone: reduceat's rule for them
        low[inside] = np.minimum.reduceat(padded[:, 0], edges)[:-1]
        high[inside] = np.maximum.reduceat(padded[:, 1], edges)[:-1]
    return low, high


def waveform_image(low: np.ndarray, high: np.ndarray, height: int, color: QColor) -> QImage:
    """Columns filled from each low to high sample, sample 0 at mid height; transparent elsewhere."""
    middle = (height - 1) / 2
    top = np.floor(middle - np.clip(high, -1, 1) * middle).astype(np.int32)
    bottom = np.ceil(middle - np.clip(low, -1, 1) * middle).astype(np.int32)
    rows = np.arange(height, dtype=np.int32)[:, None]
    filled = (rows >= top) & (rows <= bottom)
    pixels = np.zeros((height, len(low), 4), np.uint8)
    pixels[filled] = (color.red(), color.green(), color.blue(), color.alpha())
    return QImage(pixels.data, len(low), height, 4 * len(low), QImage.Format.Format_RGBA8888).copy()
