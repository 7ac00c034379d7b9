"""Export settings: the file has the size, rate, codec, quality and encoder speed asked for; repeated and dropped
frames keep the timing; the size estimate is near the real size; settings that cannot be used are refused naming the
setting."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from media_samples import number_of, tone, write_wav

from desktop.media.export import ExportCancelled, export_video
from desktop.media.export_settings import (
    DEFAULT_SPEED,
    ENCODER_SPEEDS,
    ESTIMATE_FACTOR,
    FAST,
    FASTEST,
    H264,
    H265,
    THOROUGH,
    ExportSettings,
    ExportSettingsError,
    TimeLeft,
    available_codecs,
    clock_text,
    estimate_bytes,
    has_sound,
    output_frames,
    parse_size,
    size_text,
)
from desktop.media.probe import probe_media
from desktop.project.commands import SetFormat
from desktop.project.model import Clip, MediaItem, Project, ProjectError, Track, new_id


@pytest.fixture
def project(numbers: MediaItem) -> Project:
    """128x64 at 16 fps: numbers frames 4..19 (frame n of the timeline shows number n + 4), 1 s."""
    project = Project(fps=16, width=128, height=64, sample_rate=48000)
    project.media = {numbers.id: numbers}
    video = Track(new_id(), "video", "Video 1")
    video.place(Clip(new_id(), numbers.id, start=0, length=16, source_in=4))
    project.tracks = [video, Track(new_id(), "audio", "Audio 1")]
    return project


def shown_numbers(path: Path) -> list[int]:
    """The number each frame of an export of `project` shows (its square clip is fitted in the middle)."""
    with av.open(str(path)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    height, width = frames[0].shape[:2]
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    return [number_of(frame[top : top + side, left : left + side]) for frame in frames]


def frames_of(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24").astype(int) for f in container.decode(video=0)]


def encoder_settings(path: Path) -> str:
    """The settings x264 and x265 write into the stream (an SEI message of text)."""
    data = path.read_bytes()
    start = max(data.find(b"x264 - core"), data.find(b"x265 (build"))
    assert start >= 0, "no encoder settings in the file"
    return data[start : start + 3000].decode("latin-1")


def test_the_file_has_the_size_fps_codec_and_crf_asked_for(project: Project, tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    export_video(project, out, ExportSettings(size=(96, 160), fps=24, crf=30))
    with av.open(str(out)) as container:
        video = container.streams.video[0]
        assert (video.codec_context.name, video.width, video.height, video.average_rate) == ("h264", 96, 160, 24)
        assert abs(container.duration / av.time_base - 1.0) < 0.05
    assert " crf=30.0 " in encoder_settings(out)
    # 24 fps from 16: the clip keeps its time, from 0.25 s into its media (frame 6 at 24 fps), and each output frame
    # shows the media's frame nearest its time (the later one at halfway)
    assert shown_numbers(out) == [(2 * (6 + i) * 16 + 24) // 48 for i in range(24)]


def test_a_lower_fps_drops_frames_on_time(project: Project, tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    export_video(project, out, ExportSettings(fps=8))
    assert shown_numbers(out) == [4 + 2 * i for i in range(8)]


def test_a_project_whose_clips_cannot_keep_their_place_repeats_its_own_frames(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(command: SetFormat, project: Project) -> None:
        raise ProjectError("at 24 fps a clip on Video 1 cannot keep its place")

    monkeypatch.setattr(SetFormat, "do", refuse)
    out = tmp_path / "out.mp4"
    export_video(project, out, ExportSettings(fps=24))
    assert shown_numbers(out) == [4 + i * 16 // 24 for i in range(24)]  # the project's frame at each output time


def test_a_clip_with_smooth_motion_gains_frames_between_its_own(project: Project, tmp_path: Path) -> None:
    export_video(project, tmp_path / "repeated.mp4", ExportSettings(fps=32))
    project.tracks[0].clips[0].smooth_motion = True
    export_video(project, tmp_path / "smooth.mp4", ExportSettings(fps=32))
    repeated, smooth = (frames_of(tmp_path / name) for name in ("repeated.mp4", "smooth.mp4"))
    assert len(repeated) == len(smooth) == 32
    # output frame i is at media frame 4 + i / 2: 4, 4.5, 5, 5.5, ...; repeated, 4.5 shows the later frame, 5
    assert np.abs(repeated[1] - repeated[2]).mean() < 3
    assert np.abs(smooth[0] - repeated[0]).mean() < 3 and np.abs(smooth[2] - repeated[2]).mean() < 3
    # 4 and 5 differ in their last bit's cell (centre 56, 88): off in 4, on in 5, and half way at 4.5 when smooth
    cell = [frame[56, 88, 0] for frame in (repeated[0], repeated[1], smooth[1])]
    assert abs(cell[0] - 30) < 15 and abs(cell[1] - 220) < 15 and 100 < cell[2] < 150


def test_a_bitrate_replaces_the_crf_and_the_audio_bitrate_is_kept(project: Project, tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    export_video(project, out, ExportSettings(video_bitrate=400_000, audio_bitrate=96_000))
    written = encoder_settings(out)
    assert " rc=abr " in written and " bitrate=400 " in written and " crf=" not in written
    with av.open(str(out)) as container:
        assert abs(container.streams.audio[0].codec_context.bit_rate - 96_000) < 10_000  # as measured in the file


@pytest.mark.skipif(H265 not in available_codecs(), reason="this PyAV build has no H.265 encoder")
def test_h265_is_written_with_the_tag_players_need(project: Project, tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    export_video(project, out, ExportSettings(codec=H265, crf=26))
    with av.open(str(out)) as container:
        video = container.streams.video[0]
        assert (video.codec_context.name, video.codec_tag, video.frames) == ("hevc", "hvc1", 16)
    assert "crf=26.0" in encoder_settings(out)


# what x264 and x265 write of each speed's search into the stream
SPEED_MARKS = {
    (H264, FASTEST): (" cabac=1 ", " deblock=1:0:0 ", " me=dia ", " subme=0 ", " mbtree=0 "),
    (H264, FAST): (" cabac=1 ", " deblock=1:0:0 ", " me=dia ", " subme=1 ", " rc_lookahead=10 ", " mbtree=1 "),
    (H264, THOROUGH): (" me=hex ", " subme=2 ", " rc_lookahead=10 ", " mbtree=1 "),
    (H265, FASTEST): (" rc-lookahead=5 ", " me=0 ", " subme=0 "),
    (H265, FAST): (" rc-lookahead=15 ", " me=1 ", " subme=1 "),
    (H265, THOROUGH): (" rc-lookahead=20 ", " me=1 ", " subme=2 "),
}


@pytest.mark.parametrize(("codec", "speed"), list(SPEED_MARKS))
def test_the_encoder_works_at_the_speed_asked_for(project: Project, tmp_path: Path, codec: str, speed: str) -> None:
    if codec not in available_codecs():
        pytest.skip("this PyAV build has no H.265 encoder")
    out = tmp_path / "out.mp4"
    export_video(project, out, ExportSettings(codec=codec, speed=speed, crf=24))
    written = encoder_settings(out)
    assert all(mark in written for mark in SPEED_MARKS[codec, speed]), written
    assert "crf=24.0" in written
    assert len(frames_of(out)) == 16


def test_fast_is_the_default_speed() -> None:
    assert ExportSettings().speed == DEFAULT_SPEED == FAST
    assert list(ENCODER_SPEEDS) == [FASTEST, FAST, THOROUGH]


def test_a_cancelled_export_at_another_size_leaves_the_earlier_file(project: Project, tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    out.write_bytes(b"the earlier export")
    asked: list[int] = []
    with pytest.raises(ExportCancelled):
        export_video(project, out, ExportSettings(size=(320, 180)), cancelled=lambda: asked.append(1) or len(asked) > 3)
    assert [p.name for p in tmp_path.iterdir()] == ["out.mp4"] and out.read_bytes() == b"the earlier export"


def grainy_video(path: Path, seconds: float, width: int, height: int, fps: int = 16) -> Path:
    """Footage like a generation's: moving colour fields, a drifting disc and light grain."""
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps, options={"crf": "16", "preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for index in range(round(seconds * fps)):
            t = index / fps
            field = np.stack([127 + 100 * np.sin(x / width * 3 + t), 127 + 100 * np.sin(y / height * 2 - t * 0.7),
                              127 + 100 * np.sin((x + y) / (width + height) * 4 + t * 1.3)], axis=-1)
            disc = (x - width * (0.2 + 0.6 * t / seconds)) ** 2 + (y - height / 2) ** 2 < (height / 6) ** 2
            field[disc] = (230, 60, 40)
            field += rng.normal(0, 1.5, field.shape)
            frame = av.VideoFrame.from_ndarray(np.clip(field, 0, 255).astype(np.uint8), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


@pytest.mark.parametrize(("crf", "speed", "codec"), [(18, FAST, H264), (28, FAST, H264), (18, FASTEST, H264),
                                                     (28, FASTEST, H264), (18, THOROUGH, H264), (18, FASTEST, H265),
                                                     (28, FAST, H265), (18, THOROUGH, H265)])
def test_the_size_estimate_is_within_its_stated_factor_of_the_real_size(
    tmp_path: Path, crf: int, speed: str, codec: str
) -> None:
    if codec not in available_codecs():
        pytest.skip("this PyAV build has no H.265 encoder")
    clip = probe_media(grainy_video(tmp_path / "clip.mp4", 2, 160, 96))
    music = probe_media(write_wav(tmp_path / "music.wav", tone(2, 330, 0.3)))
    project = Project(fps=16, width=320, height=192)
    project.media = {clip.id: clip, music.id: music}
    video, audio = Track(new_id(), "video", "Video 1"), Track(new_id(), "audio", "Audio 1")
    video.place(Clip(new_id(), clip.id, 0, 32))
    audio.place(Clip(new_id(), music.id, 0, 32))
    project.tracks = [video, audio]
    settings = ExportSettings(codec=codec, crf=crf, audio_bitrate=128_000, speed=speed)
    export_video(project, tmp_path / "out.mp4", settings)
    real = (tmp_path / "out.mp4").stat().st_size
    estimate = estimate_bytes(2.0, (320, 192), settings, has_sound(project))
    assert 1 / ESTIMATE_FACTOR < estimate / real < ESTIMATE_FACTOR, (estimate, real)


def test_the_estimate_follows_bitrate_size_and_codec() -> None:
    ten_seconds = estimate_bytes(10, (1920, 1080), ExportSettings(video_bitrate=8_000_000, audio_bitrate=192_000))
    assert 10_000_000 < ten_seconds < 10_500_000  # (8 + 0.192) Mb/s for 10 s, and the container
    crf = estimate_bytes(10, (1920, 1080), ExportSettings(crf=20))
    assert estimate_bytes(10, (1280, 720), ExportSettings(crf=20)) < crf
    assert estimate_bytes(10, (1920, 1080), ExportSettings(crf=26)) < crf
    assert estimate_bytes(10, (1920, 1080), ExportSettings(codec=H265, crf=20)) < crf
    assert estimate_bytes(10, (1920, 1080), ExportSettings(crf=20), sound=False) < crf
    assert estimate_bytes(10, (1920, 1080), ExportSettings(crf=20, speed=FASTEST)) > crf  # its file is larger
    assert estimate_bytes(10, (1920, 1080), ExportSettings(crf=20, speed=THOROUGH)) == crf


def test_output_frames_cover_the_whole_timeline(project: Project) -> None:
    assert [output_frames(project, fps) for fps in (16, 24, 25, 30, 8)] == [16, 24, 25, 30, 8]
    project.tracks[0].clips[0].length = 15
    assert output_frames(project, 30) == 29  # 15/16 s is 28.1 frames at 30 fps: the last one shows to the end


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        (ExportSettings(size=(1001, 720)), "width"),
        (ExportSettings(size=(1280, 8)), "height"),
        (ExportSettings(fps=0), "fps"),
        (ExportSettings(crf=60), "crf"),
        (ExportSettings(codec="mpeg4"), "codec"),
        (ExportSettings(video_bitrate=10), "video bitrate"),
        (ExportSettings(audio_bitrate=100), "audio bitrate"),
        (ExportSettings(speed="warp"), "speed"),
    ],
)
def test_settings_that_cannot_be_used_are_refused_naming_the_setting(
    project: Project, tmp_path: Path, settings: ExportSettings, field: str
) -> None:
    with pytest.raises(ExportSettingsError, match=f"^{field}: ") as refused:
        export_video(project, tmp_path / "out.mp4", settings)
    assert refused.value.field == field
    assert list(tmp_path.iterdir()) == []


def test_a_size_is_read_as_width_x_height() -> None:
    assert parse_size("1920x1080") == (1920, 1080) and parse_size("720X1280") == (720, 1280)
    for text in ("1920", "axb", "1920x1080x3", "-2x4", ""):
        with pytest.raises(ExportSettingsError, match="^size: "):
            parse_size(text)


def test_h264_is_always_offered_first() -> None:
    assert available_codecs()[0] == H264


def test_time_left_comes_from_the_share_done_and_the_injected_clock() -> None:
    now = [100.0]
    left = TimeLeft(clock=lambda: now[0])
    assert left(0.0) is None
    now[0] = 110.0
    assert left(0.25) == pytest.approx(30.0)
    now[0] = 130.0
    assert left(0.75) == pytest.approx(10.0) and left(1.0) == 0.0
    assert clock_text(75) == "1:15" and clock_text(3725) == "1:02:05"
    assert size_text(950_000) == "950 KB" and size_text(12_345_678) == "12.3 MB" and size_text(2.5e9) == "2.50 GB"
