"""The project's format (frame size and frame rate) as the person chose it: a new frame rate keeps every clip at its
time and showing the same media, never overlapping, in one undo step that restores the project exactly; placing media
of any size leaves the format alone; the format and the clips it moved survive a save and a load."""

from __future__ import annotations

import json
import random
from itertools import pairwise

import pytest
from sample_projects import FOOTAGE, assert_same, do_undo_redo, sample_project, snapshot

from desktop.generate.placement import Placement, place_media, place_result
from desktop.project.commands import Macro, SetFormat, frame_at_rate, retimed_clips
from desktop.project.file import load_project, save_project
from desktop.project.formats import (
    DEFAULT_FORMAT,
    SIZE_PRESETS,
    ProjectFormat,
    format_from_text,
    format_to_text,
    new_project,
)
from desktop.project.model import Clip, MediaItem, Project, ProjectError, Track
from desktop.project.rules import check_clip

GENERATED = MediaItem("gen", FOOTAGE / "gen.mp4", "video", 17 / 16, 16, 64, 64, provenance={"seed": 3})
PICTURE = MediaItem("pic", FOOTAGE / "title.png", "image", 0.0, None, 320, 240)
SOUND = MediaItem("sound", FOOTAGE / "sound.wav", "audio", 2.0)


def assert_holds_together(project: Project) -> None:
    """Every clip valid where it sits (length >= 1, within its media and the timeline), none overlapping, in order."""
    for track in project.tracks:
        for clip in track.clips:
            check_clip(project, track, clip)
        for before, after in pairwise(track.clips):
            assert before.end <= after.start, f"{before.id} overlaps {after.id} on {track.name}"


def times(project: Project) -> dict[str, tuple[float, float, float]]:
    """Each clip's start, end and media position in seconds."""
    return {c.id: (project.seconds(c.start), project.seconds(c.end), project.seconds(c.source_in))
            for t in project.tracks for c in t.clips}


def test_a_2_s_clip_at_1_s_stays_a_2_s_clip_at_1_s_at_24_fps():
    project = Project.empty(fps=16)
    project.media["vid"] = MediaItem("vid", FOOTAGE / "vid.mp4", "video", 5.0, 16, 64, 64)
    project.tracks[0].clips = [Clip("c", "vid", start=16, length=32, source_in=8)]
    do_undo_redo(project, SetFormat(1920, 1080, 24))
    clip = project.tracks[0].clips[0]
    assert (clip.start, clip.length, clip.source_in) == (24, 48, 12)
    assert times(project)["c"] == (1.0, 3.0, 0.5)
    assert (project.width, project.height, project.fps) == (1920, 1080, 24)


@pytest.mark.parametrize("fps", [24, 25, 30, 1, 240])
def test_the_sample_project_keeps_its_times_at_another_rate_within_half_a_frame(fps):
    project = sample_project()
    before = times(project)
    do_undo_redo(project, SetFormat(1280, 720, fps))
    assert_holds_together(project)
    for clip_id, (start, end, source_in) in times(project).items():
        new_start, new_end, new_source_in = before[clip_id]
        half_frame = 0.5 / fps + 1e-9
        assert abs(start - new_start) <= half_frame and abs(end - new_end) <= half_frame
        assert abs(source_in - new_source_in) <= half_frame


def test_clips_that_touched_still_touch_and_rates_that_divide_evenly_come_back_exactly():
    project = sample_project()
    original = snapshot(project)
    SetFormat(1280, 720, 32).do(project)
    track = project.track("v1")
    assert track.clips[0].end == track.clips[1].start  # vid and the still touched at 16 fps and still do
    SetFormat(1280, 720, 16).do(project)
    assert_same(project, original)


def test_one_frame_clips_side_by_side_keep_a_frame_each_at_a_lower_rate():
    project = Project.empty(fps=30)
    project.media["still"] = MediaItem("still", FOOTAGE / "still.png", "image", 0.0, None, 64, 64)
    project.tracks[0].clips = [Clip(f"c{i}", "still", i, 1) for i in range(6)] + [Clip("last", "still", 40, 10)]
    do_undo_redo(project, SetFormat(1280, 720, 16))
    assert_holds_together(project)
    assert [c.length for c in project.tracks[0].clips[:6]] == [1] * 6
    assert [c.start for c in project.tracks[0].clips[:6]] == [0, 1, 2, 3, 4, 5]  # moved along as little as needed
    assert project.tracks[0].clips[-1].start == 21  # 40 frames at 30 fps: 1.33 s


