"""Filmstrip thumbnails and waveform peaks: computed once, kept on disk by file version, remade when the file
changes or the kept entry is damaged."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from media_samples import number_of, tone, write_video, write_wav

from desktop.media import thumbs
from desktop.media.probe import probe_media
from desktop.project.model import MediaItem


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ISTAR_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def cached_files(home: Path, kind: str) -> list[Path]:
    folder = home / "cache" / kind
    return sorted(folder.iterdir()) if folder.exists() else []


def nothing_decodes(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*_: object) -> None:
        raise AssertionError("decoded although the disk cache has it")

    monkeypatch.setattr(thumbs, "_thumbnail", fail)
    monkeypatch.setattr(thumbs, "_peaks", fail)


def test_thumbnails_keep_the_aspect_and_are_kept_on_disk(
    numbers: MediaItem, wide: MediaItem, still: MediaItem, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = thumbs.thumbnail(numbers, 0.5, 32)
    assert first.shape == (32, 32, 3) and first.dtype == np.uint8 and number_of(first) == 8
    assert thumbs.thumbnail(wide, 0.25, 16).shape == (16, 32, 3)
    assert thumbs.thumbnail(still, 0.0, 16).shape == (16, 24, 3)
    assert len(cached_files(home, "thumbs")) == 3
    nothing_decodes(monkeypatch)
    assert np.array_equal(thumbs.thumbnail(numbers, 0.5, 32), first)


def test_a_changed_file_gets_new_thumbnails_and_peaks(tmp_path: Path, home: Path) -> None:
    path = write_video(tmp_path / "clip.mp4", range(16), sound=tone(1, 440, 0.5))
    media = probe_media(path)
    assert number_of(thumbs.thumbnail(media, 0.25, 32)) == 4
    loud = thumbs.peaks(media, 10)
    write_video(path, range(500, 516), sound=tone(1, 440, 0.1))
    os.utime(path, ns=(1, 1))  # a new mtime even on coarse-grained file systems
    assert number_of(thumbs.thumbnail(media, 0.25, 32)) == 504
    assert thumbs.peaks(media, 10)[2:8, 1].max() < loud[2:8, 1].min()


def test_a_damaged_cache_entry_is_made_again(numbers: MediaItem, wav: MediaItem, home: Path) -> None:
    picture, levels = thumbs.thumbnail(numbers, 1.0, 32), thumbs.peaks(wav, 20)
    for entry in cached_files(home, "thumbs") + cached_files(home, "peaks"):
        entry.write_bytes(entry.read_bytes()[:40])
    assert np.array_equal(thumbs.thumbnail(numbers, 1.0, 32), picture)
    assert np.array_equal(thumbs.peaks(wav, 20), levels)
    assert np.array_equal(thumbs.thumbnail(numbers, 1.0, 32), picture)  # and it was written back whole


def test_peaks_hold_the_low_and_high_of_each_bucket(wav: MediaItem, still: MediaItem, home: Path) -> None:
    levels = thumbs.peaks(wav, 20)
    assert levels.shape == (20, 2) and levels.dtype == np.float32
    assert np.allclose(levels[1:], [-0.2, 0.2], atol=2e-3)  # a 220 Hz tone at 0.2 fills every 50 ms bucket
    assert thumbs.peaks(still, 20).shape == (0, 2)


def test_an_unwritable_cache_costs_only_time(wav: MediaItem, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "home").write_text("a file where the studio folder should be")
    monkeypatch.setenv("ISTAR_HOME", str(tmp_path / "home"))
    assert thumbs.peaks(wav, 20).shape == (20, 2)


def test_a_silent_stretch_between_sounds_shows_as_flat(tmp_path: Path, home: Path) -> None:
    sound = np.concatenate([tone(0.5, 300, 0.4), np.zeros((24000, 2), np.float32), tone(0.5, 300, 0.4)])
    media = probe_media(write_wav(tmp_path / "gap.wav", sound))
    levels = thumbs.peaks(media, 4)
    assert levels.shape == (6, 2) and np.allclose(levels[2:4], 0) and levels[[0, 1, 4, 5], 1].min() > 0.39
