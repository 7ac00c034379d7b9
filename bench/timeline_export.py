"""A finished 60 s 1080p30 timeline: export speed against real time, and preview playback on time at 30 fps.

Usage (from the repository root):
    OMP_NUM_THREADS=1 PYTHONPATH=. python bench/timeline_export.py [--seconds 60] [--speeds fast,thorough] [--profile]

The project, built in a temp folder at 1920x1080 and 30 fps: on the lower video track five generated-looking clips
(three 1280x720 and two 64x64 like toyworld's, all 16 fps, written by engine.media.mp4.mp4_writer: moving colour
fields, a drifting disc, grain) fitted into the frame, with four 1 s cross-dissolves and a fade in and out; on the
upper track a title, a still picture turned, scaled and half transparent, and a toyworld clip as a picture in the
picture, each faded; music under all of it and a voice-over on two audio tracks.

1. Export: desktop.media.export.export_video with the default settings (H.264), its wall time against the timeline's
   length (x real time, >= 1 keeps up) and frames per second, with the load average before and after (the machine
   may be shared). --speeds exports once at each encoder speed named instead, back to back, so that they can be
   compared on a machine whose load changes.
2. Preview: playback simulated on the real clock through the monitor's own path (desktop.player.monitor: a FramePool
   of one worker rendering 8 frames ahead, each made a QImage), at full, half and quarter quality
   (desktop.player.preview). Frame i is due at start + i / fps, when playback asks for it; it is on time if it is
   rendered by then. Not included: painting on the GUI thread and mixing the sound.
--profile: cProfile of the export's first 5 s (the encoding thread), and of rendering those frames alone.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import os
import pstats
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from desktop.media.export import ExportCancelled, _yuv, export_video
from desktop.media.export_settings import DEFAULT_SPEED, ENCODER_SPEEDS, ExportSettings
from desktop.media.frames import FramePool
from desktop.media.probe import probe_media
from desktop.media.render import TimelineRenderer
from desktop.media.titles import text_support
from desktop.player.monitor import _image
from desktop.player.preview import PREVIEW_SCALES, ScaledPreview
from desktop.project.commands import SetClipFades, SetDissolve, add_title
from desktop.project.model import Clip, Project, Track, new_id
from desktop.project.title import Title
from desktop.project.transform import Transform
from engine.media.image import write_png
from engine.media.mp4 import mp4_writer

FPS, SOURCE_FPS, RATE = 30, 16, 48000
SIZE = (1920, 1080)
DISSOLVE = FPS  # frames
FADE = FPS // 2


def footage(path: Path, seconds: float, width: int, height: int, hue: float) -> Path:
    """Generated-looking video: drifting colour fields, a moving disc and grain."""
    rng = np.random.default_rng(int(hue * 10))
    x = np.linspace(0, 1, width, dtype=np.float32)[None, :]
    y = np.linspace(0, 1, height, dtype=np.float32)[:, None]
    with mp4_writer(path, SOURCE_FPS) as stream:
        for index in range(round(seconds * SOURCE_FPS)):
            t = index / SOURCE_FPS
            field = np.empty((height, width, 3), np.float32)
            field[..., 0] = 127 + 100 * np.sin(x * 3 + t + hue)
            field[..., 1] = 127 + 100 * np.sin(y * 2 - t * 0.7 + hue)
            field[..., 2] = 127 + 100 * np.sin((x + y) * 2 + t * 1.3)
            disc = (x - 0.2 - 0.6 * (t / 5 % 1)) ** 2 + ((y - 0.5) * height / width) ** 2 < 0.01
            field[disc] = (230, 60, 40)
            field += rng.normal(0, 3, field.shape).astype(np.float32)
            stream.write(np.clip(field, 0, 255).astype(np.uint8)[None])
    return path


def sound(path: Path, seconds: float, tones: list[float], pulse: float = 0.0) -> Path:
    """A WAV of `tones` (Hz) mixed; `pulse` > 0 turns it on and off that many times a second, like speech."""
    t = np.arange(round(seconds * RATE)) / RATE
    wave = sum(np.sin(2 * np.pi * f * t) for f in tones) * (0.25 / len(tones))
    if pulse:
        wave = wave * (np.sin(2 * np.pi * pulse * t) > 0)
    wave = wave.astype(np.float32)
    with av.open(str(path), "w", format="wav") as container:
        stream = container.add_stream("pcm_s16le", rate=RATE, layout="stereo")
        for start in range(0, len(wave), 4096):
            block = av.AudioFrame.from_ndarray(np.ascontiguousarray(np.stack([wave[start:start + 4096]] * 2)),
                                               format="fltp", layout="stereo")
            block.sample_rate, block.pts, block.time_base = RATE, start, Fraction(1, RATE)
            container.mux(stream.encode(block))
        container.mux(stream.encode(None))
    return path


def build(folder: Path, seconds: float) -> Project:
    project = Project(fps=FPS, width=SIZE[0], height=SIZE[1], sample_rate=RATE)
    upper, lower = Track(new_id(), "video", "Video 2"), Track(new_id(), "video", "Video 1")
    music, voice = Track(new_id(), "audio", "Music"), Track(new_id(), "audio", "Voice")
    project.tracks = [upper, lower, music, voice]

    def add(path: Path, track: Track, start: int, length: int, source_in: int = 0, **fields: object) -> Clip:
        item = probe_media(path)
        project.media[item.id] = item
        clip = Clip(new_id(), item.id, start, length, source_in, **fields)
        track.place(clip)
        return clip

    # lower track: five clips edge to edge, each with half a dissolve of media beyond both ends
    part, spare = round(seconds * FPS / 5), DISSOLVE // 2
    clips = []
    for n, (width, height) in enumerate([(1280, 720), (64, 64), (1280, 720), (64, 64), (1280, 720)]):
        media_s = (part + 2 * spare + 2) / FPS  # a frame to spare at 16 fps
        path = footage(folder / f"gen{n}.mp4", media_s, width, height, hue=n * 1.3)
        clips.append(add(path, lower, n * part, part, source_in=spare))
    for clip in clips[1:]:
        SetDissolve(clip.id, DISSOLVE).do(project)
    SetClipFades(clips[0].id, FADE, 0).do(project)
    SetClipFades(clips[-1].id, 0, 2 * FADE).do(project)

    # upper track: a title, a turned still, a toyworld clip in the corner
    add_title(project, FPS, upper.id, Title("InfinityStar Studio", box=True)).do(project)
    still = np.zeros((768, 1024, 3), np.uint8)
    still[..., 0] = np.linspace(40, 220, 1024, dtype=np.uint8)[None]
    still[..., 2] = np.linspace(200, 60, 768, dtype=np.uint8)[:, None]
    write_png(folder / "still.png", still)
    turned = Transform("custom", x=0.72, y=0.32, scale=0.45, rotation=-8.0, opacity=0.85)
    third = round(seconds * FPS / 6)
    pic = add(folder / "still.png", upper, 2 * third, third, transform=turned)
    corner = Transform("custom", x=0.8, y=0.75, scale=0.3)
    toy = add(footage(folder / "toy.mp4", third / FPS, 64, 64, 4.0), upper, 4 * third, third, transform=corner)
    for clip in (pic, toy):
        SetClipFades(clip.id, FADE, FADE).do(project)

    length = project.duration
    add(sound(folder / "music.wav", length / FPS, [220, 277, 330]), music, 0, length, gain=0.6)
    spoken = add(sound(folder / "voice.wav", length / 2 / FPS, [180, 360, 540], pulse=3), voice, length // 4,
                 length // 2)
    SetClipFades(spoken.id, FADE, FADE).do(project)
    return project


def export(project: Project, path: Path, speed: str) -> None:
    frames = project.duration
    load = os.getloadavg()[0]
    began, cpu = time.perf_counter(), time.process_time()
    export_video(project, path, ExportSettings(speed=speed))
    took, cpu = time.perf_counter() - began, time.process_time() - cpu
    # CPU seconds of all the export's threads (render, encoder, sound) a second of video: under the number of
    # cores, the machine keeps up with real time when nothing else runs, whatever the load was while measuring
    print(f"export at speed {speed}: {frames / FPS:.0f} s of {SIZE[0]}x{SIZE[1]}@{FPS} in {took:.1f} s = "
          f"{frames / FPS / took:.2f}x real time, {frames / took:.1f} frames/s "
          f"({path.stat().st_size / 2**20:.1f} MiB); {cpu / (frames / FPS):.2f} CPU s per s of video; "
          f"load average {load:.2f} -> {os.getloadavg()[0]:.2f}")


def playback(project: Project, scale: float) -> tuple[float, float]:
    """Share of frames ready by their due time at FPS, and the mean ms a frame took to render, at `scale`."""
    renderer = ScaledPreview(project, scale) if scale < 1 else TimelineRenderer(project)
    spent: list[float] = []

    def render(frame: int) -> object:  # Monitor._render, timed
        began = time.perf_counter()
        image = _image(renderer.frame(frame))
        spent.append(time.perf_counter() - began)
        return image

    pool = FramePool(render)  # as the monitor makes it: one worker, 8 frames ahead
    pool.request(0).result()  # the paused monitor shows the first frame, then play is pressed
    on_time, start = 0, time.perf_counter()
    for frame in range(project.duration):
        time.sleep(max(0.0, start + frame / FPS - time.perf_counter()))
        task = pool.request(frame, prefetch=True)  # playback's tick: the monitor asks for the frame now due
        on_time += task.done() and not task.cancelled()
    pool.close()
    renderer.close()
    return on_time / project.duration, 1000 * sum(spent) / len(spent)


def profile(project: Project, folder: Path, seconds: float = 5.0) -> None:
    frames = round(seconds * FPS)
    done = iter(range(frames + 1))
    profiler = cProfile.Profile()
    profiler.enable()
    with contextlib.suppress(ExportCancelled):  # the export's own thread (encoding, muxing, sound, waiting on the
        export_video(project, folder / "part.mp4", cancelled=lambda: next(done) >= frames)  # render), cancelled
    profiler.disable()
    renderer = TimelineRenderer(project)
    rendering = cProfile.Profile()
    rendering.runcall(lambda: [_yuv(renderer.frame(i)) for i in range(frames)])  # the render thread's work alone
    renderer.close()
    for name, stats in (("export thread", profiler), ("render thread's work", rendering)):
        text = io.StringIO()
        pstats.Stats(stats, stream=text).sort_stats("tottime").print_stats(12)
        print(f"--- profile: {name}, first {seconds:g} s ---\n" + text.getvalue().split("\n\n", 1)[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0, help="timeline length")
    parser.add_argument("--speeds", default=DEFAULT_SPEED,
                        help=f"encoder speeds to export at, in order, comma-separated: {', '.join(ENCODER_SPEEDS)}")
    parser.add_argument("--profile", action="store_true", help="also profile the export's first 5 s")
    args = parser.parse_args()
    speeds = args.speeds.split(",")
    unknown = [speed for speed in speeds if speed not in ENCODER_SPEEDS]
    if unknown:
        parser.error(f"unknown speed {', '.join(unknown)}: one of {', '.join(ENCODER_SPEEDS)}")
    text_support()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        began = time.perf_counter()
        project = build(folder, args.seconds)
        print(f"built in {time.perf_counter() - began:.0f} s; {os.cpu_count()} CPUs, "
              f"load average {os.getloadavg()[0]:.2f}")
        for speed in speeds:
            export(project, folder / f"export-{speed}.mp4", speed)
        for quality, scale in PREVIEW_SCALES.items():
            load = os.getloadavg()[0]
            share, render_ms = playback(project, scale)
            print(f"preview {quality:>7}: {share:6.1%} of frames on time at {FPS} fps, {render_ms:5.1f} ms to render "
                  f"one (budget {1000 / FPS:.1f}); load average {load:.2f} -> {os.getloadavg()[0]:.2f}")
        if args.profile:
            profile(project, folder)


if __name__ == "__main__":
    main()
