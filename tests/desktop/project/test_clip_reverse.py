"""A reversed clip as the project keeps it: its stretch of media played backwards, each frame keeping the media it
shows through splits and trims (at any speed), its media room counted in its own direction, and saved with it."""

from __future__ import annotations

import json
from pathlib import Path

from sample_projects import clip_field_error, do_undo_redo, refused, sample_project

from desktop.project.commands import RemoveClip, SetClipReverse, SetClipSpeed, SplitClip, TrimClip
from desktop.project.file import load_project, save_project
from desktop.project.model import Project


def shown(project: Project, frames: list[int] | range) -> dict[int, float]:
    """The media position each timeline frame of Video 1 shows, where a clip is."""
    track = project.track("v1")
    return {f: c.shown_position(f) for f in frames if (c := track.clip_at(f)) is not None}


def test_a_reversed_clip_plays_its_media_backwards_in_the_same_place():
    project = sample_project()  # c1: vid at 0..40, from its frame 10
    do_undo_redo(project, SetClipReverse("c1", True))
    clip = project.find_clip("c1")[1]
    assert (clip.start, clip.length, clip.source_in) == (0, 40, 10)
    assert [clip.shown_position(f) for f in (0, 1, 38, 39)] == [49, 48, 11, 10]
    assert project.media_room(clip) == (30, 10), "before it the media after its stretch, 30 frames of it"
    refused(project, SetClipReverse("c2", True), "still.png is a still picture: it has no direction")


def test_splits_and_trims_of_a_reversed_clip_keep_every_frames_picture():
    for speed in (1.0, 0.5, 2.0):
        project = sample_project()
        RemoveClip("c2").do(project)
        SetClipSpeed("c1", speed, ripple=True).do(project)
        SetClipReverse("c1", True).do(project)
        end = project.find_clip("c1")[1].end
        before = shown(project, range(end))
        split = SplitClip("c1", end // 3)
        do_undo_redo(project, split)
        assert shown(project, range(end)) == before, f"split at speed {speed}"
        TrimClip("c1", "start", 3).do(project)
        TrimClip(split.right_id, "end", end - 5).do(project)
        TrimClip(split.right_id, "start", end // 3 + 2).do(project)
        kept = shown(project, range(end))
        assert kept and all(before[f] == position for f, position in kept.items()), f"trims at speed {speed}"
        assert project.find_clip(split.right_id)[1].shown_position(end - 6) == before[end - 6]


def test_a_reversed_clip_grown_at_its_start_shows_the_media_past_its_stretch():
    project = sample_project()
    SetClipReverse("c3", True).do(project)  # short (32 frames) at 100..132, all of it
    refused(project, TrimClip("c3", "start", 99), "short.mp4 has 32 frames")
    TrimClip("c3", "end", 120).do(project)  # drops the 12 earliest frames of the media, shown last
    clip = project.find_clip("c3")[1]
    assert (clip.source_in, clip.shown_position(100), clip.shown_position(119)) == (12, 31, 12)
    TrimClip("c3", "end", 125).do(project)
    assert project.find_clip("c3")[1].shown_position(124) == 7


def test_the_direction_is_saved_and_a_reversed_still_in_a_file_is_named(tmp_path: Path):
    project = sample_project(tmp_path)
    SetClipReverse("c1", True).do(project)
    save_project(project, tmp_path / "p.istar")
    assert load_project(tmp_path / "p.istar").find_clip("c1")[1].reverse
    assert json.loads((tmp_path / "p.istar").read_text())["tracks"][1]["clips"][0]["reverse"] is True
    assert "tracks[1].clips[1].reverse: still.png is a still picture" in clip_field_error(tmp_path, "reverse", True,
                                                                                           clip=1)
