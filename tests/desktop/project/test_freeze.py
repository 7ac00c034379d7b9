"""Freeze frame as an edit: which clip a freeze at the playhead holds, and the hold put in its place with its
transform and grade, the rest of the clip and its track moving on, other tracks staying, one undo step."""

from __future__ import annotations

from pathlib import Path

import pytest
from sample_projects import do_undo_redo, sample_project

from desktop.project.commands import SetClipGrade, SetClipTransform
from desktop.project.freeze import freeze_frame, frozen_clip
from desktop.project.grade import Grade
from desktop.project.model import MediaItem, Project, ProjectError
from desktop.project.transform import Transform

PICTURE = MediaItem("frame", Path("/footage/vid-frame-20.png"), "image", 0.0, None, 64, 64)


def spans(project: Project) -> dict[str, list[tuple[str, int, int, float]]]:
    return {t.name: [(c.media_id, c.start, c.end, c.source_in) for c in t.clips] for t in project.tracks}


def test_a_freeze_holds_the_picture_for_two_seconds_and_the_clip_goes_on_after_it():
    project = sample_project()  # V1: vid@0..40 (from its frame 10), still@40..88, short@100..132
    SetClipTransform("c1", Transform(opacity=0.5)).do(project)
    SetClipGrade("c1", Grade(saturation=0.0)).do(project)
    before = spans(project)
    edit = freeze_frame(project, "c1", 20, PICTURE)
    do_undo_redo(project, edit)
    assert spans(project)["Video 1"] == [("vid", 0, 20, 10), ("frame", 20, 52, 0), ("vid", 52, 72, 30),
                                         ("still", 72, 120, 0), ("short", 132, 164, 0)]
    assert spans(project)["Video 2"] == before["Video 2"] and spans(project)["Audio 1"] == before["Audio 1"]
    hold = project.find_clip(edit.commands[-1].clip.id)[1]
    assert hold.transform == Transform(opacity=0.5) and hold.grade == Grade(saturation=0.0), "it looks as the clip did"
    assert project.media["frame"] == PICTURE


def test_the_held_clip_is_the_selected_one_or_the_top_video_under_the_playhead():
    project = sample_project()  # V2: short@20..36 over V1's vid@0..40
    assert frozen_clip(project, 25).id == "top"
    assert frozen_clip(project, 25, "c1").id == "c1"
    project.track("v2").muted = True
    assert frozen_clip(project, 25).id == "c1", "a hidden track's clip is not what is seen"
    with pytest.raises(ProjectError, match="still.png is not a video: it is still already"):
        frozen_clip(project, 50)
    with pytest.raises(ProjectError, match="no video clip is under the playhead to freeze"):
        frozen_clip(project, 95)
    with pytest.raises(ProjectError, match=r"the playhead is not on the clip \(frames 0..40\)"):
        frozen_clip(project, 50, "c1")
    project.track("v1").locked = True
    with pytest.raises(ProjectError, match="track Video 1 is locked"):
        frozen_clip(project, 25, "c1")
