"""Where a generated video's companions live beside it: its bits, and the clips written while it was made."""

from __future__ import annotations

from pathlib import Path

BITS_SUFFIX = ".bits.safetensors"


def bits_path(video: str | Path) -> Path:
    """Where the bits of `video` live: out.mp4 -> out.bits.safetensors."""
    video = Path(video)
    return video.with_name(video.stem + BITS_SUFFIX)


def clips_folder(video: str | Path) -> Path:
    """Where the clips of `video` are written as each is decoded: out.mp4 -> out.clips/."""
    video = Path(video)
    return video.with_name(video.stem + ".clips")
