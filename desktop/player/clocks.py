"""Where playback is, as a timeline frame: from the sound heard (SoundOutput) or, without sound, the wall clock."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol


class PlaybackClock(Protocol):
    def position(self) -> float: ...

    def stop(self) -> None: ...


class WallClock:
    """For playing without sound: at any rate (J/K/L shuttle), or at 1x when there is no output device. `now` reads
    the time in seconds (a test gives a clock it moves itself)."""

    def __init__(self, frame: int, rate: float, fps: int, now: Callable[[], float] = time.monotonic) -> None:
        self._frame, self._rate, self._fps, self._now = frame, rate, fps, now
        self._started = now()

    def position(self) -> float:
        return self._frame + (self._now() - self._started) * self._rate * self._fps

    def stop(self) -> None:
        pass
