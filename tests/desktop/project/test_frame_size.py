"""The first picture placed on an empty timeline sets the frame size; later ones do not; it is one undo step."""

from __future__ import annotations

import pytest
from sample_projects import FOOTAGE, assert_same, snapshot

from desktop.generate.placement import Placement, place_media, place_result
from desktop.project.commands import Macro, SetFrameSize
from desktop.project.model import MediaItem, Project, ProjectError

GENERATED = MediaItem("gen", FOOTAGE / "gen.mp4", "video", 17 / 16, 16, 128, 128, provenance={"seed": 3})
ODD = MediaItem("odd", FOOTAGE / "odd.png", "image", 0.0, None, 101, 57)
SOUND = MediaItem("sound", FOOTAGE / "sound.wav", "audio", 2.0)


def test_a_generated_clip_on_an_empty_timeline_sets_the_frame_size_and_undo_restores_it():
    project = Project.empty()
    before = snapshot(project)
    command = place_result(project, GENERATED, Placement("new"))
    command.do(project)
    assert (project.width, project.height) == (128, 128) and project.duration == 17
    command.undo(project)
    assert_same(project, before)
    assert (project.width, project.height) == (1280, 720)


def test_only_the_first_picture_sets_it_rounded_down_to_even():
    project = Project.empty()
    project.media[ODD.id] = ODD
    Macro("Add", place_media(project, ODD, 0)).do(project)
    assert (project.width, project.height) == (100, 56)
    project.media[GENERATED.id] = GENERATED
    Macro("Add", place_media(project, GENERATED, 200)).do(project)
    assert (project.width, project.height) == (100, 56)


def test_sound_leaves_the_frame_size_alone():
    project = Project.empty()
    project.media[SOUND.id] = SOUND
    Macro("Add", place_media(project, SOUND, 0)).do(project)
    assert (project.width, project.height) == (1280, 720)


@pytest.mark.parametrize("size", [(0, 10), (11, 10), (10, 7)])
def test_a_frame_size_h264_cannot_encode_is_refused(size):
    with pytest.raises(ProjectError, match="even"):
        SetFrameSize(*size)
