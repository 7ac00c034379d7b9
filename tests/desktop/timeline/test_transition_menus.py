"""Fades and cross-dissolves from the menus, in the window: a clip's right-click menu and the Timeline menu; the
inspector shows the selected clip's fades and sets them."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QSpinBox
from studio_window import studio_window
from test_timeline_menus import choose, right_click
from timeline_helpers import viewport_point

from desktop.project.model import Clip, MediaItem, Track

VIDEO1 = 0


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    """Video 1: "shot" at 0..48 and "next" at 60..140 of one 60 s video (16 fps). Shown without an engine."""
    monkeypatch.setenv("ISTAR_HOME", str(tmp_path / "home"))
    w = studio_window(qtbot, tmp_path)
    project = w.project
    project.fps = 16
    project.media = {"v": MediaItem("v", tmp_path / "shot.mp4", "video", 60.0, 16, 64, 64)}
    project.tracks = [Track("t1", "video", "Video 1", clips=[Clip("shot", "v", 0, 48),
                                                             Clip("next", "v", 60, 80, source_in=100)])]
    w._engine_asked = True
    w.resize(1400, 900)
    w.show()
    qtbot.waitExposed(w)
    w.editor.timeline.refresh()
    return w


def test_a_clips_menu_fades_it_out_and_puts_a_cross_dissolve_on_its_cut(window):
    timeline = window.editor.timeline
    seen = right_click(timeline.viewport(), viewport_point(timeline, 20, VIDEO1), choose("Fade out"))
    assert seen["Add cross-dissolve"] == (True, "Ctrl+D") and seen["Fade in"] == (True, "")
    shot = window.project.find_clip("shot")[1]
    assert (shot.fade_in, shot.fade_out) == (0, 16)  # a second at 16 fps
    window.project.find_clip("next")[1].start = 48  # now "next" starts where "shot" ends
    timeline.refresh()
    right_click(timeline.viewport(), viewport_point(timeline, 44, VIDEO1), choose("Add cross-dissolve"))
    assert window.project.find_clip("next")[1].dissolve_in == 16
    window.editor.stack.undo()
    assert window.project.find_clip("next")[1].dissolve_in == 0 and shot.fade_out == 16


def test_the_timeline_menu_fades_the_selection_in(window):
    timeline = window.editor.timeline
    timeline.select_clips(["shot", "next"])
    action = next(a for a in window.transition_actions if a.text() == "Fade &in")
    action.trigger()
    assert [c.fade_in for c in window.project.track("t1").clips] == [16, 16]
    assert window.editor.stack.count() == 1  # one undo step for both


def test_the_inspector_shows_the_fades_and_sets_them(window, qtbot):
    timeline = window.editor.timeline
    timeline.select_clips(["shot"])
    timeline.fade_selected("out")
    boxes = {window.inspector.form.labelForField(w).text(): w for w in window.inspector.findChildren(QSpinBox)
             if window.inspector.form.labelForField(w) is not None}
    assert boxes["Fade in"].value() == 0 and boxes["Fade out"].value() == 16
    boxes["Fade in"].setValue(8)
    boxes["Fade in"].editingFinished.emit()
    qtbot.waitUntil(lambda: window.project.find_clip("shot")[1].fade_in == 8)
    assert window.project.find_clip("shot")[1].fade_out == 16
