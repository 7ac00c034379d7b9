"""Sound: decoding to float32 stereo at the project rate, and the mix of unmuted tracks with clip gain."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from media_samples import tone, write_wav

from desktop.media.audio import AudioCache, decode_audio, mix, mix_samples
from desktop.media.ducking import duck_gain
from desktop.project.model import Clip, MediaItem, Project, Track, new_id


def test_a_wav_decodes_to_its_samples_and_mono_plays_on_both_sides(wav: MediaItem, tmp_path: Path) -> None:
    sound, rate = decode_audio(wav.path)
    assert rate == 48000 and sound.dtype == np.float32 and sound.shape == (48000, 2)
    assert np.abs(sound - tone(1, 220, 0.2)).max() < 1e-4  # 16-bit quantisation
    mono = write_wav(tmp_path / "mono.wav", tone(0.5, 220, 0.2)[:, :1])
    sound, _ = decode_audio(mono)
    assert np.array_equal(sound[:, 0], sound[:, 1]) and np.abs(sound[:, 0] - tone(0.5, 220, 0.2)[:, 0]).max() < 1e-4


def test_sound_is_resampled_to_the_rate_asked_for(wav: MediaItem, numbers: MediaItem) -> None:
    sound, rate = decode_audio(wav.path, 16000)
    assert rate == 16000 and abs(len(sound) - 16000) <= 64
    assert abs(np.abs(sound[:, 0]).max() - 0.2) < 0.01
    video_sound, _ = decode_audio(numbers.path, 48000)
    rms = np.sqrt((video_sound[4800:91200] ** 2).mean(axis=0))
    assert abs(len(video_sound) - 96000) <= 1024 and np.allclose(rms, [0.3 / 2**0.5, 0.15 / 2**0.5], rtol=0.05)


@pytest.fixture
def project(numbers: MediaItem, wav: MediaItem) -> Project:
    """16 fps at 48 kHz (3000 samples a frame): the video's sound from frame 0, the tone from frame 8 at half gain."""
    project = Project(fps=16, width=64, height=64, sample_rate=48000)
    project.media = {numbers.id: numbers, wav.id: wav}
    video, audio = Track(new_id(), "video", "Video 1"), Track(new_id(), "audio", "Audio 1")
    video.place(Clip(new_id(), numbers.id, start=0, length=32))
    audio.place(Clip(new_id(), wav.id, start=8, length=10, source_in=2, gain=0.5))
    project.tracks = [video, audio]
    return project


def test_the_mix_sums_the_video_sound_and_the_audio_track_with_gain(project: Project) -> None:
    numbers, wav = project.media.values()
    cache = AudioCache()
    video_sound, tone_sound = cache.samples(numbers, 48000), cache.samples(wav, 48000)
    out = mix(project, 6, 30000, cache)  # frames 6..16: the tone joins at frame 8, 6000 samples in
    assert out.shape == (30000, 2) and out.dtype == np.float32
    expected = video_sound[18000:48000].copy()
    expected[6000:] += 0.5 * tone_sound[6000 : 6000 + 24000]  # from its source_in of 2 frames
    assert np.abs(out - expected).max() < 1e-6


def test_muted_tracks_are_silent_and_the_sum_is_clipped(project: Project) -> None:
    numbers, wav = project.media.values()
    cache = AudioCache()
    video, audio = project.tracks
    audio.muted = True
    assert np.array_equal(mix(project, 8, 3000, cache), cache.samples(numbers, 48000)[24000:27000])
    video.muted = True
    assert not mix(project, 8, 3000, cache).any()
    audio.muted = False
    assert np.allclose(mix(project, 8, 3000, cache), 0.5 * cache.samples(wav, 48000)[6000:9000])
    audio.clips[0].gain = 20.0
    loud = mix(project, 8, 3000, cache)
    assert loud.max() == 1.0 and loud.min() == -1.0


def test_past_the_end_of_its_media_a_clip_is_silent(project: Project) -> None:
    wav = list(project.media.values())[1]
    project.tracks[0].muted = True
    project.tracks[1].clips[0].source_in = 12  # 0.75 s into a 1 s tone: it ends 4 frames into the clip
    out = mix(project, 8, 30000)
    assert np.abs(out[:12000]).max() > 0.05 and not out[12000:].any()
    assert np.allclose(out[:12000], 0.5 * AudioCache().samples(wav, 48000)[36000:48000])


def test_the_cache_decodes_each_file_once_per_rate(wav: MediaItem) -> None:
    cache = AudioCache()
    first = cache.samples(wav, 48000)
    assert cache.samples(wav, 48000) is first and cache.samples(wav, 24000) is not first
    assert not first.flags.writeable


def test_a_ducked_track_is_lowered_12_db_under_the_other_audio_with_quarter_second_ramps(wav: MediaItem) -> None:
    """Music (the tone from frame 0) on a ducked track, a voice (the tone again) on another from frame 8 to 12:
    the music's level is 1 until 0.25 s before the voice, falls linearly to 0.25 by its start, stays there to its
    end, and rises back over 0.25 s. Computed here sample by sample, then heard in calls cut anywhere."""
    project = Project(fps=16, width=64, height=64, sample_rate=48000)
    project.media = {wav.id: wav}
    music = Track(new_id(), "audio", "Music", ducked=True, clips=[Clip(new_id(), wav.id, 0, 16)])
    voice = Track(new_id(), "audio", "Voice", clips=[Clip(new_id(), wav.id, 8, 4, gain=0.0)])  # silent: music alone
    project.tracks = [music, voice]
    cache = AudioCache()
    tone_sound = cache.samples(wav, 48000)
    t = np.arange(48000) / 48000
    start, end = 0.5, 0.75  # the voice, in seconds
    down = np.clip(np.minimum(t - (start - 0.25), (end + 0.25) - t) / 0.25, 0, 1)
    expected = tone_sound[:48000] * (1 - 0.75 * down)[:, None]
    heard = np.concatenate([mix_samples(project, a, b - a, cache) for a, b in ((0, 17000), (17000, 30001),
                                                                                  (30001, 48000))])
    assert np.abs(heard - expected).max() < 1e-6
    level = duck_gain(project, music, 0, 48000)
    assert [round(float(level[round(s * 48000)]), 4) for s in (0.2, 0.25, 0.375, 0.5, 0.6, 0.875, 0.9375)] \
        == [1.0, 1.0, 0.625, 0.25, 0.25, 0.625, 0.8125]
    voice.muted = True
    assert np.abs(mix_samples(project, 0, 48000, cache) - tone_sound[:48000]).max() < 1e-6, "a muted voice ducks none"


def test_volume_keys_shape_the_sound_along_straight_lines(wav: MediaItem) -> None:
    """Keys at frames 4 (level 1) and 12 (level 0): the tone at full level to 0.25 s, down to silence at 0.75 s
    along a straight line, silent after."""
    project = Project(fps=16, width=64, height=64, sample_rate=48000)
    project.media = {wav.id: wav}
    keyed = Clip(new_id(), wav.id, 0, 16, volume=((4, 1.0), (12, 0.0)))
    project.tracks = [Track(new_id(), "audio", "A", clips=[keyed])]
    cache = AudioCache()
    t = np.arange(48000) / 48000
    expected_level = np.clip(1 - (t - 0.25) / 0.5, 0, 1)
    heard = mix_samples(project, 0, 48000, cache)
    assert np.abs(heard - cache.samples(wav, 48000)[:48000] * expected_level[:, None]).max() < 1e-6
