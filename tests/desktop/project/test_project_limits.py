"""A project stays within clear limits: a frame of 16 to 8192 even pixels a side, 1 to 240 fps, clips within 24 h.
A file beyond them is refused on open naming the field and the limit; a picture beyond them placed first leaves the
frame as it was; edits cannot push a clip past 24 h."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sample_projects import FOOTAGE, sample_project

from desktop.generate.placement import place_media
from desktop.project.commands import Macro, SetFormat, TrimClip
from desktop.project.file import ProjectFileError, load_project
from desktop.project.model import Clip, MediaItem, Project, ProjectError
from desktop.project.schema import project_to_json

DAY_AT_16_FPS = 24 * 3600 * 16


def opened(tmp_path: Path, **changes) -> Project:
    """The sample project, its data changed by `changes` (a top-level key, or clip_<track>_<clip>_<key>), saved and
    opened."""
    data = project_to_json(sample_project(), FOOTAGE)
    for key, value in changes.items():
        if key.startswith("clip_"):  # clip_<track>_<clip>_<field>
            _, track, clip, field = key.split("_", 3)
            data["tracks"][int(track)]["clips"][int(clip)][field] = value
        else:
            data[key] = value
    path = tmp_path / "film.istar"
    path.write_text(json.dumps(data))
    return load_project(path)


def refusal(tmp_path: Path, **changes) -> ProjectFileError:
    with pytest.raises(ProjectFileError) as caught:
        opened(tmp_path, **changes)
    return caught.value


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("width", 60_000, "should be an even number of pixels from 16 to 8192, not 60000"),
        ("width", 2**31, "should be an even number of pixels from 16 to 8192, not 2147483648"),
        ("height", 2**31, "should be an even number of pixels from 16 to 8192, not 2147483648"),
        ("height", 8, "should be an even number of pixels from 16 to 8192, not 8"),
        ("width", 1281, "should be an even number of pixels from 16 to 8192, not 1281"),
        ("fps", 1000, "should be at most 240, not 1000"),
        ("fps", 0, "should be at least 1, not 0"),
        ("sample_rate", 2**31, "should be at most 96000, not 2147483648"),
    ],
)
def test_an_absurd_frame_size_or_rate_is_refused_on_open_naming_the_field_and_the_limit(tmp_path, field, value, says):
    error = refusal(tmp_path, **{field: value})
    assert error.field == field
    assert str(error) == f"{tmp_path / 'film.istar'}: {field}: {says}"


def test_a_clip_of_10_to_the_15_frames_is_refused_on_open_naming_it_and_the_24_h_limit(tmp_path):
    error = refusal(tmp_path, clip_1_1_length=10**15)  # the still on Video 1: no media length to stop it
    assert error.field == "tracks[1].clips[1].length"
    assert str(error).endswith(
        f"the clip would end at frame {40 + 10**15}, past the end of the longest timeline: 24 h "
        f"({DAY_AT_16_FPS} frames at 16 fps)"
    )


def test_a_clip_starting_past_24_h_is_refused_naming_its_start(tmp_path):
    error = refusal(tmp_path, clip_0_0_start=10**15)
    assert error.field == "tracks[0].clips[0].start" and "24 h" in str(error)


def still_project(fps: int = 16, width: int = 1280, height: int = 720, frames: int = 48) -> Project:
    """One still on one video track, shown for `frames` frames from frame 0."""
    project = Project.empty(fps=fps, width=width, height=height)
    project.media["still"] = MediaItem("still", FOOTAGE / "still.png", "image", 0.0, None, 64, 64)
    project.tracks[0].clips = [Clip("c", "still", 0, frames)]
    return project


def test_a_project_at_the_limits_opens(tmp_path):
    project = still_project(fps=240, width=8192, height=16, frames=24 * 3600 * 240)
    path = tmp_path / "film.istar"
    path.write_text(json.dumps(project_to_json(project, tmp_path)))
    assert load_project(path) == project


def test_an_edit_cannot_make_a_clip_end_past_24_h():
    project = still_project()
    with pytest.raises(ProjectError, match=r"past the end of the longest timeline: 24 h \(1382400 frames at 16 fps\)"):
        TrimClip("c", "end", DAY_AT_16_FPS + 1).do(project)
    TrimClip("c", "end", DAY_AT_16_FPS).do(project)
    assert project.duration == DAY_AT_16_FPS


@pytest.mark.parametrize("size", [(8, 720), (1280, 9000), (1281, 720)])
def test_the_format_command_holds_to_the_limits(size):
    with pytest.raises(ProjectError, match="the frame (width|height) should be an even number of pixels from 16 to"):
        SetFormat(*size, 16)


def picture(width: int, height: int) -> MediaItem:
    return MediaItem("pic", FOOTAGE / "huge.png", "image", 0.0, None, width, height)


@pytest.mark.parametrize("picture_size", [(20_000, 20_000), (9000, 100), (60_000, 30), (10, 6)])
def test_a_picture_beyond_the_limits_placed_first_leaves_the_frame_as_it_was(picture_size):
    project = Project.empty()
    media = picture(*picture_size)
    project.media[media.id] = media
    Macro("Add clip", place_media(project, media, 0)).do(project)
    assert (project.width, project.height) == (1280, 720)
    assert len(project.tracks[0].clips) == 1  # the picture is on the timeline all the same
