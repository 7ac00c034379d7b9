"""Small media files for the media tests, written with PyAV: videos whose frames show their number as a 4x4 grid
of bits (so a decoded frame tells which it is), tones, stills."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from engine.media.image import write_png

BITS = 4  # cells per side: 16 bits of frame number
ON, OFF = 220, 30


def pattern(number: int, width: int = 64, height: int = 64) -> np.ndarray:
    """uint8 RGB [height, width, 3] showing `number` (0..65535) as bright and dark cells, most significant first."""
    bits = np.array([(number >> (BITS * BITS - 1 - i)) & 1 for i in range(BITS * BITS)]).reshape(BITS, BITS)
    cells = np.where(bits, ON, OFF).astype(np.uint8)
    rows = np.minimum(np.arange(height) * BITS // height, BITS - 1)
    cols = np.minimum(np.arange(width) * BITS // width, BITS - 1)
    return np.repeat(cells[rows][:, cols, None], 3, axis=2)


def number_of(rgb: np.ndarray) -> int:
    """The number a `pattern` frame shows (read at each cell's centre, so scaling and compression do not matter)."""
    height, width = rgb.shape[:2]
    number = 0
    for i in range(BITS * BITS):
        row, col = divmod(i, BITS)
        y, x = int((row + 0.5) * height / BITS), int((col + 0.5) * width / BITS)
        number = number << 1 | int(rgb[y, x].mean() > (ON + OFF) / 2)
    return number


def tone(seconds: float, hz: float, amplitude: float, rate: int = 48000) -> np.ndarray:
    """float32 stereo [n, 2]: a sine on the left, the same at half level on the right."""
    t = np.arange(round(seconds * rate)) / rate
    wave = amplitude * np.sin(2 * np.pi * hz * t)
    return np.stack([wave, wave / 2], axis=1).astype(np.float32)


def write_video(
    path: Path,
    numbers: range,
    size: tuple[int, int] = (64, 64),
    fps: int = 16,
    sound: np.ndarray | None = None,
    rate: int = 48000,
    metadata: dict[str, str] | None = None,
) -> Path:
    """An H.264 MP4 (a keyframe every 8 frames, B-frames on) showing `numbers`, with `sound` as AAC if given."""
    with av.open(str(path), "w") as container:
        container.metadata.update(metadata or {})
        video = container.add_stream("libx264", rate=fps, options={"crf": "12", "g": "8"})
        video.width, video.height = size
        video.pix_fmt = "yuv420p"
        audio = container.add_stream("aac", rate=rate, layout="stereo") if sound is not None else None
        for number in numbers:
            frame = av.VideoFrame.from_ndarray(pattern(number, *size), format="rgb24")
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
        if audio is not None:
            _write_sound(container, audio, sound, rate)
    return path


def write_wav(path: Path, sound: np.ndarray, rate: int = 48000) -> Path:
    """16-bit PCM WAV of float `sound` [n, channels]."""
    with av.open(str(path), "w", format="wav") as container:
        layout = "mono" if sound.shape[1] == 1 else "stereo"
        stream = container.add_stream("pcm_s16le", rate=rate, layout=layout)
        _write_sound(container, stream, sound, rate)
    return path


def _write_sound(container: av.container.OutputContainer, stream: av.audio.stream.AudioStream, sound, rate) -> None:
    layout = "mono" if sound.shape[1] == 1 else "stereo"
    for start in range(0, len(sound), 1024):
        chunk = np.ascontiguousarray(sound[start : start + 1024].T, dtype=np.float32)
        frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=layout)
        frame.sample_rate, frame.pts, frame.time_base = rate, start, Fraction(1, rate)
        container.mux(stream.encode(frame))
    container.mux(stream.encode(None))


def write_still(path: Path, width: int = 48, height: int = 32) -> Path:
    """A PNG: a blue field with a yellow square in its top-left quarter."""
    image = np.zeros((height, width, 3), np.uint8)
    image[:] = (20, 40, 200)
    image[: height // 2, : width // 2] = (230, 210, 30)
    write_png(path, image)
    return path
