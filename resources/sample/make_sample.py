"""Make the sample project `resources/sample/sample.istar` and its media in `sample.media/` (Help > Open sample
project opens a copy of it). Run from the repository root, with the studio installed:

    python resources/sample/make_sample.py

It generates four clips with the built-in toyworld model (`istar generate`, a few seconds each on a CPU, with their
bits and clips so continue and bridge work on them), writes a picture, a music bed and a voice-over (synthetic:
nothing recorded or downloaded), and builds the project with the editor's own commands, so it holds every feature
the editor has: a 1080p frame the 64x64 toyworld clips are fitted into, two video tracks, a title, cross-dissolves,
fades, a picture placed by a custom transform (position, scale, rotation, opacity) and two audio tracks, the
music ducked under the voice-over. The whole
folder stays well under 2 MB. The same seeds make the same clips; run it again after changing the model or the
editor's project format, and commit what it writes.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from desktop.media.probe import probe_media
from desktop.project.commands import (
    AddClip,
    AddMedia,
    AddTrack,
    SetClipFades,
    SetClipTransform,
    SetTrackFlag,
    add_dissolve,
    add_title,
)
from desktop.project.file import save_project
from desktop.project.formats import ProjectFormat, new_project
from desktop.project.model import Clip, Project, new_id
from desktop.project.title import Title
from desktop.project.transform import Transform
from engine.media.image import write_png

HERE = Path(__file__).resolve().parent
PROJECT = HERE / "sample.istar"
MEDIA = HERE / "sample.media"
FPS = 16
RATE = 48000
# (prompt, seed): toyworld's own words (shapes, colours, motions, backgrounds)
CLIPS = [
    ("a red circle moves to the right on a blue background", 3),
    ("a yellow square moves down on a black background", 7),
    ("a green triangle moves to the left on a white background", 11),
    ("a blue circle moves up on a red background", 5),
]
CLIP_SECONDS = 3
DISSOLVE = 8  # frames (half a second) on each cut between generated clips


def generate(prompt: str, seed: int, out: Path) -> Path:
    subprocess.run([sys.executable, "-m", "engine.cli.main", "generate", "--model", "toyworld", "--prompt", prompt,
                    "--duration", str(CLIP_SECONDS), "--seed", str(seed), "--device", "cpu", "-o", str(out)],
                   check=True)
    return out


def write_audio(path: Path, sound: np.ndarray, bitrate: int = 48_000) -> Path:
    """`sound` ([samples, 2] floats in -1..1 at RATE) as AAC in an .m4a: small enough to commit."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=RATE, layout="stereo")
        stream.bit_rate = bitrate
        planar = np.ascontiguousarray(sound.T.astype(np.float32))
        step = 1024
        for start in range(0, planar.shape[1], step):
            frame = av.AudioFrame.from_ndarray(planar[:, start:start + step], format="fltp", layout="stereo")
            frame.sample_rate = RATE
            frame.pts = start
            frame.time_base = Fraction(1, RATE)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def music(seconds: float) -> np.ndarray:
    """A soft chord progression, a chord a second, with a plucked envelope on each beat."""
    t = np.arange(round(seconds * RATE)) / RATE
    chords = [(220.0, 277.2, 329.6), (196.0, 246.9, 293.7), (174.6, 220.0, 261.6), (196.0, 246.9, 329.6)]
    wave = np.zeros_like(t)
    for second in range(int(np.ceil(seconds))):
        inside = (t >= second) & (t < second + 1)
        local = t[inside] - second
        for hz in chords[second % len(chords)]:
            wave[inside] += np.sin(2 * np.pi * hz * local) * np.exp(-3 * local)
    wave *= 0.15
    return np.stack([wave, wave * 0.8], axis=1)


def voice(seconds: float) -> np.ndarray:
    """A voice-like murmur: a gliding pitch with syllables (an envelope of about 4 a second), centred."""
    t = np.arange(round(seconds * RATE)) / RATE
    pitch = 140 + 30 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.cumsum(pitch) * np.pi / RATE
    wave = sum(np.sin(k * phase) / k for k in range(1, 6))
    syllables = np.clip(np.sin(2 * np.pi * 4 * t), 0, None) ** 2
    wave = 0.25 * wave * syllables
    return np.stack([wave, wave], axis=1)


