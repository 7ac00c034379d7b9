"""The inspector's Transform and Colour sections as a person uses them: arrow keys on a box are one undo step, the
monitor shows the placed (or graded) clip, a fitted clip becomes custom where it was when moved; a video slower than
the project offers smooth motion; only videos and pictures have a colour to grade."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QCheckBox
from studio_window import shown_window

from desktop.inspector import Inspector
from desktop.main_window import MainWindow
from desktop.project.grade import Grade
from desktop.project.model import Clip, MediaItem, Project, Track
from desktop.project.transform import Transform
from engine.media.image import write_png

COLOUR = (200, 100, 60)


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    return shown_window(qtbot, tmp_path, monkeypatch)  # it closes with edits unsaved: quietly


def pixel(image: QImage, x: float, y: float) -> tuple[int, int, int]:
    """The colour at (x, y) given as fractions of the picture's width and height."""
    colour = image.pixelColor(int(x * image.width()), int(y * image.height()))
    return colour.red(), colour.green(), colour.blue()


def near(colour: tuple[int, int, int], expected: tuple[float, float, float], tolerance: float = 2) -> bool:
    return bool(np.abs(np.subtract(colour, expected)).max() <= tolerance)


def placed_clip(window: MainWindow, tmp_path, width: int, height: int) -> str:
    """A one-colour picture of the frame's shape, on the timeline and selected."""
    path = tmp_path / "colour.png"
    write_png(path, np.full((height, width, 3), COLOUR, np.uint8))
    [media_id] = window.import_paths([path])
    window.place_media(media_id)
    [clip] = [c for t in window.project.tracks for c in t.clips]
    window.editor.timeline.select_clips([clip.id])
    return clip.id


