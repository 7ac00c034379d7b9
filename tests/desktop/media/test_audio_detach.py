"""Detach audio: a video clip's sound moves to an audio track as a clip of its own, and the mix a person hears is the
same before and after, fades, volume and a cross-dissolve included; the picture's clip falls silent."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from studio_window import studio_window

from desktop.media.audio import AudioCache, mix
from desktop.project.audio_detach import detach_audio, has_sound_to_detach
from desktop.project.model import Clip, MediaItem, Project, ProjectError, Track


@pytest.fixture
def project(numbers: MediaItem, wav: MediaItem, wide: MediaItem) -> Project:
    """16 fps at 48 kHz. Video 1: the numbers video (2 s with sound) cut in two, "a" at 0..16 (gain 0.8, a 4-frame
    fade-in, volume keys), "b" at 16..32 from its frame 16 with a 4-frame cross-dissolve from "a"; "quiet" (a silent
    video) at 32..40. Audio 1: the tone at 8..18."""
    project = Project(fps=16, width=64, height=64, sample_rate=48000)
    project.media = {m.id: m for m in (numbers, wav, wide)}
    project.tracks = [
        Track("v1", "video", "Video 1", clips=[Clip("a", numbers.id, 0, 16, gain=0.8, fade_in=4,
                                                    volume=((2, 1.0), (10, 0.3))),
                                               Clip("b", numbers.id, 16, 16, source_in=16, dissolve_in=4),
                                               Clip("quiet", wide.id, 32, 8)]),
        Track("a1", "audio", "Audio 1", clips=[Clip("tone", wav.id, 8, 10)]),
    ]
    return project


def test_the_mix_sounds_the_same_after_detaching_and_the_sound_has_clips_of_its_own(project):
    cache = AudioCache()
    heard = mix(project, 0, 40 * 3000, cache)
    before = copy.deepcopy(project)
    edit, made = detach_audio(project, ["a", "b", "quiet"])
    edit.do(project)

    assert np.abs(mix(project, 0, 40 * 3000, cache) - heard).max() < 1e-6
    assert [c.gain for c in project.track("v1").clips] == [0.0, 0.0, 1.0], "the silent video is left as it was"
    assert [t.name for t in project.tracks] == ["Video 1", "Audio 1", "Audio 2"], "Audio 1 is taken at 8..18"
    sounds = project.track(project.tracks[2].id).clips
    assert [c.id for c in sounds] == made
    assert [(c.start, c.length, c.source_in, c.gain, c.fade_in, c.dissolve_in) for c in sounds] == [
        (0, 16, 0, 0.8, 4, 0), (16, 16, 16, 1.0, 0, 4)]
    [sound] = {project.media[c.media_id].id: project.media[c.media_id] for c in sounds}.values()
    assert sound.kind == "audio" and sound.path == project.media[project.track("v1").clips[0].media_id].path
    pictures = project.track("v1").clips[:2]
    assert all(p.link and p.link == s.link for p, s in zip(pictures, sounds, strict=True)), "each linked to its sound"
    assert pictures[0].link != pictures[1].link
    edit.undo(project)
    assert project == before


def test_the_sound_goes_on_the_first_audio_track_free_for_it(project):
    edit, made = detach_audio(project, ["b"])
    edit.do(project)
    track, clip = project.find_clip(made[0])
    assert (track.name, clip.dissolve_in) == ("Audio 2", 0), "no cross-dissolve: its neighbour's sound stays put"
    again, more = detach_audio(project, ["a"])  # Audio 1 is taken at 8..18 still, Audio 2 is free at 0..16
    again.do(project)
    assert project.find_clip(more[0])[0].name == "Audio 2" and len(project.media) == 4, "one sound item a file"


def test_only_a_video_with_sound_heard_has_sound_to_detach(project):
    assert has_sound_to_detach(project, "a") and not has_sound_to_detach(project, "quiet")
    assert not has_sound_to_detach(project, "tone")
    project.track("v1").clips[0].gain = 0.0
    assert not has_sound_to_detach(project, "a")
    with pytest.raises(ProjectError, match="none of the selected clips is a video with sound to detach"):
        detach_audio(project, ["a", "quiet", "tone"])


def test_in_the_window_the_edit_menu_detaches_the_selected_videos_sound(qtbot, tmp_path, monkeypatch, project):
    monkeypatch.setenv("ISTAR_HOME", str(tmp_path / "home"))
    window = studio_window(qtbot, tmp_path)
    window.project.media, window.project.tracks = project.media, project.tracks
    window.editor.timeline.refresh()
    timeline = window.editor.timeline
    timeline.select_clips(["quiet"])
    assert not window.detach_action.isEnabled(), "a silent video has no sound to detach"
    timeline.select_clips(["a"])
    assert window.detach_action.isEnabled() and window.detach_action in window.clip_menu().actions()

    window.detach_action.trigger()
    [sound] = timeline.selected_clip_ids()
    assert window.project.find_clip(sound)[0].name == "Audio 2" and window.project.find_clip("a")[1].gain == 0
    assert window.editor.stack.undoText() == "Detach audio" and not window.detach_action.isEnabled()
    window.editor.stack.undo()
    assert window.project.find_clip("a")[1].gain == 0.8 and len(window.project.tracks) == 2
