"""A picture's size read from its header alone, in each format the studio decodes, for pictures of any size."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from blank_png import write_blank_png

from desktop.media.picture_header import picture_size

ENCODINGS = {
    "png": (".png", []),
    "jpeg": (".jpg", []),
    "progressive jpeg": (".jpg", [cv2.IMWRITE_JPEG_PROGRESSIVE, 1]),
    "lossy webp": (".webp", [cv2.IMWRITE_WEBP_QUALITY, 80]),
    "lossless webp": (".webp", [cv2.IMWRITE_WEBP_QUALITY, 101]),
    "bmp": (".bmp", []),
    "tiff": (".tif", []),
}


def encoded(extension: str, params: list[int], width: int = 1001, height: int = 37) -> bytes:
    picture = np.random.default_rng(0).integers(0, 256, (height, width, 3), np.uint8)
    ok, data = cv2.imencode(extension, picture, params)
    assert ok
    return data.tobytes()


@pytest.mark.parametrize("name", ENCODINGS)
def test_the_size_of_each_format_is_what_the_decoder_finds(tmp_path: Path, name: str) -> None:
    extension, params = ENCODINGS[name]
    path = tmp_path / f"picture{extension}"
    path.write_bytes(encoded(extension, params))
    assert picture_size(path) == (1001, 37) == cv2.imread(str(path)).shape[1::-1]


def test_a_jpeg_with_a_large_exif_block_before_its_frame_header(tmp_path: Path) -> None:
    data = encoded(".jpg", [])
    exif = b"Exif\0\0" + bytes(65_000)
    path = tmp_path / "photo.jpg"
    path.write_bytes(data[:2] + b"\xff\xe1" + (len(exif) + 2).to_bytes(2, "big") + exif + data[2:])
    assert picture_size(path) == (1001, 37)


def test_an_extended_webp_header_tells_sides_beyond_16384(tmp_path: Path) -> None:
    sides = (19_999).to_bytes(3, "little") + (11_999).to_bytes(3, "little")  # each less one
    vp8x = b"VP8X" + (10).to_bytes(4, "little") + bytes(4) + sides
    path = tmp_path / "big.webp"
    path.write_bytes(b"RIFF" + (4 + len(vp8x)).to_bytes(4, "little") + b"WEBP" + vp8x)
    assert picture_size(path) == (20_000, 12_000)


def test_a_20000_pixel_square_png_is_sized_from_its_50_kb(tmp_path: Path) -> None:
    path = write_blank_png(tmp_path / "huge.png", 20_000, 20_000)
    assert path.stat().st_size < 100_000 and picture_size(path) == (20_000, 20_000)


@pytest.mark.parametrize(
    "content",
    [b"shopping: milk, eggs\n", b"", b"\x89PNG\r\n\x1a\n\0\0", b"\xff\xd8\xff\xe0\0\x10JFIF", b"II*\0\xff\xff\xff\x7f"],
    ids=["text", "empty", "cut png", "jpeg without a frame header", "tiff pointing past its end"],
)
def test_what_is_not_a_whole_picture_header_has_no_size(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "file"
    path.write_bytes(content)
    assert picture_size(path) is None


def test_a_missing_file_has_no_size(tmp_path: Path) -> None:
    assert picture_size(tmp_path / "gone.png") is None
