"""What a sped clip shows and sounds like: media frames at its pace, the same pictures across a split, its sound read
at its pace at its own pitch (or, as a tape, with the pitch moving), the export's record of its pace, and the picture
a freeze frame holds."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from engine_records import generation
from media_samples import number_of

from desktop.media.audio import AudioCache, mix
from desktop.media.export import export_clip_picture, export_video
from desktop.media.probe import probe_media
from desktop.media.render import TimelineRenderer
from desktop.project.commands import SetClipSpeed, SplitClip
from desktop.project.model import Clip, MediaItem, Project, Track, new_id
from engine.media.image import read_rgb


def one_clip(media: MediaItem, kind: str, length: int, source_in: int = 0, speed: float = 1.0,
             keep_pitch: bool = True) -> Project:
    project = Project(fps=16, width=64, height=64, sample_rate=48000)
    project.media = {media.id: media}
    track = Track(new_id(), kind, "Track")
    track.place(Clip("c", media.id, start=0, length=length, source_in=source_in, speed=speed, keep_pitch=keep_pitch))
    project.tracks = [track]
    return project


def test_a_fast_clip_skips_frames_and_a_slow_one_shows_each_twice(numbers: MediaItem) -> None:
    fast = TimelineRenderer(one_clip(numbers, "video", 8, source_in=4, speed=2.0))
    assert [number_of(fast.frame(i)) for i in range(8)] == [4, 6, 8, 10, 12, 14, 16, 18]
    slow = TimelineRenderer(one_clip(numbers, "video", 16, source_in=4, speed=0.5))
    # media position 4 + i / 2; halfway between two frames shows the later one
    assert [number_of(slow.frame(i)) for i in range(16)] == [math.floor(4 + i / 2 + 0.5) for i in range(16)]
    fast.close()
    slow.close()


def test_a_slow_clip_split_between_two_media_frames_looks_the_same(numbers: MediaItem) -> None:
    project = one_clip(numbers, "video", 40, source_in=3, speed=0.5)
    renderer = TimelineRenderer(project)
    before = [renderer.frame(i) for i in range(40)]
    SplitClip("c", 11).do(project)
    assert project.tracks[0].clips[1].source_in == 8.5
    assert all(np.array_equal(renderer.frame(i), before[i]) for i in range(40))
    renderer.close()


def peak_hz(sound: np.ndarray) -> float:
    return float(np.fft.rfftfreq(len(sound), 1 / 48000)[np.argmax(np.abs(np.fft.rfft(sound)))])


def test_a_sped_sound_keeps_its_pitch_level_and_smoothness(wav: MediaItem) -> None:
    """The tone is 220 Hz at 0.2 on the left, a sample-to-sample step of at most 0.2 * 2 pi 220 / 48000 = 0.0058."""
    cache = AudioCache()
    for speed, length in ((0.5, 32), (2.0, 8), (1.25, 12)):
        heard = mix(one_clip(wav, "audio", length, speed=speed), 0, 48000, cache)[:, 0]
        end = length * 3000  # samples of the clip; silence after
        inner = heard[2048 : end - 2048]
        assert abs(peak_hz(inner) - 220) <= 48000 / len(inner), f"pitch kept at speed {speed}"
        assert abs(np.sqrt((inner**2).mean()) - 0.2 / 2**0.5) < 0.005, "level kept"
        assert np.abs(np.diff(heard[:end])).max() < 0.0065, "no click where grains meet"
        assert not heard[end + 2048 :].any()


def test_a_split_of_a_slow_clip_that_keeps_its_pitch_sounds_the_same(wav: MediaItem) -> None:
    project = one_clip(wav, "audio", 30, source_in=1, speed=0.5)
    cache = AudioCache()
    before = mix(project, 0, 30 * 3000, cache)
    SplitClip("c", 13).do(project)
    assert np.array_equal(mix(project, 0, 30 * 3000, cache), before)


def test_a_sped_sound_without_keep_pitch_changes_pitch_with_its_pace_as_a_tape(wav: MediaItem) -> None:
    """Read at half speed the tone is 110 Hz, at twice 440 Hz."""
    cache = AudioCache()
    t = np.arange(48000) / 48000
    slow = mix(one_clip(wav, "audio", 16, speed=0.5, keep_pitch=False), 0, 48000, cache)  # the tone's first 0.5 s
    assert np.abs(slow[:, 0] - 0.2 * np.sin(2 * np.pi * 110 * t)).max() < 1e-3
    project = one_clip(wav, "audio", 8, speed=2.0, keep_pitch=False)  # 0.5 s of clip: the whole tone
    fast = mix(project, 0, 48000, cache)
    assert np.abs(fast[:24000, 0] - 0.2 * np.sin(2 * np.pi * 440 * t[:24000])).max() < 1e-3
    assert not fast[24000:].any(), "silent after the clip's end"
    SetClipSpeed("c", 1.0).do(project)
    assert project.tracks[0].clips[0].length == 16
    assert np.abs(mix(project, 0, 48000, cache) - cache.samples(wav, 48000)).max() < 1e-6, "speed 1 is the file"


def test_an_export_records_a_generated_clips_pace(numbers: MediaItem, tmp_path: Path) -> None:
    generated = replace(numbers, provenance=generation(["a red ball"], seconds=2, kind="generate", seed=7))
    project = one_clip(generated, "video", 16, source_in=4, speed=0.5)
    export_video(project, tmp_path / "slow.mp4")
    probed = probe_media(tmp_path / "slow.mp4")
    (entry,) = probed.provenance["clips"]
    assert (entry["start_s"], entry["end_s"], entry["source_in_s"], entry["speed"]) == (0.0, 1.0, 0.25, 0.5)
    assert probed.generation is None, "a slowed export is not the generation's video to continue"


def test_the_picture_of_a_slow_clip_at_a_frame_is_its_media_frame_there(numbers: MediaItem, tmp_path: Path) -> None:
    project = one_clip(numbers, "video", 16, source_in=4, speed=0.5)
    export_clip_picture(project, project.tracks[0].clips[0], 6, tmp_path / "frame.png")
    picture = read_rgb(tmp_path / "frame.png")
    assert picture.shape == (64, 64, 3) and number_of(picture) == 7, "media position 4 + 6 / 2"


def test_a_reversed_clip_shows_its_frames_backwards_and_a_split_keeps_them(numbers: MediaItem) -> None:
    project = one_clip(numbers, "video", 16, source_in=4)
    project.tracks[0].clips[0].reverse = True
    renderer = TimelineRenderer(project)
    assert [number_of(renderer.frame(i)) for i in range(16)] == list(range(19, 3, -1))
    before = [renderer.frame(i) for i in range(16)]
    SplitClip("c", 5).do(project)
    assert all(np.array_equal(renderer.frame(i), before[i]) for i in range(16))
    renderer.close()


@pytest.mark.parametrize(("speed", "keep_pitch"), [(1.0, True), (0.5, True), (2.0, False)])
def test_a_reversed_clip_sounds_as_the_forward_one_backwards(numbers: MediaItem, speed: float,
                                                             keep_pitch: bool) -> None:
    project = one_clip(numbers, "video", 12, source_in=3, speed=speed, keep_pitch=keep_pitch)
    cache = AudioCache()
    forward = mix(project, 0, 12 * 3000, cache)
    project.tracks[0].clips[0].reverse = True
    backward = mix(project, 0, 12 * 3000, cache)
    assert np.abs(forward).max() > 0.1 and np.array_equal(backward, forward[::-1])
    SplitClip("c", 7).do(project)
    assert np.array_equal(mix(project, 0, 12 * 3000, cache), backward), "split, it sounds the same"
