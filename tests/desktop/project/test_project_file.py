"""Saving and loading .istar files: round trips, relative media paths, saves that fail halfway, rotating backups, and
the autosave recovery file."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from engine_records import generation
from sample_projects import sample_project

from desktop.project import file as project_file
from desktop.project.file import (
    BACKUPS,
    ProjectFileError,
    backup_path,
    clean_leftovers,
    discard_recovery,
    find_recovery,
    load_project,
    missing_media,
    recovery_path,
    save_project,
    write_recovery,
)
from engine.atomic import host_tag


def project_in(folder: Path):
    """The sample project with its media files on disk inside `folder/media`, except the music, which lives outside."""
    project = sample_project(folder / "media")
    project.media["music"].path = folder.parent / "elsewhere" / "music.wav"
    project.track("v1").muted = True
    project.track("a1").locked = True
    for item in project.media.values():
        item.path.parent.mkdir(parents=True, exist_ok=True)
        item.path.write_bytes(b"media")
    return project


def test_save_and_load_give_back_an_equal_project(tmp_path):
    project = project_in(tmp_path / "film")
    path = tmp_path / "film" / "film.istar"
    save_project(project, path)
    loaded = load_project(path)
    assert loaded == project
    assert list(loaded.media) == list(project.media)


def test_media_inside_the_folder_is_stored_relative_and_outside_absolute(tmp_path):
    project = project_in(tmp_path / "film")
    path = tmp_path / "film" / "film.istar"
    save_project(project, path)
    stored = {m["id"]: m["path"] for m in json.loads(path.read_text())["media"]}
    assert stored["vid"] == "media/vid.mp4"
    assert stored["music"] == str(tmp_path / "elsewhere" / "music.wav")


def test_relative_paths_survive_moving_the_project_folder(tmp_path):
    project = project_in(tmp_path / "film")
    save_project(project, tmp_path / "film" / "film.istar")
    shutil.move(tmp_path / "film", tmp_path / "moved")
    loaded = load_project(tmp_path / "moved" / "film.istar")
    assert loaded.media["vid"].path == tmp_path / "moved" / "media" / "vid.mp4"
    assert missing_media(loaded) == []


def test_missing_media_lists_what_is_not_on_disk(tmp_path):
    project = project_in(tmp_path / "film")
    project.media["short"].path.unlink()
    assert missing_media(project) == [project.media["short"]]


real_atomic_writer = project_file.atomic_writer


@contextlib.contextmanager
def writer_that_dies_halfway(path):
    """The real atomic writer, but the save dies after writing half the file, as on a full disk or a crash."""
    with real_atomic_writer(path) as f:

        class HalfWriter:
            def write(self, data):
                f.write(data[: len(data) // 2])
                raise OSError(28, "No space left on device")

            def flush(self):
                f.flush()

        yield HalfWriter()


def old_save(tmp_path):
    path = tmp_path / "film.istar"
    save_project(sample_project(), path)
    save_project(sample_project(), path)  # so there is a backup to keep too
    return path, path.read_bytes(), backup_path(path, 1).read_bytes()


def test_a_save_that_dies_halfway_leaves_the_old_file_and_backups_intact(tmp_path, monkeypatch):
    path, old, backup = old_save(tmp_path)
    monkeypatch.setattr(project_file, "atomic_writer", writer_that_dies_halfway)
    changed = sample_project()
    changed.fps = 24
    with pytest.raises(OSError, match="No space"):
        save_project(changed, path)
    assert path.read_bytes() == old
    assert backup_path(path, 1).read_bytes() == backup and not backup_path(path, 2).exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["film.istar", "film.istar.bak1"]


def test_a_save_whose_final_rename_fails_leaves_the_old_file_intact(tmp_path, monkeypatch):
    path, old, _ = old_save(tmp_path)
    real_replace = os.replace

    def replace(src, dst):
        if Path(dst) == path:
            raise OSError(5, "Input/output error")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    changed = sample_project()
    changed.fps = 24
    with pytest.raises(OSError, match="Input/output"):
        save_project(changed, path)
    assert path.read_bytes() == old
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_backups_rotate_and_keep_the_newest_five(tmp_path):
    path = tmp_path / "film.istar"
    saved = []
    for width in range(100, 116, 2):  # frame sides are even
        project = sample_project()
        project.width = width
        save_project(project, path)
        saved.append(path.read_bytes())
    assert path.read_bytes() == saved[-1]
    for n in range(1, BACKUPS + 1):
        assert backup_path(path, n).read_bytes() == saved[-1 - n]
        assert load_project(backup_path(path, n)).width == 114 - 2 * n
    assert not backup_path(path, BACKUPS + 1).exists()


class Killed(BaseException):
    """The process dies here: nothing after this step happens."""


def versions(path: Path) -> list[bytes]:
    """The project file and then its backups, newest first; asserts that the backups have no gap."""
    names = sorted(p.name for p in path.parent.iterdir() if p.name.startswith(f"{path.name}.bak"))
    assert names == [backup_path(path, n).name for n in range(1, len(names) + 1)], f"a gap in the backups: {names}"
    return [path.read_bytes()] + [backup_path(path, n).read_bytes() for n in range(1, len(names) + 1)]


@pytest.mark.parametrize("links", [True, False], ids=["hard links", "no hard links"])
def test_a_save_killed_at_any_step_leaves_the_backups_without_a_gap_and_loses_nothing(tmp_path, monkeypatch, links):
    path = tmp_path / "film.istar"
    for width in range(100, 100 + 2 * (BACKUPS + 1), 2):  # frame sides are even
        project = sample_project()
        project.width = width
        save_project(project, path)
    before = versions(path)  # the file (width 110) and five backups (108 ... 100)
    assert len(before) == BACKUPS + 1
    if not links:
        def no_links(*args):
            raise OSError(1, "Operation not permitted")

        monkeypatch.setattr(os, "link", no_links)
    real_replace = os.replace
    changed = sample_project()
    changed.width = 200
    new = project_file._encode(changed, tmp_path)
    for kill_at in range(100):
        for file in tmp_path.iterdir():
            file.unlink()  # not written over in place: a file may be a hard link of another
        for name, data in zip([path.name] + [backup_path(path, n).name for n in range(1, BACKUPS + 1)], before,
                              strict=True):
            (tmp_path / name).write_bytes(data)
        calls = []

        def replace(src, dst, kill_at=kill_at, calls=calls):
            if len(calls) == kill_at:
                raise Killed
            calls.append(dst)
            real_replace(src, dst)

        monkeypatch.setattr(os, "replace", replace)
        try:
            save_project(changed, path)
        except Killed:
            killed = True
        else:
            killed = False
        finally:
            monkeypatch.setattr(os, "replace", real_replace)
        after = versions(path)
        assert after[0] in (before[0], new)  # the old file or the new one, whole
        assert len(after) == BACKUPS + 1  # backups 1 to 5, each there at every step
        lost = set(before[:-1]) - set(after)  # the oldest backup is the one a save drops
        assert not lost, f"killed at rename {kill_at}: lost {len(lost)} versions"
        for n in range(1, BACKUPS + 1):
            load_project(backup_path(path, n))
        save_project(changed, path)  # the next save puts everything right
        assert versions(path) == [new, after[0], *after[1:BACKUPS]]
        assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
        if not killed:
            assert after == [new, *before[:-1]] and kill_at == len(calls) and kill_at >= BACKUPS
            break
    else:
        pytest.fail("the save never finished")


def test_clean_leftovers_removes_temp_files_of_killed_saves_and_jobs_and_nothing_else(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    folder, media = tmp_path / "film", tmp_path / "film" / "film.media"
    clips = media / "gen-1.clips"
    clips.mkdir(parents=True)
    path = folder / "film.istar"
    save_project(sample_project(), path)
    stale = [folder / f".film.istar.{dead.pid}@{host_tag()}.k3j9x2ab.tmp",
             media / f".gen-1.mp4.{dead.pid}@{host_tag()}.abcdefgh.tmp",
             clips / f".clip_01.mp4.{dead.pid}@{host_tag()}.abcdefgh.tmp"]
    live = [folder / f".film.istar.{os.getpid()}@{host_tag()}.k3j9x2ab.tmp",
            media / f".gen-2.mp4.{os.getpid()}@{host_tag()}.abcdefgh.tmp"]
    other = [folder / "notes.tmp", media / "gen-1.mp4", clips / "clip_01.mp4", folder / "elsewhere" /
             f".x.{dead.pid}@{host_tag()}.abcdefgh.tmp"]
    for file in stale + live + other:
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(b"x")
    assert sorted(clean_leftovers(path, media)) == sorted(stale)
    assert all(f.exists() for f in live + other) and not any(f.exists() for f in stale)
    assert clean_leftovers(path, folder / "no such folder") == []


def test_the_first_save_makes_no_backup(tmp_path):
    save_project(sample_project(), tmp_path / "film.istar")
    assert [p.name for p in tmp_path.iterdir()] == ["film.istar"]


def test_autosave_writes_a_separate_recovery_file_never_the_project_file(tmp_path):
    path = tmp_path / "film.istar"
    save_project(sample_project(), path)
    saved = path.read_bytes()
    edited = sample_project()
    edited.track("v1").clips.pop()
    recovery = write_recovery(edited, path)
    assert recovery == recovery_path(path) == tmp_path / ".film.istar.recovery"
    assert path.read_bytes() == saved
    assert load_project(recovery) == edited


def test_recovery_is_offered_only_when_newer_than_the_project_file(tmp_path):
    path = tmp_path / "film.istar"
    save_project(sample_project(), path)
    recovery = write_recovery(sample_project(), path)
    saved_at = path.stat().st_mtime_ns
    os.utime(recovery, ns=(saved_at + 10**9, saved_at + 10**9))
    assert find_recovery(path) == recovery
    os.utime(recovery, ns=(saved_at - 10**9, saved_at - 10**9))
    assert find_recovery(path) is None
    discard_recovery(path)
    assert not recovery.exists() and find_recovery(path) is None
    discard_recovery(path)  # nothing to discard is fine


def test_recovery_of_a_project_whose_file_is_gone_is_offered(tmp_path):
    path = tmp_path / "film.istar"
    recovery = write_recovery(sample_project(), path)
    assert find_recovery(path) == recovery


def test_saving_discards_the_stale_recovery(tmp_path):
    path = tmp_path / "film.istar"
    write_recovery(sample_project(), path)
    save_project(sample_project(), path)
    assert find_recovery(path) is None and not recovery_path(path).exists()


def test_an_unsaved_project_recovers_from_the_studio_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("ISTAR_HOME", str(tmp_path / "home"))
    assert find_recovery(None) is None
    recovery = write_recovery(sample_project(), None)
    assert recovery.parent == tmp_path / "home" / "recovery"
    assert find_recovery(None) == recovery
    assert load_project(recovery) == sample_project()
    discard_recovery(None)
    assert find_recovery(None) is None


def test_a_broken_recovery_file_is_reported_and_can_be_discarded(tmp_path):
    path = tmp_path / "film.istar"
    recovery = write_recovery(sample_project(), path)
    recovery.write_bytes(recovery.read_bytes()[:100])
    assert find_recovery(path) == recovery
    with pytest.raises(ProjectFileError, match="truncated"):
        load_project(recovery)
    discard_recovery(path)
    assert find_recovery(path) is None


def test_a_project_keeps_the_provenance_of_every_engine_version_and_reads_it_typed(tmp_path: Path) -> None:
    """A video of the first engine (one prompt, no kind) and one of today's, saved and opened again: the stored JSON
    is kept exactly, and both read as generation records (what Regenerate and Continue use)."""
    first_engine = {"app": "InfinityStar Studio", "model": "toyworld", "preset": "toyworld", "precision": "fp32",
                    "settings": {"seconds": 2, "seed": 7, "continued_passes": 0}, "inputs": {"prompt": "a red ball"}}
    project = project_in(tmp_path)
    old, new = list(project.media.values())[:2]
    old.provenance = first_engine
    new.provenance = generation(["a square", "a star"], seconds=2, kind="storyboard", seed=9)
    save_project(project, tmp_path / "film.istar")
    reopened = load_project(tmp_path / "film.istar")
    assert reopened.media[old.id].provenance == first_engine
    assert reopened.media[old.id].generation.prompts == ("a red ball",)
    assert reopened.media[old.id].generation.inputs.kind == "generate"
    assert reopened.media[new.id].generation.prompts == ("a square", "a star")
    assert reopened.media[new.id].generation.settings.seed == 9
