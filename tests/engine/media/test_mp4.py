"""MP4 files: H.264 frames as written, provenance in and out, appended clip by clip, never half-written."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from engine.media.errors import MediaError
from engine.media.mp4 import mp4_writer, read_metadata


def gradient(frames: int, height: int, width: int) -> np.ndarray:
    """Smooth colour ramps that move over time: content H.264 keeps close at high quality."""
    t, y, x = np.meshgrid(np.arange(frames), np.arange(height), np.arange(width), indexing="ij")
    rgb = np.stack([x * 255 // max(width - 1, 1), y * 255 // max(height - 1, 1), (t * 40) % 256], axis=-1)
    return rgb.astype(np.uint8)


def decode(path: Path) -> tuple[np.ndarray, av.video.stream.VideoStream]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = np.stack([f.to_ndarray(format="rgb24") for f in container.decode(stream)])
        return frames, stream


def test_clips_appended_as_they_come_make_one_h264_video_with_its_provenance(tmp_path: Path) -> None:
    video = gradient(9, 48, 64)
    meta = {"seed": 7, "prompt": "a red ball \u2014 \"bouncing\"", "settings": {"tau": 0.4}}
    path = tmp_path / "out.mp4"
    with mp4_writer(path, 16, meta) as out:
        out.write(video[:1])
        out.write(video[1:])
    frames, stream = decode(path)
    assert stream.codec_context.name == "h264" and stream.codec_context.pix_fmt == "yuv420p"
    assert stream.average_rate == 16 and (stream.width, stream.height) == (64, 48)
    assert frames.shape == video.shape
    assert np.abs(frames.astype(int) - video).mean() < 3
    assert read_metadata(path) == meta
    assert [p.name for p in tmp_path.iterdir()] == ["out.mp4"]


def test_odd_sizes_are_padded_to_even_by_repeating_the_edge(tmp_path: Path) -> None:
    video = gradient(1, 47, 63)
    with mp4_writer(tmp_path / "odd.mp4", 16) as out:
        out.write(video)
    frames, _ = decode(tmp_path / "odd.mp4")
    assert frames.shape == (1, 48, 64, 3)
    assert np.abs(frames[:, -1].astype(int) - frames[:, -2]).mean() < 3


def test_an_error_midway_leaves_the_earlier_file_and_no_temp_file(tmp_path: Path) -> None:
    path = tmp_path / "out.mp4"
    path.write_bytes(b"earlier")
    with pytest.raises(RuntimeError, match="cancelled"), mp4_writer(path, 16, {"seed": 1}) as out:
        out.write(gradient(3, 32, 32))
        raise RuntimeError("cancelled")
    assert path.read_bytes() == b"earlier" and [p.name for p in tmp_path.iterdir()] == ["out.mp4"]


def test_bad_frames_and_empty_videos_are_refused(tmp_path: Path) -> None:
    wrong_type = r"frames must be uint8 \[T, H, W, 3\], got float32 \[2, 32, 32, 3\]"
    with pytest.raises(MediaError, match=wrong_type), mp4_writer(tmp_path / "a.mp4", 16) as out:
        out.write(np.zeros((2, 32, 32, 3), np.float32))
    resized = "frames of 64x32 follow frames of 32x32"
    with pytest.raises(MediaError, match=resized), mp4_writer(tmp_path / "b.mp4", 16) as out:
        out.write(gradient(1, 32, 32))
        out.write(gradient(1, 32, 64))
    with pytest.raises(MediaError, match="no frames were written"), mp4_writer(tmp_path / "c.mp4", 16):
        pass
    assert list(tmp_path.iterdir()) == []


def test_reading_provenance_names_what_is_wrong(tmp_path: Path) -> None:
    with mp4_writer(tmp_path / "plain.mp4", 16) as out:
        out.write(gradient(1, 16, 16))
    with pytest.raises(MediaError, match="plain.mp4 carries no provenance"):
        read_metadata(tmp_path / "plain.mp4")
    (tmp_path / "junk.mp4").write_bytes(b"not a video")
    with pytest.raises(MediaError, match="junk.mp4 is not a readable video"):
        read_metadata(tmp_path / "junk.mp4")


def test_the_same_frames_make_the_same_file_every_time(tmp_path: Path) -> None:
    """A command run again with the same seed must give the same video: x264's AVX-512 code did not (it encoded
    frames like these to 7 different files in 8 writes on an AVX-512 CPU)."""
    rng = np.random.default_rng(0)
    video = gradient(33, 64, 64).astype(int) // 2
    for t in range(33):  # a square crossing the frame, and noise that changes every frame
        video[t, 20:36, t : t + 16] = (250, 40, 40)
    video = np.clip(video + rng.integers(-20, 20, video.shape), 0, 255).astype(np.uint8)
    files = set()
    for k in range(6):
        with mp4_writer(tmp_path / f"{k}.mp4", 16) as out:
            out.write(video[:1])
            out.write(video[1:])
        files.add((tmp_path / f"{k}.mp4").read_bytes())
    assert len(files) == 1
