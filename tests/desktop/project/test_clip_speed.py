"""Clip speed as the project keeps it: a sped clip shows the same stretch of its media over a length scaled by the
speed, edits on it (trim, split, a new frame rate) keep each timeline frame's media position, and what it cannot do
is refused with its reason, the project left as it was."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from sample_projects import do_undo_redo, refused, sample_project

from desktop.generate.placement import media_end
from desktop.project.commands import (
    RemoveClip,
    SetClipFades,
    SetClipKeepPitch,
    SetClipSpeed,
    SetFormat,
    SplitClip,
    TrimClip,
)
from desktop.project.file import ProjectFileError, load_project, save_project
from desktop.project.model import Project
from desktop.timeline.drags import trim_landing, trim_limits


def shown(project: Project, clip_ids: list[str], frames: list[int] | range) -> list[float]:
    """The media position each timeline frame shows, from whichever of the clips holds it."""
    positions = []
    for frame in frames:
        clip = next(c for i in clip_ids for c in [project.find_clip(i)[1]] if c.start <= frame < c.end)
        positions.append(clip.media_frame(frame))
    return positions


def test_twice_as_fast_shows_the_same_media_in_half_the_frames_and_undoes_exactly():
    project = sample_project()  # c1: vid at 0..40, from its frame 10
    do_undo_redo(project, SetClipSpeed("c1", 2.0))
    clip = project.find_clip("c1")[1]
    assert (clip.start, clip.length, clip.source_in, clip.speed) == (0, 20, 10, 2.0)
    assert clip.source_end == 50, "media frames 10..50, as at speed 1"
    assert [clip.media_frame(f) for f in (0, 1, 19)] == [10, 12, 48]


def test_slowing_a_clip_into_its_neighbour_is_refused_naming_it():
    project = sample_project()  # c2, a still, starts where c1 ends
    refused(project, SetClipSpeed("c1", 0.5), r"at 50 % the clip lasts 5.00 s and would run into still.png at "
                                              r"2.50 s on Video 1: move that clip first")
    RemoveClip("c2").do(project)
    SetClipSpeed("c1", 0.5).do(project)
    assert project.find_clip("c1")[1].length == 80


def test_with_ripple_the_later_clips_of_its_track_move_with_its_end():
    project = sample_project()  # V1: vid@0..40, still@40..88, short@100..132; V2: short@20..36
    do_undo_redo(project, SetClipSpeed("c1", 0.5, ripple=True))
    assert [(c.id, c.start, c.end) for c in project.track("v1").clips] == [("c1", 0, 80), ("c2", 80, 128),
                                                                            ("c3", 140, 172)]
    assert [(c.start, c.end) for c in project.track("v2").clips] == [(20, 36)], "other tracks stay"
    SetClipSpeed("c1", 2.0, ripple=True).do(project)
    assert [(c.id, c.start, c.end) for c in project.track("v1").clips] == [("c1", 0, 20), ("c2", 20, 68),
                                                                            ("c3", 80, 112)], "the gap kept"


def test_a_rounded_length_never_reaches_past_the_media():
    project = sample_project()  # c3: short (32 frames) at 100..132
    TrimClip("c3", "start", 116).do(project)  # media 16..32, the media's end
    SetClipSpeed("c3", 0.7).do(project)  # 16 / 0.7 = 22.9 frames: 23 would need media up to 32.1
    clip = project.find_clip("c3")[1]
    assert clip.length == 22 and clip.source_end <= 32
    assert project.media_room(clip) == (math.floor(16 / 0.7), 0)


def test_stills_titles_and_speeds_out_of_range_are_refused():
    project = sample_project()
    refused(project, SetClipSpeed("c2", 2.0), "still.png is a still picture: it has no pace to change")
    refused(project, SetClipSpeed("c1", 0.0), "speed 0.0 is not from 0.05 to 20")
    refused(project, SetClipSpeed("c1", 25.0), "speed 25.0 is not from 0.05 to 20")
    refused(project, SetClipSpeed("c1", float("nan")), "speed nan")


def test_fades_keep_their_times_within_the_shorter_clip():
    project = sample_project()
    SetClipFades("c1", 10, 20).do(project)
    SetClipSpeed("c1", 2.0).do(project)
    clip = project.find_clip("c1")[1]
    assert (clip.length, clip.fade_in, clip.fade_out) == (20, 10, 10)


def test_split_and_trims_of_a_slow_clip_keep_every_frames_media_position():
    project = sample_project()
    RemoveClip("c2").do(project)
    SetClipSpeed("c1", 0.5).do(project)  # 0..80, media 10..50
    before = shown(project, ["c1"], range(80))
    assert before == [10 + f / 2 for f in range(80)]

    split = SplitClip("c1", 7)
    do_undo_redo(project, split)
    right = project.find_clip(split.right_id)[1]
    assert right.source_in == 13.5 and right.speed == 0.5, "half a media frame in"
    assert shown(project, ["c1", split.right_id], range(80)) == before

    TrimClip(split.right_id, "start", 8).do(project)
    assert right.source_in == 14 and isinstance(right.source_in, int), "a whole position stays whole"
    TrimClip("c1", "start", 1).do(project)
    TrimClip("c1", "start", 0).do(project)
    assert project.find_clip("c1")[1].source_in == 10
    kept = [f for f in range(80) if f != 7]  # frame 7 is the gap the trim of the right part left
    assert shown(project, ["c1", split.right_id], kept) == [before[f] for f in kept]


def test_the_media_room_around_a_sped_clip_is_counted_in_timeline_frames():
    project = sample_project()  # c1: media 10..50 of 80 frames
    SetClipSpeed("c1", 2.0).do(project)
    clip = project.find_clip("c1")[1]
    assert project.media_room(clip) == (5, 15)
    assert media_end(project, clip) == 35, "where the media's last frame would end, for a continuation"
    TrimClip("c1", "end", 35).do(project)
    refused(project, TrimClip("c1", "end", 36), "vid.mp4 has 80 frames; the clip would need frames up to 82 at "
                                                "speed 2")


def test_a_new_frame_rate_keeps_a_sped_clips_media_and_time():
    project = sample_project()
    RemoveClip("c2").do(project)
    SetClipSpeed("c1", 0.5).do(project)
    SplitClip("c1", 7).do(project)
    do_undo_redo(project, SetFormat(project.width, project.height, 32))
    clips = project.tracks[1].clips
    assert [(c.start, c.length, c.source_in, c.speed) for c in clips[:2]] == [(0, 14, 20, 0.5), (14, 146, 27, 0.5)]
    assert clips[1].source_end == 100, "media frame 50 at 16 fps is frame 100 at 32"


def test_speed_and_a_position_between_frames_survive_a_save(tmp_path: Path):
    project = sample_project(tmp_path)
    RemoveClip("c2").do(project)
    SetClipSpeed("c1", 0.5).do(project)
    SplitClip("c1", 7).do(project)
    save_project(project, tmp_path / "p.istar")
    again = load_project(tmp_path / "p.istar")
    assert again.tracks == project.tracks

    data = json.loads((tmp_path / "p.istar").read_text())
    assert data["schema"] == 5
    data["tracks"][1]["clips"][0]["speed"] = 0
    (tmp_path / "bad.istar").write_text(json.dumps(data))
    with pytest.raises(ProjectFileError, match=r"tracks\[1\]\.clips\[0\]\.speed.*not from 0.05 to 20"):
        load_project(tmp_path / "bad.istar")
    data["tracks"][1]["clips"][0] |= {"speed": 1, "source_in": -0.5}
    (tmp_path / "bad.istar").write_text(json.dumps(data))
    with pytest.raises(ProjectFileError, match=r"tracks\[1\]\.clips\[0\]\.source_in"):
        load_project(tmp_path / "bad.istar")



def test_a_dragged_edge_of_a_fast_clip_stops_where_its_media_does():
    project = sample_project()  # c3: short (32 frames) at 100..132; c2 ends at 88
    TrimClip("c3", "start", 116).do(project)
    SetClipSpeed("c3", 2.0).do(project)  # 116..124, media 16..32: 8 media frames before it, 4 timeline frames
    assert trim_limits(project, "c3", "start") == (108, 123)
    assert trim_limits(project, "c3", "end") == (117, 124)
    landing = trim_landing(project, "c3", "start", 110, None, 0)
    assert (landing.start, landing.length, landing.source_in) == (110, 14, 4)
    landing = trim_landing(project, "c3", "start", 90, None, 0)
    assert (landing.start, landing.source_in) == (108, 0), "held at the media's first frame"


def test_keep_pitch_is_an_undoable_choice_saved_with_the_clip(tmp_path: Path):
    project = sample_project(tmp_path)
    assert project.find_clip("c1")[1].keep_pitch, "kept unless told otherwise"
    do_undo_redo(project, SetClipKeepPitch("c1", False))
    save_project(project, tmp_path / "p.istar")
    assert not load_project(tmp_path / "p.istar").find_clip("c1")[1].keep_pitch
    data = json.loads((tmp_path / "p.istar").read_text())
    data["tracks"][1]["clips"][0]["keep_pitch"] = "yes"
    (tmp_path / "bad.istar").write_text(json.dumps(data))
    with pytest.raises(ProjectFileError, match=r"tracks\[1\]\.clips\[0\]\.keep_pitch: should be true or false"):
        load_project(tmp_path / "bad.istar")
