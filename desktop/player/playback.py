"""Play, pause, shuttle and seek: which timeline frame is due now, from the sound's clock at normal speed.

At 1x forward the sound plays and its clock is the master: each tick shows the frame being heard, skipping frames
the picture could not keep up with. Other speeds (J/L pressed more than once, or reverse) play without sound on the
wall clock, as does 1x when there is no output device.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from desktop.media import audio
from desktop.player.clocks import PlaybackClock, WallClock
from desktop.player.devices import NoAudioDevice
from desktop.player.shuttle import shuttle_rate
from desktop.player.sound_output import NO_OUTPUT_MESSAGE, Mix, SoundOutput
from desktop.project.live import LiveClips
from desktop.project.model import Project


class Playback(QObject):
    """`position_changed(frame)` for every frame to show, `playing_changed(playing)`, `message(text)` for the
    user (no output device, a file whose sound cannot be read). It plays to the end of the project, or of `live`'s
    clips where they go on after it. `now` is the wall clock it plays on without sound (a test moves its own)."""

    position_changed = Signal(int)
    playing_changed = Signal(bool)
    message = Signal(str)

    def __init__(self, project: Project, mix: Mix = audio.mix, parent: QObject | None = None,
                 live: LiveClips | None = None, now: Callable[[], float] = time.monotonic) -> None:
        super().__init__(parent)
        self.project = project
        self.live = live
        self._now = now
        self._sound = SoundOutput(project, mix)
        self._clock: PlaybackClock | None = None
        self._position = 0
        self._rate = 0.0
        self._reported = ""
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._tick)

    @property
    def position(self) -> int:
        return self._position

    @property
    def rate(self) -> float:
        """Playback speed in timeline frames per frame of real time; 0 when paused, negative in reverse."""
        return self._rate

    @property
    def is_playing(self) -> bool:
        return self._rate != 0

    @property
    def end(self) -> int:
        """The frame playing stops at: the end of the project, or of the live clips after it."""
        return max(self.project.duration, self.live.end if self.live is not None else 0)

    def play(self, rate: float = 1.0) -> None:
        """Play at `rate` from the current position (from the start when forward from the end)."""
        self._stop_clock()
        if rate > 0 and self._position >= self.end:
            self._set_position(0)
        was_playing, self._rate = self.is_playing, rate
        self._clock = self._start_clock(rate)
        self._timer.start(max(4, 500 // self.project.fps))  # two looks per frame, at the project's rate now
        if not was_playing:
            self.playing_changed.emit(True)

    def pause(self) -> None:
        self._stop_clock()
        self._timer.stop()
        if self.is_playing:
            self._rate = 0.0
            self.playing_changed.emit(False)

    def toggle(self) -> None:
        if self.is_playing:
            self.pause()
        else:
            self.play()

    def shuttle(self, key: str) -> None:
        """J, K or L: see desktop.player.shuttle."""
        rate = shuttle_rate(key, self._rate)
        if rate:
            self.play(rate)
        else:
            self.pause()

    def seek(self, frame: int) -> None:
        """Go to `frame` (playing on from there if playing); the frame playback itself is at is no seek."""
        if frame == self._position:
            return
        self._set_position(frame)
        if self.is_playing:
            self.play(self._rate)

    def close(self) -> None:
        self.pause()

    def _start_clock(self, rate: float) -> PlaybackClock:
        if rate == 1.0:
            try:
                self._sound.start(self._position)
            except NoAudioDevice:
                self._report(NO_OUTPUT_MESSAGE)
            else:
                self._report("")
                return self._sound
        return WallClock(self._position, rate, self.project.fps, self._now)

    def _stop_clock(self) -> None:
        if self._clock is not None:
            self._clock.stop()
            self._clock = None

    def _tick(self) -> None:
        if self._clock is None:
            return
        end = self.end
        frame = min(max(math.floor(self._clock.position()), 0), end)
        self._set_position(frame)
        if self._sound.problem:
            self._report(self._sound.problem)
        if (self._rate > 0 and frame >= end) or (self._rate < 0 and frame <= 0):
            self.pause()

    def _set_position(self, frame: int) -> None:
        if frame != self._position:
            self._position = frame
            self.position_changed.emit(frame)

    def _report(self, text: str) -> None:
        """Say `text` once (until something else is said); "" clears what was said."""
        if text != self._reported:
            self._reported = text
            self.message.emit(text)
