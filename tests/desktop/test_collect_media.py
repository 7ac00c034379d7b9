"""On a project's first save, every media file it uses from outside its folder is offered for collecting into the
project's own media folder, what the studio made ticked and imported files not: with their bits and clips, so the
folder moves as a whole; kept where they are on request. A collection is all or nothing: one that fails, is
cancelled or is cut short by closing the window leaves the project saved and using all its originals, and no copy
behind."""

from __future__ import annotations

import json
import os
import shutil
import stat
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QSettings, Qt

from desktop import main_window as main_window_module
from desktop.main_window import MainWindow
from desktop.media.probe import probe_media
from desktop.project import collect as collect_module
from desktop.project.collect import collect_media, made_by_studio, media_to_collect, plan_collect
from desktop.project.commands import AddMedia, Macro
from desktop.project.file import load_project
from desktop.project.model import Clip
from desktop.workers import current_task
from engine.api.job_book import JobBook
from engine.api.transport import LocalEngine
from engine.home import studio_home
from engine.media.layout import bits_path, clips_folder
from engine.media.mp4 import mp4_writer


def _generated(folder: Path, name: str = "a-red-circle-s3-1a2b.mp4") -> Path:
    """A video as a generation leaves it: the MP4, its bits beside it and its clips folder."""
    folder.mkdir(parents=True, exist_ok=True)
    video = folder / name
    with mp4_writer(video, 16) as stream:
        stream.write(np.full((8, 16, 16, 3), 90, np.uint8))
    bits_path(video).write_bytes(b"bits of the video")
    clips_folder(video).mkdir()
    (clips_folder(video) / "clip-000.mp4").write_bytes(b"first clip")
    return video


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("ISTAR_HOME", str(tmp_path / "home"))
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    w = MainWindow(settings, lambda: LocalEngine(tmp_path / "engine.log"), JobBook(tmp_path / "q.json"))
    w.confirm_discard = lambda: True  # the window is never shown, so no engine starts
    qtbot.addWidget(w)
    return w


def _with_generated_clip(window: MainWindow) -> str:
    video = _generated(studio_home() / "unsaved media")
    item = probe_media(video)
    track = next(t for t in window.project.tracks if t.kind == "video")
    window.editor.timeline.edit(Macro("Generate", [AddMedia(item)]))
    track.place(Clip("c1", item.id, 0, 8))
    return item.id


def _save_untitled(window: MainWindow, path: Path, monkeypatch) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    monkeypatch.setattr(main_window_module.QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), ""))
    assert window.save()


def test_collect_copies_media_bits_and_clips_and_the_folder_moves_whole(window, qtbot, tmp_path, monkeypatch):
    media_id = _with_generated_clip(window)
    original = window.project.media[media_id].path
    asked = []
    window.ask_collect = lambda items, made, target, reply: asked.append(([i.id for i in items], made, target)) or \
        reply(items)
    _save_untitled(window, tmp_path / "work" / "film.istar", monkeypatch)
    assert asked == [([media_id], {media_id}, tmp_path / "work" / "film.media")]
    qtbot.waitUntil(lambda: window.collect_task is None, timeout=30_000)

    copy = tmp_path / "work" / "film.media" / original.name
    assert window.project.media[media_id].path == copy and window.editor.stack.isClean()
    assert bits_path(copy).read_bytes() == b"bits of the video"
    assert (clips_folder(copy) / "clip-000.mp4").read_bytes() == b"first clip"
    assert original.is_file() and bits_path(original).is_file()  # the originals stay: a copy, not a move
    stored = json.loads((tmp_path / "work" / "film.istar").read_text())
    assert [m["path"] for m in stored["media"]] == [f"film.media/{original.name}"]

    shutil.move(tmp_path / "work", tmp_path / "elsewhere")
    shutil.rmtree(studio_home() / "unsaved media")  # nothing outside the folder is needed any more
    assert window.open_project(tmp_path / "elsewhere" / "film.istar", ask=False)
    moved = window.project.media[media_id].path
    assert moved == tmp_path / "elsewhere" / "film.media" / original.name and moved.is_file()
    assert bits_path(moved).is_file() and (clips_folder(moved) / "clip-000.mp4").is_file()


