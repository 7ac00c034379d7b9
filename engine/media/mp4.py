"""H.264 MP4 files written atomically as frames arrive, with a provenance dict in the container's comment tag."""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import numpy as np

from engine.api.json_text import loads_limited
from engine.atomic import atomic_writer
from engine.media.errors import MediaError

PROVENANCE_TAG = "comment"
DEFAULT_CRF = 18  # visually lossless for most content; the timeline export chooses its own quality


@functools.cache
def _cpu_has_avx512() -> bool:
    try:
        from numpy._core._multiarray_umath import __cpu_features__
    except ImportError:  # numpy 1.x
        from numpy.core._multiarray_umath import __cpu_features__
    return bool(__cpu_features__.get("AVX512F"))


def h264_options(**options: str) -> dict[str, str]:
    """libx264 `options`, and on a CPU with AVX-512 x264 held to its AVX2 code (which every such CPU has): its
    AVX-512 code encoded the same frames to different pictures from run to run (seen on an AMD EPYC with PyAV
    18), so one command and seed did not make one video. The AVX2 code encodes as fast there."""
    return {**options, "x264-params": "asm=AVX2"} if _cpu_has_avx512() else dict(options)


def _even(frames: np.ndarray) -> np.ndarray:
    """yuv420p needs even sides: an odd side is extended by repeating its last row or column."""
    pad_h, pad_w = frames.shape[1] % 2, frames.shape[2] % 2
    if not (pad_h or pad_w):
        return frames
    return np.pad(frames, ((0, 0), (0, pad_h), (0, pad_w), (0, 0)), mode="edge")


class Mp4Stream:
    """The open video stream of `mp4_writer`: append frames clip by clip."""

    def __init__(self, container: av.container.OutputContainer, path: Path, fps: int, crf: int) -> None:
        self.path = path
        self.frames = 0
        self._container = container
        self._stream = container.add_stream("libx264", rate=fps, options=h264_options(crf=str(crf)))
        self._stream.pix_fmt = "yuv420p"
        self._size: tuple[int, int] | None = None

    def write(self, frames: np.ndarray) -> None:
        """Append uint8 RGB frames [T, H, W, 3]; the first call fixes the size (odd sides padded to even)."""
        if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
            raise MediaError(f"{self.path}: frames must be uint8 [T, H, W, 3], got {frames.dtype} {list(frames.shape)}")
        frames = _even(frames)
        size = frames.shape[1:3]
        if self._size is None:
            self._size = size
            self._stream.height, self._stream.width = size
        elif size != self._size:
            (h, w), (h0, w0) = size, self._size
            raise MediaError(f"{self.path}: frames of {w}x{h} follow frames of {w0}x{h0}")
        for image in frames:
            self._mux(av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24"))
        self.frames += len(frames)

    def _mux(self, frame: av.VideoFrame | None) -> None:
        for packet in self._stream.encode(frame):
            self._container.mux(packet)

    def finish(self) -> None:
        if self.frames == 0:
            raise MediaError(f"{self.path}: no frames were written")
        self._mux(None)


@contextlib.contextmanager
def mp4_writer(
    path: str | Path, fps: int, metadata: dict[str, Any] | None = None, crf: int = DEFAULT_CRF
) -> Iterator[Mp4Stream]:
    """An H.264 (yuv420p) MP4 at `path` that appears only when the block ends without an error; an error
    leaves whatever `path` held before. `metadata` (JSON-serialisable) goes in the comment tag."""
    path = Path(path)
    with atomic_writer(path) as f, av.open(f, mode="w", format="mp4") as container:
        if metadata is not None:
            container.metadata[PROVENANCE_TAG] = json.dumps(metadata, sort_keys=True)
        stream = Mp4Stream(container, path, fps, crf)
        yield stream
        stream.finish()


def read_metadata(path: str | Path) -> Any:
    """The metadata `mp4_writer` stored in `path` (parsed JSON: engine.api.records.read_provenance reads it)."""
    try:
        with av.open(str(path)) as container:
            text = container.metadata.get(PROVENANCE_TAG)
    except (av.error.FFmpegError, OSError) as err:
        raise MediaError(f"{path} is not a readable video: {err}") from None
    if text is None:
        raise MediaError(f"{path} carries no provenance (no {PROVENANCE_TAG!r} tag)")
    try:
        return loads_limited(text, "its provenance")
    except json.JSONDecodeError:
        raise MediaError(f"{path}: its {PROVENANCE_TAG!r} tag is not JSON") from None


def read_frames(path: str | Path, limit: int | None = None) -> tuple[np.ndarray, float]:
    """Every frame (or the first `limit`) of `path`'s first video stream as uint8 RGB [T, H, W, 3], and its frame
    rate."""
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise MediaError(f"{path} has no video stream")
            stream = container.streams.video[0]
            fps = float(stream.average_rate or stream.guessed_rate or 0)
            frames = []
            for frame in container.decode(stream):
                if limit is not None and len(frames) >= limit:
                    break
                frames.append(frame.to_ndarray(format="rgb24"))
    except (av.error.FFmpegError, OSError) as err:
        raise MediaError(f"{path} is not a readable video: {err}") from None
    if not frames:
        raise MediaError(f"{path} holds no frames")
    return np.stack(frames), fps
