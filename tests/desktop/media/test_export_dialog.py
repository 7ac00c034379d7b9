"""The export dialog: it states the length and an estimated size, refuses what cannot be exported naming the field,
exports in the background with the settings chosen and the time left, and a Cancel leaves no file. The encoder speed
of the last export is what the next one starts with."""

from __future__ import annotations

import threading
from pathlib import Path

import av
import pytest
from PySide6.QtCore import QSettings

from desktop.export_dialog import SPEED_KEY, ExportDialog, default_export_path
from desktop.main_window import MainWindow
from desktop.media.export_settings import FAST, FASTEST, H264, THOROUGH
from desktop.project.model import Clip, MediaItem, Project, new_id
from engine.api.job_book import JobBook
from engine.api.transport import LocalEngine


@pytest.fixture
def project(numbers: MediaItem, wav: MediaItem) -> Project:
    """128x64 at 16 fps: 2 s of numbers on the video track, the tone's second under it."""
    project = Project.empty(fps=16, width=128, height=64)
    project.media = {numbers.id: numbers, wav.id: wav}
    project.tracks[0].place(Clip(new_id(), numbers.id, start=0, length=32))
    project.tracks[1].place(Clip(new_id(), wav.id, start=0, length=16))
    return project


@pytest.fixture
def dialog(qtbot, project: Project, tmp_path: Path) -> ExportDialog:
    dialog = ExportDialog(project, tmp_path / "film.mp4")
    qtbot.addWidget(dialog)
    return dialog


def test_it_opens_with_the_projects_format_and_states_length_and_size(dialog: ExportDialog) -> None:
    assert dialog.frame_size.currentText() == "Project (128x64)" and dialog.fps.currentText() == "Project (16 fps)"
    assert dialog.codec.currentData() == H264 and dialog.crf.value() == 20
    assert not dialog.width_box.isEnabled()
    assert dialog.summary.text().startswith("Length 0:02 (32 frames at 16 fps), about ")
    assert "an estimate" in dialog.summary.text() and dialog.export_button.isEnabled()
    dialog.quality_mode.setCurrentIndex(1)
    dialog.bitrate.setValue(1000)
    assert "about 304 KB (from the bitrate)" in dialog.summary.text()  # (1000 + 192) kb/s for 2 s, and the container
    dialog.fps.setCurrentIndex(dialog.fps.findData(30))
    assert dialog.summary.text().startswith("Length 0:02 (60 frames at 30 fps)")
    assert dialog.note.text().startswith("At 30 fps each clip keeps its time")


def test_an_invalid_custom_size_is_refused_naming_the_field(dialog: ExportDialog, tmp_path: Path) -> None:
    dialog.choose_preset("Custom")
    assert dialog.width_box.isEnabled()
    dialog.width_box.setValue(1001)
    assert dialog.message.text() == "Width should be an even number of pixels from 16 to 8192, not 1001"
    assert not dialog.export_button.isEnabled() and dialog.start() is None
    dialog.width_box.setValue(1000)
    dialog.height_box.setValue(9000)
    assert dialog.message.text().startswith("Height should be an even number")
    dialog.height_box.setValue(500)
    assert dialog.message.text() == "" and dialog.export_button.isEnabled()
    dialog.file.setText(str(tmp_path / "no such folder" / "a.mp4"))
    assert dialog.message.text().startswith("File: the folder") and not dialog.export_button.isEnabled()
    assert list(tmp_path.iterdir()) == []


