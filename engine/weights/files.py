"""Model store file plumbing: sha256 while copying, and `<name>.part` files that become `<name>` only when whole."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from engine.atomic import fsync_dir
from engine.file_hash import CHUNK, hexdigest


def part_path(path: Path) -> Path:
    return path.with_name(path.name + ".part")


def promote_part(part: Path, path: Path) -> None:
    """Make a finished `.part` file durable, then rename it to its final name."""
    with open(part, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(part, path)
    fsync_dir(path.parent)


def git_blob_sha1(path: Path) -> str:
    """The git object id of a file's bytes: the hub's etag for files kept in git rather than LFS."""
    return hexdigest(path, hashlib.sha1(f"blob {path.stat().st_size}\0".encode()))


def copy_hashed(src: Path, dst: Path) -> tuple[int, str]:
    """Copy `src` to `dst` through `dst.part`, hashing the bytes as they pass; returns (bytes, sha256)."""
    part = part_path(dst)
    digest = hashlib.sha256()
    size = 0
    with open(src, "rb") as fin, open(part, "wb") as fout:
        while chunk := fin.read(CHUNK):
            digest.update(chunk)
            fout.write(chunk)
            size += len(chunk)
    promote_part(part, dst)
    return size, digest.hexdigest()
