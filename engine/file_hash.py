"""Hashes of whole files, read in chunks. Standard library only: the engine's api and its weights store share it."""

from __future__ import annotations

import hashlib
from pathlib import Path

CHUNK = 8 << 20


def hexdigest(path: Path, digest: hashlib._Hash) -> str:
    """`digest` fed the bytes of `path` (after whatever it was already fed), as hex."""
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_file(path: Path) -> str:
    return hexdigest(path, hashlib.sha256())
