"""How timeline frames map to pixels: the zoom, and the spacing of the ruler's ticks at that zoom."""

from __future__ import annotations

import math
from dataclasses import dataclass

MIN_PIXELS_PER_FRAME = 0.02
MAX_PIXELS_PER_FRAME = 48.0
ZOOM_STEP = 1.25
MIN_LABEL_SPACING = 90  # pixels between two labelled ticks, room for "0:00:00"

_SECOND_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600)


@dataclass
class TimeScale:
    fps: int
    pixels_per_frame: float = 4.0

    def x(self, frame: float) -> float:
        return frame * self.pixels_per_frame

    def frame_at(self, x: float) -> int:
        """The frame whose span holds x."""
        return math.floor(x / self.pixels_per_frame)

    def nearest_frame(self, x: float) -> int:
        """The frame boundary nearest to x (where a cut or the playhead lands)."""
        return round(x / self.pixels_per_frame)

    def zoom(self, factor: float) -> None:
        self.pixels_per_frame = min(MAX_PIXELS_PER_FRAME, max(MIN_PIXELS_PER_FRAME, self.pixels_per_frame * factor))

    def label_step(self) -> int:
        """Frames between labelled ticks: whole frames while zoomed in, else a round number of seconds."""
        for frames in (1, 2, 5, 10):
            if frames < self.fps and frames * self.pixels_per_frame >= MIN_LABEL_SPACING:
                return frames
        for seconds in _SECOND_STEPS:
            if seconds * self.fps * self.pixels_per_frame >= MIN_LABEL_SPACING:
                return seconds * self.fps
        return _SECOND_STEPS[-1] * self.fps

    def timecode(self, frame: int) -> str:
        """m:ss, with the frame (m:ss:ff) where the ruler labels single frames."""
        seconds, frames = divmod(frame, self.fps)
        text = f"{seconds // 60}:{seconds % 60:02d}"
        return f"{text}:{frames:02d}" if self.label_step() < self.fps else text
