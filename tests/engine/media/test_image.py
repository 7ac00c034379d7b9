"""Still images: a written PNG reads back in RGB order, and files that are not images get clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.media.errors import MediaError
from engine.media.image import read_rgb, write_png


def test_a_written_png_reads_back_as_rgb(tmp_path: Path) -> None:
    rgb = np.zeros((6, 10, 3), np.uint8)
    rgb[..., 0] = 200  # red
    path = tmp_path / "r\u00f6t.png"  # non-ASCII names work too
    write_png(path, rgb)
    assert np.array_equal(read_rgb(path), rgb)


def test_missing_and_unreadable_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="cannot read the image .*missing.png"):
        read_rgb(tmp_path / "missing.png")
    (tmp_path / "notes.png").write_text("not a picture")
    with pytest.raises(MediaError, match="notes.png is not an image this build can read"):
        read_rgb(tmp_path / "notes.png")
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(MediaError, match="empty.png is not an image"):
        read_rgb(tmp_path / "empty.png")
