"""Edits made with the mouse and keys on the timeline, each undone and redone through the undo stack exactly."""

from __future__ import annotations

import copy
from pathlib import Path

from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtWidgets import QApplication
from timeline_helpers import drag, send_mouse, viewport_point

from desktop.project.model import MediaItem, Project
from desktop.timeline.view import TimelineView

VIDEO2, VIDEO1, AUDIO1 = 0, 1, 2  # track rows


def spans(project: Project) -> dict[str, tuple[str, int, int, int]]:
    """clip id -> (track id, start, length, source_in)"""
    return {c.id: (t.id, c.start, c.length, c.source_in) for t in project.tracks for c in t.clips}


def check_undo_redo(view: TimelineView, before: Project) -> None:
    """Undo gives back `before` exactly; redo gives back what the edit made, exactly; the view follows."""
    after = copy.deepcopy(view.project)
    view.undo_stack.undo()
    assert view.project == before
    assert view.clip_item("c2").x() == view.scale.x(before.find_clip("c2")[1].start)
    view.undo_stack.redo()
    assert view.project == after


def test_dragging_a_clip_moves_it_and_undo_redo_restore_exactly(view):
    before = copy.deepcopy(view.project)
    drag(view, viewport_point(view, 100, VIDEO1), viewport_point(view, 110, VIDEO1))
    assert spans(view.project)["c2"] == ("t1", 70, 80, 10)
    assert view.clip_item("c2").x() == view.scale.x(70)
    assert view.undo_stack.count() == 1 and view.undo_stack.undoText() == "Move clip"
    check_undo_redo(view, before)


def test_a_clip_moves_to_another_track_of_its_kind_only(view):
    drag(view, viewport_point(view, 20, VIDEO1), viewport_point(view, 220, VIDEO2))
    assert spans(view.project)["c1"] == ("t2", 200, 48, 0)
    drag(view, viewport_point(view, 210, VIDEO2), viewport_point(view, 310, AUDIO1))
    assert spans(view.project)["c1"] == ("t2", 300, 48, 0)  # an audio track does not take a video clip


def test_a_drag_into_the_middle_of_another_clip_shows_refused_and_changes_nothing(view):
    before = copy.deepcopy(view.project)
    left = Qt.MouseButton.LeftButton
    send_mouse(view, QEvent.Type.MouseButtonPress, viewport_point(view, 20, VIDEO1), left)
    send_mouse(view, QEvent.Type.MouseMove, viewport_point(view, 90, VIDEO1), left)  # c1 to 70..118: within c2
    assert view.clip_item("c1").refused and view.clip_item("c1").x() == view.scale.x(70)
    send_mouse(view, QEvent.Type.MouseButtonRelease, viewport_point(view, 90, VIDEO1), Qt.MouseButton.NoButton)
    assert view.project == before and view.undo_stack.count() == 0
    assert view.clip_item("c1").x() == view.scale.x(0) and not view.clip_item("c1").refused


def test_trimming_either_edge_by_dragging(view):
    before = copy.deepcopy(view.project)
    c2 = view.clip_item("c2")
    end = view.mapFromScene(c2.sceneBoundingRect().topRight()) + QPoint(-2, 30)
    drag(view, end, end + QPoint(-round(view.scale.x(5)), 0))
    assert spans(view.project)["c2"] == ("t1", 60, 75, 10)
    start = view.mapFromScene(c2.sceneBoundingRect().topLeft()) + QPoint(2, 30)
    drag(view, start, start + QPoint(round(view.scale.x(3)), 0))
    assert spans(view.project)["c2"] == ("t1", 63, 72, 13)  # the media moves with the start: the rest stays put
    assert view.undo_stack.count() == 2
    view.undo_stack.undo()
    view.undo_stack.undo()
    assert view.project == before
    view.undo_stack.redo()
    view.undo_stack.redo()
    assert spans(view.project)["c2"] == ("t1", 63, 72, 13)


def test_trimming_stops_at_the_neighbour_and_the_media_start(view):
    c2 = view.clip_item("c2")
    start = view.mapFromScene(c2.sceneBoundingRect().topLeft()) + QPoint(2, 30)
    view.snapping = False
    drag(view, start, start - QPoint(round(view.scale.x(30)), 0))  # the media has only 10 frames before
    assert spans(view.project)["c2"] == ("t1", 50, 90, 0)


