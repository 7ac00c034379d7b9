"""Export speed: how many times real time the desktop exports a timeline (H.264 + AAC), at 128x128 and 720p.

Usage (from the repository root):
    OMP_NUM_THREADS=1 PYTHONPATH=. python bench/export_speed.py [--seconds 10] [--repeats 3]

Each timeline is made in a temp folder at the project's size and 16 fps: two generated-like videos (moving colour
fields with a drifting disc and grain), a still between them on the video track, and a tone on the audio track.
Reported per size: the median export time over the repeats, the timeline length / that time (x real time,
above 1 is faster than playback), and for comparison the time to render the frames alone (decode + compose).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from desktop.media.export import export_video
from desktop.media.frames import FrameCache
from desktop.media.probe import probe_media
from desktop.media.render import TimelineRenderer
from desktop.project.model import Clip, Project, Track, new_id
from engine.media.image import write_png

FPS = 16
RATE = 48000
SIZES = {"128x128": (128, 128), "720p": (1280, 720)}


def scene(index: int, width: int, height: int, hue: float, rng: np.random.Generator) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    t = index / FPS
    field = np.stack(
        [
            127 + 100 * np.sin(x / width * 3 + t + hue),
            127 + 100 * np.sin(y / height * 2 - t * 0.7 + hue),
            127 + 100 * np.sin((x + y) / (width + height) * 4 + t * 1.3),
        ],
        axis=-1,
    )
    cx, cy = width * (0.2 + 0.6 * (t / 5 % 1)), height / 2
    field[(x - cx) ** 2 + (y - cy) ** 2 < (height / 6) ** 2] = (230, 60, 40)
    field += rng.normal(0, 1.5, field.shape)
    return np.clip(field, 0, 255).astype(np.uint8)


def write_source(path: Path, seconds: float, width: int, height: int, hue: float) -> Path:
    rng = np.random.default_rng(0)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=FPS, options={"crf": "18", "preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for index in range(round(seconds * FPS)):
            frame = av.VideoFrame.from_ndarray(scene(index, width, height, hue, rng), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def write_tone(path: Path, seconds: float) -> Path:
    t = np.arange(round(seconds * RATE)) / RATE
    wave = (0.3 * np.sin(2 * np.pi * 330 * t)).astype(np.float32)
    with av.open(str(path), "w", format="wav") as container:
        stream = container.add_stream("pcm_s16le", rate=RATE, layout="stereo")
        for start in range(0, len(wave), 4096):
            chunk = np.ascontiguousarray(np.stack([wave[start : start + 4096]] * 2))
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
            frame.sample_rate, frame.pts, frame.time_base = RATE, start, Fraction(1, RATE)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def timeline(folder: Path, width: int, height: int, seconds: float) -> Project:
    """Video track: video A, a still for a tenth, video B; audio track: a tone under all of it."""
    part = seconds * 0.45
    still = np.full((height, width, 3), (30, 90, 160), np.uint8)
    write_png(folder / "still.png", still)
    media = [
        probe_media(write_source(folder / "a.mp4", part, width, height, 0.0)),
        probe_media(folder / "still.png"),
        probe_media(write_source(folder / "b.mp4", part, width, height, 2.0)),
    ]
    sound = probe_media(write_tone(folder / "tone.wav", seconds))
    project = Project(fps=FPS, width=width, height=height, sample_rate=RATE)
    project.media = {m.id: m for m in [*media, sound]}
    video, audio = Track(new_id(), "video", "Video 1"), Track(new_id(), "audio", "Audio 1")
    start = 0
    for item, length in zip(media, [part, seconds * 0.1, part], strict=True):
        frames = round(length * FPS)
        video.place(Clip(new_id(), item.id, start, frames))
        start += frames
    audio.place(Clip(new_id(), sound.id, 0, start))
    project.tracks = [video, audio]
    return project


def render_only(project: Project) -> float:
    renderer = TimelineRenderer(project, FrameCache(64 * 2**20))
    began = time.perf_counter()
    for index in range(project.duration):
        renderer.frame(index)
    renderer.close()
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0, help="timeline length")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"{'size':>8} {'timeline s':>10} {'export s':>9} {'x real time':>11} {'render only s':>13}")
    for name, (width, height) in SIZES.items():
        with tempfile.TemporaryDirectory() as folder:
            project = timeline(Path(folder), width, height, args.seconds)
            seconds = project.seconds(project.duration)
            times = []
            for _ in range(args.repeats):
                began = time.perf_counter()
                export_video(project, Path(folder) / "export.mp4")
                times.append(time.perf_counter() - began)
            export_s, render_s = statistics.median(times), render_only(project)
            print(f"{name:>8} {seconds:>10.2f} {export_s:>9.2f} {seconds / export_s:>11.1f} {render_s:>13.2f}")


if __name__ == "__main__":
    main()
