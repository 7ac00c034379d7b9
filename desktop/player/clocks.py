"""Where playback is, as a timeline frame: from the sound heard (SoundOutput) or, without sound, the wall clock."""

from __future__ import annotations

import time
from typing import Protocol


class PlaybackClock(Protocol):
    def position(self) -> float: ...

    def stop(self) -> None: ...


class WallClock:
    """For playing without sound: at any rate (J/K/L shuttle), or at 1x when there is no output device."""

    def __init__(self, frame: int, rate: float, fps: int) -> None:
        self._frame, self._rate, self._fps = frame, rate, fps
        self._started = time.monotonic()

    def position(self) -> float:
        return self._frame + (time.monotonic() - self._started) * self._rate * self._fps

    def stop(self) -> None:
        pass
