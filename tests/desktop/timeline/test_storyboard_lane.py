"""The storyboard lane: a generated clip's prompts at its model clips' boundaries, following the clip and the zoom;
the generate panel's storyboard planned at the playhead; edits in the lane and in the panel reaching each other."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from engine_records import CPU, TOYWORLD, generation
from PySide6.QtCore import QEvent, QPointF, QSettings, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication
from timeline_helpers import SyntheticMedia, shown_timeline

from desktop.generate.panel import GeneratePanel
from desktop.generate.storyboard import clip_segments
from desktop.generate.storyboard_link import link_storyboard_lane
from desktop.project.commands import MoveClip, TrimClip
from desktop.project.model import Clip, MediaItem, Project, Track
from desktop.timeline.storyboard_lane import label_runs, run_label
from desktop.timeline.view import TimelineView

PROMPTS = ["a red circle moves up", "a red circle moves left", "a red circle moves down"]
# A 3 s toyworld video (16 fps, 4 latent frames per clip, 4 frames per latent): the first frame's latent gives one
# frame, then each clip 16, so 49 frames and clips starting at frames 0, 17 and 33.
BOUNDARIES = [0, 17, 33, 49]
MODELS = {"toyworld": TOYWORLD}


def project() -> Project:
    """Video 1: the generated clip "g" at 20..69, a plain clip "p" at 100..148."""
    made = Project(fps=16)
    made.media = {
        "g": MediaItem("g", Path("/media/board.mp4"), "video", 49 / 16, 16, 64, 64, provenance=generation(PROMPTS)),
        "p": MediaItem("p", Path("/media/plain.mp4"), "video", 3.0, 16, 64, 64),
    }
    made.tracks = [Track("t1", "video", "Video 1", clips=[Clip("g", "g", 20, 49), Clip("p", "p", 100, 48)])]
    return made


@pytest.fixture
def panel(qtbot, tmp_path):
    widget = GeneratePanel(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(widget)
    widget.set_models([TOYWORLD], CPU)
    return widget


@pytest.fixture
def view(qtbot, panel):
    with shown_timeline(qtbot, project(), SyntheticMedia(), 260) as widget:
        # a live clip on the Generating lane: one model clip of a running job, with the whole job's provenance
        widget.live.add(MediaItem("live", Path("/media/clip_01.mp4"), "video", 17 / 16, 16, 64, 64,
                                  provenance=generation(PROMPTS)), 300, 17)
        widget.refresh()
        link_storyboard_lane(panel, widget)
        yield widget


def lefts(view: TimelineView, planned: bool = False) -> list[float]:
    lane = view.storyboard
    return [lane.segment_rect(s).left() for s in lane.segments if s.planned == planned]


def expected(view: TimelineView, frames: list[int]) -> list[float]:
    return [f * view.scale.pixels_per_frame - view.horizontalScrollBar().value() for f in frames]


def double_click(widget, x: float) -> None:
    point = QPointF(x, widget.height() / 2)
    event = QMouseEvent(QEvent.Type.MouseButtonDblClick, point, widget.mapToGlobal(point), Qt.MouseButton.LeftButton,
                        Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)


def test_a_generated_clip_shows_one_segment_per_prompt_at_its_model_clip_boundaries(view):
    lane = view.storyboard
    assert [(s.clip_id, s.prompt, s.cut) for s in lane.segments] == [
        ("g", PROMPTS[0], False), ("g", PROMPTS[1], True), ("g", PROMPTS[2], True)]  # not the plain nor the live one
    assert lefts(view) == expected(view, [20 + b for b in BOUNDARIES[:3]])
    last = lane.segment_rect(lane.segments[-1])
    assert last.right() == pytest.approx(expected(view, [20 + 49])[0])
    assert lane.segment_at(expected(view, [20 + 20])[0]).prompt == PROMPTS[1]
    assert lane.geometry().top() == view.ruler.geometry().bottom() + 1
    assert lane.geometry().bottom() < view.viewport().geometry().top()


def test_segments_follow_the_clip_when_it_moves_or_is_trimmed_and_follow_the_zoom_and_scroll(view):
    assert view.edit(MoveClip("g", "t1", 30))
    assert lefts(view) == expected(view, [30 + b for b in BOUNDARIES[:3]])
    view.undo_stack.undo()
    assert lefts(view) == expected(view, [20 + b for b in BOUNDARIES[:3]])

    assert view.edit(TrimClip("g", "start", 40))  # trims off the first model clip and 3 frames of the second
    lane = view.storyboard
    assert [(s.index, s.start, s.end, s.cut) for s in lane.segments] == [(1, 40, 53, False), (2, 53, 69, True)]

    view.zoom(2.5, anchor=0)
    assert view.scale.pixels_per_frame == 10.0
    view.horizontalScrollBar().setValue(150)
    assert view.horizontalScrollBar().value() == 150
    assert lefts(view) == [40 * 10.0 - 150, 53 * 10.0 - 150]


def test_a_clip_cut_from_an_export_of_one_generated_clip_keeps_its_boundaries():
    made = project()
    exported = {"clips": [{"start_s": 2.0, "end_s": 49 / 16 + 1.5, "source_in_s": 0.5,
                           "provenance": generation(PROMPTS)}]}
    made.media["e"] = MediaItem("e", Path("/media/export.mp4"), "video", 5.0, 16, 64, 64, provenance=exported)
    clip = Clip("e", "e", 0, 80)  # the generated video starts 1.5 s (24 frames) into the export
    assert [s.start for s in clip_segments(made, clip, MODELS)] == [24 + b for b in BOUNDARIES[:3]]


def test_a_continuation_has_no_first_frame_and_a_stopped_jobs_video_shows_the_clips_it_holds():
    made = project()
    made.media["c"] = MediaItem("c", Path("/media/continued.mp4"), "video", 3.0, 16, 64, 64,
                                provenance=generation(PROMPTS, kind="continue"))
    # a 30 s storyboard stopped after its first 3 clips: its provenance still describes the whole request
    board = [f"a red circle moves {way}" for way in ("up", "left", "down")] * 10
    made.media["k"] = MediaItem("k", Path("/media/kept.mp4"), "video", 49 / 16, 16, 64, 64,
                                provenance=generation(board, seconds=30))
    assert [s.start for s in clip_segments(made, Clip("c", "c", 100, 48), MODELS)] == [100, 116, 132]
    kept = clip_segments(made, Clip("k", "k", 0, 49), MODELS)
    assert [(s.start, s.end, s.prompt) for s in kept] == [(0, 17, board[0]), (17, 33, board[1]), (33, 49, board[2])]


def test_a_long_video_going_on_with_one_prompt_is_labelled_once_per_run_of_clips():
    made = project()
    prompts = ["a red circle moves up"] * 30 + ["a red circle moves down"] * 10
    made.media["k"] = MediaItem("k", Path("/media/kept.mp4"), "video", 40.0, 16, 64, 64,
                                provenance=generation(prompts, seconds=40, kind="continue"))
    runs = label_runs(clip_segments(made, Clip("k", "k", 0, 640), MODELS))
    assert [run_label(run) for run in runs] == ["1-30. a red circle moves up", "31-40. a red circle moves down"]
    assert [(run[0].start, run[-1].end) for run in runs] == [(0, 480), (480, 640)]


def test_a_long_storyboard_plans_one_segment_per_prompt_empty_rows_going_on_as_the_row_above(view, panel):
    panel.mode.setCurrentText("Storyboard")
    panel.duration.setValue(40)
    panel.set_storyboard(["a red circle moves up"] + [""] * 19 + ["a red circle moves down"] + [""] * 19)
    planned = [s for s in view.storyboard.segments if s.planned]
    assert len(planned) == 40 and [s.start for s in planned[:3]] == [0, 17, 33] and planned[-1].end == 1 + 40 * 16
    assert {s.prompt for s in planned[:20]} == {"a red circle moves up"}
    assert {s.prompt for s in planned[20:]} == {"a red circle moves down"}


def test_the_storyboard_mode_plans_segments_at_the_playhead_and_lane_and_panel_edits_meet(view, panel, qtbot):
    assert not [s for s in view.storyboard.segments if s.planned]
    view.set_playhead(160)
    panel.mode.setCurrentText("Storyboard")
    panel.duration.setValue(2)
    planned = [s for s in view.storyboard.segments if s.planned]
    assert [(s.start, s.end, s.prompt) for s in planned] == [(160, 177, ""), (177, 193, "")]
    assert lefts(view, planned=True) == expected(view, [160, 177])

    panel.board.edits[0].setText("a blue square grows")  # the panel edits the lane; the empty row goes on with it
    assert [s.prompt for s in view.storyboard.segments if s.planned] == ["a blue square grows"] * 2

    lane = view.storyboard
    double_click(lane, lane.segment_rect(planned[1]).center().x())  # the lane edits the panel
    assert lane.editor.isVisible() and lane.editor.text() == "a blue square grows"
    lane.editor.setText("the square turns green")
    qtbot.keyClick(lane.editor, Qt.Key.Key_Return)
    assert not lane.editor.isVisible()
    assert panel.prompts() == ("a blue square grows", "the square turns green")
    assert view.storyboard.segments[-1].prompt == "the square turns green"

    lane.edit_segment(view.storyboard.segments[-1])
    lane.editor.setText("something else")
    qtbot.keyClick(lane.editor, Qt.Key.Key_Escape)  # cancels
    assert not lane.editor.isVisible() and panel.prompts()[1] == "the square turns green"

    view.set_playhead(400)
    assert [s.start for s in view.storyboard.segments if s.planned] == [400, 417]
    panel.mode.setCurrentText("Text to video")
    assert not [s for s in view.storyboard.segments if s.planned]


def test_editing_a_generated_segment_loads_its_request_into_the_panel_and_leaves_the_clip_as_it_was(view, panel,
                                                                                                  qtbot):
    before = copy.deepcopy(view.project)
    lane = view.storyboard
    lane.edit_segment(lane.segments[1])
    assert lane.editor.text() == PROMPTS[1]
    lane.editor.setText("a red circle jumps")
    qtbot.keyClick(lane.editor, Qt.Key.Key_Return)

    assert panel.mode_key == "storyboard" and panel.duration.value() == 3
    assert panel.prompts() == (PROMPTS[0], "a red circle jumps", PROMPTS[2])
    assert not panel.random_seed.isChecked() and panel.seed.value() == 1234
    assert view.project == before and view.undo_stack.count() == 0  # the clip's provenance is what made it
    assert view.playhead == 20
    planned = [s for s in view.storyboard.segments if s.planned]
    assert [(s.start, s.end) for s in planned] == [(s.start, s.end) for s in view.storyboard.segments[:3]]
