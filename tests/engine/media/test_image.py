"""Reading a first-frame image: RGB order, and clear errors for files that are not images."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from engine.media.errors import MediaError
from engine.media.image import read_rgb


def test_a_png_reads_back_as_rgb(tmp_path: Path) -> None:
    rgb = np.zeros((6, 10, 3), np.uint8)
    rgb[..., 0] = 200  # red
    path = tmp_path / "r\u00f6t.png"  # non-ASCII names work too
    path.write_bytes(cv2.imencode(".png", rgb[..., ::-1])[1].tobytes())
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
