"""A clip's colour grade as the project keeps it: saved and loaded with the clip, a bad one named by its field,
changed by one undoable edit whose drag steps merge, and refused for clips with no picture of their own to grade."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtGui import QUndoStack
from sample_projects import FOOTAGE, assert_same, clip_field_error, sample_project, snapshot

from desktop.project.commands import SetClipGrade, add_title
from desktop.project.file import load_project, save_project
from desktop.project.grade import Grade
from desktop.project.model import ProjectError
from desktop.project.schema import project_from_json, project_to_json
from desktop.timeline.edit_command import apply_edit

WARM = Grade(brightness=0.1, contrast=1.2, saturation=1.5)


def test_a_grade_is_saved_and_loaded_with_its_clip_and_a_file_without_one_loads_ungraded(tmp_path: Path) -> None:
    project = sample_project()
    project.find_clip("c2")[1].grade = WARM
    save_project(project, tmp_path / "film.istar")
    saved = json.loads((tmp_path / "film.istar").read_text())
    assert saved["tracks"][1]["clips"][1]["grade"] == {"brightness": 0.1, "contrast": 1.2, "saturation": 1.5}
    assert load_project(tmp_path / "film.istar").find_clip("c2")[1].grade == WARM
    data = project_to_json(sample_project(), FOOTAGE)
    for track in data["tracks"]:
        for clip in track["clips"]:
            del clip["grade"]
    assert project_from_json(data, FOOTAGE) == sample_project()


@pytest.mark.parametrize(("grade", "message"), [
    ({"brightness": 2}, "grade.brightness: the brightness should be a number from -1 to 1, not 2"),
    ({"saturation": "vivid"}, "grade.saturation: should be a number, not 'vivid'"),
    ([1], "grade: should be an object, not [1]"),
])
def test_a_bad_grade_in_a_file_is_named_by_its_field(tmp_path: Path, grade: object, message: str) -> None:
    assert f"tracks[1].clips[2].{message}" in clip_field_error(tmp_path, "grade", grade)


def test_set_clip_grade_is_undone_exactly_and_refuses_sound_titles_and_bad_values() -> None:
    project = sample_project()
    before = snapshot(project)
    command = SetClipGrade("c2", WARM)
    command.do(project)
    assert project.find_clip("c2")[1].grade == WARM
    command.undo(project)
    assert_same(project, before)
    with pytest.raises(ProjectError, match="the contrast should be a number from 0 to 3, not 4"):
        SetClipGrade("c1", Grade(contrast=4)).do(project)
    with pytest.raises(ProjectError, match="music.wav is sound: it has no picture to grade"):
        SetClipGrade("m1", WARM).do(project)
    add_title(project, 200).do(project)
    title_clip = project.tracks[0].clips[-1]
    with pytest.raises(ProjectError, match="is a title: set its colours in the title rather than grade it"):
        SetClipGrade(title_clip.id, WARM).do(project)


def test_the_steps_of_one_drag_are_one_undo_step(qapp) -> None:
    project = sample_project()
    stack = QUndoStack()
    for saturation in (1.05, 1.1, 1.15):
        apply_edit(stack, project, SetClipGrade("c1", Grade(saturation=saturation), "saturation", merge_key=1))
    apply_edit(stack, project, SetClipGrade("c1", Grade(0.05, 1, 1.15), "brightness", merge_key=2))
    assert stack.count() == 2 and stack.undoText() == "Change clip brightness"
    stack.undo()
    assert project.find_clip("c1")[1].grade == Grade(saturation=1.15)
    stack.undo()
    assert project.find_clip("c1")[1].grade == Grade()