def test_s_splits_the_selected_clip_at_the_playhead(view, qtbot):
    before = copy.deepcopy(view.project)
    view.select_clips(["c2"])
    view.set_playhead(100)
    qtbot.keyClick(view, Qt.Key.Key_S)
    clips = {c.id: c for c in view.project.track("t1").clips}
    right = next(c for i, c in clips.items() if i not in ("c1", "c2"))
    assert (clips["c2"].start, clips["c2"].length) == (60, 40)
    assert (right.start, right.length, right.source_in) == (100, 40, 50)
    assert spans(view.project)["c3"] == ("t3", 10, 100, 0)  # the selection chose which clip splits
    check_undo_redo(view, before)
    assert right.id in spans(view.project)  # redo brings back the same right part


def test_s_without_a_selection_splits_every_clip_under_the_playhead(view, qtbot):
    view.set_playhead(30)
    qtbot.keyClick(view, Qt.Key.Key_S)
    assert spans(view.project)["c1"][2] == 30 and spans(view.project)["c3"][2] == 20
    assert view.undo_stack.count() == 1


def test_shift_delete_ripples_and_delete_lifts(view, qtbot):
    before = copy.deepcopy(view.project)
    view.select_clips(["c1"])
    qtbot.keyClick(view, Qt.Key.Key_Delete, Qt.KeyboardModifier.ShiftModifier)
    assert "c1" not in spans(view.project) and spans(view.project)["c2"] == ("t1", 12, 80, 10)
    assert spans(view.project)["c3"] == ("t3", 10, 100, 0)  # other tracks stay
    check_undo_redo(view, before)
    view.undo_stack.undo()
    view.select_clips(["c1"])
    qtbot.keyClick(view, Qt.Key.Key_Delete)
    assert "c1" not in spans(view.project) and spans(view.project)["c2"] == ("t1", 60, 80, 10)
    view.undo_stack.undo()
    assert view.project == before


def test_clips_snap_to_clip_edges_and_the_playhead(view):
    drag(view, viewport_point(view, 100, VIDEO1), viewport_point(view, 89, VIDEO1))  # c2 to 49: near c1's end
    assert spans(view.project)["c2"][1] == 48
    view.set_playhead(200)
    drag(view, viewport_point(view, 100, VIDEO1), viewport_point(view, 173, VIDEO1))  # 121..201
    assert spans(view.project)["c2"][1] == 120  # its end snapped to the playhead
    view.snapping = False
    drag(view, viewport_point(view, 150, VIDEO1), viewport_point(view, 151, VIDEO1) + QPoint(8, 0))  # 3 frames
    assert spans(view.project)["c2"][1] == 123


def test_zoom_changes_the_scale_and_keeps_the_anchor(view, qtbot):
    width = view.clip_item("c2").boundingRect().width()
    scale = view.scale.pixels_per_frame
    view.set_playhead(80)
    x_before = view.mapFromScene(view.scale.x(80), 0).x()
    qtbot.keyClick(view, Qt.Key.Key_Plus)
    assert view.scale.pixels_per_frame > scale
    assert view.clip_item("c2").boundingRect().width() == view.scale.x(80) > width
    assert abs(view.mapFromScene(view.scale.x(80), 0).x() - x_before) <= 1  # zoomed about the playhead
    qtbot.keyClick(view, Qt.Key.Key_Minus)
    assert abs(view.scale.pixels_per_frame - scale) < 1e-9
    view.zoom(0.5, anchor=100)
    assert abs(view.scale.pixels_per_frame - scale / 2) < 1e-9


def test_arrows_step_the_playhead_and_jkl_space_ask_playback(view, qtbot):
    moved, shuttle, toggled = [], [], []
    view.playhead_moved.connect(moved.append)
    view.shuttle.connect(shuttle.append)
    view.play_toggled.connect(lambda: toggled.append(True))
    qtbot.keyClick(view, Qt.Key.Key_Right)
    qtbot.keyClick(view, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClick(view, Qt.Key.Key_Left)
    assert moved == [1, 17, 16] and view.playhead == 16
    for key in (Qt.Key.Key_L, Qt.Key.Key_K, Qt.Key.Key_J):
        qtbot.keyClick(view, key)
    qtbot.keyClick(view, Qt.Key.Key_Space)
    assert shuttle == ["l", "k", "j"] and toggled == [True]


def test_the_playhead_follows_the_ruler_and_its_line_drags_and_clicks_select(view, qtbot):
    ruler_x = round(view.scale.x(40))
    qtbot.mouseClick(view.ruler, Qt.MouseButton.LeftButton, pos=QPoint(ruler_x, 10))
    assert view.playhead == 40
    drag(view, viewport_point(view, 40, VIDEO2), viewport_point(view, 70, VIDEO2))  # the line, over no clip
    assert view.playhead == 70
    selected = []
    view.selection_changed.connect(selected.append)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=viewport_point(view, 100, VIDEO1))
    assert selected[-1] == ["c2"]
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ControlModifier,
                     viewport_point(view, 50, AUDIO1))
    assert selected[-1] == ["c2", "c3"]