def test_it_exports_in_the_background_with_the_settings_chosen(dialog: ExportDialog, qtbot, tmp_path: Path) -> None:
    dialog.choose_preset("Custom")
    dialog.width_box.setValue(96)
    dialog.height_box.setValue(160)
    dialog.fps.setCurrentIndex(dialog.fps.findData(24))
    dialog.crf.setValue(30)
    gui, seen = threading.current_thread(), []
    dialog.progress.setValue = lambda value: seen.append((threading.current_thread(), value))
    with qtbot.waitSignal(dialog.exported, timeout=60_000) as exported:
        assert dialog.start() is not None
        assert not dialog.width_box.isEnabled() and dialog.cancel_button.text() == "Cancel"
    assert exported.args == [tmp_path / "film.mp4"] and dialog.result() == ExportDialog.DialogCode.Accepted
    assert seen[-1] == (gui, 1000) and {thread for thread, _ in seen} == {gui}
    with av.open(str(tmp_path / "film.mp4")) as container:
        video = container.streams.video[0]
        assert (video.width, video.height, video.average_rate, video.frames) == (96, 160, 24, 48)


def test_the_speed_chosen_is_exported_with_shown_in_the_estimate_and_remembered(
    qtbot, project: Project, tmp_path: Path
) -> None:
    stored = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    dialog = ExportDialog(project, tmp_path / "film.mp4", settings=stored)
    qtbot.addWidget(dialog)
    assert [dialog.speed.itemText(i) for i in range(dialog.speed.count())] == [
        "Fastest (drafts)", "Fast", "Thorough (slower)"]
    assert dialog.speed.currentData() == FAST and dialog.settings().speed == FAST
    dialog.choose_preset("720p")
    fast_summary = dialog.summary.text()
    dialog.speed.setCurrentIndex(dialog.speed.findData(FASTEST))
    assert dialog.settings().speed == FASTEST and dialog.summary.text() != fast_summary  # a larger file
    with qtbot.waitSignal(dialog.exported, timeout=60_000):
        dialog.start()
    assert stored.value(SPEED_KEY) == FASTEST
    assert b" me=dia subme=0 " in (tmp_path / "film.mp4").read_bytes()  # x264's ultrafast search
    again = ExportDialog(project, tmp_path / "film.mp4", settings=stored)
    qtbot.addWidget(again)
    assert again.speed.currentData() == FASTEST
    stored.setValue(SPEED_KEY, "warp")  # a speed no longer offered
    third = ExportDialog(project, tmp_path / "film.mp4", settings=stored)
    qtbot.addWidget(third)
    assert third.speed.currentData() == FAST
    assert THOROUGH in [dialog.speed.itemData(i) for i in range(dialog.speed.count())]


def test_cancel_leaves_no_file_and_the_earlier_file_stays(dialog: ExportDialog, qtbot, tmp_path: Path) -> None:
    earlier = tmp_path / "film.mp4"
    earlier.write_bytes(b"the earlier export")
    asked = []
    dialog.confirm_replace = lambda path: asked.append(path) or True
    dialog.choose_preset("1080p")  # slow enough to be cancelled midway
    task = dialog.start()
    assert asked == [earlier]
    qtbot.waitUntil(lambda: dialog.progress.value() > 0, timeout=60_000)
    dialog.cancel_button.click()
    qtbot.waitUntil(lambda: dialog.task is None, timeout=60_000)
    assert task.done() and dialog.message.text() == "Export cancelled: nothing was written."
    assert [p.name for p in tmp_path.iterdir()] == ["film.mp4"] and earlier.read_bytes() == b"the earlier export"
    assert dialog.export_button.isEnabled() and dialog.cancel_button.text() == "Close" and dialog.fields.isEnabled()


def test_not_replacing_an_existing_file_exports_nothing(dialog: ExportDialog, tmp_path: Path) -> None:
    (tmp_path / "film.mp4").write_bytes(b"keep me")
    dialog.confirm_replace = lambda path: False
    assert dialog.start() is None and (tmp_path / "film.mp4").read_bytes() == b"keep me"


def test_the_time_left_comes_from_frames_done_and_the_injected_clock(qtbot, project: Project, tmp_path: Path) -> None:
    now = [100.0]
    dialog = ExportDialog(project, tmp_path / "film.mp4", clock=lambda: now[0])
    qtbot.addWidget(dialog)
    dialog.confirm_replace = lambda path: True
    dialog.start()
    dialog.task.cancel()  # the display is driven by hand below
    now[0] = 112.0
    dialog._show_progress(0.25)
    assert dialog.progress_text.text() == "Frame 8 of 32 · 0:36 left"
    qtbot.waitUntil(lambda: dialog.task is None, timeout=60_000)


