"""On a project's first save, the media the studio made for it in "unsaved media" are offered for collecting into
the project's own media folder: with their bits and clips, so the folder moves as a whole; kept where they are on
request; and a collection that fails leaves the project saved and using the originals, saying what failed."""

from __future__ import annotations

import json
import os
import shutil
import stat
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QSettings

from desktop import main_window as main_window_module
from desktop.main_window import MainWindow
from desktop.media.probe import probe_media
from desktop.project import collect as collect_module
from desktop.project.collect import collect_media, media_to_collect, plan_collect
from desktop.project.commands import AddMedia, Macro
from desktop.project.file import load_project
from desktop.project.model import Clip
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
    window.ask_collect = lambda items, target, reply: asked.append(([i.id for i in items], target)) or reply(True)
    _save_untitled(window, tmp_path / "work" / "film.istar", monkeypatch)
    assert asked == [([media_id], tmp_path / "work" / "film.media")]
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
    [collect] = [b for b in box.buttons() if b.text() == "Collect"]
    assert sorted(b.text() for b in box.buttons()) == ["Collect", "Keep where they are"]
    collect.click()
    qtbot.waitUntil(lambda: window.collect_task is None and window.collect_question is None, timeout=30_000)
    assert window.project.media[media_id].path.parent == tmp_path / "work" / "film.media"


def test_keep_where_they_are_leaves_the_paths(window, qtbot, tmp_path, monkeypatch):
    media_id = _with_generated_clip(window)
    original = window.project.media[media_id].path
    window.ask_collect = lambda items, target, reply: reply(False)
    _save_untitled(window, tmp_path / "work" / "film.istar", monkeypatch)
    assert window.collect_task is None and window.project.media[media_id].path == original
    assert load_project(tmp_path / "work" / "film.istar").media[media_id].path == original
    assert not (tmp_path / "work" / "film.media").exists()


def test_a_second_save_in_the_same_folder_asks_nothing(window, qtbot, tmp_path, monkeypatch):
    _with_generated_clip(window)
    asked = []
    window.ask_collect = lambda items, target, reply: asked.append(items) or reply(False)
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
    window.ask_collect = lambda items, target, reply: reply(True)
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


def test_only_studio_made_media_outside_the_folder_are_collected_and_names_never_clash(tmp_path, monkeypatch):
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
    assert media_to_collect(project, tmp_path / "work" / "film.istar", [unsaved]) == [made]

    _generated(target, made.path.name)  # a file of that name is there already: it is never overwritten
    [move] = plan_collect([made], target)
    assert move.target == target / f"{made.path.stem}-2.mp4"
    progress = []
    outcome = collect_media([move], progress.append)
    assert outcome.moved == {made.id: move.target} and not outcome.failed and progress[-1] == 1.0
    assert bits_path(move.target).is_file() and (clips_folder(move.target) / "clip-000.mp4").is_file()


def test_save_as_into_another_folder_offers_the_old_project_media(window, qtbot, tmp_path, monkeypatch):
    window.ask_collect = lambda items, target, reply: reply(True)
    _with_generated_clip(window)
    _save_untitled(window, tmp_path / "old" / "film.istar", monkeypatch)
    qtbot.waitUntil(lambda: window.collect_task is None, timeout=30_000)
    [media] = window.project.media.values()
    assert media.path.parent == tmp_path / "old" / "film.media"

    asked = []
    window.ask_collect = lambda items, target, reply: asked.append(target) or reply(True)
    (tmp_path / "new").mkdir()
    monkeypatch.setattr(main_window_module.QFileDialog, "getSaveFileName",
                        lambda *a, **k: (str(tmp_path / "new" / "copy.istar"), ""))
    assert window.save_as()
    qtbot.waitUntil(lambda: window.collect_task is None, timeout=30_000)
    assert asked == [tmp_path / "new" / "copy.media"]
    assert window.project.media[media.id].path == tmp_path / "new" / "copy.media" / media.path.name
    assert (tmp_path / "old" / "film.media" / media.path.name).is_file()  # the old project keeps its own
