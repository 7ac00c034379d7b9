"""The selected clip's handles on the monitor: dragged inside, the clip moves with the mouse; dragged by a corner, it
scales about its centre; dragged by the round handle, it turns about its centre (Shift: in steps of 15 degrees);
each drag is one undo step."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from studio_window import shown_window

from desktop.main_window import MainWindow
from desktop.project.commands import SetFormat
from desktop.project.model import Clip
from desktop.project.transform import Transform
from engine.media.image import write_png

COLOUR = (60, 160, 220)


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    return shown_window(qtbot, tmp_path, monkeypatch, size=(1200, 800))  # it closes with edits unsaved: quietly


def placed_picture(window: MainWindow, path: Path) -> Clip:
    """A one-colour picture an eighth of the frame each way, written to `path` and placed on the timeline."""
    project = window.project
    write_png(path, np.full((project.height // 8, project.width // 8, 3), COLOUR, np.uint8))
    [media_id] = window.import_paths([path])
    window.place_media(media_id)
    [clip] = [c for t in project.tracks for c in t.clips]
    return clip


def drag(widget, start: QPointF, end: QPointF, steps: int = 4) -> None:
    QTest.mousePress(widget, Qt.MouseButton.LeftButton, pos=start.toPoint())
    for step in range(1, steps + 1):
        QTest.mouseMove(widget, (start + (end - start) * step / steps).toPoint())
    QTest.mouseRelease(widget, Qt.MouseButton.LeftButton, pos=end.toPoint())


def test_dragging_the_clip_moves_it_and_a_corner_scales_it_each_one_undo_step(window, qtbot, tmp_path) -> None:
    project = window.project
    clip = placed_picture(window, tmp_path / "colour.png")
    handles = window.editor.monitor.placement_handles
    assert handles.selected() is None  # nothing selected: no outline
    window.editor.timeline.select_clips([clip.id])
    assert handles.selected() is clip
    picture = handles._picture()
    assert picture.width() > 100 and abs(picture.width() / picture.height() - project.width / project.height) < 0.02

    steps_before = window.editor.stack.count()
    centre = picture.center()
    drag(handles, centre, centre + QPointF(picture.width() / 4, 0))
    moved = project.find_clip(clip.id)[1].transform
    assert moved.mode == "custom" and moved.scale == 1 and moved.y == 0.5
    assert moved.x == pytest.approx(0.75, abs=1.5 / picture.width())
    assert window.editor.stack.count() == steps_before + 1 and window.editor.stack.undoText() == "Change clip position"
    # the left quarter of the frame is now uncovered
    monitor = window.editor.monitor

    def shown(x: float) -> tuple[int, int, int]:
        colour = monitor.image.pixelColor(int(x * monitor.image.width()), monitor.image.height() // 2)
        return colour.red(), colour.green(), colour.blue()

    qtbot.waitUntil(lambda: shown(0.1) == (0, 0, 0) and np.abs(np.subtract(shown(0.5), COLOUR)).max() <= 2)

    corner = handles._outline(project.find_clip(clip.id)[1])[2]  # bottom right
    clip_centre = QPointF(picture.x() + 0.75 * picture.width(), picture.center().y())
    drag(handles, corner, clip_centre + (corner - clip_centre) / 2)
    scaled = project.find_clip(clip.id)[1].transform
    assert scaled.scale == pytest.approx(0.5, abs=0.02) and scaled.x == moved.x
    assert window.editor.stack.count() == steps_before + 2 and window.editor.stack.undoText() == "Change clip scale"
    window.editor.stack.undo()
    window.editor.stack.undo()
    assert project.find_clip(clip.id)[1].transform == Transform()


def test_a_press_outside_the_selected_clip_is_left_to_the_monitor(window, tmp_path) -> None:
    project = window.project
    clip = placed_picture(window, tmp_path / "small.png")
    window.editor.timeline.select_clips([clip.id])
    window.inspector.transform_panel.boxes["scale"].setValue(25)  # from 37.5 % to 62.5 % of the frame each way
    handles = window.editor.monitor.placement_handles
    picture = handles._picture()
    count = window.editor.stack.count()
    drag(handles, QPointF(picture.x() + 5, picture.y() + 5), QPointF(picture.x() + 40, picture.y() + 40))
    assert window.editor.stack.count() == count and project.find_clip(clip.id)[1].transform.x == 0.5


def shift_drag(widget, start: QPointF, end: QPointF, steps: int = 4) -> None:
    """A drag with Shift held (QTest's moves carry no keys)."""
    shift = Qt.KeyboardModifier.ShiftModifier
    QTest.mousePress(widget, Qt.MouseButton.LeftButton, shift, start.toPoint())
    for step in range(1, steps + 1):
        at = start + (end - start) * step / steps
        QApplication.sendEvent(widget, QMouseEvent(QEvent.Type.MouseMove, at, widget.mapToGlobal(at),
                                                   Qt.MouseButton.NoButton, Qt.MouseButton.LeftButton, shift))
    QTest.mouseRelease(widget, Qt.MouseButton.LeftButton, shift, end.toPoint())


def test_the_round_handle_above_the_clip_turns_it_about_its_centre_one_undo_step(window, qtbot, tmp_path) -> None:
    project = window.project
    clip = placed_picture(window, tmp_path / "colour.png")
    window.editor.timeline.select_clips([clip.id])
    window.inspector.transform_panel.boxes["scale"].setValue(25)  # a quarter of the frame's height, in the middle
    handles = window.editor.monitor.placement_handles
    outline = handles._outline(project.find_clip(clip.id)[1])
    top, knob = handles._rotation_handle(outline)
    centre = handles._picture().center()
    assert knob.y() < top.y() < centre.y() and abs(knob.x() - centre.x()) < 1  # above the middle of the top edge

    steps = window.editor.stack.count()
    radius = centre.y() - knob.y()
    drag(handles, knob, centre + QPointF(radius, 0), steps=8)  # a quarter turn clockwise, from above to the right
    turned = project.find_clip(clip.id)[1].transform
    assert turned.rotation == pytest.approx(90, abs=1) and (turned.x, turned.y, turned.scale) == (0.5, 0.5, 0.25)
    assert window.editor.stack.count() == steps + 1 and window.editor.stack.undoText() == "Change clip rotation"
    corners = handles._outline(project.find_clip(clip.id)[1])
    assert corners[0].x() > centre.x() and corners[0].y() < centre.y()  # the top left corner went round to the right

    window.editor.stack.undo()
    knob = handles._rotation_handle(handles._outline(project.find_clip(clip.id)[1]))[1]
    toward = centre + QPointF(radius * 0.5, -radius * 0.866)  # 30 degrees round, ending a little short
    shift_drag(handles, knob, centre + (toward - centre) * 0.97 + QPointF(-3, 0))
    snapped = project.find_clip(clip.id)[1].transform.rotation
    assert snapped in (30.0, 15.0) and snapped % 15 == 0
    assert window.editor.stack.count() == steps + 1

    # the monitor shows it turned: the clip is 320 x 180 of the 1280 x 720 frame; a quarter turn back, it covers
    # the point 110 px above its centre, and no longer the one 150 px left of it
    window.editor.stack.undo()
    monitor = window.editor.monitor

    def shown(dx: float, dy: float) -> tuple[int, int, int]:
        colour = monitor.image.pixelColor(int((0.5 + dx / project.width) * monitor.image.width()),
                                          int((0.5 + dy / project.height) * monitor.image.height()))
        return colour.red(), colour.green(), colour.blue()

    qtbot.waitUntil(lambda: shown(0, -110) == (0, 0, 0) and shown(-150, 0) != (0, 0, 0))
    window.inspector.transform_panel.boxes["rotation"].setValue(45)
    qtbot.waitUntil(lambda: shown(0, -110) != (0, 0, 0) and shown(-150, 0) == (0, 0, 0))


def test_a_clip_filling_the_frame_has_its_rotation_handle_inside_it(window, qtbot, tmp_path) -> None:
    project = window.project
    window.editor.timeline.edit(SetFormat(720, 1280, project.fps))  # tall: the frame fills the monitor's height
    path = tmp_path / "full.png"
    write_png(path, np.full((project.height, project.width, 3), COLOUR, np.uint8))
    [media_id] = window.import_paths([path])
    window.place_media(media_id)
    [clip] = [c for t in project.tracks for c in t.clips]
    window.editor.timeline.select_clips([clip.id])
    handles = window.editor.monitor.placement_handles
    qtbot.waitUntil(lambda: handles._picture().top() == 0)  # once the monitor shows the new format
    picture = handles._picture()
    top, knob = handles._rotation_handle(handles._outline(clip))
    assert handles.rect().contains(knob.toPoint()) and top.y() < knob.y() < picture.center().y()
    drag(handles, knob, picture.center() + QPointF(picture.center().y() - knob.y(), 0), steps=8)
    turned = project.find_clip(clip.id)[1].transform
    assert turned.mode == "custom" and turned.rotation == pytest.approx(90, abs=1)
