"""Atomic file writes: a reader sees the old file or the new one, never half of either. No torch, no Qt."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

_UMASK = os.umask(0o022)
os.umask(_UMASK)  # read once: the process's umask has no getter


def _final_mode(path: Path, mode: int | None) -> int:
    """`mode`, else the replaced file's, else what a plain open() would give (mkstemp's temp files are 0600)."""
    if mode is not None:
        return mode
    try:
        return path.stat().st_mode & 0o7777
    except FileNotFoundError:
        return 0o666 & ~_UMASK


def fsync_dir(path: Path) -> None:
    """Make a rename inside `path` durable (a no-op where directories cannot be opened, as on Windows)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_writer(path: str | Path, mode: int | None = None) -> Iterator[BinaryIO]:
    """Write `path` through a temp file in the same folder: fsync, then rename over the target. The file gets
    `mode`, or keeps the permissions of the file it replaces, or gets the umask's default.

    If the body raises, the temp file is removed and any existing file at `path` is untouched.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _final_mode(path, mode))
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


def write_bytes_atomic(path: str | Path, data: bytes, mode: int | None = None) -> None:
    with atomic_writer(path, mode) as f:
        f.write(data)


def write_text_atomic(path: str | Path, text: str, mode: int | None = None) -> None:
    write_bytes_atomic(path, text.encode("utf-8"), mode)
