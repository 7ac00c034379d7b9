"""A small project to edit in tests: two video tracks over one audio track, media of every kind, a few clips."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from desktop.project.commands import Command
from desktop.project.file import ProjectFileError, load_project
from desktop.project.model import Clip, MediaItem, Project, ProjectError, Track
from desktop.project.schema import project_to_json

FOOTAGE = Path("/footage")


def sample_project(folder: Path = FOOTAGE) -> Project:
    """At 16 fps: `vid` 80 frames with sound, `short` 32 frames, `still` an image, `music` 160 frames.
    V2 (top): short@20..36. V1: vid@0..40 (from its frame 10), still@40..88, short@100..132. A1: music@0..160."""
    project = Project(fps=16)
    project.media = {
        "vid": MediaItem("vid", folder / "vid.mp4", "video", 5.0, 16, 64, 64, True, {"seed": 7, "model": "toyworld"}),
        "short": MediaItem("short", folder / "short.mp4", "video", 2.0, 16, 64, 64),
        "still": MediaItem("still", folder / "still.png", "image", 0.0, None, 64, 64),
        "music": MediaItem("music", folder / "music.wav", "audio", 10.0),
    }
    project.tracks = [
        Track("v2", "video", "Video 2", clips=[Clip("top", "short", 20, 16)]),
        Track(
            "v1",
            "video",
            "Video 1",
            clips=[Clip("c1", "vid", 0, 40, source_in=10), Clip("c2", "still", 40, 48), Clip("c3", "short", 100, 32)],
        ),
        Track("a1", "audio", "Audio 1", clips=[Clip("m1", "music", 0, 160, gain=0.5)]),
    ]
    return project


def snapshot(project: Project) -> tuple[Project, list[str]]:
    """A deep copy to compare against later, with the media order (dict equality ignores order)."""
    return copy.deepcopy(project), list(project.media)


def assert_same(project: Project, before: tuple[Project, list[str]]) -> None:
    expected, media_order = before
    assert project == expected
    assert list(project.media) == media_order


def do_undo_redo(project: Project, command: Command) -> None:
    """Do, check undo restores the project exactly, redo, check the redo equals the first do; leaves it done."""
    before = snapshot(project)
    command.do(project)
    after = snapshot(project)
    command.undo(project)
    assert_same(project, before)
    command.do(project)
    assert_same(project, after)


def refused(project: Project, command: Command, match: str) -> None:
    """`command` is refused with a message matching `match`, leaving the project exactly as it was."""
    before = snapshot(project)
    with pytest.raises(ProjectError, match=match):
        command.do(project)
    assert_same(project, before)


def clip_field_error(folder: Path, field: str, value: object, clip: int = 2) -> str:
    """The error loading the sample project from a file whose Video 1 clip `clip` (2: c3, the third) has `field` set
    to `value`."""
    data = project_to_json(sample_project(), FOOTAGE)
    data["tracks"][1]["clips"][clip][field] = value
    path = folder / "film.istar"
    path.write_text(json.dumps(data))
    with pytest.raises(ProjectFileError) as caught:
        load_project(path)
    return str(caught.value)