def test_a_clip_showing_its_media_to_the_last_frame_stays_within_it():
    # 1.03 s: 16 frames at 16 fps (16.48 rounded), 31 at 30 (30.9); its last 10 frames at 16 fps
    project = Project.empty(fps=16)
    project.media["vid"] = MediaItem("vid", FOOTAGE / "vid.mp4", "video", 1.03, 16, 64, 64)
    project.tracks[0].clips = [Clip("c", "vid", start=3, length=10, source_in=6)]
    for fps in (30, 25, 24, 17, 16, 13):
        SetFormat(1280, 720, fps).do(project)
        assert_holds_together(project)
    # 1 s at 16 fps, frames 1..16 shown from 0: at 24 fps its end rounds to 23 (22.5) and its media position to 2
    # (1.5), one frame past the media's 24: it starts a frame earlier in the media and keeps its place in time
    project = Project.empty(fps=16)
    project.media["vid"] = MediaItem("vid", FOOTAGE / "vid.mp4", "video", 1.0, 16, 64, 64)
    project.tracks[0].clips = [Clip("c", "vid", start=0, length=15, source_in=1)]
    SetFormat(1280, 720, 24).do(project)
    clip = project.tracks[0].clips[0]
    assert (clip.start, clip.length, clip.source_in) == (0, 23, 1)


def test_random_projects_at_random_rates_never_overlap_and_undo_exactly():
    rng = random.Random(30)
    for _ in range(200):
        fps = rng.choice([16, 24, 25, 30, 7, 60])
        project = Project.empty(fps=fps)
        project.media["vid"] = MediaItem("vid", FOOTAGE / "vid.mp4", "video", rng.uniform(0.1, 4.0), 16, 64, 64)
        project.media["still"] = MediaItem("still", FOOTAGE / "still.png", "image", 0.0, None, 64, 64)
        frames = project.source_frames(project.media["vid"])
        project.tracks.insert(0, Track("v2", "video", "Video 2"))
        for track in project.tracks[:2]:
            start = 0
            for i in range(rng.randint(0, 8)):
                start += rng.choice([0, 0, 1, rng.randint(1, 40)])
                if rng.random() < 0.5:
                    length = rng.randint(1, frames)
                    clip = Clip(f"{track.id}-{i}", "vid", start, length, rng.randint(0, frames - length))
                else:
                    clip = Clip(f"{track.id}-{i}", "still", start, rng.randint(1, 20))
                track.place(clip)
                start = clip.end
        assert_holds_together(project)
        do_undo_redo(project, SetFormat(640, 360, rng.choice([16, 24, 25, 30, 7, 60])))
        assert_holds_together(project)


def test_a_new_size_alone_moves_no_clip():
    project = sample_project()
    clips = [(c.id, c.start, c.length, c.source_in) for t in project.tracks for c in t.clips]
    do_undo_redo(project, SetFormat(1080, 1920, 16))
    assert (project.width, project.height) == (1080, 1920)
    assert clips == [(c.id, c.start, c.length, c.source_in) for t in project.tracks for c in t.clips]


def test_clips_on_a_locked_track_keep_their_time_too():
    project = sample_project()
    project.track("v1").locked = True
    SetFormat(1280, 720, 24).do(project)
    assert [(c.start, c.length) for c in project.track("v1").clips] == [(0, 60), (60, 72), (150, 48)]


@pytest.mark.parametrize(
    ("size", "match"),
    [((1001, 720), "the frame width should be an even number"), ((1280, 9000), "the frame height should be"),
     ((8, 8), "the frame width")],
)
def test_a_frame_size_h264_cannot_encode_is_refused(size, match):
    with pytest.raises(ProjectError, match=match):
        SetFormat(*size, 24)


@pytest.mark.parametrize("fps", [0, 241, 23.976])
def test_a_frame_rate_out_of_range_is_refused(fps):
    with pytest.raises(ProjectError, match="the frame rate should be a whole number from 1 to 240"):
        SetFormat(1280, 720, fps)


def test_a_rate_at_which_a_clip_would_end_past_24_h_is_refused_and_changes_nothing():
    day = 24 * 3600
    project = Project.empty(fps=1)
    project.media["still"] = MediaItem("still", FOOTAGE / "still.png", "image", 0.0, None, 64, 64)
    project.tracks[0].clips = [Clip("c", "still", day - 2, 2)]
    SetFormat(1280, 720, 240).do(project)  # ending at the limit exactly: allowed
    assert project.tracks[0].clips[0].end == day * 240
    project.tracks[0].clips = [Clip(f"c{i}", "still", day * 240 - 3 + i, 1) for i in range(3)]
    before = snapshot(project)
    with pytest.raises(ProjectError, match="at 1 fps a clip on Video 1 cannot keep its place: .* past the end"):
        SetFormat(1280, 720, 1).do(project)
    assert_same(project, before)


