"""Atomic writes give files the permissions a plain write would: an exported video is readable by others as usual,
a replaced file keeps its mode, and a secret asks for 0600 and gets it with no moment of being readable. Their temp
files name their writer, so those a killed writer left are removed, and nothing else ever is."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.atomic import (
    STALE_AFTER_S,
    atomic_writer,
    clean_stale_temps,
    copy_atomic,
    host_tag,
    is_stale_temp,
    pid_alive,
    write_bytes_atomic,
)


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


# -- temp files a killed writer leaves, and cleaning them --------------------------------------------------------

WRITER = """
import sys, time
from engine.atomic import atomic_writer
with atomic_writer(sys.argv[1]) as f:
    f.write(b"half a video")
    f.flush()
    print("writing", flush=True)
    time.sleep(60)
"""


def writer_in_a_child(target):
    """A process caught in the middle of an atomic write of `target` (its temp file exists), and that temp file."""
    child = subprocess.Popen([sys.executable, "-c", WRITER, str(target)], stdout=subprocess.PIPE, text=True,
                             cwd=Path(__file__).resolve().parents[2])
    assert child.stdout.readline() == "writing\n"
    [temp] = [p for p in target.parent.iterdir() if p.name != target.name]
    return child, temp


def test_a_temp_file_names_its_writer_and_is_kept_while_the_writer_runs(tmp_path):
    target = tmp_path / "film.mp4"
    with atomic_writer(target) as f:
        f.write(b"video")
        [temp] = list(tmp_path.iterdir())
        assert re.fullmatch(rf"\.film\.mp4\.{os.getpid()}@[0-9a-f]{{6}}\.[a-z0-9_]{{8}}\.tmp", temp.name), temp.name
        assert not is_stale_temp(temp) and clean_stale_temps(tmp_path) == [] and temp.exists()
    assert list(tmp_path.iterdir()) == [target]


def test_a_killed_writers_temp_file_is_removed_and_a_running_ones_kept(tmp_path):
    child, temp = writer_in_a_child(tmp_path / "film.mp4")
    try:
        assert clean_stale_temps(tmp_path) == [] and temp.exists()  # its writer is still at it
    finally:
        child.kill()
        child.wait()
    assert is_stale_temp(temp)
    assert clean_stale_temps(tmp_path) == [temp]
    assert list(tmp_path.iterdir()) == []


def test_only_our_temp_files_are_ever_removed(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    here = host_tag()
    ours = tmp_path / f".film.mp4.{dead.pid}@{here}.abcd1234.tmp"
    ours.write_bytes(b"")
    theirs = {
        "film.mp4": b"the video itself",
        f"film.mp4.{dead.pid}@{here}.abcd1234.tmp": b"not hidden: not ours",
        f".film.mp4.{dead.pid}.abcd1234.tmp": b"no host tag: an older writer's, or someone else's",
        f".film.mp4.{dead.pid}@{here}.abcd1234.temp": b"another suffix",
        f".film.mp4.{dead.pid}@{here}.abc.tmp": b"too short a tail",
        ".tmp": b"", "notes.tmp": b"",
    }
    for name, data in theirs.items():
        (tmp_path / name).write_bytes(data)
    (tmp_path / f".dir.{dead.pid}@{here}.abcd1234.tmp").mkdir()  # a folder named like ours
    (tmp_path / f".link.{dead.pid}@{here}.abcd1234.tmp").symlink_to(tmp_path / "film.mp4")  # a link too
    old = time.time() - STALE_AFTER_S - 60
    os.utime(tmp_path / "notes.tmp", (old, old))
    assert clean_stale_temps(tmp_path) == [ours]
    for name, data in theirs.items():
        assert (tmp_path / name).read_bytes() == data
    assert (tmp_path / f".dir.{dead.pid}@{here}.abcd1234.tmp").is_dir()
    assert (tmp_path / f".link.{dead.pid}@{here}.abcd1234.tmp").is_symlink()


def test_another_machines_temp_file_goes_only_when_old(tmp_path):
    other = "000000" if host_tag() != "000000" else "111111"
    temp = tmp_path / f".film.mp4.1@{other}.abcd1234.tmp"  # pid 1 runs here, but that says nothing about it
    temp.write_bytes(b"")
    assert clean_stale_temps(tmp_path) == []
    old = time.time() - STALE_AFTER_S - 60
    os.utime(temp, (old, old))
    assert clean_stale_temps(tmp_path) == [temp]


def test_a_temp_file_untouched_for_a_day_is_stale_even_if_its_pid_runs(tmp_path):
    temp = tmp_path / f".film.mp4.{os.getpid()}@{host_tag()}.abcd1234.tmp"  # a pid taken again by a new process
    temp.write_bytes(b"")
    assert not is_stale_temp(temp)
    old = time.time() - STALE_AFTER_S - 60
    os.utime(temp, (old, old))
    assert is_stale_temp(temp)


def test_pid_alive():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert pid_alive(os.getpid()) and pid_alive(child.pid)
        child.kill()
        if Path("/proc/self/stat").exists():  # killed and not yet waited for: a zombie, which writes nothing
            os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)
            assert not pid_alive(child.pid)
    finally:
        child.kill()
        child.wait()
    assert not pid_alive(child.pid)


def test_copy_atomic_links_or_copies_and_keeps_the_source(tmp_path, monkeypatch):
    src, dst = tmp_path / "a", tmp_path / "b"
    src.write_bytes(b"new")
    dst.write_bytes(b"old")
    copy_atomic(src, dst)
    assert src.read_bytes() == dst.read_bytes() == b"new" and sorted(p.name for p in tmp_path.iterdir()) == ["a", "b"]

    def no_links(*args):
        raise OSError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)  # FAT, some network shares
    src.write_bytes(b"newer")
    copy_atomic(src, dst)
    assert dst.read_bytes() == b"newer" and not src.samefile(dst)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b"]
