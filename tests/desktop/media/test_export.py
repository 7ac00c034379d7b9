"""Export: the whole timeline or a range of it as H.264 + AAC with the generated clips' provenance, atomic and
cancellable; stills."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import av
import numpy as np
import pytest
from engine_records import generation
from media_samples import pattern

from desktop.media.errors import MediaReadError
from desktop.media.export import ExportCancelled, export_still, export_video
from desktop.media.export_settings import ExportSettings
from desktop.media.probe import probe_media
from desktop.media.render import TimelineRenderer
from desktop.project.model import Clip, MediaItem, Project, ProjectError, Track, new_id
from engine.media.image import read_rgb, write_png

GENERATED = generation(["a red ball"], seconds=1, kind="generate", seed=7)


@pytest.fixture
def project(numbers: MediaItem, still: MediaItem, wav: MediaItem) -> Project:
    """128x64 at 16 fps: numbers frames 4..19 then the still for 8 frames on the video track, the tone from
    frame 4 on the audio track; 24 frames, 1.5 s."""
    generated = replace(numbers, provenance=GENERATED)
    project = Project(fps=16, width=128, height=64, sample_rate=48000)
    project.media = {m.id: m for m in (generated, still, wav)}
    video, audio = Track(new_id(), "video", "Video 1"), Track(new_id(), "audio", "Audio 1")
    video.place(Clip(new_id(), generated.id, start=0, length=16, source_in=4))
    video.place(Clip(new_id(), still.id, start=16, length=8))
    audio.place(Clip(new_id(), wav.id, start=4, length=16))
    project.tracks = [video, audio]
    return project


def test_the_export_holds_the_whole_timeline_picture_sound_and_provenance(project: Project, tmp_path: Path) -> None:
    path = tmp_path / "out.mp4"
    done: list[float] = []
    export_video(project, path, progress=done.append)
    assert done == sorted(done) and done[-1] == 1.0 and len(done) == 24
    with av.open(str(path)) as container:
        video, audio = container.streams.video[0], container.streams.audio[0]
        assert (video.codec_context.name, video.codec_context.pix_fmt) == ("h264", "yuv420p")
        assert (video.width, video.height, video.average_rate) == (128, 64, 16)
        assert (audio.codec_context.name, audio.rate, audio.channels) == ("aac", 48000, 2)
        assert abs(container.duration / av.time_base - 1.5) < 0.05
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video)]
    assert len(frames) == 24
    at_half_second = frames[8].astype(int)  # numbers frame 12, pillarboxed in the middle 64 columns
    assert np.abs(at_half_second[:, 32:96] - pattern(12)).mean() < 6
    assert at_half_second[:, :32].mean() < 2 and at_half_second[:, 96:].mean() < 2
    still = TimelineRenderer(project).frame(20).astype(int)
    assert np.abs(frames[20] - still).mean() < 6
    probed = probe_media(path)
    assert probed.has_audio and (probed.width, probed.height) == (128, 64)
    assert probed.provenance == {
        "clips": [
            {
                "track": "Video 1",
                "file": "numbers.mp4",
                "start_s": 0.0,
                "end_s": 1.0,
                "source_in_s": 0.25,
                "provenance": GENERATED,
            }
        ]
    }
    assert probed.generation.settings.seed == 7 and probed.video_start == -0.25, "one clip: Regenerate works on it"


def rms(part: np.ndarray) -> float:
    return float(np.sqrt((part**2).mean()))


def test_the_exported_sound_is_the_mix(project: Project, tmp_path: Path) -> None:
    project.tracks[0].muted = True  # only the tone, from 0.25 s to 1.25 s
    export_video(project, tmp_path / "out.mp4")
    with av.open(str(tmp_path / "out.mp4")) as container:
        sound = np.concatenate([f.to_ndarray() for f in container.decode(audio=0)], axis=1)  # fltp [2, n]
    assert rms(sound[0, :9000]) < 0.01 and rms(sound[0, 62000:72000]) < 0.01
    assert abs(rms(sound[0, 20000:50000]) - 0.2 / 2**0.5) < 0.02


def test_a_range_holds_those_frames_and_that_sound_from_its_own_start(project: Project, tmp_path: Path) -> None:
    done: list[float] = []
    export_video(project, tmp_path / "part.mp4", ExportSettings(span=(12, 20)), progress=done.append)  # 0.75..1.25 s
    assert len(done) == 8 and done[-1] == 1.0
    with av.open(str(tmp_path / "part.mp4")) as container:
        frames = [f.to_ndarray(format="rgb24").astype(int) for f in container.decode(video=0)]
    with av.open(str(tmp_path / "part.mp4")) as container:
        sound = np.concatenate([f.to_ndarray() for f in container.decode(audio=0)], axis=1)
        assert abs(container.duration / av.time_base - 0.5) < 0.05, "picture and sound start at the range's start"
    assert len(frames) == 8
    assert np.abs(frames[0][:, 32:96] - pattern(16)).mean() < 6, "timeline frame 12: numbers frame 16"
    renderer = TimelineRenderer(project)
    assert all(np.abs(frames[i] - renderer.frame(12 + i)).mean() < 6 for i in range(8))
    whole = tmp_path / "whole.mp4"
    export_video(project, whole)
    with av.open(str(whole)) as container:
        all_sound = np.concatenate([f.to_ndarray() for f in container.decode(audio=0)], axis=1)
    # the same sound as the whole export's from 0.75 s (AAC's own delay aside), tone and numbers mixed
    assert abs(sound.shape[1] - 24000) <= 2048
    assert abs(rms(sound[0, 4000:20000]) - rms(all_sound[0, 40000:56000])) < 0.01
    assert probe_media(tmp_path / "part.mp4").provenance["clips"] == [{
        "track": "Video 1", "file": "numbers.mp4", "start_s": 0.0, "end_s": 0.25, "source_in_s": 1.0,
        "provenance": GENERATED}], "the generated clip's last 4 frames, from its source's frame 16"


def test_a_range_past_the_end_or_backwards_is_refused_by_name(project: Project, tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match="range: starts at frame 30, after the timeline's end"):
        export_video(project, tmp_path / "out.mp4", ExportSettings(span=(30, 40)))
    with pytest.raises(ProjectError, match="range: should start at frame 0 or later and end after it starts"):
        export_video(project, tmp_path / "out.mp4", ExportSettings(span=(10, 10)))
    assert list(tmp_path.iterdir()) == []
    assert ExportSettings(span=(20, 99)).frames_for(project) == 4, "a range running past the end stops there"


def test_a_cancelled_export_leaves_nothing_and_keeps_an_earlier_file(project: Project, tmp_path: Path) -> None:
    asked = []

    def cancelled() -> bool:
        asked.append(1)
        return len(asked) > 5

    with pytest.raises(ExportCancelled):
        export_video(project, tmp_path / "out.mp4", cancelled=cancelled)
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "out.mp4").write_bytes(b"the earlier export")
    asked.clear()
    with pytest.raises(ExportCancelled):
        export_video(project, tmp_path / "out.mp4", cancelled=cancelled)
    assert [p.name for p in tmp_path.iterdir()] == ["out.mp4"]
    assert (tmp_path / "out.mp4").read_bytes() == b"the earlier export"


def test_an_empty_timeline_is_not_exported(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match="empty"):
        export_video(Project.empty(), tmp_path / "out.mp4")
    assert list(tmp_path.iterdir()) == []


def test_a_still_is_the_rendered_frame_as_png(project: Project, tmp_path: Path) -> None:
    export_still(project, 3, tmp_path / "frame.png")
    assert np.array_equal(read_rgb(tmp_path / "frame.png"), TimelineRenderer(project).frame(3))


def test_a_media_file_gone_midway_fails_the_export_and_keeps_the_earlier_file(project: Project, tmp_path: Path) -> None:
    (tmp_path / "out.mp4").write_bytes(b"the earlier export")
    still = next(m for m in project.media.values() if m.kind == "image")
    project.media[still.id] = replace(still, path=tmp_path / "moved.png")
    with pytest.raises(MediaReadError, match="moved.png"):
        export_video(project, tmp_path / "out.mp4")
    assert [p.name for p in tmp_path.iterdir()] == ["out.mp4"]
    assert (tmp_path / "out.mp4").read_bytes() == b"the earlier export"


def test_odd_project_sides_are_made_even(project: Project, tmp_path: Path) -> None:
    project.width, project.height = 65, 33
    project.tracks[0].clips.pop()  # the first second only
    export_video(project, tmp_path / "odd.mp4")
    with av.open(str(tmp_path / "odd.mp4")) as container:
        assert (container.streams.video[0].width, container.streams.video[0].height) == (66, 34)


def test_fine_coloured_detail_keeps_its_colour(tmp_path: Path) -> None:
    """yuv420p has one colour for each 2x2 pixels: it is their mean, so one-pixel stripes of red and blue come out
    in the mean of the two colours, not in the colour of one of them."""
    stripes = np.zeros((64, 64, 3), np.uint8)
    stripes[:, 0::2] = (220, 30, 30)
    stripes[:, 1::2] = (30, 30, 220)
    write_png(tmp_path / "stripes.png", stripes)
    item = probe_media(tmp_path / "stripes.png")
    project = Project(fps=16, width=64, height=64, sample_rate=48000)
    project.media = {item.id: item}
    video = Track(new_id(), "video", "Video 1")
    video.place(Clip(new_id(), item.id, start=0, length=4))
    project.tracks = [video]
    export_video(project, tmp_path / "out.mp4", ExportSettings(crf=0))
    with av.open(str(tmp_path / "out.mp4")) as container:
        frame = next(container.decode(video=0)).to_ndarray(format="rgb24").astype(int)
    assert np.abs(frame.mean(axis=(0, 1)) - stripes.mean(axis=(0, 1))).max() < 4