def test_the_question_waits_without_blocking_the_save_and_collect_answers_it(window, qtbot, tmp_path, monkeypatch):
    media_id = _with_generated_clip(window)
    _save_untitled(window, tmp_path / "work" / "film.istar", monkeypatch)  # returns with the question open
    box = window.collect_question
    assert box is not None and box.isVisible() and window.editor.stack.isClean()
    assert sorted(b.text() for b in box.buttons.buttons()) == ["Collect", "Keep where they are"]
    box.collect.click()
    qtbot.waitUntil(lambda: window.collect_task is None and window.collect_question is None, timeout=30_000)
    assert window.project.media[media_id].path.parent == tmp_path / "work" / "film.media"


def test_keep_where_they_are_leaves_the_paths(window, qtbot, tmp_path, monkeypatch):
    media_id = _with_generated_clip(window)
    original = window.project.media[media_id].path
    window.ask_collect = lambda items, made, target, reply: reply([])
    _save_untitled(window, tmp_path / "work" / "film.istar", monkeypatch)
    assert window.collect_task is None and window.project.media[media_id].path == original
    assert load_project(tmp_path / "work" / "film.istar").media[media_id].path == original
    assert not (tmp_path / "work" / "film.media").exists()


def test_a_second_save_in_the_same_folder_asks_nothing(window, qtbot, tmp_path, monkeypatch):
    _with_generated_clip(window)
    asked = []
    window.ask_collect = lambda items, made, target, reply: asked.append(items) or reply([])
    _save_untitled(window, tmp_path / "work" / "film.istar", monkeypatch)
    assert window.save() and len(asked) == 1


@pytest.mark.skipif(sys.platform == "win32", reason="a read-only folder is made with POSIX modes")
def test_a_failed_collection_leaves_the_project_saved_on_the_originals(window, qtbot, tmp_path, monkeypatch):
    media_id = _with_generated_clip(window)
    original = window.project.media[media_id].path
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / "film.media").mkdir()
    (folder / "film.media").chmod(stat.S_IRUSR | stat.S_IXUSR)  # read-only: no copy can be made there
    if os.geteuid() == 0:  # root writes anyway: it gets the refusal a person would

        def refused(source, target, on_bytes=None):
            raise PermissionError(13, "Permission denied", str(target))

        monkeypatch.setattr(collect_module, "copy_atomic", refused)
    warnings = []
    monkeypatch.setattr(main_window_module.QMessageBox, "warning", lambda _, title, text: warnings.append(text))
    window.ask_collect = lambda items, made, target, reply: reply(items)
    try:
        _save_untitled(window, folder / "film.istar", monkeypatch)
        qtbot.waitUntil(lambda: window.collect_task is None, timeout=30_000)
        assert window.project.media[media_id].path == original and window.editor.stack.isClean()
        assert load_project(folder / "film.istar").media[media_id].path == original
        [text] = warnings
        assert str(original) in text and "Permission denied" in text and "still uses" in text
        assert list((folder / "film.media").iterdir()) == []
    finally:
        (folder / "film.media").chmod(stat.S_IRWXU)


