"""A clip's transform: where its picture goes in the frame, saved with the project, changed by one undoable edit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtGui import QUndoStack
from sample_projects import FOOTAGE, assert_same, clip_field_error, sample_project, snapshot

from desktop.project.commands import SetClipTransform
from desktop.project.file import load_project, save_project
from desktop.project.model import Clip, ProjectError
from desktop.project.schema import project_from_json, project_to_json
from desktop.project.transform import Transform
from desktop.timeline.edit_command import apply_edit

TILTED = Transform("custom", x=0.25, y=0.75, scale=0.5, rotation=-30, crop_left=0.1, crop_bottom=0.2, opacity=0.6)


def test_a_clip_is_fitted_until_told_otherwise_and_a_file_without_transforms_loads_fitted(tmp_path: Path) -> None:
    assert Clip("c", "m", 0, 1).transform == Transform("fit", 0.5, 0.5, 1, 0, 0, 0, 0, 0, 1)
    data = project_to_json(sample_project(), FOOTAGE)
    for track in data["tracks"]:
        for clip in track["clips"]:
            del clip["transform"]
    assert project_from_json(data, FOOTAGE) == sample_project()


def test_a_transform_is_saved_and_loaded_with_its_clip(tmp_path: Path) -> None:
    project = sample_project()
    project.find_clip("c2")[1].transform = TILTED
    save_project(project, tmp_path / "film.istar")
    saved = json.loads((tmp_path / "film.istar").read_text())
    assert saved["tracks"][1]["clips"][1]["transform"] == {
        "mode": "custom", "x": 0.25, "y": 0.75, "scale": 0.5, "rotation": -30, "crop_left": 0.1, "crop_top": 0.0,
        "crop_right": 0.0, "crop_bottom": 0.2, "opacity": 0.6}
    assert load_project(tmp_path / "film.istar").find_clip("c2")[1].transform == TILTED


@pytest.mark.parametrize(
    ("transform", "message"),
    [
        ({"mode": "zoom"}, "transform.mode: should be one of fit, fill, stretch, custom, not 'zoom'"),
        ({"opacity": 1.5}, "transform.opacity: should be at most 1.0, not 1.5"),
        ({"scale": 0}, "transform.scale: should be at least 0.01, not 0"),
        ({"rotation": "ninety"}, "transform.rotation: should be a number, not 'ninety'"),
        ({"crop_left": 0.6, "crop_right": 0.5}, "transform.crop_right: the crop left and crop right together should "
                                                "crop at most 99% of the picture, not 110%"),
        ([0.5], "transform: should be an object, not [0.5]"),
    ],
)
def test_a_bad_transform_in_a_file_is_named_by_its_field(tmp_path: Path, transform: object, message: str) -> None:
    assert f"tracks[1].clips[2].{message}" in clip_field_error(tmp_path, "transform", transform)


def test_set_clip_transform_is_undone_exactly_and_refuses_what_cannot_be() -> None:
    project = sample_project()
    before = snapshot(project)
    command = SetClipTransform("c1", TILTED)
    command.do(project)
    assert project.find_clip("c1")[1].transform == TILTED
    command.undo(project)
    assert_same(project, before)
    with pytest.raises(ProjectError, match="opacity should be a number from 0 to 1"):
        SetClipTransform("c1", Transform(opacity=-0.1)).do(project)
    with pytest.raises(ProjectError, match="music.wav is sound"):
        SetClipTransform("m1", TILTED).do(project)
    project.track("v1").locked = True
    with pytest.raises(ProjectError, match="locked"):
        SetClipTransform("c1", TILTED).do(project)
    project.track("v1").locked = False
    assert_same(project, before)


def test_the_steps_of_one_drag_are_one_undo_step_and_the_next_drag_another(qapp) -> None:
    project = sample_project()
    stack = QUndoStack()
    for opacity in (0.9, 0.8, 0.7):
        apply_edit(stack, project, SetClipTransform("c1", Transform(opacity=opacity), "opacity", merge_key=1))
    apply_edit(stack, project, SetClipTransform("c1", Transform(opacity=0.6, scale=2), "scale", merge_key=2))
    assert stack.count() == 2 and stack.undoText() == "Change clip scale"
    stack.undo()
    assert project.find_clip("c1")[1].transform == Transform(opacity=0.7)
    stack.undo()
    assert project.find_clip("c1")[1].transform == Transform()
    stack.redo()
    assert project.find_clip("c1")[1].transform == Transform(opacity=0.7)
    apply_edit(stack, project, SetClipTransform("c2", Transform(opacity=0.5), "opacity", merge_key=1))
    assert stack.count() == 2  # another clip: its own step, the undone one gone


def test_as_custom_keeps_what_is_seen() -> None:
    source, frame = (100, 50), (160, 160)
    for mode in ("fit", "fill"):
        transform = Transform(mode, crop_left=0.2)
        custom = transform.as_custom(source, frame)
        assert custom.mode == "custom"
        assert custom.layout(source, frame) == transform.layout(source, frame)
    assert Transform("fill").as_custom(source, frame).scale == pytest.approx(2)  # 160 high, not 80
