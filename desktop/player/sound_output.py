"""The timeline's sound played through the default output device, and the clock playback follows: how much of
it has been heard.

A feeder (a desktop.workers Worker) mixes the timeline ahead in chunks of whole frames (audio.mix starts at a
frame); the device's callback takes from them. When the mix falls behind, the callback plays silence and the clock
stands still, so the picture waits for the sound instead of the two drifting apart.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable

import numpy as np

from desktop.media import audio
from desktop.media.errors import MediaReadError
from desktop.player.devices import open_stream
from desktop.player.realtime import RealTimePacer
from desktop.project.model import Project
from desktop.workers import Worker

CHUNK_SECONDS = 0.1
CHUNKS_AHEAD = 4
NO_OUTPUT_MESSAGE = "No audio output device: playing without sound"

Mix = Callable[[Project, int, int], np.ndarray]


class SoundOutput:
    def __init__(self, project: Project, mix: Mix = audio.mix) -> None:
        self.project = project
        self._mix = mix
        self._stream = None
        self._feeder: Worker | None = None
        self._chunks: queue.Queue[np.ndarray] = queue.Queue(CHUNKS_AHEAD)
        self._lock = threading.Lock()
        self.problem: str | None = None  # why part of the sound is missing (a media file that cannot be read)

    def start(self, frame: int) -> None:
        """Play from timeline frame `frame`; raises NoAudioDevice when there is no output device."""
        self.stop()
        rate = self.project.sample_rate
        self._start_frame = frame
        self._current = np.zeros((0, 2), np.float32)
        self._heard_before_block = 0  # samples of the mix the device had been given before its latest block
        self._block_samples = 0
        self._block_time = time.monotonic()
        self.problem = None
        self._chunks = queue.Queue(CHUNKS_AHEAD)
        stream = open_stream("output", samplerate=rate, channels=2, dtype="float32", callback=self._fill)
        self._latency = stream.latency
        self._pacer = RealTimePacer(rate, slack_seconds=stream.latency + 0.05)
        self._feeder = Worker(self._feed, frame, name="sound-feeder", on_error=self._feeder_failed).start()
        stream.start()
        self._stream = stream

    def position(self) -> float:
        """The timeline frame being heard now (fractional), never before the start."""
        with self._lock:
            elapsed = (time.monotonic() - self._block_time) * self.project.sample_rate
            heard = self._heard_before_block + min(elapsed, self._block_samples)
        heard -= self._latency * self.project.sample_rate
        return self._start_frame + max(0.0, heard) * self.project.fps / self.project.sample_rate

    def stop(self) -> None:
        if self._stream is not None:
            self._stream.stop()
            self._stream.close()
            self._stream = None
        if self._feeder is not None:
            self._feeder.stop()
            self._feeder.join()
            self._feeder = None

    def _feed(self, stop: threading.Event, frame: int) -> None:
        """Mix chunk after chunk of whole frames from `frame` on, as fast as the callback takes them, until `stop`."""
        project = self.project
        frames = max(1, round(CHUNK_SECONDS * project.fps))
        while not stop.is_set():
            first, last = (round(f * project.sample_rate / project.fps) for f in (frame, frame + frames))
            try:
                chunk = self._mix(project, frame, last - first)
            except MediaReadError as error:
                chunk = np.zeros((last - first, 2), np.float32)  # silence here; playing goes on
                self.problem = str(error)
            frame += frames
            while not stop.is_set():
                try:
                    self._chunks.put(chunk, timeout=0.05)
                    break
                except queue.Full:
                    continue

    def _feeder_failed(self, error: Exception) -> None:
        """On the GUI thread: the mix broke (a bug, logged by the worker too); playback shows why it went quiet."""
        if self._feeder is not None and self._feeder.error is error:  # not a feeder stopped before
            self.problem = f"The sound stopped: {type(error).__name__}: {error}"

    def _fill(self, out: np.ndarray, frames: int, _time: object, _status: object) -> None:
        self._pacer.wait(frames)
        filled = 0
        while filled < frames:
            if not len(self._current):
                try:
                    self._current = self._chunks.get_nowait()
                except queue.Empty:
                    break
            take = min(frames - filled, len(self._current))
            out[filled : filled + take] = self._current[:take]
            self._current = self._current[take:]
            filled += take
        out[filled:] = 0
        with self._lock:
            self._heard_before_block += self._block_samples
            self._block_samples = filled
            self._block_time = time.monotonic()
