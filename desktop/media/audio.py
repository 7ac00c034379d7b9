"""Sound: media decoded to float32 stereo at the project's rate (kept per file, and per speed for clips that keep
their pitch at another speed), and the timeline's mix."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np

from desktop.media.ducking import duck_gain
from desktop.media.errors import MediaReadError
from desktop.media.stretch import stretched
from desktop.project.model import Clip, MediaItem, Project, Track
from desktop.project.transitions import Dissolve, fade_gain, fades, sound_span
from desktop.project.volume import levels

DEFAULT_AUDIO_BYTES = 512 * 2**20  # about 23 minutes of 48 kHz stereo float32


def decode_audio(path: Path, sample_rate: int | None = None) -> tuple[np.ndarray, int]:
    """The first audio stream of `path` as float32 stereo [n, 2] at `sample_rate` (None: the file's own), and the
    rate. Sample 0 is media time 0, the start of the file's video when it has one. Mono plays on both sides at
    full level (FFmpeg's upmix would lower it 3 dB)."""
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise MediaReadError(f"{path.name} has no audio stream")
            stream = container.streams.audio[0]
            rate = sample_rate or stream.rate
            channels = 1 if stream.channels == 1 else 2
            resampler = av.AudioResampler(format="flt", layout="mono" if channels == 1 else "stereo", rate=rate)
            reference = container.streams.video[0] if container.streams.video else stream
            start = float(reference.start_time * reference.time_base) if reference.start_time is not None else 0.0
            chunks, lead = _decode(container, stream, resampler, start, rate)
    except av.error.FFmpegError as err:
        raise MediaReadError(f"{path.name}: its sound cannot be decoded ({err})") from None
    samples = np.concatenate(chunks, axis=1).reshape(-1, channels) if chunks else np.zeros((0, channels), np.float32)
    samples = samples[-lead:] if lead < 0 else np.pad(samples, ((lead, 0), (0, 0)))
    return (np.repeat(samples, 2, axis=1) if channels == 1 else samples), rate


def _decode(
    container: av.container.InputContainer,
    stream: av.audio.stream.AudioStream,
    resampler: av.AudioResampler,
    start: float,
    rate: int,
) -> tuple[list[np.ndarray], int]:
    """The resampled chunks, and how many samples of silence come before them (negative: to drop from them)."""
    chunks: list[np.ndarray] = []
    lead = 0
    try:
        for frame in container.decode(stream):
            if not chunks and frame.time is not None:
                lead = round((frame.time - start) * rate)
            chunks += [out.to_ndarray() for out in resampler.resample(frame)]
    except av.error.FFmpegError:
        if not chunks:
            raise
        # damage partway: the sound before it still plays
    chunks += [out.to_ndarray() for out in resampler.resample(None)]
    return chunks, lead


class AudioCache:
    """Decoded sound of media files, one entry per file version and rate, least recently used dropped first
    beyond `max_bytes`. Thread safe (two threads asking for the same new file may both decode it)."""

    def __init__(self, max_bytes: int = DEFAULT_AUDIO_BYTES) -> None:
        self.max_bytes = max_bytes
        self._bytes = 0
        self._sounds: OrderedDict[tuple[Path, int, int, int, float], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def samples(self, media: MediaItem, sample_rate: int) -> np.ndarray:
        """float32 stereo [n, 2] of `media` at `sample_rate` (read-only)."""
        return self._kept(media, sample_rate, 1.0, lambda: decode_audio(media.path, sample_rate)[0])

    def stretched(self, media: MediaItem, sample_rate: int, speed: float) -> np.ndarray:
        """As `samples`, played at `speed` times its pace at its own pitch (desktop.media.stretch): sample j stands
        for sample j * speed of `samples`."""
        return self._kept(media, sample_rate, speed, lambda: stretched(self.samples(media, sample_rate), speed))

    def has_stretched(self, media: MediaItem, sample_rate: int, speed: float) -> bool:
        """Whether `stretched` of these has been made and is kept (False for a file that cannot be read)."""
        try:
            key = self._key(media, sample_rate, speed)
        except MediaReadError:
            return False
        with self._lock:
            return key in self._sounds

    def _key(self, media: MediaItem, sample_rate: int, speed: float) -> tuple[Path, int, int, int, float]:
        try:
            stat = media.path.stat()
        except OSError as err:
            raise MediaReadError(f"{media.name} cannot be read: {err.strerror}") from None
        return media.path, stat.st_size, stat.st_mtime_ns, sample_rate, speed

    def _kept(self, media: MediaItem, sample_rate: int, speed: float, make: Callable[[], np.ndarray]) -> np.ndarray:
        key = self._key(media, sample_rate, speed)
        with self._lock:
            sound = self._sounds.get(key)
            if sound is not None:
                self._sounds.move_to_end(key)
                return sound
        sound = make()
        sound.flags.writeable = False
        with self._lock:
            if key not in self._sounds:
                self._sounds[key] = sound
                self._bytes += sound.nbytes
            while self._bytes > self.max_bytes and len(self._sounds) > 1:
                self._bytes -= self._sounds.popitem(last=False)[1].nbytes
        return sound


shared_audio = AudioCache()


def stretches_to_make(project: Project, cache: AudioCache | None = None) -> list[tuple[MediaItem, float]]:
    """The sounds (media, speed) the project's clips play at their own pitch at another speed that `cache` does not
    keep yet: made ahead, they cost playback nothing when it reaches them."""
    cache = cache if cache is not None else shared_audio
    wanted = {(clip.media_id, clip.speed) for track in project.tracks for clip in track.clips
              if clip.speed != 1 and clip.keep_pitch}
    made = []
    for media_id, speed in sorted(wanted):
        media = project.media.get(media_id)
        if media is not None and (media.kind == "audio" or media.has_audio) and \
                not cache.has_stretched(media, project.sample_rate, speed):
            made.append((media, speed))
    return made


def mix(project: Project, start_frame: int, n_samples: int, cache: AudioCache | None = None) -> np.ndarray:
    """float32 stereo [n_samples, 2] of the timeline from the start of frame `start_frame`."""
    return mix_samples(project, _sample(project, start_frame), n_samples, cache)


def mix_samples(project: Project, start: int, n_samples: int, cache: AudioCache | None = None) -> np.ndarray:
    """float32 stereo [n_samples, 2] of the timeline from sample `start` (at project.sample_rate): every unmuted
    track's clips that have sound, each times its gain and its fades' and cross-dissolves' levels
    (desktop.project.transitions), a ducked track's times its ducking level (desktop.media.ducking), summed and
    clipped to [-1, 1]."""
    cache = cache if cache is not None else shared_audio
    out = np.zeros((n_samples, 2), np.float32)
    for track in project.tracks:
        if track.muted:
            continue
        level = duck_gain(project, track, start, n_samples) if track.ducked else None
        if level is None:
            _mix_track(project, track, start, out, cache)
        else:
            sound = np.zeros_like(out)
            _mix_track(project, track, start, sound, cache)
            out += level[:, None] * sound
    return np.clip(out, -1.0, 1.0, out=out)


def _mix_track(project: Project, track: Track, start: int, out: np.ndarray, cache: AudioCache) -> None:
    """Add `track`'s clips heard from sample `start` into `out`."""
    end = start + len(out)
    for index, clip in enumerate(track.clips):
        after = track.clips[index + 1] if index + 1 < len(track.clips) else None
        reach = after.dissolve_in if after is not None and after.start == clip.end else 0
        if _sample(project, clip.start - clip.dissolve_in) >= end or _sample(project, clip.end + reach) <= start:
            continue  # not heard here, even through a dissolve (which reaches less far past the cut)
        into, out_of = sound_span(project, track, clip)
        clip_start, clip_end = _sample(project, clip.start), _sample(project, clip.end)
        heard_start = _sample(project, into.first) if into is not None else clip_start
        heard_end = _sample(project, out_of.first + out_of.length) if out_of is not None else clip_end
        first, last = max(start, heard_start), min(end, heard_end)
        media = project.media_of(clip)
        if first >= last or not (media.kind == "audio" or media.has_audio):
            continue
        if clip.reverse:  # the sound of the mirrored stretch, backwards
            mirror = clip_start + clip_end
            heard, sound = _forward_sound(project, clip, cache, mirror - last, mirror - first, clip_start)
            first, sound = mirror - heard - len(sound), sound[::-1]
        else:
            first, sound = _forward_sound(project, clip, cache, first, last, clip_start)
        if not len(sound):
            continue
        gain = _envelope(project, clip, into, out_of, first, len(sound))
        if gain is None:
            out[first - start : first - start + len(sound)] += clip.gain * sound
        else:
            out[first - start : first - start + len(sound)] += (clip.gain * gain)[:, None] * sound


def _forward_sound(project: Project, clip: Clip, cache: AudioCache, first: int, last: int, clip_start: int
                   ) -> tuple[int, np.ndarray]:
    """The first timeline sample within [first, last) at which the clip, played forwards, is heard, and its sound
    from there to `last` (`clip_start`: its first sample)."""
    media = project.media_of(clip)
    if clip.speed != 1 and not clip.keep_pitch:
        return _at_speed(project, clip, cache.samples(media, project.sample_rate), first, last)
    samples = (cache.samples(media, project.sample_rate) if clip.speed == 1 else
               cache.stretched(media, project.sample_rate, clip.speed))
    offset = round(clip.source_in * project.sample_rate / project.fps / clip.speed) - clip_start
    first = max(first, -offset)  # a dissolve's lead-in before the media's start is silent
    return first, samples[first + offset : last + offset]


def _at_speed(project: Project, clip: Clip, samples: np.ndarray, first: int, last: int) -> tuple[int, np.ndarray]:
    """The first timeline sample the clip is heard at within [first, last), at its speed with its pitch moving with
    it, and its sound from there: its media read at the clip's pace between samples by linear interpolation. Silent
    where the positions fall outside the media (a dissolve's lead-in before its start)."""
    per_frame = project.sample_rate / project.fps
    at = (np.arange(first, last, dtype=np.float64) - clip.start * per_frame) * clip.speed + clip.source_in * per_frame
    inside = np.flatnonzero((at >= 0) & (at <= len(samples) - 1))
    if not len(inside):
        return first, samples[:0]
    at = at[inside[0] : inside[-1] + 1]
    below = np.floor(at).astype(np.int64)
    above = np.minimum(below + 1, len(samples) - 1)
    share = (at - below).astype(np.float32)[:, None]
    return first + int(inside[0]), samples[below] * (1 - share) + samples[above] * share


def _envelope(project: Project, clip: Clip, into: Dissolve | None, out_of: Dissolve | None, first: int,
              n_samples: int) -> np.ndarray | None:
    """The clip's level for its volume keys (desktop.project.volume), fades and cross-dissolves over `n_samples`
    from sample `first`; None where it is level throughout."""
    fade_in, fade_out = fades(clip)
    if not (fade_in or fade_out or into or out_of or clip.volume):
        return None
    time = (first + np.arange(n_samples, dtype=np.float64)) * (project.fps / project.sample_rate)
    gain = fade_gain(clip, time) * levels(clip.volume, time - clip.start)
    if into is not None:
        gain = gain * into.sound_weight(time)
    if out_of is not None:
        gain = gain * (1 - out_of.sound_weight(time))
    return gain.astype(np.float32)


def _sample(project: Project, frame: int) -> int:
    return round(frame * project.sample_rate / project.fps)
