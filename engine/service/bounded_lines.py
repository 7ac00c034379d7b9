"""A client's lines, read so that no line costs more memory than the protocol allows, however long it is.

A line over the limit is yielded cut to `limit + 1` bytes, which `engine.api.protocol.decode` refuses by its length
(the engine answers it as a bad line), and the rest of it is read and dropped SKIP_BYTES at a time: a client that
sends gigabytes without a newline makes the engine hold a few megabytes, and the engine reads on at its next line.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import BinaryIO

from engine.api.protocol import MAX_LINE_BYTES

SKIP_BYTES = 64 * 1024  # bytes of an over-limit line read at once while dropping it

ReadLine = Callable[[int], bytes]  # up to that many bytes, up to and including the next newline


def bounded_lines(stream: BinaryIO, head: bytes = b"", limit: int = MAX_LINE_BYTES) -> Iterator[bytes]:
    """The lines of `head` and then of `stream`, none longer than `limit + 1` bytes (those that were longer are cut
    there and end without a newline). `head` is what was read from the stream already."""
    readline = _after(head, stream.readline) if head else stream.readline
    while line := readline(limit + 1):
        yield line
        if len(line) > limit and not line.endswith(b"\n"):
            _drop_rest_of_line(readline)


def _drop_rest_of_line(readline: ReadLine) -> None:
    while (piece := readline(SKIP_BYTES)) and not piece.endswith(b"\n"):
        pass


def _after(head: bytes, readline: ReadLine) -> ReadLine:
    """`readline` of a stream whose first bytes, `head`, were read from it already."""
    first = io.BytesIO(head)

    def read(size: int) -> bytes:
        piece = first.readline(size)
        if piece.endswith(b"\n") or len(piece) == size:
            return piece
        return piece + readline(size - len(piece))

    return read