def picture(path: Path, width: int = 320, height: int = 200) -> Path:
    """A framed gradient card: the picture placed by a custom transform."""
    y, x = np.mgrid[0:height, 0:width]
    rgb = np.stack([40 + 180 * x / width, 60 + 120 * y / height, 200 - 120 * x / width], axis=-1)
    border = (x < 8) | (x >= width - 8) | (y < 8) | (y >= height - 8)
    rgb[border] = (250, 250, 250)
    write_png(path, rgb.astype(np.uint8))
    return path


def build(clips: list[Path], card: Path, bed: Path, voice_over: Path) -> Project:
    project = new_project(ProjectFormat(1920, 1080, FPS))
    lower = next(t for t in project.tracks if t.kind == "video")  # new_project: one video track, one audio track
    add_upper = AddTrack("video", "Video 2", 0)
    add_upper.do(project)
    upper = project.track(add_upper.track.id)
    music_track = next(t for t in project.tracks if t.kind == "audio")
    add_voice = AddTrack("audio", "Voice-over", len(project.tracks))
    add_voice.do(project)

    def place(track_id: str, path_or_item, start: int, length: int | None = None, **clip) -> Clip:
        item = probe_media(path_or_item)
        AddMedia(item).do(project)
        frames = project.source_frames(item) or length
        placed = Clip(new_id(), item.id, start, length or frames, **clip)
        AddClip(track_id, placed).do(project)
        return placed

    # the generated clips, fitted (the default transform) into the 1080p frame, one after another on the lower track
    start, placed = 0, []
    for path in clips:
        placed.append(place(lower.id, path, start))
        start = placed[-1].end
    for clip in placed[1:]:
        add_dissolve(project, clip.id, DISSOLVE).do(project)
    first, last = placed[0], project.find_clip(placed[-1].id)[1]
    SetClipFades(first.id, FPS // 2, 0).do(project)
    SetClipFades(last.id, 0, FPS).do(project)
    end = project.duration

    # the title over the first seconds, then the picture, turned and half transparent, over the middle
    add_title(project, 0, upper.id, Title("InfinityStar Studio\nsample project", size=0.07, box=True)).do(project)
    title_clip = next(c for c in upper.clips)
    SetClipFades(title_clip.id, FPS // 4, FPS // 2).do(project)
    card_clip = place(upper.id, card, end // 2 - 2 * FPS, 3 * FPS)
    SetClipTransform(card_clip.id, Transform("custom", x=0.74, y=0.3, scale=0.45, rotation=-8.0,
                                             opacity=0.85)).do(project)
    SetClipFades(card_clip.id, FPS // 2, FPS // 2).do(project)

    # the music under the whole piece, faded in and out; the voice-over in the middle
    bed_clip = place(music_track.id, bed, 0, end)
    SetClipFades(bed_clip.id, FPS, 2 * FPS).do(project)
    SetTrackFlag(music_track.id, "ducked", True).do(project)  # lowered under the voice-over
    voice_clip = place(add_voice.track.id, voice_over, FPS * 3, None, gain=1.0)
    SetClipFades(voice_clip.id, FPS // 4, FPS // 4).do(project)
    return project


def main() -> int:
    if MEDIA.exists():
        shutil.rmtree(MEDIA)
    MEDIA.mkdir(parents=True)
    names = ["red-circle", "yellow-square", "green-triangle", "blue-circle"]
    clips = [generate(prompt, seed, MEDIA / f"{name}-s{seed}.mp4") for (prompt, seed), name in zip(CLIPS, names,
                                                                                                    strict=True)]
    seconds = len(CLIPS) * CLIP_SECONDS
    card = picture(MEDIA / "card.png")
    bed = write_audio(MEDIA / "music.m4a", music(seconds))
    voice_over = write_audio(MEDIA / "voice-over.m4a", voice(4.0))
    project = build(clips, card, bed, voice_over)
    save_project(project, PROJECT)
    size = sum(p.stat().st_size for p in HERE.rglob("*") if p.is_file())
    print(f"wrote {PROJECT} ({size / 1e6:.2f} MB in {HERE})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