def test_an_empty_timeline_is_refused(qtbot, tmp_path: Path) -> None:
    dialog = ExportDialog(Project.empty(), tmp_path / "film.mp4")
    qtbot.addWidget(dialog)
    assert dialog.message.text() == "The timeline is empty: there is nothing to export"
    assert not dialog.export_button.isEnabled()


def test_the_default_file_is_beside_the_project(tmp_path: Path) -> None:
    assert default_export_path(tmp_path / "film.istar") == tmp_path / "film.mp4"
    assert default_export_path(None).name == "untitled.mp4"


def test_file_export_video_opens_the_dialog_beside_the_window(qtbot, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("ISTAR_HOME", str(tmp_path / "home"))
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings, lambda: LocalEngine(tmp_path / "engine.log"), JobBook(tmp_path / "queue.json"))
    qtbot.addWidget(window)
    window.confirm_discard = lambda: True
    dialog = window.export_video_dialog()
    assert dialog.isVisible() and dialog.parent() is window and dialog.path().name == "untitled.mp4"
    dialog.exported.emit(tmp_path / "film.mp4")
    assert window.statusBar().currentMessage() == f"exported {tmp_path / 'film.mp4'}"
    dialog.close()


def test_the_range_offers_the_selected_clips_and_the_playhead_on_and_exports_that_part(qtbot, project: Project,
                                                                                      tmp_path: Path) -> None:
    dialog = ExportDialog(project, tmp_path / "part.mp4", selection=(8, 24), playhead=20)
    qtbot.addWidget(dialog)
    assert [dialog.span.itemText(i) for i in range(dialog.span.count())] == [
        "Whole timeline", "Selected clips (0:00.08 to 0:01.08)", "From the playhead (0:01.04 to the end)"]
    dialog.span.setCurrentIndex(1)
    assert dialog.summary.text().startswith("Length 0:01 (16 frames at 16 fps)")
    dialog.span.setCurrentIndex(2)
    assert dialog.summary.text().startswith("Length 0:01 (12 frames at 16 fps)")
    dialog.start()
    qtbot.waitUntil(lambda: dialog.task is None, timeout=60_000)
    with av.open(str(tmp_path / "part.mp4")) as container:
        assert container.streams.video[0].frames == 12


def test_with_nothing_selected_and_the_playhead_at_the_start_the_range_is_the_whole_timeline(qtbot, project: Project,
                                                                                            tmp_path: Path) -> None:
    dialog = ExportDialog(project, tmp_path / "film.mp4", selection=None, playhead=0)
    qtbot.addWidget(dialog)
    assert [dialog.span.itemText(i) for i in range(dialog.span.count())] == ["Whole timeline"]


def test_the_range_offers_the_part_between_the_markers_around_the_playhead(qtbot, project: Project,
                                                                           tmp_path: Path) -> None:
    project.markers = [4, 12, 20]
    for playhead, offered in ((14, "Between the markers (0:00.12 to 0:01.04)"),
                              (2, "Between the markers (0:00.00 to 0:00.04)"),
                              (25, "Between the markers (0:01.04 to 0:02.00)")):
        dialog = ExportDialog(project, tmp_path / "part.mp4", playhead=playhead)
        qtbot.addWidget(dialog)
        assert dialog.span.itemText(dialog.span.count() - 1) == offered
    dialog.span.setCurrentIndex(dialog.span.count() - 1)
    assert dialog.settings().span == (20, 32)
    project.marker_names = {12: "The chase"}
    dialog = ExportDialog(project, tmp_path / "part.mp4", playhead=14)
    qtbot.addWidget(dialog)
    assert dialog.span.itemText(dialog.span.count() - 1) == "Between the markers (“The chase”, 0:00.12 to 0:01.04)"
