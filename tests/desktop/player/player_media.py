"""Media for the player tests: a video whose frame i is a flat grey of level 10 + 7 i, and a tone as WAV."""

from __future__ import annotations

import wave
from pathlib import Path

import av
import numpy as np


def grey_level(frame: int) -> int:
    return 10 + 7 * frame


def frame_of(level: float) -> int:
    """Which frame a grey level (as decoded, within a few steps) comes from."""
    return round((level - 10) / 7)


def write_grey_video(path: Path, frames: int, fps: int = 16, size: int = 32) -> Path:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps, options={"crf": "10", "g": "8"})
        stream.width = stream.height = size
        stream.pix_fmt = "yuv420p"
        for index in range(frames):
            picture = np.full((size, size, 3), grey_level(index), np.uint8)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")))
        container.mux(stream.encode(None))
    return path


def write_tone(path: Path, seconds: float, rate: int = 48000) -> Path:
    samples = (0.3 * np.sin(2 * np.pi * 440 * np.arange(round(seconds * rate)) / rate) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(samples.tobytes())
    return path
