"""A clip dragged over the end of its neighbour, whole or by an edge, makes a cross-dissolve over the frames the two
share: shown in the guide's colour while it is dragged, one undo step, the same cut and dissolve the menu action
makes, and each clip showing in it the media it showed where it was dropped. A clip dropped in the middle of
another is refused as before."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QPoint, Qt
from timeline_helpers import drag, send_mouse, shown_timeline, viewport_point

from desktop.project.model import Clip, MediaItem, Project, Track
from desktop.project.transitions import dissolve_into, pictures_at
from desktop.timeline.view import TimelineView

VIDEO2, VIDEO1 = 0, 1
LEFT = Qt.MouseButton.LeftButton


def gap_project() -> Project:
    """Video 2: c3 at 100..108. Video 1: c1 at 0..48 (media 0..48), c2 at 60..140 from media frame 30; the media is
    10 s (160 frames at 16 fps)."""
    project = Project(fps=16)
    project.media = {"v": MediaItem("v", Path("/media/clip.mp4"), "video", 10.0, 16, 1280, 720)}
    project.tracks = [
        Track("t2", "video", "Video 2", clips=[Clip("c3", "v", 100, 8)]),
        Track("t1", "video", "Video 1", clips=[Clip("c1", "v", 0, 48), Clip("c2", "v", 60, 80, source_in=30)]),
    ]
    return project


@pytest.fixture
def view(qtbot, synthetic):
    with shown_timeline(qtbot, gap_project(), synthetic, 320) as widget:
        widget.snapping = False  # the drags below land where the mouse lets go
        yield widget


def spans(view: TimelineView) -> list[tuple[str, int, int, int, int]]:
    """Every clip of Video 1 as (id, start, length, source_in, dissolve_in)."""
    return [(c.id, c.start, c.length, c.source_in, c.dissolve_in) for c in view.project.tracks[VIDEO1].clips]


def media_frame(clip: Clip, frame: int) -> int:
    return clip.source_in + frame - clip.start


def test_a_clip_dragged_over_its_neighbours_end_dissolves_over_the_overlap(view):
    before = spans(view)
    grab = viewport_point(view, 70, VIDEO1)
    send_mouse(view, QEvent.Type.MouseButtonPress, grab, LEFT)
    for frame in (66, 56, 50):  # c2's start to 40: 8 frames over c1's end
        send_mouse(view, QEvent.Type.MouseMove, viewport_point(view, frame, VIDEO1), LEFT)
    cue = view._drop_dissolve
    assert cue is not None and (cue.left(), cue.right()) == (view.scale.x(40), view.scale.x(48))
    assert not view.clip_item("c2").refused
    send_mouse(view, QEvent.Type.MouseButtonRelease, viewport_point(view, 50, VIDEO1), Qt.MouseButton.NoButton)

    # the cut in the middle of the overlap; c1 still ends (in the dissolve) at 48 and c2 starts at 40 as dropped
    assert spans(view) == [("c1", 0, 44, 0, 0), ("c2", 44, 76, 34, 8)]
    assert view._drop_dissolve is None
    (clip_id, cut, box), = view._dissolves
    assert (clip_id, cut, box.left(), box.right()) == ("c2", 44, view.scale.x(40), view.scale.x(48))
    track = view.project.tracks[VIDEO1]
    shown = pictures_at(view.project, track, 40)
    assert [c.id for c, _ in shown] == ["c1", "c2"]
    assert media_frame(shown[1][0], 40) == 30  # c2's first frame as dropped
    assert media_frame(shown[0][0], 47) == 47  # c1's last frame as it was
    assert view.undo_stack.count() == 1 and view.undo_stack.undoText() == "Cross-dissolve"
    view.undo_stack.undo()
    assert spans(view) == before and not view._dissolves


def test_the_dragged_clip_may_be_the_outgoing_one(view):
    drag(view, viewport_point(view, 10, VIDEO1), viewport_point(view, 26, VIDEO1))  # c1 to 16..64, 4 over c2
    assert spans(view) == [("c1", 16, 46, 0, 0), ("c2", 62, 78, 32, 4)]
    dissolve = dissolve_into(view.project, view.project.tracks[VIDEO1], view.project.find_clip("c2")[1])
    assert (dissolve.first, dissolve.length) == (60, 4)


def test_a_clip_from_another_track_dropped_on_a_clips_end_dissolves_into_it(view):
    drag(view, viewport_point(view, 102, VIDEO2), viewport_point(view, 40, VIDEO1))  # 38..46: within c1, refused
    assert view.project.find_clip("c3")[0].id == "t2"
    drag(view, viewport_point(view, 102, VIDEO2), viewport_point(view, 48, VIDEO1))  # 46..54: 2 frames over c1's end
    assert spans(view)[:2] == [("c1", 0, 47, 0, 0), ("c3", 47, 7, 1, 2)]


def test_a_clip_dropped_in_the_middle_of_another_is_refused_as_before(view):
    grab = viewport_point(view, 102, VIDEO2)
    send_mouse(view, QEvent.Type.MouseButtonPress, grab, LEFT)
    for frame in (100, 95, 92):  # c3 to 90..98, inside c2
        send_mouse(view, QEvent.Type.MouseMove, viewport_point(view, frame, VIDEO1), LEFT)
    assert view.clip_item("c3").refused and view._drop_dissolve is None
    send_mouse(view, QEvent.Type.MouseButtonRelease, viewport_point(view, 92, VIDEO1), Qt.MouseButton.NoButton)
    assert view.project.find_clip("c3")[1].start == 100 and not view.undo_stack.count()


def test_a_clips_start_dragged_into_the_clip_before_dissolves_from_it(view):
    view.select_clips(["c2"])
    drag(view, viewport_point(view, 60, VIDEO1) + QPoint(1, 0), viewport_point(view, 40, VIDEO1) + QPoint(1, 0))
    assert spans(view) == [("c1", 0, 44, 0, 0), ("c2", 44, 96, 14, 8)]
    view.undo_stack.undo()
    assert spans(view) == [("c1", 0, 48, 0, 0), ("c2", 60, 80, 30, 0)]


def test_a_clips_end_dragged_into_the_clip_after_dissolves_into_it(view):
    drag(view, viewport_point(view, 48, VIDEO1) - QPoint(1, 0), viewport_point(view, 70, VIDEO1) - QPoint(1, 0))
    assert spans(view) == [("c1", 0, 65, 0, 0), ("c2", 65, 75, 35, 10)]


def test_an_edge_whose_media_ends_short_of_the_neighbour_stops_there(qtbot, synthetic):
    project = gap_project()
    project.tracks[VIDEO1].clips[1].source_in = 4  # c2 can reach back to frame 56 only
    with shown_timeline(qtbot, project, synthetic, 320) as view:
        view.snapping = False
        drag(view, viewport_point(view, 60, VIDEO1) + QPoint(1, 0), viewport_point(view, 40, VIDEO1))
        assert spans(view) == [("c1", 0, 48, 0, 0), ("c2", 56, 84, 0, 0)]
