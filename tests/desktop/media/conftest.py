"""Media files shared by the media tests (written once per session; tests must not change them)."""

from __future__ import annotations

from pathlib import Path

import pytest
from media_samples import tone, write_still, write_video, write_wav

from desktop.media.probe import probe_media
from desktop.project.model import MediaItem


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("media")
    write_video(folder / "numbers.mp4", range(32), sound=tone(2, 440, 0.3))  # 64x64, 2 s at 16 fps, with sound
    write_video(folder / "wide.mp4", range(1000, 1016), size=(64, 32))  # 1 s, silent
    write_wav(folder / "tone.wav", tone(1, 220, 0.2))
    write_still(folder / "still.png")
    return folder


@pytest.fixture(scope="session")
def numbers(media_dir: Path) -> MediaItem:
    return probe_media(media_dir / "numbers.mp4")


@pytest.fixture(scope="session")
def wide(media_dir: Path) -> MediaItem:
    return probe_media(media_dir / "wide.mp4")


@pytest.fixture(scope="session")
def wav(media_dir: Path) -> MediaItem:
    return probe_media(media_dir / "tone.wav")


@pytest.fixture(scope="session")
def still(media_dir: Path) -> MediaItem:
    return probe_media(media_dir / "still.png")
