"""Each edit command on a plain project: what it does, what it refuses (leaving the project untouched), and that undo
restores the project exactly and redo repeats the edit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sample_projects import do_undo_redo, refused, sample_project

from desktop.project.commands import (
    AddClip,
    AddMedia,
    AddTrack,
    CloseGap,
    Macro,
    MoveClip,
    NameMarker,
    RelinkMedia,
    RemoveClip,
    RemoveMedia,
    RemoveTrack,
    RippleDelete,
    SetClipGain,
    SetFormat,
    SetTrackFlag,
    SplitClip,
    ToggleMarker,
    TrimClip,
    gap_at,
    move_clips,
    ripple_trim,
)
from desktop.project.file import ProjectFileError, load_project, save_project
from desktop.project.model import Clip, MediaItem, Project, ProjectError


def starts(project: Project, track_id: str) -> list[tuple[str, int, int]]:
    return [(c.id, c.start, c.length) for c in project.track(track_id).clips]


def test_add_track_goes_where_asked_and_undo_removes_it():
    project = sample_project()
    command = AddTrack("video", "Video 3", index=0)
    do_undo_redo(project, command)
    assert project.tracks[0].name == "Video 3" and project.tracks[0].kind == "video"
    assert project.tracks[0].id == command.track.id
    do_undo_redo(project, AddTrack("audio", "Audio 2"))
    assert project.tracks[-1].name == "Audio 2"


def test_add_track_refuses_unknown_kind_and_index():
    project = sample_project()
    refused(project, AddTrack("subtitles", "Subs"), "no 'subtitles' tracks")  # type: ignore[arg-type]
    refused(project, AddTrack("video", "V", index=9), "no place 9")


def test_remove_track_takes_its_clips_and_undo_puts_it_back_in_place():
    project = sample_project()
    do_undo_redo(project, RemoveTrack("v1"))
    assert [t.id for t in project.tracks] == ["v2", "a1"]
    assert "c1" not in {c.id for t in project.tracks for c in t.clips}


def test_track_flags_mute_and_lock_and_unlock_even_when_locked():
    project = sample_project()
    mute = SetTrackFlag("a1", "muted", True)
    assert mute.text == "Mute track"
    do_undo_redo(project, mute)
    assert project.track("a1").muted
    do_undo_redo(project, SetTrackFlag("v1", "locked", True))
    unlock = SetTrackFlag("v1", "locked", False)
    assert unlock.text == "Unlock track"
    do_undo_redo(project, unlock)
    assert not project.track("v1").locked
    with pytest.raises(ProjectError, match="no flag 'hidden'"):
        SetTrackFlag("v1", "hidden", True)  # type: ignore[arg-type]


def test_only_an_audio_track_is_ducked_and_the_choice_is_saved(tmp_path):
    project = sample_project(tmp_path)
    duck = SetTrackFlag("a1", "ducked", True)
    assert duck.text == "Duck track"
    do_undo_redo(project, duck)
    refused(project, SetTrackFlag("v1", "ducked", True), "Video 1 is a video track: only an audio track is lowered")
    save_project(project, tmp_path / "p.istar")
    assert load_project(tmp_path / "p.istar").track("a1").ducked
    data = json.loads((tmp_path / "p.istar").read_text())
    data["tracks"][1]["ducked"] = True
    (tmp_path / "bad.istar").write_text(json.dumps(data))
    with pytest.raises(ProjectFileError, match=r"tracks\[1\]\.ducked: only an audio track is lowered"):
        load_project(tmp_path / "bad.istar")


def test_add_media_and_remove_unused_media_keeps_the_media_order():
    project = sample_project()
    item = MediaItem("new", Path("/footage/new.mp4"), "video", 1.0)
    do_undo_redo(project, AddMedia(item))
    assert project.media["new"] == item
    refused(project, AddMedia(item), "already has media new")
    refused(project, AddMedia(MediaItem("x", Path("/x.txt"), "text", 0.0)), "unknown media kind")  # type: ignore[arg-type]
    project.track("v2").clips.clear()
    project.track("v1").clips.pop()  # nothing uses `short` now; it sits second of five
    do_undo_redo(project, RemoveMedia("short"))
    assert list(project.media) == ["vid", "still", "music", "new"]


def test_remove_media_is_refused_while_clips_use_it():
    project = sample_project()
    refused(project, RemoveMedia("short"), "short.mp4 is used by 2 clip.*Video 2, Video 1")
    refused(project, RemoveMedia("nope"), "no media nope")


def test_relink_points_at_the_new_file_with_its_probed_fields():
    project = sample_project()
    command = RelinkMedia("vid", Path("/moved/vid.mp4"), duration=6.0, width=128, height=72)
    do_undo_redo(project, command)
    item = project.media["vid"]
    assert (item.path, item.duration, item.width, item.height) == (Path("/moved/vid.mp4"), 6.0, 128, 72)
    assert item.fps == 16 and item.has_audio and item.provenance == {"seed": 7, "model": "toyworld"}


def test_relink_to_a_file_too_short_for_the_clips_is_refused():
    project = sample_project()
    refused(project, RelinkMedia("vid", Path("/other.mp4"), duration=2.0), "has 32 frames; a clip on Video 1 uses")
    do_undo_redo(project, RelinkMedia("vid", Path("/other.mp4"), duration=50 / 16))  # c1 uses frames 10..50


def test_add_clip_places_it_in_order():
    project = sample_project()
    do_undo_redo(project, AddClip("v1", Clip("new", "short", 88, 12)))
    assert [c.id for c in project.track("v1").clips] == ["c1", "c2", "new", "c3"]
    do_undo_redo(project, AddClip("v2", Clip("pic", "still", 500, 1000)))  # a still lasts as long as it is shown


@pytest.mark.parametrize(
    ("track_id", "clip", "match"),
    [
        ("v1", Clip("x", "short", 30, 20), "taken by another clip"),
        ("v1", Clip("x", "music", 200, 10), "music.wav is audio; it cannot go on video track Video 1"),
        ("a1", Clip("x", "vid", 200, 10), "vid.mp4 is video; it cannot go on audio track Audio 1"),
        ("a1", Clip("x", "still", 200, 10), "still.png is image; it cannot go on audio track"),
        ("v1", Clip("x", "short", 200, 33), "short.mp4 has 32 frames"),
        ("v1", Clip("x", "short", 200, 0), "at least 1 frame"),
        ("v1", Clip("x", "short", -5, 10), "before the timeline begins"),
        ("v1", Clip("x", "short", 200, 10, source_in=-1), "before the beginning of short.mp4"),
        ("v1", Clip("x", "ghost", 200, 10), "media ghost"),
        ("v1", Clip("c3", "short", 200, 10), "already has clip c3"),
        ("nope", Clip("x", "short", 200, 10), "no track nope"),
    ],
)
def test_add_clip_refuses_what_does_not_fit(track_id, clip, match):
    refused(sample_project(), AddClip(track_id, clip), match)


def test_remove_clip_leaves_a_gap():
    project = sample_project()
    do_undo_redo(project, RemoveClip("c2"))
    assert starts(project, "v1") == [("c1", 0, 40), ("c3", 100, 32)]


def test_ripple_delete_closes_the_gap_on_its_track_only():
    project = sample_project()
    do_undo_redo(project, RippleDelete("c1"))
    assert starts(project, "v1") == [("c2", 0, 48), ("c3", 60, 32)]
    assert starts(project, "v2") == [("top", 20, 16)]
    assert starts(project, "a1") == [("m1", 0, 160)]


def test_move_clip_along_its_track_and_onto_another_video_track():
    project = sample_project()
    do_undo_redo(project, MoveClip("c3", "v1", 90))
    assert starts(project, "v1")[-1] == ("c3", 90, 32)
    do_undo_redo(project, MoveClip("c1", "v2", 50))
    assert starts(project, "v2") == [("top", 20, 16), ("c1", 50, 40)]
    assert [c.id for c in project.track("v1").clips] == ["c2", "c3"]
    do_undo_redo(project, MoveClip("top", "v1", 0))  # into the place c1 left
    assert [c.id for c in project.track("v1").clips] == ["top", "c2", "c3"]


@pytest.mark.parametrize(
    ("clip_id", "track_id", "start", "match"),
    [
        ("c3", "v1", 80, "taken by another clip"),
        ("c1", "v2", 10, "taken by another clip"),
        ("c1", "a1", 200, "cannot go on audio track"),
        ("m1", "v1", 200, "cannot go on video track"),
        ("c1", "v1", -1, "before the timeline begins"),
    ],
)
def test_move_clip_refuses_overlaps_wrong_tracks_and_negative_frames(clip_id, track_id, start, match):
    refused(sample_project(), MoveClip(clip_id, track_id, start), match)


def test_trim_start_moves_the_start_and_the_media_in_point_together():
    project = sample_project()
    do_undo_redo(project, TrimClip("c1", "start", 4))
    clip = project.track("v1").clips[0]
    assert (clip.start, clip.length, clip.source_in, clip.end) == (4, 36, 14, 40)
    do_undo_redo(project, TrimClip("c1", "start", 0))  # back out again: frame 10 of vid is there to show
    assert (clip.start, clip.length, clip.source_in) == (0, 40, 10)


def test_trim_end():
    project = sample_project()
    do_undo_redo(project, TrimClip("c3", "end", 110))
    assert starts(project, "v1")[-1] == ("c3", 100, 10)


@pytest.mark.parametrize(
    ("clip_id", "edge", "frame", "match"),
    [
        ("top", "start", 0, "before the beginning of short.mp4"),  # top starts at media frame 0
        ("c1", "end", 41, "taken by another clip"),  # c2 starts at 40
        ("c2", "start", 39, "taken by another clip"),  # c1 ends at 40
        ("c3", "end", 133, "short.mp4 has 32 frames"),
        ("c3", "end", 100, "at least 1 frame"),
        ("c3", "start", 132, "at least 1 frame"),
        ("c3", "start", 140, "at least 1 frame"),
    ],
)
def test_trim_cannot_pass_the_media_a_neighbour_or_one_frame(clip_id, edge, frame, match):
    refused(sample_project(), TrimClip(clip_id, edge, frame), match)


def test_a_still_trims_out_either_way_without_a_media_position():
    project = sample_project()
    project.track("v1").clips.pop(0)
    do_undo_redo(project, TrimClip("c2", "start", 0))
    do_undo_redo(project, TrimClip("c2", "end", 100))
    assert starts(project, "v1")[0] == ("c2", 0, 100)
    assert project.track("v1").clips[0].source_in == 0


def test_split_makes_a_right_part_with_a_new_id_and_undo_merges_it_back():
    project = sample_project()
    command = SplitClip("c1", 15)
    do_undo_redo(project, command)
    left, right = project.track("v1").clips[:2]
    assert (left.id, left.start, left.length, left.source_in) == ("c1", 0, 15, 10)
    assert (right.id, right.start, right.length, right.source_in) == (command.right_id, 15, 25, 25)
    assert right.media_id == "vid" and right.gain == left.gain


@pytest.mark.parametrize("frame", [0, 40, 41, -3])
def test_split_only_inside_the_clip(frame):
    refused(sample_project(), SplitClip("c1", frame), f"frame {frame} is not inside the clip")


def test_set_clip_gain():
    project = sample_project()
    do_undo_redo(project, SetClipGain("m1", 1.5))
    assert project.track("a1").clips[0].gain == 1.5
    refused(project, SetClipGain("m1", -0.1), "not a volume")
    refused(project, SetClipGain("m1", float("nan")), "not a volume")


LOCKED_TRACK_EDITS = [
    RemoveTrack("v1"),
    AddClip("v1", Clip("x", "short", 200, 10)),
    RemoveClip("c2"),
    RippleDelete("c2"),
    MoveClip("c3", "v1", 140),
    MoveClip("c3", "v2", 140),
    MoveClip("top", "v1", 200),
    TrimClip("c3", "end", 110),
    SplitClip("c3", 110),
    SetClipGain("c3", 0.5),
]


@pytest.mark.parametrize("command", LOCKED_TRACK_EDITS, ids=lambda c: c.text)
def test_edits_touching_a_locked_track_are_refused_naming_it(command):
    project = sample_project()
    project.track("v1").locked = True
    refused(project, command, "track Video 1 is locked")


def test_macro_is_one_undo_step():
    project = sample_project()
    macro = Macro("Split and move", [SplitClip("c3", 110), MoveClip("c3", "v2", 90)])
    do_undo_redo(project, macro)
    assert starts(project, "v2") == [("top", 20, 16), ("c3", 90, 10)]


def test_a_refused_step_in_a_macro_undoes_the_steps_before_it():
    project = sample_project()
    refused(project, Macro("Two edits", [RippleDelete("c1"), MoveClip("c3", "a1", 0)]), "cannot go on audio track")


def test_moving_touching_clips_together_either_way_never_passes_one_over_another():
    project = sample_project()  # V1: c1 0..40, c2 40..88, c3 100..132
    do_undo_redo(project, move_clips(project, {"c1": 12, "c2": 52}))
    assert starts(project, "v1")[:2] == [("c1", 12, 40), ("c2", 52, 48)]
    do_undo_redo(project, move_clips(project, {"c1": 2, "c2": 42}))
    assert starts(project, "v1")[:2] == [("c1", 2, 40), ("c2", 42, 48)]


def test_close_gap_moves_the_later_clips_of_its_track_left_by_the_gap():
    project = sample_project()  # V1: c1 0..40, c2 40..88, c3 100..132; V2: top 20..36
    assert gap_at(project.track("v1"), 95) == (88, 100) and gap_at(project.track("v2"), 5) == (0, 20)
    assert gap_at(project.track("v1"), 50) is None and gap_at(project.track("v1"), 140) is None
    do_undo_redo(project, CloseGap("v1", 95))
    assert starts(project, "v1") == [("c1", 0, 40), ("c2", 40, 48), ("c3", 88, 32)]
    assert starts(project, "v2") == [("top", 20, 16)], "other tracks stay"
    do_undo_redo(project, CloseGap("v2", 0))
    assert starts(project, "v2") == [("top", 0, 16)]


def test_close_gap_refuses_a_clip_the_end_and_a_locked_track():
    project = sample_project()
    refused(project, CloseGap("v1", 50), "no gap with a clip after it at frame 50 on Video 1")
    refused(project, CloseGap("v1", 140), "no gap")
    project.track("v1").locked = True
    refused(project, CloseGap("v1", 95), "track Video 1 is locked")


def test_a_marker_toggles_and_a_new_frame_rate_keeps_its_time():
    project = sample_project()  # 16 fps
    do_undo_redo(project, ToggleMarker(40))
    do_undo_redo(project, ToggleMarker(8))
    assert project.markers == [8, 40]
    do_undo_redo(project, SetFormat(1280, 720, 24))
    assert project.markers == [12, 60], "0.5 s and 2.5 s at 24 fps"
    do_undo_redo(project, ToggleMarker(12))
    assert project.markers == [60]
    with pytest.raises(ProjectError, match="frame 0 or later, not -1"):
        ToggleMarker(-1)


def test_a_marker_takes_a_name_that_goes_with_it_and_is_saved(tmp_path):
    project = sample_project(tmp_path)
    ToggleMarker(40).do(project)
    ToggleMarker(8).do(project)
    do_undo_redo(project, NameMarker(40, "  The chase  "))
    assert project.marker_names == {40: "The chase"}
    refused(project, NameMarker(12, "Nothing there"), "no marker is at frame 12: mark it first")
    refused(project, NameMarker(40, "two\nlines"), "one line of at most 200 characters")
    do_undo_redo(project, ToggleMarker(40))
    assert project.marker_names == {}, "a marker taken away takes its name; undo brings both back"
    ToggleMarker(40).do(project)
    NameMarker(40, "The chase").do(project)
    do_undo_redo(project, SetFormat(1280, 720, 24))
    assert project.markers == [12, 60] and project.marker_names == {60: "The chase"}
    save_project(project, tmp_path / "p.istar")
    assert load_project(tmp_path / "p.istar").marker_names == {60: "The chase"}
    do_undo_redo(project, NameMarker(60, ""))
    assert project.marker_names == {}
    data = json.loads((tmp_path / "p.istar").read_text())
    data["marker_names"] = {"13": "Nowhere"}
    (tmp_path / "bad.istar").write_text(json.dumps(data))
    with pytest.raises(ProjectFileError, match=r"marker_names\.13: names no marker"):
        load_project(tmp_path / "bad.istar")


def test_ripple_trim_cuts_to_the_frame_and_pulls_the_later_clips_of_the_track_in():
    project = sample_project()  # V1: vid@0..40 (from its frame 10), still@40..88, short@100..132; V2: short@20..36
    do_undo_redo(project, ripple_trim(project, "c1", "end", 30))
    assert starts(project, "v1") == [("c1", 0, 30), ("c2", 30, 48), ("c3", 90, 32)]
    assert starts(project, "v2") == [("top", 20, 16)], "other tracks stay"

    project = sample_project()
    do_undo_redo(project, ripple_trim(project, "c2", "start", 50))
    assert starts(project, "v1") == [("c1", 0, 40), ("c2", 40, 38), ("c3", 90, 32)]
    project = sample_project()
    ripple_trim(project, "c1", "start", 8).do(project)
    clip = project.find_clip("c1")[1]
    assert (clip.start, clip.length, clip.source_in) == (0, 32, 18), "it starts where it did, 8 frames later in"
    with pytest.raises(ProjectError, match="frame 140 is not inside the clip"):
        ripple_trim(project, "c3", "end", 140)
