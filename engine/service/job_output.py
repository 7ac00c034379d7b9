"""The files a running job writes, growing clip by clip so nothing holds or rewrites the whole video.

For a job whose output is `out.mp4`: `out.mp4` (its video, with the provenance in the metadata) gets each clip's
frames as they are decoded and appears when the job ends, or, cancelled or failed, with the clips finished by then;
`out.bits` gets each clip's bits appended (after the clips a continuation ran again, marked as context), so it is
continuable from its last finished clip even if the engine dies. Each clip also gets `out.clips/clip_NN.mp4` with
its frames and `clip_NN.bits` with it and the clips before it that a continuation reads, so it can be played or
continued on its own before the job ends. A bridge holds back its last frames to fade them into the first frames of
the video it heads for.
"""

from __future__ import annotations

import contextlib
from collections import deque
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from engine.api.records import BitsHeader, GenerationRecord
from engine.media.layout import bits_path, clean_output_folder, clips_folder
from engine.media.mp4 import Mp4Stream, mp4_writer
from engine.pipeline.bits import BitsWriter, ClipBits, write_bits


def crossfade(frames: np.ndarray, target: np.ndarray) -> np.ndarray:
    """`frames` [n, H, W, 3] fading into `target` (the same shape): frame i is (i + 1) / (n + 1) target."""
    weights = (np.arange(1, len(frames) + 1, dtype=np.float32) / (len(frames) + 1))[:, None, None, None]
    mixed = frames.astype(np.float32) * (1 - weights) + target.astype(np.float32) * weights
    return np.clip(np.rint(mixed), 0, 255).astype(np.uint8)


class JobOutput:
    """Open with `with`: on a clean exit the video appears whole; on an exception it appears with the clips
    finished before it (or not at all when none was), and the exception goes on."""

    def __init__(
        self, output: Path, fps: int, record: GenerationRecord, header: BitsHeader,
        context: tuple[ClipBits, ...] = (), keep: int = 1, fade_into: np.ndarray | None = None,
    ) -> None:
        self.output = output
        self.fps = fps
        self.provenance = record.to_json()
        self.header = header
        self.fade_into = fade_into
        self.recent: deque[ClipBits] = deque((replace(c, context=True) for c in context), maxlen=keep)
        self.held: np.ndarray | None = None  # a bridge's last frames, not yet written
        self.clips = 0
        self._stack = contextlib.ExitStack()
        self._video: Mp4Stream | None = None
        self._bits: BitsWriter | None = None

    @property
    def bits(self) -> Path:
        return bits_path(self.output)

    def __enter__(self) -> JobOutput:
        clean_output_folder(self.output.parent)  # what jobs killed before left there, before this one adds its own
        self._bits = self._stack.enter_context(BitsWriter(self.bits, self.header))
        for clip in self.recent:
            self._bits.append(clip)
        self._video = self._stack.enter_context(mp4_writer(self.output, self.fps, self.provenance))
        return self

    def add(self, frames: np.ndarray, records: tuple[ClipBits, ...]) -> tuple[Path, Path]:
        """Append one decoded clip (its frames, and the bits of it and any clip before it that gave no frames); the
        paths of its own video and bits."""
        self._write(frames)
        for record in records:
            self._bits.append(record)
            self.recent.append(record)
        self.clips += 1
        folder = clips_folder(self.output)
        folder.mkdir(exist_ok=True)
        video = folder / f"clip_{records[-1].clip:02d}.mp4"
        with mp4_writer(video, self.fps, self.provenance) as stream:
            stream.write(frames)
        write_bits(bits_path(video), self.header, list(self.recent))
        return video, bits_path(video)

    def _write(self, frames: np.ndarray) -> None:
        if self.fade_into is None or not len(self.fade_into):
            self._video.write(frames)
            return
        held = frames if self.held is None else np.concatenate([self.held, frames])
        ready = len(held) - len(self.fade_into)
        if ready > 0:
            self._video.write(held[:ready])
        self.held = held[max(ready, 0) :]

    def _flush(self, fade: bool) -> None:
        held, self.held = self.held, None
        if held is not None and len(held):
            self._video.write(crossfade(held, self.fade_into[: len(held)]) if fade else held)

    def __exit__(self, kind: type[BaseException] | None, err: BaseException | None, tb: Any) -> bool:
        self._flush(fade=kind is None)
        if kind is None or self.clips:
            self._stack.close()  # after an error, what was finished is kept: the writers end as on a clean exit
        else:
            self._stack.__exit__(kind, err, tb)
            self.bits.unlink(missing_ok=True)  # no clip of this job's own was finished
        return False