def test_all_media_outside_the_folder_are_offered_the_studios_told_apart_and_names_never_clash(tmp_path,
                                                                                              monkeypatch):
    monkeypatch.setenv("ISTAR_HOME", str(tmp_path / "home"))
    unsaved = studio_home() / "unsaved media"
    made = probe_media(_generated(unsaved))
    imported = probe_media(_generated(tmp_path / "videos", "holiday.mp4"))
    from desktop.project.formats import new_project
    from desktop.project.title import Title

    project = new_project()
    title = made.__class__(id="t", path=Path("Title"), kind="title", duration=0.0, title=Title("hi"))
    project.media = {made.id: made, imported.id: imported, "t": title}
    target = tmp_path / "work" / "film.media"
    assert media_to_collect(project, tmp_path / "work" / "film.istar") == [made, imported]  # titles have no file
    assert made_by_studio(made, [unsaved]) and not made_by_studio(imported, [unsaved])

    _generated(target, made.path.name)  # a file of that name is there already: it is never overwritten
    [move] = plan_collect([made], target)
    assert move.target == target / f"{made.path.stem}-2.mp4"
    progress = []
    outcome = collect_media([move], progress.append)
    assert outcome.moved == {made.id: move.target} and not outcome.failed and progress[-1] == 1.0
    assert bits_path(move.target).is_file() and (clips_folder(move.target) / "clip-000.mp4").is_file()


def test_save_as_into_another_folder_offers_the_old_project_media(window, qtbot, tmp_path, monkeypatch):
    window.ask_collect = lambda items, made, target, reply: reply(items)
    _with_generated_clip(window)
    _save_untitled(window, tmp_path / "old" / "film.istar", monkeypatch)
    qtbot.waitUntil(lambda: window.collect_task is None, timeout=30_000)
    [media] = window.project.media.values()
    assert media.path.parent == tmp_path / "old" / "film.media"

    asked = []
    window.ask_collect = lambda items, made, target, reply: asked.append(target) or reply(items)
    (tmp_path / "new").mkdir()
    monkeypatch.setattr(main_window_module.QFileDialog, "getSaveFileName",
                        lambda *a, **k: (str(tmp_path / "new" / "copy.istar"), ""))
    assert window.save_as()
    qtbot.waitUntil(lambda: window.collect_task is None, timeout=30_000)
    assert asked == [tmp_path / "new" / "copy.media"]
    assert window.project.media[media.id].path == tmp_path / "new" / "copy.media" / media.path.name
    assert (tmp_path / "old" / "film.media" / media.path.name).is_file()  # the old project keeps its own


def _with_imported_clip(window: MainWindow, folder: Path) -> str:
    item = probe_media(_generated(folder, "holiday.mp4"))
    window.editor.timeline.edit(Macro("Import media", [AddMedia(item)]))
    return item.id


def test_imported_files_are_offered_unticked_and_everything_collects_them_too(window, qtbot, tmp_path, monkeypatch):
    made_id = _with_generated_clip(window)
    imported_id = _with_imported_clip(window, tmp_path / "videos")
    _save_untitled(window, tmp_path / "work" / "film.istar", monkeypatch)
    box = window.collect_question
    rows = [box.files.item(i) for i in range(box.files.count())]
    assert [(r.text().split("  ")[0], r.checkState() == Qt.CheckState.Checked) for r in rows] == [
        ("a-red-circle-s3-1a2b.mp4", True), ("holiday.mp4", False)]
    assert "made by the studio" in rows[0].text() and "imported" in rows[1].text()
    assert box.total.text().startswith("1 of 2 file(s)")
    box.everything.click()
    assert all(r.checkState() == Qt.CheckState.Checked for r in rows) and box.total.text().startswith("2 of 2")
    box.studio_only.click()
    assert [r.checkState() == Qt.CheckState.Checked for r in rows] == [True, False]
    rows[0].setCheckState(Qt.CheckState.Unchecked)
    assert not box.collect.isEnabled()  # nothing ticked: only "Keep where they are" means something
    box.everything.click()
    box.collect.click()
    qtbot.waitUntil(lambda: window.collect_task is None, timeout=30_000)
    media = window.project.media
    assert media[made_id].path.parent == media[imported_id].path.parent == tmp_path / "work" / "film.media"
    assert (tmp_path / "videos" / "holiday.mp4").is_file()  # a copy: the person's own file stays


