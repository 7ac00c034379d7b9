"""The studio as a person uses it, with the toyworld model through a real engine process: generate onto the
timeline, continue, keep going and stop, bridge, undo, save and reload; a killed engine; import, export and
recovery."""

from __future__ import annotations

import os
import signal

import pytest
import torch
from gui_thread import blocking_calls_on_gui_thread
from PySide6.QtCore import QSettings

from desktop.generate import actions
from desktop.main_window import MainWindow
from desktop.project.file import load_project, write_recovery
from desktop.project.model import Project
from engine.api import protocol as p
from engine.api.job_book import JobBook
from engine.api.transport import LocalEngine
from engine.media.layout import find_bits
from engine.media.mp4 import read_frames, read_metadata
from engine.pipeline.bits import read_bits

PROMPT = "a red circle moves to the right on a blue background"


@pytest.fixture(scope="module")
def shared_window(qapp, tmp_path_factory):
    """One window, and so one engine start, for the module's tests; each test gets it with a new project."""
    folder = tmp_path_factory.mktemp("studio")
    with pytest.MonkeyPatch.context() as environment:  # set for the module, as it was after
        environment.setenv("ISTAR_HOME", str(folder / "home"))
        environment.setenv("OMP_NUM_THREADS", "1")
        settings = QSettings(str(folder / "settings.ini"), QSettings.Format.IniFormat)
        w = MainWindow(settings, lambda: LocalEngine(folder / "engine.log"), JobBook(folder / "queue.json"))
        w.confirm_discard = lambda: True  # new projects between tests and the close at the end ask nothing
        w.show()
        yield w
        w.close()


@pytest.fixture
def window(shared_window, qtbot):
    qtbot.waitUntil(lambda: bool(shared_window.models), timeout=60_000)
    shared_window.new_project()
    return shared_window


def _video_clips(project: Project):
    return [c for t in project.tracks if t.kind == "video" for c in t.clips]


def _generate(window, qtbot, seconds=1):
    window.panel.prompt.setPlainText(PROMPT)
    window.panel.duration.setValue(seconds)
    window.panel.random_seed.setChecked(False)
    window.panel.seed.setValue(3)
    lives = []
    window.controller.changed.connect(lambda: lives.append((len(window.live.shown), len(window.project.tracks))))
    # previews paint and the live clip grows on the GUI thread: from the click to the clip on the timeline it never
    # waits on the engine (counted, not timed: tests/gui_thread.py)
    with blocking_calls_on_gui_thread() as blocking:
        window.generate()
        qtbot.waitUntil(lambda: not window.controller.jobs, timeout=120_000)
    assert blocking == [], f"the GUI thread blocked on {blocking}"
    return lives


def test_generate_continue_undo_save_and_reload(window, qtbot, tmp_path):
    lives = _generate(window, qtbot, seconds=1)
    assert lives and max(shown for shown, _ in lives) == 1  # a live clip came and went while the clip was made
    assert {tracks for _, tracks in lives} == {2}  # and the project's tracks stayed as they were
    [clip] = _video_clips(window.project)
    media = window.project.media_of(clip)
    assert clip.start == 0 and clip.length == 17 and media.provenance["settings"]["seed"] == 3
    assert media.provenance["inputs"]["prompts"] == [PROMPT]
    assert [t.name for t in window.project.tracks] == ["Video 1", "Audio 1"]

    window.editor.timeline.select_clips([clip.id])
    assert window.clip_actions.continue_.isEnabled() and window.clip_actions.regenerate.isEnabled()
    actions.continue_clip(window.generation_context, clip, 1, "a red circle moves up")
    qtbot.waitUntil(lambda: not window.controller.jobs, timeout=120_000)
    first, more = _video_clips(window.project)
    more_media = window.project.media_of(more)
    assert (first.start, first.length, more.start, more.length) == (0, 17, 17, 16)  # it plays on after the clip
    _, before = read_bits(find_bits(media.path))
    _, after = read_bits(find_bits(more_media.path))
    seen = [c for c in after if c.context]  # the clips it went on from, as the first video made them
    assert [c.clip for c in seen] == [c.clip for c in before]
    assert all(torch.equal(a, b) for x, y in zip(before, seen, strict=True) for a, b in zip(x.bits, y.bits,
                                                                                         strict=True))
    assert read_metadata(more_media.path)["inputs"]["prompts"] == ["a red circle moves up"]

    window.editor.stack.undo()
    assert [c.length for c in _video_clips(window.project)] == [17]
    window.editor.stack.undo()
    assert _video_clips(window.project) == []
    window.editor.stack.redo()
    window.editor.stack.redo()
    path = tmp_path / "film.istar"
    assert window._save_to(path)
    reloaded = load_project(path)
    assert reloaded == window.project and window.windowTitle().startswith("film.istar - ")


