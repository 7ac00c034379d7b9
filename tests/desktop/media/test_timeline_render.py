"""The composed picture: the topmost unmuted video track's clip, fitted with black bars, black where nothing is."""

from __future__ import annotations

import numpy as np
from media_samples import number_of

from desktop.media.render import TimelineRenderer, visible_clip
from desktop.project.model import Clip, MediaItem, Project, Track, new_id


def project_of(*media: MediaItem, width: int = 64, height: int = 64) -> Project:
    project = Project(fps=16, width=width, height=height)
    project.media = {m.id: m for m in media}
    project.tracks = [Track(new_id(), "video", "Video 2"), Track(new_id(), "video", "Video 1")]
    return project


def place(track: Track, media: MediaItem, start: int, length: int, source_in: int = 0) -> Clip:
    clip = Clip(new_id(), media.id, start, length, source_in)
    track.place(clip)
    return clip


def test_the_top_track_wins_a_muted_track_is_hidden_and_gaps_are_black(numbers: MediaItem, wide: MediaItem) -> None:
    project = project_of(numbers, wide, width=64, height=64)
    top, bottom = project.tracks
    place(top, numbers, start=4, length=4, source_in=20)
    place(bottom, numbers, start=0, length=12, source_in=0)
    renderer = TimelineRenderer(project)
    assert [number_of(renderer.frame(i)) for i in range(12)] == [0, 1, 2, 3, 20, 21, 22, 23, 8, 9, 10, 11]
    assert not renderer.frame(12).any() and visible_clip(project, 12) is None
    top.muted = True
    assert number_of(renderer.frame(5)) == 5
    renderer.close()


def test_a_wide_clip_is_letterboxed_and_a_tall_project_pillarboxes(numbers: MediaItem, wide: MediaItem) -> None:
    project = project_of(numbers, wide, width=64, height=64)
    place(project.tracks[0], wide, start=0, length=8, source_in=2)
    frame = TimelineRenderer(project).frame(3)
    assert frame.shape == (64, 64, 3) and frame.dtype == np.uint8
    assert not frame[:16].any() and not frame[48:].any()  # 64x32 in 64x64: bars above and below
    assert number_of(frame[16:48]) == 1005

    project = project_of(numbers, width=128, height=64)
    place(project.tracks[1], numbers, start=0, length=8)
    frame = TimelineRenderer(project).frame(6)
    assert not frame[:, :32].any() and not frame[:, 96:].any()
    assert number_of(frame[:, 32:96]) == 6


def test_a_still_shows_on_every_frame_of_its_clip(still: MediaItem) -> None:
    project = project_of(still, width=96, height=96)
    place(project.tracks[1], still, start=2, length=3)
    renderer = TimelineRenderer(project)
    frames = [renderer.frame(i) for i in range(6)]
    assert not frames[1].any() and not frames[5].any()
    assert np.array_equal(frames[2], frames[4])
    assert not frames[2][:16].any() and tuple(frames[2][20, 10]) == (230, 210, 30)  # 48x32 -> 96x64, centred
