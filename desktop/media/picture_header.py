"""A picture's size from its header alone, so that a picture too big to decode is refused before it is decoded: PNG,
JPEG, WebP, BMP and TIFF, the still formats the studio decodes (engine.media.image). Only the header's few bytes are
read, and only what it states is told: whether the rest decodes is the decoder's business."""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

Size = tuple[int, int]
HEAD_BYTES = 32  # enough for the size in a PNG, BMP or WebP header and for telling every format apart
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# JPEG markers of a frame header (SOF0 to SOF15 but DHT, JPG and DAC), which hold the picture's size
_JPEG_FRAMES = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
# JPEG markers with no length after them: TEM and RST0 to RST7
_JPEG_BARE = frozenset({0x01, *range(0xD0, 0xD8)})
_TIFF_WIDTH, _TIFF_HEIGHT = 256, 257
_TIFF_NUMBERS = {3: "H", 4: "I"}  # the field types a side may be stored as: SHORT and LONG


def picture_size(path: Path) -> Size | None:
    """(width, height) as the header of the picture at `path` states them; None when the file is not a picture in
    one of these formats or its header cannot be read."""
    try:
        with path.open("rb") as file:
            head = file.read(HEAD_BYTES)
            read = _reader_for(head)
            return read(file, head) if read is not None else None
    except (OSError, struct.error, ValueError):
        return None


def _reader_for(head: bytes) -> Callable[[BinaryIO, bytes], Size | None] | None:
    if head.startswith(PNG_SIGNATURE):
        return _png
    if head.startswith(b"\xff\xd8"):
        return _jpeg
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return _webp
    if head.startswith(b"BM"):
        return _bmp
    if head[:4] in (b"II*\0", b"MM\0*"):
        return _tiff
    return None


def _png(file: BinaryIO, head: bytes) -> Size | None:
    if head[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", head[16:24])


def _bmp(file: BinaryIO, head: bytes) -> Size:
    (header_bytes,) = struct.unpack("<I", head[14:18])
    if header_bytes == 12:  # the OS/2 header: 16-bit sides
        return struct.unpack("<HH", head[18:22])
    width, height = struct.unpack("<ii", head[18:26])
    return abs(width), abs(height)  # a negative height is stored top-down


def _webp(file: BinaryIO, head: bytes) -> Size | None:
    chunk = head[12:16]
    if chunk == b"VP8X":  # extended: 24-bit sides less one
        return 1 + int.from_bytes(head[24:27], "little"), 1 + int.from_bytes(head[27:30], "little")
    if chunk == b"VP8L":  # lossless: 14-bit sides less one, packed after a signature byte
        (bits,) = struct.unpack("<I", head[21:25])
        return 1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)
    if chunk == b"VP8 ":  # lossy: 14-bit sides after the frame tag and start code
        width, height = struct.unpack("<HH", head[26:30])
        return width & 0x3FFF, height & 0x3FFF
    return None


def _jpeg(file: BinaryIO, head: bytes) -> Size | None:
    """The size in the first frame header, reached by skipping segment after segment (EXIF, ICC profiles...)."""
    file.seek(2)
    while (marker := _next_jpeg_marker(file)) is not None:
        if marker in _JPEG_BARE:
            continue
        (length,) = struct.unpack(">H", file.read(2))
        if marker in _JPEG_FRAMES:
            height, width = struct.unpack(">xHH", file.read(5))
            return width, height
        if marker in (0xD9, 0xDA) or length < 2:  # the end, or the picture's data before any frame header
            return None
        file.seek(length - 2, 1)
    return None


def _next_jpeg_marker(file: BinaryIO) -> int | None:
    """The next marker's code, past the 0xFF bytes before it; None at the end of the file or where no marker is."""
    if file.read(1) != b"\xff":
        return None
    while (byte := file.read(1)) == b"\xff":
        pass
    return byte[0] if byte else None


def _tiff(file: BinaryIO, head: bytes) -> Size | None:
    """The width and length tags of the first image's directory."""
    order = "<" if head.startswith(b"II") else ">"
    (directory,) = struct.unpack(order + "I", head[4:8])
    file.seek(directory)
    (count,) = struct.unpack(order + "H", file.read(2))
    sides: dict[int, int] = {}
    for _ in range(count):
        tag, kind, _values, value = struct.unpack(order + "HHI4s", file.read(12))
        if tag in (_TIFF_WIDTH, _TIFF_HEIGHT) and kind in _TIFF_NUMBERS:
            number = _TIFF_NUMBERS[kind]
            (sides[tag],) = struct.unpack(order + number, value[: struct.calcsize(number)])
    if len(sides) < 2:
        return None
    return sides[_TIFF_WIDTH], sides[_TIFF_HEIGHT]