def test_a_killed_engine_fails_the_job_as_crashed_and_leaves_the_project_intact(window, qtbot, tmp_path):
    _generate(window, qtbot, seconds=1)
    kept = window.project.tracks[0].clips[:]
    window.panel.duration.setValue(6)
    window.generate()
    [job_id] = list(window.controller.jobs)

    def running() -> bool:
        item = window.queue_view._items.get(job_id)
        return item is not None and "pass" in item.text(2)

    qtbot.waitUntil(running, timeout=60_000)
    pid = window.bridge.engine_pid
    assert pid and pid != os.getpid()
    os.kill(pid, signal.SIGKILL)
    qtbot.waitUntil(lambda: not window.controller.jobs, timeout=60_000)  # at once (the exit status), but untimed
    assert window.queue_view._items[job_id].text(1) == "failed: crashed"
    assert window.project.tracks[0].clips == kept
    assert "crashed" in window.statusBar().currentMessage() or window.failure_box.isVisible()
    assert [t.name for t in window.project.tracks] == ["Video 1", "Audio 1"]  # the live clips went with the job
    window.panel.duration.setValue(1)
    window.generate()
    qtbot.waitUntil(lambda: not window.controller.jobs, timeout=120_000)
    assert len(_video_clips(window.project)) == 2


def test_keep_going_grows_the_clip_until_stopped_and_keeps_every_clip_made_as_one_undo_step(window, qtbot):
    _generate(window, qtbot, seconds=1)
    [clip] = _video_clips(window.project)
    window.editor.timeline.select_clips([clip.id])
    ready = []
    window.bridge.event.connect(lambda message: ready.append(message) if isinstance(message, p.ClipReady) else None)
    window.clip_actions.keep_going.trigger()
    qtbot.waitUntil(lambda: len(ready) >= 3, timeout=120_000)
    assert window.live.shown[0].clip.start == 17 and window.clip_actions.stop.isEnabled()
    window.clip_actions.stop.trigger()
    qtbot.waitUntil(lambda: not window.controller.jobs, timeout=60_000)
    first, kept = _video_clips(window.project)
    assert (first.start, first.length, kept.start) == (0, 17, 17) and kept.length >= 3 * 16
    assert kept.length % 16 == 0 and "generation stopped" in window.statusBar().currentMessage()
    assert not window.clip_actions.stop.isEnabled() and window.editor.stack.undoText() == "Keep going"
    window.editor.stack.undo()
    assert _video_clips(window.project) == [first]


def test_a_bridge_plays_on_from_the_first_clip_and_fades_into_the_second_which_plays_on_after(window, qtbot):
    _generate(window, qtbot, seconds=1)
    window.editor.timeline.set_playhead(17)
    _generate(window, qtbot, seconds=1)
    first, second = _video_clips(window.project)
    assert second.start == 17
    window.editor.timeline.select_clips([first.id])
    assert window.clip_actions.bridge.isEnabled()
    actions.bridge_clips(window.generation_context, first, second, 1, crossfade_seconds=0.5)
    qtbot.waitUntil(lambda: not window.controller.jobs, timeout=120_000)
    placed = [(c.start, c.length, c.source_in) for c in _video_clips(window.project)]
    assert placed == [(0, 17, 0), (17, 16, 0), (33, 9, 8)]  # the second's first 8 frames are in the fade
    window.editor.stack.undo()
    assert [(c.start, c.length, c.source_in) for c in _video_clips(window.project)] == [(0, 17, 0), (17, 17, 0)]


def test_import_export_and_an_autosave_offered_back(window, qtbot, tmp_path, monkeypatch):
    _generate(window, qtbot, seconds=1)
    [clip] = _video_clips(window.project)
    out = tmp_path / "exported.mp4"
    task = window.export_to(out)
    qtbot.waitSignal(task.finished, timeout=60_000)
    qtbot.waitUntil(out.is_file, timeout=10_000)
    frames, fps = read_frames(out)
    assert len(frames) == 17 and fps == 16
    [entry] = read_metadata(out)
    assert entry["provenance"]["settings"]["seed"] == 3

    (tmp_path / "notes.txt").write_text("not a video")
    monkeypatch.setattr("desktop.main_window.QMessageBox.warning", lambda *args: None)
    [imported] = window.import_paths([out, tmp_path / "notes.txt"])
    media = window.project.media[imported]
    assert media.generation.settings.seed == 3  # Regenerate and Continue come back

    path = tmp_path / "film.istar"
    window._save_to(path)
    window.editor.timeline.delete_selected()
    window.editor.timeline.select_clips([clip.id])
    window.editor.timeline.delete_selected()
    write_recovery(window.project, path)
    monkeypatch.setattr("desktop.main_window.offer_recovery", lambda *args, **kwargs: "recover")
    window.editor.stack.setClean()
    assert window.open_project(path)
    assert _video_clips(window.project) == [] and window.windowTitle().startswith("film.istar * ")
    assert len(load_project(path).tracks[0].clips) == 1  # the user's file was never written by the autosave


def test_help_opens_the_model_setup_beside_the_window_with_what_this_machine_runs(window, qtbot):
    wizard = window.show_setup()
    qtbot.waitUntil(wizard.device_page.isComplete, timeout=30_000)
    assert not wizard.isModal() and window.isEnabled()
    table = wizard.device_page.table
    rows = {table.topLevelItem(i).text(0): table.topLevelItem(i).text(1) for i in range(table.topLevelItemCount())}
    assert rows["toyworld"] == "built in"
    assert [window.panel.model.itemData(i) for i in range(window.panel.model.count())] == ["toyworld"]
    wizard.close()
