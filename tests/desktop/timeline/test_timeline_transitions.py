"""Fades and cross-dissolves on the timeline: a fade's handle at a clip's top corner dragged to make a fade, a dissolve
added on a cut (a second, or what the media beyond the cut allows, which the timeline says) and its box's side
dragged to lengthen it; every change one undo step."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from timeline_helpers import send_mouse, shown_timeline, viewport_point

from desktop.project.model import Clip, MediaItem, Project, Track
from desktop.timeline.view import TimelineView

VIDEO1 = 0
LEFT = Qt.MouseButton.LeftButton


def cut_project(source_in: int = 10) -> Project:
    """Video 1: c1 at 0..48 (media 0..48), c2 at 48..128 from media frame `source_in`; the media is 10 s (160
    frames at 16 fps)."""
    project = Project(fps=16)
    project.media = {"v": MediaItem("v", Path("/media/clip.mp4"), "video", 10.0, 16, 1280, 720)}
    project.tracks = [Track("t1", "video", "Video 1", clips=[Clip("c1", "v", 0, 48),
                                                             Clip("c2", "v", 48, 80, source_in=source_in)])]
    return project


@pytest.fixture
def view(qtbot, synthetic):
    with shown_timeline(qtbot, cut_project(), synthetic, 240) as widget:
        yield widget


def drag(view: TimelineView, start: QPoint, end: QPoint) -> None:
    send_mouse(view, QEvent.Type.MouseButtonPress, start, LEFT)
    middle = QPoint((start.x() + end.x()) // 2, start.y())
    send_mouse(view, QEvent.Type.MouseMove, middle, LEFT)
    send_mouse(view, QEvent.Type.MouseMove, end, LEFT)
    send_mouse(view, QEvent.Type.MouseButtonRelease, end, Qt.MouseButton.NoButton)


def clip(view: TimelineView, clip_id: str) -> Clip:
    return view.project.find_clip(clip_id)[1]


def test_dragging_the_fade_handle_at_a_clips_top_corner_fades_it_in(view):
    view.select_clips(["c1"])
    corner = viewport_point(view, 0, VIDEO1, dy=3)
    drag(view, corner + QPoint(1, 0), viewport_point(view, 8, VIDEO1, dy=3))
    assert (clip(view, "c1").fade_in, clip(view, "c1").start, clip(view, "c1").length) == (8, 0, 48)
    item = view.clip_item("c1")
    assert item.fade_in == 8 and item.fade_handle_x("in") == pytest.approx(view.scale.x(8))
    view.undo_stack.undo()
    assert clip(view, "c1").fade_in == 0 and view.clip_item("c1").fade_in == 0


def test_a_fade_out_handle_drags_from_the_clips_end_and_stops_at_the_fade_in(view):
    view.select_clips(["c1"])
    view.fade_selected("in")  # a second: 16 frames
    drag(view, viewport_point(view, 48, VIDEO1, dy=3) - QPoint(2, 0), viewport_point(view, 2, VIDEO1, dy=3))
    c1 = clip(view, "c1")
    assert (c1.fade_in, c1.fade_out) == (16, 32)  # all the clip the fade-in leaves
    view.undo_stack.undo()
    assert (clip(view, "c1").fade_in, clip(view, "c1").fade_out) == (16, 0)


def test_add_cross_dissolve_puts_a_second_on_the_cut_drawn_as_a_box_over_it(view):
    view.select_clips(["c1"])
    view.set_playhead(40)
    view.cross_dissolve()
    assert clip(view, "c2").dissolve_in == 16
    (clip_id, cut, box), = view._dissolves
    assert (clip_id, cut) == ("c2", 48)
    assert (box.left(), box.right()) == (view.scale.x(40), view.scale.x(56))  # 8 frames each side of the cut


def test_where_the_media_before_the_in_point_is_short_the_clips_overlap_by_the_rest_and_it_is_said(qtbot, synthetic):
    with shown_timeline(qtbot, cut_project(source_in=4), synthetic, 240) as view:
        notices = []
        view.notice.connect(notices.append)
        view.select_clips(["c2"])
        view.cross_dissolve()
        c1, c2 = clip(view, "c1"), clip(view, "c2")
        # 8 frames wanted before the cut, 4 in the media: c2 starts 4 frames later in it and 4 frames earlier
        assert (c2.dissolve_in, c2.start, c2.length, c2.source_in) == (16, 48, 76, 8)
        assert (c1.start, c1.length) == (0, 48)
        assert notices == ["To make room for the cross-dissolve, the clips from 3.00 s on Video 1 moved 4 frames "
                           "earlier into the clip before (their media had too little beyond the cut)"]
        view.undo_stack.undo()
        c2 = clip(view, "c2")
        assert (c2.dissolve_in, c2.start, c2.length, c2.source_in) == (0, 48, 80, 4)


def test_clips_placed_whole_overlap_by_the_dissolve_and_the_track_after_moves_along(qtbot, synthetic):
    project = cut_project(source_in=0)
    project.media["v"].duration = 3.0  # 48 frames: c1 shows all of it, c2 (now 0..32 of it) starts at its start
    project.tracks[0].clips[1].length = 32
    project.tracks[0].clips.append(Clip("c3", "v", 80, 16))
    with shown_timeline(qtbot, project, synthetic, 240) as view:
        view.select_clips(["c1"])
        view.set_playhead(48)
        view.cross_dissolve()
        c1, c2, c3 = clip(view, "c1"), clip(view, "c2"), clip(view, "c3")
        assert (c1.length, c2.start, c2.source_in, c2.length, c2.dissolve_in) == (40, 40, 8, 24, 16)
        assert c3.start == 64  # 16 frames earlier, as c2's end
        view.undo_stack.undo()
        assert [(c.start, c.length, c.source_in) for c in view.project.tracks[0].clips] == [(0, 48, 0), (48, 32, 0),
                                                                                          (80, 16, 0)]


def test_a_clip_on_no_cut_gets_no_dissolve_and_is_told_why(qtbot, synthetic):
    project = cut_project()
    project.tracks[0].clips[1].start = 60
    with shown_timeline(qtbot, project, synthetic, 240) as view:
        refusals = []
        view.edit_refused.connect(refusals.append)
        view.select_clips(["c2"])
        view.cross_dissolve()
        assert clip(view, "c2").dissolve_in == 0 and not view.undo_stack.count()
        assert refusals == ["clip.mp4 touches no clip on Video 1: a cross-dissolve goes on a cut, where one clip "
                            "ends and the next starts"]


def test_dragging_a_dissolves_side_shortens_it_about_its_cut(view):
    view.select_clips(["c2"])
    view.cross_dissolve()  # frames 40..56
    drag(view, viewport_point(view, 56, VIDEO1, dy=40), viewport_point(view, 52, VIDEO1, dy=40))
    assert clip(view, "c2").dissolve_in == 8  # 4 frames each side
    (_, _, box), = view._dissolves
    assert (box.left(), box.right()) == (view.scale.x(44), view.scale.x(52))
    view.undo_stack.undo()
    assert clip(view, "c2").dissolve_in == 16


def test_a_dissolve_dragged_past_its_media_stops_there(view):
    view.select_clips(["c2"])
    view.cross_dissolve()
    drag(view, viewport_point(view, 40, VIDEO1, dy=40), viewport_point(view, 20, VIDEO1, dy=40))
    assert clip(view, "c2").dissolve_in == 21  # c2 has 10 frames before its in point: 10 before the cut, 11 after


def test_the_fades_are_drawn_over_the_clip(view):
    view.select_clips(["c1"])
    view.fade_selected("in")
    view.select_clips([])
    view.viewport().repaint()
    picture = view.viewport().grab().toImage()
    top = view.track_top("t1")
    in_ramp = picture.pixelColor(view.mapFromScene(QPointF(view.scale.x(4), top + 20)))  # above the ramp's line
    under_ramp = picture.pixelColor(view.mapFromScene(QPointF(view.scale.x(4), top + 60)))
    past_fade = picture.pixelColor(view.mapFromScene(QPointF(view.scale.x(20), top + 20)))
    assert in_ramp.lightness() < past_fade.lightness() * 0.7  # the faded part is shaded
    assert under_ramp.lightness() > in_ramp.lightness()
