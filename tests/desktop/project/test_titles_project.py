"""Titles in the project: saved and loaded as they were, a bad field named by its path, edits undone exactly, typing
merged into one undo step, a new title placed where there is room."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from pathlib import Path

import pytest

from desktop.project.commands import AddMedia, SetTitle, SplitClip, add_title
from desktop.project.file import ProjectFileError, load_project, missing_media, save_project
from desktop.project.model import Clip, MediaItem, Project, ProjectError, new_id
from desktop.project.title import LOWER_THIRD, SAFE_WIDTH, Title


def titled() -> tuple[Project, str]:
    project = Project.empty(fps=16, width=1280, height=720)
    edit = add_title(project, 8, None, Title(text="Two\nlines", font="DejaVu Serif", colour="#ffcc00", box=True,
                                             wrap_width=0.5))
    edit.do(project)
    return project, edit.commands[-1].clip.id


def test_a_new_title_lasts_three_seconds_in_the_lower_third_on_the_top_video_track() -> None:
    project, clip_id = titled()
    track, clip = project.find_clip(clip_id)
    assert track is project.tracks[0] and (clip.start, clip.length, clip.transform) == (8, 48, LOWER_THIRD)
    media = project.media_of(clip)
    assert media.kind == "title" and media.name == "Two" and not media.on_disk
    assert project.source_frames(media) is None  # trimmed and extended like a still
    assert missing_media(project) == []


def test_a_title_goes_to_the_chosen_track_or_the_next_free_one_or_a_new_one() -> None:
    project, _ = titled()
    video = project.tracks[0]
    second = add_title(project, 8, video.id)  # Video 1 is taken at frame 8: a new top track
    second.do(project)
    assert [t.name for t in project.tracks] == ["Video 2", "Video 1", "Audio 1"]
    third = add_title(project, 100, video.id)
    third.do(project)
    assert project.find_clip(third.commands[-1].clip.id)[0] is video
    before = copy.deepcopy(project)
    fourth = add_title(project, 200)
    fourth.do(project)
    fourth.undo(project)
    assert project == before


def test_a_title_is_saved_and_loaded_as_it_was(tmp_path: Path) -> None:
    project, _ = titled()
    path = tmp_path / "titled.istar"
    save_project(project, path)
    assert load_project(path) == project
    stored = json.loads(path.read_text())["media"][0]
    assert stored["kind"] == "title" and stored["title"]["text"] == "Two\nlines"
    # the project can move: a title keeps no path of this folder
    moved = tmp_path / "elsewhere"
    moved.mkdir()
    (moved / "titled.istar").write_text(path.read_text())
    assert load_project(moved / "titled.istar") == project


def test_a_title_saved_before_wrapping_wraps_at_the_title_safe_area(tmp_path: Path) -> None:
    project, clip_id = titled()
    path = tmp_path / "titled.istar"
    save_project(project, path)
    data = json.loads(path.read_text())
    del data["media"][0]["title"]["wrap_width"]
    path.write_text(json.dumps(data | {"schema": 2}))  # the last schema without wrapping
    loaded = load_project(path)
    assert loaded.media_of(loaded.find_clip(clip_id)[1]).title.wrap_width == SAFE_WIDTH == 0.8
    # saved again, the file says it has wrapped titles, so a build that cannot wrap refuses it
    save_project(loaded, path)
    assert json.loads(path.read_text())["schema"] >= 3


@pytest.mark.parametrize(("field", "value", "said"), [
    ("size", 3, "media[0].title.size"), ("colour", "white", "media[0].title.colour"),
    ("text", "  ", "media[0].title.text"), ("align", "justify", "media[0].title.align"),
    ("box", "yes", "media[0].title.box"), ("wrap_width", 0, "media[0].title.wrap_width"),
])
def test_a_bad_title_field_is_named(tmp_path: Path, field: str, value: object, said: str) -> None:
    project, _ = titled()
    path = tmp_path / "titled.istar"
    save_project(project, path)
    data = json.loads(path.read_text())
    data["media"][0]["title"][field] = value
    path.write_text(json.dumps(data))
    with pytest.raises(ProjectFileError) as raised:
        load_project(path)
    assert raised.value.field == said


def test_a_title_without_its_text_does_not_load(tmp_path: Path) -> None:
    project, _ = titled()
    path = tmp_path / "titled.istar"
    save_project(project, path)
    data = json.loads(path.read_text())
    data["media"][0]["title"] = None
    path.write_text(json.dumps(data))
    with pytest.raises(ProjectFileError) as raised:
        load_project(path)
    assert raised.value.field == "media[0].title"


def test_editing_a_title_undoes_and_typing_merges_into_one_step() -> None:
    project, clip_id = titled()
    media_id = project.find_clip(clip_id)[1].media_id
    before = copy.deepcopy(project)
    first = SetTitle(media_id, replace(project.media[media_id].title, text="T"), "title text", ("text", 1))
    first.do(project)
    later = SetTitle(media_id, replace(project.media[media_id].title, text="Th"), "title text", ("text", 1))
    assert first.merge(later)
    assert not first.merge(SetTitle(media_id, Title(), "title text", ("text", 2)))
    first.undo(project)
    assert project == before
    first.do(project)  # redo: the merged text
    assert project.media[media_id].title.text == "Th"


def test_a_title_edit_out_of_limits_or_on_a_locked_track_is_refused() -> None:
    project, clip_id = titled()
    media_id = project.find_clip(clip_id)[1].media_id
    with pytest.raises(ProjectError, match="size"):
        SetTitle(media_id, Title(size=2.0)).do(project)
    project.tracks[0].locked = True
    with pytest.raises(ProjectError, match="locked"):
        SetTitle(media_id, Title(text="new")).do(project)
    with pytest.raises(ProjectError, match="title"):
        AddMedia(MediaItem(new_id(), Path("title"), "title", 0.0)).do(project)
    still = MediaItem(new_id(), Path("/x.png"), "image", 0.0, width=4, height=4)
    project.media[still.id] = still
    project.tracks[1 if project.tracks[1].kind == "video" else 0].locked = False
    project.tracks[0].place(Clip(new_id(), still.id, 200, 10))
    with pytest.raises(ProjectError, match="not a title"):
        SetTitle(still.id, Title()).do(project)


def test_the_halves_of_a_split_title_are_edited_apart_and_the_split_undoes_whole(tmp_path: Path) -> None:
    project, clip_id = titled()
    before = copy.deepcopy(project)
    split = SplitClip(clip_id, 20)
    split.do(project)
    left, right = project.tracks[0].clips
    assert right.media_id != left.media_id
    assert project.media_of(right).title == project.media_of(left).title  # the same look, each its own
    SetTitle(right.media_id, replace(project.media_of(right).title, text="Later")).do(project)
    assert project.media_of(left).title.text == "Two\nlines" and project.media_of(right).title.text == "Later"
    path = tmp_path / "split.istar"
    save_project(project, path)
    assert load_project(path) == project

    project = copy.deepcopy(before)
    split.do(project)
    split.undo(project)
    assert project == before  # the copy goes with the half
    split.do(project)  # redo: the same half with the same copy
    assert [c.id for c in project.tracks[0].clips] == [clip_id, split.right_id]
    assert project.tracks[0].clips[1].media_id == split.title_copy_id


def test_a_split_picture_keeps_one_media_item() -> None:
    project = Project.empty(fps=16, width=1280, height=720)
    still = MediaItem(new_id(), Path("/x.png"), "image", 0.0, width=4, height=4)
    project.media[still.id] = still
    project.tracks[0].place(clip := Clip(new_id(), still.id, 0, 32))
    SplitClip(clip.id, 10).do(project)
    assert [c.media_id for c in project.tracks[0].clips] == [still.id, still.id] and list(project.media) == [still.id]
