"""Linked clips as the project keeps them: linking and unlinking as one edit, a split of linked clips at one frame
pairing their parts again, a paste linking the copies among themselves only, and links saved."""

from __future__ import annotations

from pathlib import Path

import pytest
from sample_projects import do_undo_redo, sample_project

from desktop.project.clipboard import copy_clips, paste_clips
from desktop.project.commands import SplitClip, link_clips, linked_ids, unlink_clips
from desktop.project.file import load_project, save_project
from desktop.project.model import ProjectError


def test_clips_link_and_unlink_as_one_edit_and_the_link_is_saved(tmp_path: Path):
    project = sample_project(tmp_path)  # c1: vid on Video 1 at 0..40, m1: music on Audio 1
    do_undo_redo(project, link_clips(project, ["c1", "m1"]))
    link = project.find_clip("c1")[1].link
    assert link and project.find_clip("m1")[1].link == link
    assert linked_ids(project, {"c1"}) == ["c1", "m1"] and linked_ids(project, {"c2"}) == ["c2"]
    save_project(project, tmp_path / "p.istar")
    assert load_project(tmp_path / "p.istar").find_clip("m1")[1].link == link
    do_undo_redo(project, unlink_clips(project, ["m1"]))
    assert project.find_clip("m1")[1].link == "" and linked_ids(project, {"c1"}) == ["c1"]
    with pytest.raises(ProjectError, match="two clips or more"):
        link_clips(project, ["c2"])
    with pytest.raises(ProjectError, match="none of the selected clips is linked"):
        unlink_clips(project, ["c2", "c3"])


def test_linked_clips_split_at_one_frame_pair_up_again():
    project = sample_project()
    link_clips(project, ["c1", "m1"]).do(project)
    video, sound = SplitClip("c1", 20), SplitClip("m1", 20)
    video.do(project)
    sound.do(project)
    rights = [project.find_clip(i)[1].link for i in (video.right_id, sound.right_id)]
    assert rights[0] == rights[1] != project.find_clip("c1")[1].link
    assert linked_ids(project, {video.right_id}) == [video.right_id, sound.right_id]
    assert linked_ids(project, {"c1"}) == ["c1", "m1"]


def test_pasted_copies_are_linked_among_themselves_and_a_lone_copy_to_nothing():
    project = sample_project()
    link_clips(project, ["c1", "m1"]).do(project)
    edit, made = paste_clips(project, copy_clips(project, ["c1", "m1"]), at=400)
    edit.do(project)
    links = {project.find_clip(i)[1].link for i in made}
    assert len(links) == 1 and links != {project.find_clip("c1")[1].link}, "a pair of its own"
    edit, [lone] = paste_clips(project, copy_clips(project, ["c1"]), at=600)
    edit.do(project)
    assert project.find_clip(lone)[1].link == ""
