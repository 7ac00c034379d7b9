"""Volume keys as the project keeps them: the level runs in straight lines from key to key; edits that cut, slow or
retime a clip keep the level of every frame they keep; a bad key is refused naming why; keys are saved."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from sample_projects import clip_field_error, do_undo_redo, refused, sample_project

from desktop.project.commands import SetClipSpeed, SetClipVolume, SetFormat, SplitClip, TrimClip
from desktop.project.file import load_project, save_project
from desktop.project.model import Project
from desktop.project.volume import cut, level_at, levels

KEYS = ((4, 1.0), (12, 0.0), (20, 2.0))


def heard(project: Project, track_id: str, frames: range) -> dict[int, float]:
    """The level of each timeline frame of a track where a clip is."""
    track = project.track(track_id)
    return {f: level_at(c.volume, f - c.start) for f in frames if (c := track.clip_at(f)) is not None}


def test_the_level_runs_straight_from_key_to_key_and_holds_beyond_them():
    assert levels(KEYS, np.array([0, 4, 8, 12, 16, 20, 30])).tolist() == [1.0, 1.0, 0.5, 0.0, 1.0, 2.0, 2.0]
    assert levels((), np.array([0.0, 5.0])).tolist() == [1.0, 1.0]
    assert cut(KEYS, 8, 16) == ((0, 0.5), (4, 0.0), (8, 1.0)), "an edge key where keys lie beyond"
    assert cut(KEYS, 0, 8) == ((4, 1.0), (8, 0.5))
    assert cut(KEYS, -4, 30) == ((8, 1.0), (16, 0.0), (24, 2.0)), "grown: the keys keep their frames"


def test_splits_trims_and_a_new_speed_keep_the_level_of_every_frame_they_keep():
    project = sample_project()  # m1: music at 0..160 on Audio 1
    do_undo_redo(project, SetClipVolume("m1", KEYS))
    before = heard(project, "a1", range(160))
    split = SplitClip("m1", 10)
    do_undo_redo(project, split)
    TrimClip(split.right_id, "start", 14).do(project)
    TrimClip(split.right_id, "end", 18).do(project)
    assert project.find_clip(split.right_id)[1].volume == ((0, 0.5), (4, 1.5)), "the levels at frames 14 and 18"
    kept = heard(project, "a1", range(160))
    assert kept and all(before[f] == level for f, level in kept.items())
    project = sample_project()
    SetClipVolume("m1", KEYS).do(project)
    do_undo_redo(project, SetClipSpeed("m1", 0.5))  # 320 frames: the keys at twice their frames
    assert project.find_clip("m1")[1].volume == ((8, 1.0), (24, 0.0), (40, 2.0))
    do_undo_redo(project, SetFormat(1280, 720, 8))
    assert project.find_clip("m1")[1].volume == ((4, 1.0), (12, 0.0), (20, 2.0))
    SetClipVolume("m1", ((0, 1.0), (160, 0.0))).do(project)  # to the clip's last frame, at 8 fps
    do_undo_redo(project, SetFormat(1280, 720, 4))
    assert project.find_clip("m1")[1].volume == ((0, 1.0), (80, 0.0)), "still at the clip's end"


def test_bad_keys_are_refused_naming_why_and_keys_are_saved(tmp_path: Path):
    project = sample_project(tmp_path)
    refused(project, SetClipVolume("c1", ((50, 1.0),)), "on a frame of the clip, 0 to 40")
    refused(project, SetClipVolume("c1", ((5, 1.0), (2, 1.0))), "distinct frames in order")
    refused(project, SetClipVolume("c1", ((5, 5.0),)), "level should be a number from 0 to 4, not 5.0")
    SetClipVolume("c1", ((0, 0.5), (40, 1.5))).do(project)
    save_project(project, tmp_path / "p.istar")
    assert load_project(tmp_path / "p.istar").find_clip("c1")[1].volume == ((0, 0.5), (40, 1.5))
    assert json.loads((tmp_path / "p.istar").read_text())["tracks"][1]["clips"][0]["volume"] == [[0, 0.5], [40, 1.5]]
    assert "tracks[1].clips[2].volume: should be a list of [frame, level] pairs" in clip_field_error(tmp_path,
                                                                                                    "volume", [1, 2])
    assert "tracks[1].clips[2].volume: each volume key should be on a frame" in clip_field_error(tmp_path, "volume",
                                                                                                 [[1.5, 1]])
