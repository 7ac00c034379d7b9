"""Voice-over: the default microphone recorded into a WAV file, and its level for a meter while it records.

The device's callback only copies each block into a queue and notes its level; a writer (a desktop.workers
Worker) writes the blocks to a temporary file beside the target, which replaces the target when the recording stops
(atomic: a crash leaves the old file or none, never half a WAV).
"""

from __future__ import annotations

import queue
import threading
import wave
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from desktop.player.devices import NoAudioDevice, open_stream
from desktop.player.realtime import RealTimePacer
from desktop.workers import Worker
from engine.atomic import atomic_writer

NO_INPUT_MESSAGE = "No microphone (audio input device): a voice-over cannot be recorded"
LEVEL_INTERVAL_MS = 33


class VoiceOverRecorder(QObject):
    """`level(rms, peak)` (0..1, of the sound since the last report) about 30 times a second while recording;
    `message(text)` when recording cannot start; `recording_changed(recording)`."""

    level = Signal(float, float)
    message = Signal(str)
    recording_changed = Signal(bool)

    def __init__(self, sample_rate: int = 48000, channels: int = 1, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.sample_rate, self.channels = sample_rate, channels
        self.path: Path | None = None
        self.frames_written = 0
        self._stream = None
        self._writer: Worker | None = None
        self._blocks: queue.Queue[np.ndarray | None] = queue.Queue()
        self._level_lock = threading.Lock()
        self._sum_squares, self._count, self._peak = 0.0, 0, 0.0
        self._meter = QTimer(self)
        self._meter.setInterval(LEVEL_INTERVAL_MS)
        self._meter.timeout.connect(self._report_level)

    @property
    def is_recording(self) -> bool:
        return self._stream is not None

    def start(self, path: Path) -> bool:
        """Record into `path` (a WAV, written when `stop` is called); False, with `message`, if there is no
        microphone."""
        if self.is_recording:
            return True
        try:
            stream = open_stream("input", samplerate=self.sample_rate, channels=self.channels, dtype="float32",
                                 callback=self._take)
        except NoAudioDevice:
            self.message.emit(NO_INPUT_MESSAGE)
            return False
        self.path, self.frames_written, self._write_error = Path(path), 0, ""
        self._pacer = RealTimePacer(self.sample_rate, slack_seconds=stream.latency + 0.05)
        blocks: queue.Queue[np.ndarray | None] = queue.Queue()
        self._blocks = blocks
        self._writer = Worker(self._write, self.path, name="voice-over-writer", wake=lambda: blocks.put(None)).start()
        stream.start()
        self._stream = stream
        self._meter.start()
        self.recording_changed.emit(True)
        return True

    def stop(self) -> Path | None:
        """Stop recording and finish the file; returns its path, or None if it was not recording or the file could
        not be written (then `message` says why)."""
        if self._stream is None:
            return None
        self._stream.stop()
        self._stream.close()
        self._stream = None
        self._meter.stop()
        self._writer.stop()  # the writer finishes the blocks queued before it
        self._writer.join()
        if self._writer.error is not None:  # a bug, logged by the worker
            self._write_error = f"The voice-over could not be written to {self.path}: {self._writer.error}"
        self._writer = None
        self.level.emit(0.0, 0.0)
        self.recording_changed.emit(False)
        if self._write_error:
            self.message.emit(self._write_error)
            return None
        return self.path

    @property
    def seconds(self) -> float:
        """How much has been written so far."""
        return self.frames_written / self.sample_rate

    def _take(self, indata: np.ndarray, frames: int, _time: object, _status: object) -> None:
        self._pacer.wait(frames)
        block = np.nan_to_num(indata, nan=0.0, posinf=1.0, neginf=-1.0)  # a copy; dummy devices may send garbage
        self._blocks.put(block)
        with self._level_lock:
            self._sum_squares += float(np.square(block, dtype=np.float64).sum())
            self._count += block.size
            self._peak = max(self._peak, float(np.abs(block).max(initial=0.0)))

    def _write(self, _stop: threading.Event, path: Path) -> None:
        """Until the None that `stop` queues after the last block (the stop event itself is not waited on)."""
        try:
            with atomic_writer(path) as file, wave.open(file, "wb") as wav:
                wav.setnchannels(self.channels)
                wav.setsampwidth(2)
                wav.setframerate(self.sample_rate)
                while (block := self._blocks.get()) is not None:
                    wav.writeframes((np.clip(block, -1, 1) * 32767).astype("<i2").tobytes())
                    self.frames_written += len(block)
        except OSError as error:
            self._write_error = f"The voice-over could not be written to {path}: {error.strerror or error}"
            while self._blocks.get() is not None:  # let the callback's blocks go until stop()
                pass

    def _report_level(self) -> None:
        with self._level_lock:
            count, sum_squares, peak = self._count, self._sum_squares, self._peak
            self._sum_squares, self._count, self._peak = 0.0, 0, 0.0
        if count:
            self.level.emit(float(np.sqrt(sum_squares / count)), peak)