def test_arrow_steps_on_opacity_are_one_undo_step_and_the_monitor_shows_them(window, qtbot, tmp_path) -> None:
    project = window.project
    clip_id = placed_clip(window, tmp_path, project.width // 8, project.height // 8)
    panel = window.inspector.transform_panel
    assert panel.isVisible() and panel.mode.currentText() == "Fit (letterbox)"
    monitor = window.editor.monitor
    qtbot.waitUntil(lambda: monitor.image is not None and near(pixel(monitor.image, 0.5, 0.5), COLOUR))
    opacity = panel.boxes["opacity"]
    assert opacity.value() == 100
    for _ in range(3):
        QTest.keyClick(opacity, Qt.Key.Key_Down)  # 5 % a step
    assert opacity.value() == 85 and project.find_clip(clip_id)[1].transform == Transform(opacity=0.85)
    # over black, 85 % of the colour
    qtbot.waitUntil(lambda: near(pixel(monitor.image, 0.5, 0.5), [0.85 * c for c in COLOUR]))
    assert window.editor.stack.undoText() == "Change clip opacity"
    QTest.keyClick(opacity, Qt.Key.Key_Return)  # the next steps are another edit
    QTest.keyClick(opacity, Qt.Key.Key_Down)
    window.editor.stack.undo()
    assert project.find_clip(clip_id)[1].transform == Transform(opacity=0.85)
    window.editor.stack.undo()
    assert project.find_clip(clip_id)[1].transform == Transform()
    assert opacity.value() == 100
    qtbot.waitUntil(lambda: near(pixel(monitor.image, 0.5, 0.5), COLOUR))


def test_scaling_a_fitted_clip_makes_it_custom_and_shrinks_it_about_its_centre(window, qtbot, tmp_path) -> None:
    project = window.project
    clip_id = placed_clip(window, tmp_path, project.width // 8, project.height // 8)
    panel = window.inspector.transform_panel
    panel.boxes["scale"].setValue(50)
    assert panel.mode.currentText() == "Custom"
    assert project.find_clip(clip_id)[1].transform == Transform("custom", scale=0.5)
    # half the frame's size, centred: from a quarter to three quarters each way
    monitor = window.editor.monitor
    qtbot.waitUntil(lambda: near(pixel(monitor.image, 0.2, 0.5), (0, 0, 0)) and
                    near(pixel(monitor.image, 0.3, 0.3), COLOUR))
    assert near(pixel(monitor.image, 0.5, 0.8), (0, 0, 0)) and near(pixel(monitor.image, 0.7, 0.7), COLOUR)
    panel.boxes["x"].setValue(25)
    assert project.find_clip(clip_id)[1].transform == Transform("custom", x=0.25, scale=0.5)
    panel.mode.setCurrentIndex(panel.mode.findData("fill"))
    assert project.find_clip(clip_id)[1].transform == Transform("fill", x=0.25, scale=0.5)
    assert panel.boxes["scale"].value() == 100 and panel.boxes["x"].value() == 50  # what a fill shows
    qtbot.waitUntil(lambda: near(pixel(monitor.image, 0.02, 0.02), COLOUR))



def test_a_video_slower_than_the_project_offers_smooth_motion(qtbot) -> None:
    project = Project(fps=30, width=64, height=64)
    project.media["m"] = MediaItem("m", Path("/m.mp4"), "video", 2.0, 16, 64, 64)
    project.tracks = [Track("v", "video", "Video 1", clips=[Clip("c", "m", 0, 30)])]
    inspector = Inspector()
    qtbot.addWidget(inspector)
    inspector.show_clip(project, project.find_clip("c")[1])
    smooth = [b for b in inspector.findChildren(QCheckBox) if b.text() == "Smooth"]
    assert len(smooth) == 1 and not smooth[0].isChecked()
    box = smooth[0]
    assert "16 fps, the project 30 fps" in box.toolTip()
    with qtbot.waitSignal(inspector.smooth_motion_changed) as changed:
        box.click()
    assert changed.args == ["c", True]
    project.fps = 16  # as fast as the project: nothing to smooth
    inspector.show_clip(project, project.find_clip("c")[1])
    assert not [b for b in inspector.findChildren(QCheckBox) if b.text() == "Smooth" and not b.isHidden()]


def test_arrow_steps_on_saturation_grade_the_clip_in_one_undo_step_and_the_monitor_shows_grey(window, qtbot,
                                                                                              tmp_path) -> None:
    project = window.project
    clip_id = placed_clip(window, tmp_path, project.width // 8, project.height // 8)
    panel = window.inspector.grade_panel
    assert panel.isVisible() and panel.title() == "Colour"
    saturation = panel.boxes["saturation"]
    assert saturation.value() == 100
    for _ in range(20):
        QTest.keyClick(saturation, Qt.Key.Key_Down)  # 5 % a step, down to 0
    assert saturation.value() == 0 and project.find_clip(clip_id)[1].grade == Grade(saturation=0.0)
    luma = 0.2126 * COLOUR[0] + 0.7152 * COLOUR[1] + 0.0722 * COLOUR[2]
    monitor = window.editor.monitor
    qtbot.waitUntil(lambda: near(pixel(monitor.image, 0.5, 0.5), (luma, luma, luma)))
    assert window.editor.stack.undoText() == "Change clip saturation"
    window.editor.stack.undo()
    assert project.find_clip(clip_id)[1].grade == Grade() and saturation.value() == 100
    window.editor.stack.redo()
    panel.reset.click()
    assert project.find_clip(clip_id)[1].grade == Grade() and window.editor.stack.undoText() == "Change clip colour"


def test_only_videos_and_pictures_show_the_colour_section(qtbot) -> None:
    media = {"v": MediaItem("v", Path("/v.mp4"), "video", 2.0, 16, 64, 64),
             "a": MediaItem("a", Path("/a.wav"), "audio", 2.0, has_audio=True)}
    project = Project(fps=16, media=media, tracks=[Track("t", "video", "V", clips=[Clip("c", "v", 0, 8)]),
                                                   Track("u", "audio", "A", clips=[Clip("d", "a", 0, 8)])])
    inspector = Inspector()
    qtbot.addWidget(inspector)
    inspector.show()
    inspector.show_clip(project, project.find_clip("c")[1])
    assert inspector.grade_panel.isVisible()
    inspector.show_clip(project, project.find_clip("d")[1])
    assert not inspector.grade_panel.isVisible()
