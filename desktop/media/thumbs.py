"""Filmstrip thumbnails and waveform peaks, kept on disk under studio_home()/cache so a reopened project draws
its timeline without decoding. An entry is keyed by the file's path, size and mtime, so a changed file is read
again; an entry that cannot be read back is made again, never an error."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np

from desktop.media.audio import decode_audio
from desktop.media.errors import MediaReadError
from desktop.media.frames import VideoDecoder, fit, scale_rgb
from desktop.project.model import MediaItem
from engine.atomic import write_bytes_atomic
from engine.home import studio_home
from engine.media.errors import MediaError
from engine.media.image import read_rgb


def thumbnail(media: MediaItem, time_s: float, height: int, cache_dir: Path | None = None) -> np.ndarray:
    """uint8 RGB [height, w, 3] of `media` at media time `time_s`, its aspect kept."""
    if media.kind == "audio":
        raise MediaReadError(f"{media.name} is audio: it has no pictures")
    entry = _entry(cache_dir, "thumbs", media, f"{time_s:.3f}s {height}px", ".png")
    return _cached(entry, PNG, lambda: _thumbnail(media, time_s, height))


def peaks(media: MediaItem, buckets_per_second: float, cache_dir: Path | None = None) -> np.ndarray:
    """float32 [n, 2]: the lowest and highest sample (over both channels) in each 1/buckets_per_second of the
    sound of `media`; empty [0, 2] when it has none."""
    if not (media.kind == "audio" or media.has_audio):
        return np.zeros((0, 2), np.float32)
    entry = _entry(cache_dir, "peaks", media, f"{buckets_per_second:g}/s", ".npy")
    return _cached(entry, NPY, lambda: _peaks(media, buckets_per_second))


def _thumbnail(media: MediaItem, time_s: float, height: int) -> np.ndarray:
    if media.kind == "image":
        try:
            image = read_rgb(media.path)
        except MediaError as err:
            raise MediaReadError(str(err)) from None
        return scale_rgb(image, fit(image.shape[1], image.shape[0], (image.shape[1] * height, height)))
    decoder = VideoDecoder(media.path)
    try:
        frame = decoder.frame_at(time_s)
        width, height = fit(frame.width, frame.height, (frame.width * height, height))
        return frame.to_ndarray(width=width, height=height, format="rgb24", interpolation="AREA")
    finally:
        decoder.close()


def _peaks(media: MediaItem, buckets_per_second: float) -> np.ndarray:
    sound, rate = decode_audio(media.path)
    if not len(sound):
        return np.zeros((0, 2), np.float32)
    per_bucket = rate / buckets_per_second
    edges = (np.arange(math.ceil(len(sound) / per_bucket)) * per_bucket).astype(np.int64)
    low = np.minimum.reduceat(sound.min(axis=1), edges)
    high = np.maximum.reduceat(sound.max(axis=1), edges)
    return np.stack([low, high], axis=1).astype(np.float32)


def _entry(cache_dir: Path | None, kind: str, media: MediaItem, detail: str, suffix: str) -> Path:
    try:
        stat = media.path.stat()
    except OSError as err:
        raise MediaReadError(f"{media.name} cannot be read: {err.strerror}") from None
    key = json.dumps([str(media.path), stat.st_size, stat.st_mtime_ns, detail])
    name = hashlib.sha256(key.encode()).hexdigest()[:32]
    return (cache_dir if cache_dir is not None else studio_home() / "cache") / kind / f"{name}{suffix}"


def _cached(entry: Path, codec: Codec, make: Callable[[], np.ndarray]) -> np.ndarray:
    with contextlib.suppress(OSError):
        value = codec.decode(entry.read_bytes())
        if value is not None:
            return value
    value = make()
    with contextlib.suppress(OSError):  # a cache that cannot be written only costs time
        entry.parent.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(entry, codec.encode(value))
    return value


class Codec(NamedTuple):
    encode: Callable[[np.ndarray], bytes]
    decode: Callable[[bytes], np.ndarray | None]  # None: not a valid entry


def _encode_png(rgb: np.ndarray) -> bytes:
    return cv2.imencode(".png", np.ascontiguousarray(rgb[..., ::-1]))[1].tobytes()


def _decode_png(data: bytes) -> np.ndarray | None:
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR_RGB) if data else None


def _encode_npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def _decode_npy(data: bytes) -> np.ndarray | None:
    try:
        array = np.load(io.BytesIO(data), allow_pickle=False)
    except (ValueError, OSError, EOFError):
        return None
    return array if array.ndim == 2 and array.shape[1] == 2 and array.dtype == np.float32 else None


PNG = Codec(_encode_png, _decode_png)
NPY = Codec(_encode_npy, _decode_npy)