def test_a_right_click_on_a_clip_selects_it_and_asks_for_its_menu(view):
    asked = []
    view.clip_menu_requested.connect(asked.append)
    view.select_clips(["c1"])
    for frame, track in ((100, VIDEO1), (40, VIDEO2)):  # a clip, then nothing
        point = viewport_point(view, frame, track)
        event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, point, view.viewport().mapToGlobal(point))
        QApplication.sendEvent(view.viewport(), event)
    assert view.selected_clip_ids() == ["c2"] and len(asked) == 1
    assert asked[0] == view.viewport().mapToGlobal(viewport_point(view, 100, VIDEO1))


def test_track_headers_mute_lock_add_and_remove_tracks_undoably(view, qtbot):
    before = copy.deepcopy(view.project)
    header = view.headers.rows["t1"]
    qtbot.mouseClick(header.mute, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(header.lock, Qt.MouseButton.LeftButton)
    assert view.project.track("t1").muted and view.project.track("t1").locked
    assert view.clip_item("c1").locked
    view.select_clips(["c1"])
    assert view.selected_clip_ids() == []  # a locked track's clips cannot be picked for an edit
    qtbot.mouseClick(view.add_track_buttons.buttons["audio"], Qt.MouseButton.LeftButton)
    assert [t.name for t in view.project.tracks][-1] == "Audio 2"
    qtbot.mouseClick(view.headers.rows["t2"].remove, Qt.MouseButton.LeftButton)
    assert [t.id for t in view.project.tracks][:1] == ["t1"] and "t2" not in view.headers.rows
    while view.undo_stack.canUndo():
        view.undo_stack.undo()
    assert view.project == before
    assert not view.headers.rows["t1"].mute.isChecked() and "t2" in view.headers.rows


def test_live_clips_above_the_tracks_are_only_shown_and_drags_still_land_on_the_track_under_the_mouse(view):
    view.live.add(MediaItem("live", Path("/media/clip_00.mp4"), "video", 1.0, 16, 1280, 720), 200, 16)
    view.refresh()
    [live] = view.live.shown
    assert view.clip_item(live.clip.id).y() == 0 and view.track_top("t2") > 0  # a row of its own, on top
    assert view.headers.rows[view.live.track_id].name.text() == "Generating"
    assert not view.headers.rows[view.live.track_id].remove.isVisibleTo(view)  # no buttons: it is no track
    before = copy.deepcopy(view.project)

    on_live = view.mapFromScene(QPointF(view.scale.x(205), 30))
    drag(view, on_live, on_live + QPoint(80, 0))  # a press on a live clip picks nothing and moves nothing
    assert view.selected_clip_ids() == [] and view.live.shown == (live,)
    assert view.project == before and view.undo_stack.count() == 0

    drag(view, viewport_point(view, 20, VIDEO1), viewport_point(view, 220, VIDEO2))
    assert spans(view.project)["c1"] == ("t2", 200, 48, 0)
    assert view.clip_item("c1").y() == view.track_top("t2")
    drag(view, viewport_point(view, 210, VIDEO2), view.mapFromScene(QPointF(view.scale.x(310), 30)))
    assert spans(view.project)["c1"] == ("t2", 300, 48, 0)  # dropped on the live row: the top track takes it


def test_dragging_one_of_several_selected_clips_moves_them_all_by_the_same_time(view):
    before = copy.deepcopy(view.project)
    view.select_clips(["c1", "c3"])  # Video 1 0..48 and Audio 1 10..110
    drag(view, viewport_point(view, 20, AUDIO1), viewport_point(view, 32, AUDIO1))  # both 12 frames on
    assert spans(view.project)["c1"] == ("t1", 12, 48, 0) and spans(view.project)["c3"] == ("t3", 22, 100, 0)
    assert spans(view.project)["c2"] == ("t1", 60, 80, 10), "a clip not selected stays"
    assert view.undo_stack.count() == 1 and view.undo_stack.undoText() == "Move clips"
    assert sorted(view.selected_clip_ids()) == ["c1", "c3"]
    check_undo_redo(view, before)


def test_a_group_move_that_would_land_one_clip_on_another_is_refused_whole(view):
    before = copy.deepcopy(view.project)
    view.select_clips(["c1", "c3"])
    left = Qt.MouseButton.LeftButton
    send_mouse(view, QEvent.Type.MouseButtonPress, viewport_point(view, 20, AUDIO1), left)
    send_mouse(view, QEvent.Type.MouseMove, viewport_point(view, 50, AUDIO1), left)  # c1 to 30..78: over c2
    assert view.clip_item("c1").refused and view.clip_item("c3").refused
    assert view.clip_item("c1").x() == view.scale.x(30), "the clips moving along show where they would go"
    send_mouse(view, QEvent.Type.MouseButtonRelease, viewport_point(view, 50, AUDIO1), Qt.MouseButton.NoButton)
    assert view.project == before and view.undo_stack.count() == 0
    assert not view.clip_item("c1").refused and view.clip_item("c1").x() == view.scale.x(0)


def test_a_group_moved_left_stops_with_its_earliest_clip_at_the_start(view):
    view.select_clips(["c2", "c3"])  # 60..140 and 10..110
    drag(view, viewport_point(view, 100, VIDEO1), viewport_point(view, 40, VIDEO1))  # 60 frames back: c3 to -50
    assert spans(view.project)["c3"] == ("t3", 0, 100, 0) and spans(view.project)["c2"] == ("t1", 50, 80, 10)


def test_zero_zooms_the_whole_timeline_into_view_and_it_scrolls_to_the_start(view, qtbot):
    view.zoom(40)
    view.horizontalScrollBar().setValue(view.horizontalScrollBar().maximum())
    qtbot.keyClick(view, Qt.Key.Key_0)
    end = view.project.duration  # 140: c2's end
    assert view.horizontalScrollBar().value() == 0
    assert 0.9 * view.viewport().width() <= view.scale.x(end) <= view.viewport().width()


def test_brackets_trim_the_selected_clip_under_the_playhead_to_it(view, qtbot):
    before = copy.deepcopy(view.project)
    view.select_clips(["c2"])  # Video 1 60..140 from media frame 10
    view.set_playhead(80)
    qtbot.keyClick(view, Qt.Key.Key_BracketLeft)
    assert spans(view.project)["c2"] == ("t1", 80, 60, 30), "its start moves, the rest stays put"
    assert spans(view.project)["c3"] == ("t3", 10, 100, 0), "a clip under the playhead that is not selected stays"
    view.set_playhead(120)
    qtbot.keyClick(view, Qt.Key.Key_BracketRight)
    assert spans(view.project)["c2"] == ("t1", 80, 40, 30)
    assert view.undo_stack.count() == 2 and view.undo_stack.undoText() == "Trim clip"
    view.undo_stack.undo()
    view.undo_stack.undo()
    assert view.project == before


def test_without_a_selection_under_it_the_brackets_trim_every_clip_under_the_playhead(view, qtbot):
    view.set_playhead(30)  # inside c1 (0..48) and c3 (10..110)
    qtbot.keyClick(view, Qt.Key.Key_BracketRight)
    assert spans(view.project)["c1"] == ("t1", 0, 30, 0) and spans(view.project)["c3"] == ("t3", 10, 20, 0)
    assert view.undo_stack.count() == 1 and view.undo_stack.undoText() == "Trim clip ends"


def test_q_and_w_ripple_trim_to_the_playhead_closing_the_gap_on_the_track(view, qtbot):
    before = copy.deepcopy(view.project)
    view.select_clips(["c1"])  # Video 1 0..48, then c2 60..140 from media frame 10
    view.set_playhead(30)
    qtbot.keyClick(view, Qt.Key.Key_W)
    assert spans(view.project)["c1"] == ("t1", 0, 30, 0) and spans(view.project)["c2"] == ("t1", 42, 80, 10)
    assert spans(view.project)["c3"] == ("t3", 10, 100, 0), "other tracks stay"
    view.set_playhead(10)
    qtbot.keyClick(view, Qt.Key.Key_Q)
    assert spans(view.project)["c1"] == ("t1", 0, 20, 10) and spans(view.project)["c2"] == ("t1", 32, 80, 10)
    assert view.undo_stack.count() == 2 and view.undo_stack.undoText() == "Ripple trim"
    view.undo_stack.undo()
    view.undo_stack.undo()
    assert view.project == before


def test_m_marks_the_playhead_on_the_ruler_and_the_playhead_goes_from_marker_to_marker(view, qtbot):
    for frame in (60, 20, 100):
        view.set_playhead(frame)
        qtbot.keyClick(view, Qt.Key.Key_M)
    assert view.project.markers == [20, 60, 100] and view.ruler.markers == [20, 60, 100]
    assert view.undo_stack.undoText() == "Add marker"
    view.set_playhead(60)
    view.go_to_marker(1)
    assert view.playhead == 100
    view.go_to_marker(1)
    assert view.playhead == 100, "none after the last"
    view.go_to_marker(-1)
    view.go_to_marker(-1)
    assert view.playhead == 20
    qtbot.keyClick(view, Qt.Key.Key_M)
    assert view.project.markers == [60, 100] and view.undo_stack.undoText() == "Remove marker"
    view.undo_stack.undo()
    assert view.project.markers == [20, 60, 100] and view.ruler.markers == [20, 60, 100]


def test_alt_click_puts_a_volume_key_on_the_line_a_drag_moves_it_and_alt_click_takes_it_away(view):
    item = view.clip_item("c3")  # Audio 1, 10..110
    alt = Qt.KeyboardModifier.AltModifier
    at = viewport_point(view, 40, AUDIO1)
    send_mouse(view, QEvent.Type.MouseButtonPress, at, Qt.MouseButton.LeftButton, alt)
    send_mouse(view, QEvent.Type.MouseButtonRelease, at, Qt.MouseButton.NoButton, alt)
    assert view.project.find_clip("c3")[1].volume == ((30, 1.0),), "on the line: the sound as it was"
    assert view.undo_stack.undoText() == "Add volume key"

    def key_point() -> QPoint:
        return view.mapFromScene(item.mapToScene(item._volume_points()[0]))

    bottom = view.mapFromScene(item.mapToScene(QPointF(0, item.boundingRect().bottom())))
    drag(view, key_point(), QPoint(key_point().x() + round(view.scale.x(10)), bottom.y()))
    assert view.project.find_clip("c3")[1].volume == ((40, 0.0),), "ten frames on, down to silence"
    assert view.undo_stack.undoText() == "Move volume key"
    send_mouse(view, QEvent.Type.MouseButtonPress, key_point(), Qt.MouseButton.LeftButton, alt)
    send_mouse(view, QEvent.Type.MouseButtonRelease, key_point(), Qt.MouseButton.NoButton, alt)
    assert view.project.find_clip("c3")[1].volume == () and view.undo_stack.undoText() == "Remove volume key"
    view.undo_stack.undo()
    view.undo_stack.undo()
    assert view.project.find_clip("c3")[1].volume == ((30, 1.0),)


def test_a_click_on_a_linked_clip_selects_its_partners_and_a_drag_moves_them_together(view):
    view.project.find_clip("c1")[1].link = view.project.find_clip("c3")[1].link = "pair"
    view.refresh()
    send_mouse(view, QEvent.Type.MouseButtonPress, viewport_point(view, 20, VIDEO1), Qt.MouseButton.LeftButton)
    send_mouse(view, QEvent.Type.MouseButtonRelease, viewport_point(view, 20, VIDEO1), Qt.MouseButton.NoButton)
    assert sorted(view.selected_clip_ids()) == ["c1", "c3"]
    drag(view, viewport_point(view, 20, VIDEO1), viewport_point(view, 20, VIDEO1) + QPoint(round(view.scale.x(5)), 0))
    assert spans(view.project)["c1"] == ("t1", 5, 48, 0) and spans(view.project)["c3"] == ("t3", 15, 100, 0)
    view.link_selected(False)
    assert view.project.find_clip("c1")[1].link == "" and view.undo_stack.undoText() == "Unlink clips"


def test_dragging_an_edge_of_linked_clips_trims_the_partner_on_the_same_edge(view):
    project = view.project
    project.find_clip("c3")[1].start = 0  # Audio 1's c3 now 0..100, its start shared with c1's (0..48)
    project.find_clip("c3")[1].length = 48
    project.find_clip("c1")[1].link = project.find_clip("c3")[1].link = "pair"
    view.refresh()
    c1 = view.clip_item("c1")
    end = view.mapFromScene(c1.sceneBoundingRect().topRight()) + QPoint(-2, 30)
    drag(view, end, end + QPoint(-round(view.scale.x(8)), 0))
    assert spans(project)["c1"] == ("t1", 0, 40, 0) and spans(project)["c3"] == ("t3", 0, 40, 0)
    assert view.undo_stack.undoText() == "Trim linked clips"
    view.undo_stack.undo()
    assert spans(project)["c3"] == ("t3", 0, 48, 0)
