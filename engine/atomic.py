"""Atomic file writes: a reader sees the old file or the new one, never half of either. No torch, no Qt.

A write goes through a hidden temp file beside its target, `.<name>.<pid>@<host>.<random>.tmp`: the writer's process
id and a tag of its machine's name are in the name, so a temp file that a killed writer left behind can be told from
one being written, and `clean_stale_temps` removes the first kind (on the next start of whatever writes there).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import socket
import stat
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
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


TEMP_SUFFIX = ".tmp"
STALE_AFTER_S = 24 * 3600.0  # a temp file untouched this long is stale whoever wrote it: no write we make takes a day
_RANDOM = "abcdefghijklmnopqrstuvwxyz0123456789_"  # tempfile's own alphabet, 8 of them
_TEMP_NAME = re.compile(r"^\.(?P<name>.+)\.(?P<pid>[0-9]+)@(?P<host>[0-9a-f]{6})\.[a-z0-9_]{8}\.tmp$")


def host_tag() -> str:
    return hashlib.sha1(socket.gethostname().encode(errors="replace")).hexdigest()[:6]


def _temp_prefix(path: Path) -> str:
    return f".{path.name}.{os.getpid()}@{host_tag()}."


def temp_path(path: str | Path) -> Path:
    """A fresh name for a temp file beside `path` (nothing is created): for a hard link made then renamed."""
    path = Path(path)
    return path.with_name(_temp_prefix(path) + "".join(secrets.choice(_RANDOM) for _ in range(8)) + TEMP_SUFFIX)


def pid_alive(pid: int) -> bool:
    """Whether process `pid` runs on this machine. When in doubt (no permission to ask), True."""
    if pid == os.getpid():
        return True
    if pid <= 0:
        return False
    if sys.platform == "win32":
        return _windows_pid_alive(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists but is someone else's (EPERM), or we cannot tell
    try:  # on Linux a killed process not yet waited for is a zombie: it writes nothing any more
        fields = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return fields[fields.rfind(")") + 2 :][:1] != "Z"


def _windows_pid_alive(pid: int) -> bool:
    import ctypes  # os.kill(pid, 0) would terminate the process on Windows

    kernel32 = ctypes.windll.kernel32
    handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
    if not handle:
        return kernel32.GetLastError() == 5  # ERROR_ACCESS_DENIED: it exists; anything else: it does not
    try:
        code = ctypes.c_ulong()
        return not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)) or code.value == 259  # STILL_ACTIVE
    finally:
        kernel32.CloseHandle(handle)


def is_stale_temp(path: str | Path, now: float | None = None, max_age_s: float = STALE_AFTER_S) -> bool:
    """Whether `path` is a temp file of atomic_writer's whose writer is gone: named by our pattern, a plain file,
    and either written on this machine by a process that is no longer running, or untouched for `max_age_s`.
    A temp file of another machine's (a shared folder) with a recent time is never stale: its pid says nothing
    here."""
    path = Path(path)
    match = _TEMP_NAME.match(path.name)
    if match is None:
        return False
    try:
        info = path.lstat()
    except OSError:
        return False
    if not stat.S_ISREG(info.st_mode):  # no link, folder or device, even one named like ours
        return False
    age = (time.time() if now is None else now) - info.st_mtime
    if age > max_age_s:
        return True
    return match["host"] == host_tag() and not pid_alive(int(match["pid"]))


def clean_stale_temps(folder: str | Path, max_age_s: float = STALE_AFTER_S) -> list[Path]:
    """Remove the stale temp files (is_stale_temp) directly in `folder` (not below it) and return them. Nothing
    else is touched; a file that cannot be removed, or a folder that cannot be read, is left as it is."""
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        if not entry.name.endswith(TEMP_SUFFIX) or not is_stale_temp(entry.path, now, max_age_s):
            continue
        try:
            os.unlink(entry.path)
        except OSError:
            continue
        removed.append(Path(entry.path))
    return removed


@contextlib.contextmanager
def atomic_writer(path: str | Path, mode: int | None = None) -> Iterator[BinaryIO]:
    """Write `path` through a temp file in the same folder: fsync, then rename over the target. The file gets
    `mode`, or keeps the permissions of the file it replaces, or gets the umask's default.

    If the body raises, the temp file is removed and any existing file at `path` is untouched.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(path), suffix=TEMP_SUFFIX, dir=path.parent)
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


COPY_CHUNK = 4 << 20  # bytes read and written at a time by a copy that cannot link


def copy_atomic(src: str | Path, dst: str | Path, on_bytes: Callable[[int], None] | None = None) -> None:
    """Make `dst` a copy of `src` by one rename, `src` untouched: at every moment `dst` is its old self (or absent,
    if it was) or the whole copy. A hard link where the file system has them (no bytes copied; files written
    through atomic_writer are never changed in place, so sharing them is safe), else a copy through atomic_writer,
    a chunk at a time (a big video is never all in memory), calling `on_bytes(n)` after each chunk of n bytes."""
    src, dst = Path(src), Path(dst)
    tmp = temp_path(dst)
    try:
        os.link(src, tmp)
    except OSError:
        with src.open("rb") as source, atomic_writer(dst, mode=os.fstat(source.fileno()).st_mode & 0o7777) as f:
            while chunk := source.read(COPY_CHUNK):
                f.write(chunk)
                if on_bytes is not None:
                    on_bytes(len(chunk))
        return
    try:
        os.replace(tmp, dst)
    finally:  # a rename between two links to one file (a rotation killed before) does nothing, and leaves tmp
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def write_bytes_atomic(path: str | Path, data: bytes, mode: int | None = None) -> None:
    with atomic_writer(path, mode) as f:
        f.write(data)


def write_text_atomic(path: str | Path, text: str, mode: int | None = None) -> None:
    write_bytes_atomic(path, text.encode("utf-8"), mode)
