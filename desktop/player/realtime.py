"""Keeps an audio stream's callbacks to real time when its device does not.

A sound card calls back as its samples play. A dummy device (ALSA's null PCM, what a machine without a sound card
may offer) calls back as fast as it can, which would race the audio clock and fill memory when recording. Sleeping
in the callback while the stream is ahead of the wall clock leaves a real device untouched: it is never ahead.
"""

from __future__ import annotations

import time


class RealTimePacer:
    def __init__(self, sample_rate: int, slack_seconds: float = 0.25) -> None:
        self.sample_rate = sample_rate
        self.slack = slack_seconds
        self._samples = 0
        self._started: float | None = None

    def wait(self, frames: int) -> None:
        """Call once per callback with its frame count; returns when those samples are due."""
        now = time.monotonic()
        if self._started is None:
            self._started = now
        self._samples += frames
        ahead = self._samples / self.sample_rate - (now - self._started) - self.slack
        if ahead > 0:
            time.sleep(ahead)
