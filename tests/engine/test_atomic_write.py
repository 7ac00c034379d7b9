"""Atomic writes give files the permissions a plain write would: an exported video is readable by others as usual,
a replaced file keeps its mode, and a secret asks for 0600 and gets it with no moment of being readable."""

from __future__ import annotations

import os
import stat

import pytest

from engine.atomic import write_bytes_atomic


@pytest.fixture
def umask_022():
    before = os.umask(0o022)
    yield
    os.umask(before)


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_file_gets_the_umask_default_not_the_temp_file_0600(tmp_path, umask_022):
    out = tmp_path / "film.mp4"
    write_bytes_atomic(out, b"video")
    assert mode(out) == 0o644 and out.read_bytes() == b"video"


@pytest.mark.parametrize(("before", "asked", "after"), [
    (0o640, None, 0o640),  # a replaced file keeps its permissions
    (0o644, 0o600, 0o600),  # an explicit mode wins
])
def test_a_replaced_file_keeps_its_permissions_unless_a_mode_is_asked(tmp_path, before, asked, after):
    out = tmp_path / "file"
    out.write_bytes(b"old")
    out.chmod(before)
    write_bytes_atomic(out, b"new", mode=asked)
    assert mode(out) == after and out.read_bytes() == b"new"