def test_the_studios_own_only_leaves_imported_files_where_they_are(window, qtbot, tmp_path, monkeypatch):
    made_id = _with_generated_clip(window)
    imported_id = _with_imported_clip(window, tmp_path / "videos")
    _save_untitled(window, tmp_path / "work" / "film.istar", monkeypatch)
    window.collect_question.collect.click()  # as offered: the studio's own only
    qtbot.waitUntil(lambda: window.collect_task is None, timeout=30_000)
    assert window.project.media[made_id].path.parent == tmp_path / "work" / "film.media"
    assert window.project.media[imported_id].path == tmp_path / "videos" / "holiday.mp4"


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def test_one_file_failing_collects_nothing_and_removes_the_copies_made(window, qtbot, tmp_path, monkeypatch):
    made_id = _with_generated_clip(window)
    imported_id = _with_imported_clip(window, tmp_path / "videos")
    before = {m: window.project.media[m].path for m in (made_id, imported_id)}
    real_copy = collect_module.copy_atomic

    def full_disk(source, target, on_bytes=None):
        if source.name == "holiday.mp4":  # the last file: every other is copied by then
            raise OSError(28, "No space left on device")
        real_copy(source, target, on_bytes)

    monkeypatch.setattr(collect_module, "copy_atomic", full_disk)
    warnings = []
    monkeypatch.setattr(main_window_module.QMessageBox, "warning", lambda _, title, text: warnings.append(text))
    window.ask_collect = lambda items, made, target, reply: reply(items)
    _save_untitled(window, tmp_path / "work" / "film.istar", monkeypatch)
    qtbot.waitUntil(lambda: window.collect_task is None, timeout=30_000)
    assert {m: window.project.media[m].path for m in before} == before and window.editor.stack.isClean()
    stored = load_project(tmp_path / "work" / "film.istar")
    assert {m: stored.media[m].path for m in before} == before
    assert _files(tmp_path / "work" / "film.media") == []
    [text] = warnings
    assert "Nothing was collected" in text and "holiday.mp4" in text and "No space left on device" in text


def test_cancel_between_files_removes_what_was_copied(tmp_path, monkeypatch):
    monkeypatch.setenv("ISTAR_HOME", str(tmp_path / "home"))
    items = [probe_media(_generated(tmp_path / "videos", name)) for name in ("one.mp4", "two.mp4")]
    moves = plan_collect(items, tmp_path / "work" / "film.media")
    copied = []
    outcome = collect_media(moves, copied.append, cancelled=lambda: len(copied) > 3)  # in the first video's files
    assert outcome.cancelled and not outcome.moved and not outcome.failed
    assert _files(tmp_path / "work" / "film.media") == []


def test_closing_the_window_while_collecting_leaves_the_project_on_its_originals(window, qtbot, tmp_path,
                                                                                 monkeypatch):
    made_id = _with_generated_clip(window)
    original = window.project.media[made_id].path
    real_copy, started = collect_module.copy_atomic, threading.Event()

    def slow_copy(source, target, on_bytes=None):
        """Copies the bits and the clips; stays in the middle of the video's copy until the window stops it."""
        if source == original:
            started.set()
            while not current_task().cancel_requested():
                time.sleep(0.01)
            on_bytes(0)
        real_copy(source, target, on_bytes)

    monkeypatch.setattr(collect_module, "copy_atomic", slow_copy)
    window.ask_collect = lambda items, made, target, reply: reply(items)
    _save_untitled(window, tmp_path / "work" / "film.istar", monkeypatch)
    qtbot.waitUntil(started.is_set, timeout=30_000)
    assert len(_files(tmp_path / "work" / "film.media")) == 2  # the bits and the clip: the video is being copied
    window.close()
    assert window.collect_task is None and window.project.media[made_id].path == original
    assert load_project(tmp_path / "work" / "film.istar").media[made_id].path == original
    assert _files(tmp_path / "work" / "film.media") == [] and original.is_file() and bits_path(original).is_file()