def test_frames_convert_to_the_nearest_frame_halves_up():
    assert [frame_at_rate(f, 16, 24) for f in (0, 1, 2, 3, 16)] == [0, 2, 3, 5, 24]  # 1.5 -> 2, 4.5 -> 5
    assert [frame_at_rate(f, 30, 16) for f in (0, 1, 2, 15, 30)] == [0, 1, 1, 8, 16]
    assert retimed_clips(sample_project(), 16) == {c.id: (c.start, c.length, c.source_in)
                                                   for t in sample_project().tracks for c in t.clips}


# -- the format is the person's, not the first clip's ---------------------------------------------------------------


def test_a_generated_64x64_clip_leaves_the_format_as_chosen():
    project = new_project(ProjectFormat(1920, 1080, 24))
    before = snapshot(project)
    command = place_result(project, GENERATED, Placement("new"))
    command.do(project)
    assert ProjectFormat.of(project) == ProjectFormat(1920, 1080, 24)
    assert project.duration == 26  # 17 frames at 16 fps: 1.06 s, 25.5 frames at 24 rounded
    command.undo(project)
    assert_same(project, before)


def test_pictures_and_sound_of_any_size_leave_the_format_alone():
    project = Project.empty()
    huge = MediaItem("huge", FOOTAGE / "huge.png", "image", 0.0, None, 9000, 100)
    for media in (PICTURE, SOUND, huge):
        project.media[media.id] = media
        Macro("Add", place_media(project, media, 0)).do(project)
        assert ProjectFormat.of(project) == DEFAULT_FORMAT


def test_the_default_format_is_720p_at_the_models_rate_and_the_presets_are_frames():
    assert DEFAULT_FORMAT == ProjectFormat(1280, 720, 16) == ProjectFormat.of(Project.empty())
    assert [(p.name, p.width, p.height) for p in SIZE_PRESETS] == [
        ("1080p", 1920, 1080), ("720p", 1280, 720), ("480p", 854, 480), ("Vertical 9:16", 1080, 1920),
        ("Square", 1080, 1080)]
    assert all(ProjectFormat(p.width, p.height, fps).problem() is None for p in SIZE_PRESETS for fps in (16, 30))


def test_a_remembered_format_reads_back_and_a_broken_one_is_not_used():
    chosen = ProjectFormat(1080, 1920, 30)
    assert format_from_text(format_to_text(chosen)) == chosen
    for broken in ("", "1080x1920", "1081x1920@30", "axb@c", "1080x1920@0", None, 7):
        assert format_from_text(broken) is None


def test_a_format_names_the_field_that_cannot_be():
    assert ProjectFormat(1001, 720, 24).problem().startswith("Width should be an even number")
    assert ProjectFormat(1000, 9999, 24).problem().startswith("Height should be")
    assert ProjectFormat(1000, 720, 0).problem().startswith("Frame rate should be")


# -- saved and opened -----------------------------------------------------------------------------------------------


def test_a_new_rate_and_the_clips_it_moved_survive_save_and_load(tmp_path):
    project = sample_project(tmp_path)
    SetFormat(1080, 1080, 25).do(project)
    path = tmp_path / "film.istar"
    save_project(project, path)
    loaded = load_project(path)
    assert loaded == project
    assert json.loads(path.read_text())["fps"] == 25


def test_a_project_saved_before_formats_were_chosen_opens_as_it_was(tmp_path):
    # as the studio wrote it when the first clip set the frame: toyworld's 64x64, at 16 fps
    old = {"schema": 1, "fps": 16, "width": 64, "height": 64, "sample_rate": 48000,
           "media": [{"id": "gen", "path": "gen.mp4", "kind": "video", "duration": 2.0, "fps": 16.0, "width": 64,
                      "height": 64, "has_audio": False, "provenance": None}],
           "tracks": [{"id": "v1", "kind": "video", "name": "Video 1", "muted": False, "locked": False,
                       "clips": [{"id": "c", "media_id": "gen", "start": 16, "length": 32, "source_in": 0,
                                  "gain": 1.0}]}]}
    path = tmp_path / "old.istar"
    path.write_text(json.dumps(old))
    project = load_project(path)
    assert ProjectFormat.of(project) == ProjectFormat(64, 64, 16)
    [clip] = project.tracks[0].clips
    assert (clip.start, clip.length, clip.source_in) == (16, 32, 0)
