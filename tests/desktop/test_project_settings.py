"""File > Project settings... and File > New project...: the dialog applies a preset or a custom size and a frame
rate as one undoable edit, refuses a size that cannot be a frame naming the field, and the format chosen last is what
a new project starts with (the first start uses the default and asks nothing)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QDialogButtonBox
from studio_window import folder_settings, studio_window

from desktop.main_window import MainWindow
from desktop.project.formats import DEFAULT_FORMAT, ProjectFormat
from desktop.project.model import Clip, MediaItem
from desktop.project_settings import CUSTOM, FORMAT_KEY, ProjectFormatDialog, remembered_format

FOOTAGE = Path("/footage")


@pytest.fixture
def settings(tmp_path):
    return folder_settings(tmp_path)


@pytest.fixture
def make_window(qtbot, tmp_path, monkeypatch, settings):
    monkeypatch.setenv("ISTAR_HOME", str(tmp_path / "home"))

    def make() -> MainWindow:
        return studio_window(qtbot, tmp_path, settings)  # a project left with edits asks nothing on close

    return make


def ok_button(dialog: ProjectFormatDialog):
    return dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)


def test_the_dialog_applies_a_preset_and_a_rate(qtbot):
    dialog = ProjectFormatDialog(DEFAULT_FORMAT)
    qtbot.addWidget(dialog)
    chosen = []
    dialog.chosen.connect(chosen.append)
    assert dialog.frame_size.currentText() == "720p (1280x720)" and dialog.fps.currentData() == 16
    assert not dialog.width_box.isEnabled()  # a preset's sides are the preset's
    dialog.choose_preset("Vertical 9:16")
    dialog.choose_fps(30)
    assert dialog.summary.text() == "1080x1920 (9:16) at 30 frames a second"
    dialog.accept()
    assert chosen == [ProjectFormat(1080, 1920, 30)]


def test_the_dialog_applies_a_custom_size(qtbot):
    dialog = ProjectFormatDialog(DEFAULT_FORMAT)
    qtbot.addWidget(dialog)
    chosen = []
    dialog.chosen.connect(chosen.append)
    dialog.choose_preset(CUSTOM)
    assert dialog.width_box.isEnabled() and dialog.height_box.isEnabled()
    dialog.width_box.setValue(1000)
    dialog.height_box.setValue(500)
    dialog.choose_fps(25)
    assert ok_button(dialog).isEnabled() and dialog.message.isHidden()
    dialog.accept()
    assert chosen == [ProjectFormat(1000, 500, 25)]


@pytest.mark.parametrize(("field", "width", "height", "said"), [
    ("width", 1001, 720, "Width should be an even number of pixels from 16 to 8192, not 1001"),
    ("height", 1280, 9000, "Height should be an even number of pixels from 16 to 8192, not 9000"),
    ("width", 8, 720, "Width should be an even number of pixels from 16 to 8192, not 8"),
])
def test_the_dialog_refuses_a_custom_size_that_cannot_be_a_frame_naming_the_field(qtbot, field, width, height, said):
    dialog = ProjectFormatDialog(DEFAULT_FORMAT)
    qtbot.addWidget(dialog)
    chosen = []
    dialog.chosen.connect(chosen.append)
    dialog.choose_preset(CUSTOM)
    dialog.width_box.setValue(width)
    dialog.height_box.setValue(height)
    assert dialog.message.text() == said and not dialog.message.isHidden()
    assert not ok_button(dialog).isEnabled()
    dialog.accept()  # Enter, say: refused, still open
    assert chosen == [] and dialog.result() == 0
    dialog.choose_preset("1080p")  # a preset puts right what was wrong
    assert ok_button(dialog).isEnabled() and dialog.message.isHidden()


def test_a_project_at_another_rate_shows_it_among_the_choices(qtbot):
    dialog = ProjectFormatDialog(ProjectFormat(640, 360, 60))
    qtbot.addWidget(dialog)
    assert dialog.frame_size.currentText() == CUSTOM and dialog.fps.currentData() == 60
    assert [dialog.fps.itemData(i) for i in range(dialog.fps.count())] == [16, 24, 25, 30, 60]


def test_the_first_start_uses_the_default_format_without_asking(make_window):
    window = make_window()
    assert ProjectFormat.of(window.project) == DEFAULT_FORMAT == ProjectFormat(1280, 720, 16)
    assert window.findChildren(ProjectFormatDialog) == []


def test_project_settings_change_the_format_in_one_undo_step_keeping_clip_times(make_window, qtbot):
    window = make_window()
    project = window.project
    project.media["vid"] = MediaItem("vid", FOOTAGE / "vid.mp4", "video", 5.0, 16, 64, 64)
    project.tracks[0].clips = [Clip("c", "vid", start=16, length=32)]
    window.editor.timeline.refresh()
    window.editor.timeline.set_playhead(40)  # 2.5 s
    dialog = window.show_project_settings()
    assert dialog.isVisible() and dialog.windowTitle() == "Project settings"
    dialog.choose_preset("1080p")
    dialog.choose_fps(24)
    dialog.accept()
    clip = project.tracks[0].clips[0]
    assert ProjectFormat.of(project) == ProjectFormat(1920, 1080, 24)
    assert (clip.start, clip.length) == (24, 48)  # still 1 s to 3 s
    assert window.editor.timeline.playhead == 60  # still 2.5 s
    assert window.editor.timeline.scale.fps == 24
    assert window.editor.stack.count() == 1 and window.editor.stack.undoText() == "Change project format"
    window.editor.stack.undo()
    assert ProjectFormat.of(project) == DEFAULT_FORMAT and (clip.start, clip.length) == (16, 32)
    assert window.editor.timeline.playhead == 40
    window.editor.stack.redo()
    assert ProjectFormat.of(project) == ProjectFormat(1920, 1080, 24) and (clip.start, clip.length) == (24, 48)


def test_choosing_the_format_the_project_has_is_no_edit(make_window):
    window = make_window()
    dialog = window.show_project_settings()
    dialog.accept()
    assert window.editor.stack.count() == 0


def test_new_project_asks_its_format_starting_from_the_one_chosen_last(make_window, settings):
    window = make_window()
    assert window.set_project_format(ProjectFormat(1080, 1080, 25))  # chosen in Project settings
    assert remembered_format(settings) == ProjectFormat(1080, 1080, 25)
    dialog = window.ask_new_project()
    assert dialog.windowTitle() == "New project"
    assert dialog.chosen_format() == ProjectFormat(1080, 1080, 25)
    dialog.choose_preset("480p")
    dialog.choose_fps(30)
    dialog.accept()
    assert ProjectFormat.of(window.project) == ProjectFormat(854, 480, 30)
    assert window.project_path is None and window.editor.stack.count() == 0
    assert settings.value(FORMAT_KEY) == "854x480@30"
    window.new_project()  # without the dialog: the format chosen last
    assert ProjectFormat.of(window.project) == ProjectFormat(854, 480, 30)


def test_a_cancelled_new_project_keeps_the_open_one(make_window):
    window = make_window()
    before = window.project
    dialog = window.ask_new_project()
    dialog.reject()
    assert window.project is before


def test_the_next_start_begins_with_the_format_chosen_last(make_window, settings):
    settings.setValue(FORMAT_KEY, "1080x1920@30")
    assert ProjectFormat.of(make_window().project) == ProjectFormat(1080, 1920, 30)
    settings.setValue(FORMAT_KEY, "1081x1920@30")  # broken by hand: the default
    assert ProjectFormat.of(make_window().project) == DEFAULT_FORMAT
