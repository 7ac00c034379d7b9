"""Fades and cross-dissolves as edits: undoable, saved, refused where the media beyond a cut runs out, and kept in time
when the frame rate changes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sample_projects import assert_same, sample_project, snapshot

from desktop.project.commands import MoveClip, SetClipFades, SetDissolve, SetFormat, SplitClip, add_dissolve
from desktop.project.file import load_project, save_project
from desktop.project.model import Clip, ProjectError
from desktop.project.schema import FieldError, project_from_json, project_to_json
from desktop.project.transitions import dissolve_at, dissolve_limit, pictures_at


def test_fades_are_set_undone_and_redone_exactly():
    project = sample_project()
    before = snapshot(project)
    command = SetClipFades("c1", 8, 4)
    command.do(project)
    _, clip = project.find_clip("c1")
    assert (clip.fade_in, clip.fade_out) == (8, 4)
    command.undo(project)
    assert_same(project, before)
    command.do(project)
    assert (clip.fade_in, clip.fade_out) == (8, 4)


def test_fades_that_do_not_fit_in_the_clip_are_refused():
    project = sample_project()  # c1 lasts 40 frames
    before = snapshot(project)
    with pytest.raises(ProjectError, match="do not fit in a clip of 40 frames"):
        SetClipFades("c1", 30, 11).do(project)
    with pytest.raises(ProjectError, match="0 frames or more"):
        SetClipFades("c1", -1, 0).do(project)
    assert_same(project, before)


def test_a_dissolve_goes_on_a_cut_and_is_undone_exactly():
    project = sample_project()  # c1 (vid from frame 10, 40 frames) ends at 40 where c2 (a still) starts
    before = snapshot(project)
    command = SetDissolve("c2", 16)
    command.do(project)
    track = project.track("v1")
    dissolve = dissolve_at(project, track, 40)
    assert dissolve is not None and (dissolve.first, dissolve.length) == (32, 16)
    assert [c.id for c, _ in pictures_at(project, track, 31)] == ["c1"]
    assert [c.id for c, _ in pictures_at(project, track, 47)] == ["c1", "c2"]
    assert [c.id for c, _ in pictures_at(project, track, 48)] == ["c2"]
    command.undo(project)
    assert_same(project, before)


def test_a_dissolve_cannot_use_media_beyond_the_file():
    project = sample_project()  # vid has 80 frames; c1 shows 10..50, so 30 are left after its out point
    track = project.track("v1")
    assert dissolve_limit(project, track, project.find_clip("c2")[1]) == 60  # 30 frames each side of the cut
    before = snapshot(project)
    with pytest.raises(ProjectError, match="62-frame cross-dissolve does not fit: it would show 31 frames of vid.mp4 "
                                           "after the outgoing clip's out point, which has 30 to give; at most 60"):
        SetDissolve("c2", 62).do(project)
    assert_same(project, before)
    SetDissolve("c2", 60).do(project)


def test_a_dissolve_needs_a_clip_ending_where_this_one_starts():
    project = sample_project()  # c3 starts at 100, after a gap
    with pytest.raises(ProjectError, match="no clip ends where this one starts"):
        SetDissolve("c3", 8).do(project)


def test_a_dissolve_whose_clips_move_apart_plays_no_more_and_returns_with_them():
    project = sample_project()
    SetDissolve("c2", 16).do(project)
    track = project.track("v1")
    move = MoveClip("c2", "v1", 50)
    move.do(project)
    assert dissolve_at(project, track, 40) is None and dissolve_at(project, track, 50) is None
    move.undo(project)
    assert dissolve_at(project, track, 40) is not None


def test_fades_and_dissolves_survive_save_and_load(tmp_path: Path):
    project = sample_project(tmp_path)
    SetClipFades("c1", 8, 0).do(project)
    SetClipFades("c2", 0, 12).do(project)
    SetDissolve("c2", 10).do(project)
    save_project(project, tmp_path / "p.istar")
    loaded = load_project(tmp_path / "p.istar")
    assert loaded == project
    data = json.loads((tmp_path / "p.istar").read_text())
    clips = {c["id"]: c for c in data["tracks"][1]["clips"]}
    assert (clips["c1"]["fade_in"], clips["c2"]["fade_out"], clips["c2"]["dissolve_in"]) == (8, 12, 10)


def test_a_file_without_fades_loads_with_none_and_a_bad_one_is_named(tmp_path: Path):
    data = project_to_json(sample_project(tmp_path), tmp_path)
    for track in data["tracks"]:
        for clip in track["clips"]:
            del clip["fade_in"], clip["fade_out"], clip["dissolve_in"]
    loaded = project_from_json(data, tmp_path)
    assert all((c.fade_in, c.fade_out, c.dissolve_in) == (0, 0, 0) for t in loaded.tracks for c in t.clips)
    data["tracks"][1]["clips"][0]["fade_in"] = -3
    with pytest.raises(FieldError, match=r"tracks\[1\].clips\[0\].fade_in: should be at least 0, not -3"):
        project_from_json(data, tmp_path)
    data["tracks"][1]["clips"][0]["fade_in"] = 2.5
    with pytest.raises(FieldError, match=r"tracks\[1\].clips\[0\].fade_in: should be a whole number"):
        project_from_json(data, tmp_path)


def test_a_new_frame_rate_keeps_fade_and_dissolve_times_and_undo_restores_them():
    project = sample_project()  # 16 fps
    SetClipFades("c1", 8, 4).do(project)  # 0.5 s and 0.25 s
    SetDissolve("c2", 16).do(project)  # 1 s
    before = snapshot(project)
    command = SetFormat(project.width, project.height, 24)
    command.do(project)
    c1, c2 = project.find_clip("c1")[1], project.find_clip("c2")[1]
    assert (c1.fade_in, c1.fade_out, c2.dissolve_in) == (12, 6, 24)
    dissolve = dissolve_at(project, project.track("v1"), 60)
    assert dissolve is not None and (dissolve.first, dissolve.length) == (48, 24)  # 2 s .. 3 s, as before
    command.undo(project)
    assert_same(project, before)


def test_at_a_lower_rate_fades_stay_within_their_clip():
    project = sample_project()
    SetClipFades("top", 8, 8).do(project)  # the whole 16-frame clip
    SetFormat(project.width, project.height, 5).do(project)
    top = project.find_clip("top")[1]
    assert top.length == 5 and top.fade_in + top.fade_out <= 5 and top.fade_in == 3  # 2.5 rounds up


def test_a_split_leaves_the_fade_in_and_dissolve_left_the_fade_out_right_and_a_plain_cut_between():
    project = sample_project()  # c2: the still at 40..88
    SetClipFades("c2", 8, 12).do(project)
    SetDissolve("c2", 10).do(project)
    before = snapshot(project)
    split = SplitClip("c2", 60)
    split.do(project)
    left, right = project.find_clip("c2")[1], project.find_clip(split.right_id)[1]
    assert (left.fade_in, left.fade_out, left.dissolve_in) == (8, 0, 10)
    assert (right.fade_in, right.fade_out, right.dissolve_in) == (0, 12, 0)
    assert dissolve_at(project, project.track("v1"), 60) is None
    split.undo(project)
    assert_same(project, before)


def test_add_dissolve_on_clips_placed_whole_overlaps_them_and_undoes_in_one_step():
    project = sample_project()
    project.find_clip("top")[1].length = 32  # V2: all 32 frames of short at 20..52, then all of it again
    project.track("v2").place(Clip("top2", "short", 52, 32))
    before = snapshot(project)
    edit = add_dissolve(project, "top2", 10)
    edit.do(project)
    top, top2 = project.find_clip("top")[1], project.find_clip("top2")[1]
    # 5 frames each side of the cut, none in the media: "top" ends 5 earlier, "top2" starts 5 later in its media
    assert (top.start, top.length) == (20, 27) and (top2.start, top2.length, top2.source_in) == (47, 27, 5)
    dissolve = dissolve_at(project, project.track("v2"), 47)
    assert dissolve is not None and (dissolve.first, dissolve.length) == (42, 10)
    edit.undo(project)
    assert_same(project, before)


def test_add_dissolve_is_refused_where_the_clips_are_too_short_to_give_the_frames():
    project = sample_project()
    project.track("v2").place(Clip("top2", "short", 36, 4))
    before = snapshot(project)
    with pytest.raises(ProjectError, match="too short to give them"):
        add_dissolve(project, "top2", 10).do(project)
    assert_same(project, before)
