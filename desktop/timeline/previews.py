"""What clips show of their media: filmstrip thumbnails and waveforms, loaded off the GUI thread and kept as
QPixmaps, so painting a clip only draws pictures that are ready (and asks for the missing ones)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QColor, QImage, QPixmap

from desktop.media import thumbs
from desktop.media.errors import MediaReadError
from desktop.project.model import MediaItem
from desktop.timeline.loader import BackgroundLoader
from desktop.timeline.waveform import column_peaks, waveform_image

PEAKS_PER_SECOND = 200
WAVEFORM_TILE = 256  # pixels; waveforms are drawn in tiles so a long clip at a close zoom never makes one huge image
MAX_PIXMAPS = 4000

ThumbnailSource = Callable[[MediaItem, float, int], np.ndarray]
PeaksSource = Callable[[MediaItem, float], np.ndarray]


def _rgb_image(rgb: np.ndarray) -> QImage:
    rgb = np.ascontiguousarray(rgb)
    height, width = rgb.shape[:2]
    return QImage(rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()


class MediaPreviews(QObject):
    """`changed` says new pictures are ready to paint. Sources are desktop.media.thumbs' functions unless given."""

    changed = Signal()

    def __init__(self, thumbnail: ThumbnailSource = thumbs.thumbnail, peaks: PeaksSource = thumbs.peaks,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thumbnail = thumbnail
        self._peaks_of = peaks
        self._pixmaps: OrderedDict[Hashable, QPixmap] = OrderedDict()
        self._peaks: dict[Hashable, np.ndarray] = {}
        self._failed: set[Hashable] = set()
        self._loader = BackgroundLoader(self._load, (MediaReadError,), name="timeline-previews")
        self._loader.loaded.connect(self._arrived)
        self._loader.failed.connect(self._missing)

    def thumbnail(self, media: MediaItem, time_s: float, height: int) -> QPixmap | None:
        """A picture `height` pixels high of `media` at `time_s`, or None until it has loaded (or if it cannot)."""
        key = ("thumb", media.id, media.path, round(time_s, 3), height)
        pixmap = self._cached(key)
        if pixmap is None and key not in self._failed:
            self._loader.request(key, "thumb", media, time_s, height)
        return pixmap

    def waveform_tile(self, media: MediaItem, pixels_per_second: float, height: int, index: int,
                      color: QColor) -> QPixmap | None:
        """Tile `index` (WAVEFORM_TILE pixels wide, from the media's start) of `media`'s waveform at this zoom."""
        key = ("wave", media.id, media.path, pixels_per_second, height, index, color.rgba())
        pixmap = self._cached(key)
        if pixmap is None:
            peaks = self._peaks_for(media)
            if peaks is None:
                return None
            low, high = column_peaks(peaks, PEAKS_PER_SECOND, index * WAVEFORM_TILE / pixels_per_second,
                                     1 / pixels_per_second, WAVEFORM_TILE)
            pixmap = QPixmap.fromImage(waveform_image(low, high, height, color))
            self._keep(key, pixmap)
        return pixmap

    def close(self) -> None:
        self._loader.close()

    def _peaks_for(self, media: MediaItem) -> np.ndarray | None:
        key = ("peaks", media.id, media.path)
        peaks = self._peaks.get(key)
        if peaks is None and key not in self._failed:
            self._loader.request(key, "peaks", media)
        return peaks

    def _load(self, kind: str, media: MediaItem, *args: float) -> QImage | np.ndarray:
        if kind == "peaks":
            return self._peaks_of(media, PEAKS_PER_SECOND)
        time_s, height = args
        return _rgb_image(self._thumbnail(media, time_s, int(height)))

    def _cached(self, key: Hashable) -> QPixmap | None:
        pixmap = self._pixmaps.get(key)
        if pixmap is not None:
            self._pixmaps.move_to_end(key)
        return pixmap

    def _keep(self, key: Hashable, pixmap: QPixmap) -> None:
        self._pixmaps[key] = pixmap
        while len(self._pixmaps) > MAX_PIXMAPS:
            self._pixmaps.popitem(last=False)

    def _arrived(self, key: Hashable, value: QImage | np.ndarray) -> None:
        if isinstance(value, QImage):
            self._keep(key, QPixmap.fromImage(value))
        else:
            self._peaks[key] = value
        self.changed.emit()

    def _missing(self, key: Hashable, _message: str) -> None:
        self._failed.add(key)
