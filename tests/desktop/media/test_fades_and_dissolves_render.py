"""Fades and cross-dissolves as seen and heard: the picture fades over what lies below it (black where nothing is),
two clips mix linearly across a cut, and sound fades and cross-fades along straight lines."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from media_samples import pattern

from desktop.media.audio import AudioCache, mix
from desktop.media.export import export_video
from desktop.media.export_settings import ExportSettings
from desktop.media.probe import probe_media
from desktop.media.render import TimelineRenderer
from desktop.project.model import Clip, MediaItem, Project, Track, new_id
from engine.media.image import write_png


def grey(folder: Path, level: int) -> MediaItem:
    path = folder / f"grey{level}.png"
    write_png(path, np.full((64, 64, 3), level, np.uint8))
    return probe_media(path)


def project_of(*media: MediaItem) -> Project:
    project = Project(fps=16, width=64, height=64, sample_rate=48000)
    project.media = {m.id: m for m in media}
    project.tracks = [Track(new_id(), "video", "Video 2"), Track(new_id(), "video", "Video 1"),
                      Track(new_id(), "audio", "Audio 1")]
    return project


def test_a_fade_in_halfway_is_half_as_bright_over_black_and_whole_after(tmp_path: Path) -> None:
    light = grey(tmp_path, 200)
    project = project_of(light)
    project.tracks[1].place(Clip(new_id(), light.id, start=0, length=10, fade_in=3, fade_out=3))
    renderer = TimelineRenderer(project)
    # frame i of a 3-frame fade shows (i + 1) / 4 of the picture: 50, 100, 150; then 200; the fade-out mirrors it
    assert [int(renderer.frame(i)[32, 32, 0]) for i in range(10)] == [50, 100, 150, 200, 200, 200, 200, 150, 100, 50]
    assert (renderer.frame(1) == 100).all()


def test_a_fade_shows_the_track_below_through_it(tmp_path: Path) -> None:
    light, dark = grey(tmp_path, 200), grey(tmp_path, 40)
    project = project_of(light, dark)
    project.tracks[0].place(Clip(new_id(), light.id, start=0, length=4, fade_in=3))
    project.tracks[1].place(Clip(new_id(), dark.id, start=0, length=4))
    frame = TimelineRenderer(project).frame(1)  # half of 200 over half of 40
    assert (frame == 120).all()


def test_a_dissolves_middle_frame_is_the_average_of_the_two_clips(tmp_path: Path) -> None:
    light, dark = grey(tmp_path, 200), grey(tmp_path, 100)
    project = project_of(light, dark)
    track = project.tracks[1]
    track.place(Clip(new_id(), light.id, start=0, length=8))
    track.place(Clip(new_id(), dark.id, start=8, length=8, dissolve_in=3))
    renderer = TimelineRenderer(project)
    # frames 7, 8, 9 (centred on the cut at 8) show 1/4, 1/2, 3/4 of the incoming picture
    assert [int(renderer.frame(i)[10, 10, 1]) for i in range(5, 12)] == [200, 200, 175, 150, 125, 100, 100]
    assert (renderer.frame(8) == 150).all()


def test_a_dissolve_shows_the_media_beyond_the_cut(numbers: MediaItem) -> None:
    project = project_of(numbers)
    track = project.tracks[1]
    track.place(Clip(new_id(), numbers.id, start=0, length=8, source_in=0))  # frames 0..7 of the file
    track.place(Clip(new_id(), numbers.id, start=8, length=8, source_in=20, dissolve_in=3))
    renderer = TimelineRenderer(project)
    # at the cut: the outgoing clip's next frame (8, past its out point) and the incoming's own first frame (20)
    # mixed half and half; a frame earlier, 3/4 of frame 7 and 1/4 of the incoming's frame 19 (before its in point)
    for frame, out_number, in_number, share in ((8, 8, 20, 0.5), (7, 7, 19, 0.25)):
        expected = (1 - share) * pattern(out_number).astype(float) + share * pattern(in_number)
        cells = [(y, x) for y in range(8, 64, 16) for x in range(8, 64, 16)]  # cell centres, away from the edges
        got = renderer.frame(frame)
        assert max(abs(float(got[y, x, 0]) - expected[y, x, 0]) for y, x in cells) <= 6


@pytest.fixture
def tone_project(wav: MediaItem) -> Project:
    """16 fps at 48 kHz: 3000 samples a frame."""
    return project_of(wav)


def test_a_sound_fade_in_is_at_half_level_halfway(tone_project: Project, wav: MediaItem) -> None:
    tone_project.tracks[2].place(Clip(new_id(), wav.id, start=0, length=10, fade_in=4))
    sound = AudioCache().samples(wav, 48000)
    out = mix(tone_project, 0, 30000)
    ramp = np.arange(12000) / 12000  # 4 frames of 3000 samples, from silence to full
    assert np.allclose(out[:12000], ramp[:, None] * sound[:12000], atol=1e-6)
    assert np.allclose(out[6000], 0.5 * sound[6000], atol=1e-7)  # halfway: level 0.5
    assert np.allclose(out[12000:], sound[12000:30000], atol=1e-6)


def test_a_sound_fade_out_ends_in_silence(tone_project: Project, wav: MediaItem) -> None:
    tone_project.tracks[2].place(Clip(new_id(), wav.id, start=0, length=10, fade_out=2))
    sound = AudioCache().samples(wav, 48000)
    out = mix(tone_project, 8, 6000)
    assert np.allclose(out, (1 - np.arange(6000) / 6000)[:, None] * sound[24000:30000], atol=1e-6)
    assert np.allclose(out[3000], 0.5 * sound[27000], atol=1e-7)


def test_sound_cross_fades_across_a_dissolve(tone_project: Project, wav: MediaItem) -> None:
    track = tone_project.tracks[2]
    outgoing = Clip(new_id(), wav.id, start=0, length=8)
    incoming = Clip(new_id(), wav.id, start=8, length=8, source_in=8, dissolve_in=4)
    track.place(outgoing)
    track.place(incoming)
    sound = AudioCache().samples(wav, 48000)
    # the two halves of one recording, cross-faded where they meet, are the recording itself
    assert np.allclose(mix(tone_project, 0, 48000), sound[:48000], atol=1e-6)
    incoming.gain = 0.0  # now only the outgoing side: down from full at frame 6 to silence at frame 10
    out = mix(tone_project, 6, 12000)
    assert np.allclose(out, (1 - np.arange(12000) / 12000)[:, None] * sound[18000:30000], atol=1e-6)
    assert np.allclose(out[6000], 0.5 * sound[24000], atol=1e-7)


def test_the_export_shows_the_fade_and_the_dissolve_as_the_preview_does_at_its_own_rate(tmp_path: Path) -> None:
    light, dark = grey(tmp_path, 200), grey(tmp_path, 100)
    project = project_of(light, dark)
    track = project.tracks[1]
    track.place(Clip(new_id(), light.id, start=0, length=8, fade_in=3))
    track.place(Clip(new_id(), dark.id, start=8, length=8, dissolve_in=3))
    # at 32 fps the times hold and the frames double: the fade lasts 6 frames, frame 2 at 3/7 of 200 (86); the
    # dissolve lasts 6 frames from 13, frame 16 at 4/7 of the incoming 100 and 3/7 of the outgoing 200 (143)
    for fps, expected in ((16, {1: 100, 8: 150, 12: 100}), (32, {2: 86, 16: 143, 24: 100})):
        path = tmp_path / f"out{fps}.mp4"
        export_video(project, path, ExportSettings(crf=0, fps=fps))
        with av.open(str(path)) as container:
            frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
        got = {index: int(round(frames[index][16:48, 16:48].mean())) for index in expected}
        assert all(abs(got[i] - level) <= 2 for i, level in expected.items()), (fps, got)
