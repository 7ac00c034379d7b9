"""Where a generated video's companions live beside it: its bits, and the clips written while it was made."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from engine.api.remote_files import BITS_SUFFIX, CLIPS_SUFFIX
from engine.atomic import clean_stale_temps

LEGACY_BITS_SUFFIX = ".bits.safetensors"  # the older format, one safetensors file of every pass


def bits_path(video: str | Path) -> Path:
    """Where the bits of `video` are written: out.mp4 -> out.bits."""
    video = Path(video)
    return video.with_name(video.stem + BITS_SUFFIX)


def find_bits(video: str | Path) -> Path | None:
    """The bits beside `video`, in the current format or the older one; None when it has none."""
    video = Path(video)
    for suffix in (BITS_SUFFIX, LEGACY_BITS_SUFFIX):
        path = video.with_name(video.stem + suffix)
        if path.is_file():
            return path
    return None


def is_bits_file(path: str | Path) -> bool:
    return Path(path).name.endswith((BITS_SUFFIX, LEGACY_BITS_SUFFIX))


def clips_folder(video: str | Path) -> Path:
    """Where the clips of `video` are written as each is decoded: out.mp4 -> out.clips/."""
    video = Path(video)
    return video.with_name(video.stem + CLIPS_SUFFIX)


def clean_output_folder(folder: str | Path) -> list[Path]:
    """Remove the temp files that killed jobs left in a folder of generated videos and in its videos' clip folders
    (engine.atomic.clean_stale_temps: only ours, only those whose writer is gone); the removed files."""
    removed = clean_stale_temps(folder)
    with contextlib.suppress(OSError):
        for entry in os.scandir(folder):
            if entry.name.endswith(CLIPS_SUFFIX) and entry.is_dir(follow_symlinks=False):
                removed += clean_stale_temps(entry.path)
    return removed
