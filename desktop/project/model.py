"""What a project is: media files, tracks of clips on a frame grid, and the settings of the video it makes.

Time on the timeline is whole frames at the project's fps, so every edit is frame accurate and two equal projects
compare equal. A clip shows `length` frames of its media from `source_in` on (media time = frame / project fps),
starting at timeline frame `start`, at `speed` times its own pace: timeline frame `start + i` shows media position
`source_in + i * speed` (`Clip.media_frame`). A clip at another speed than 1 can start between two frames of its
media (a split of a half-speed clip lands half a frame in), so `source_in` is a number of frames, not always whole.
A reversed clip shows the same stretch of media backwards (`Clip.shown_position`). Clips on one track never overlap
and are kept in order of `start`. Video tracks are listed top first: where video clips overlap in time, the upper
track's clip is drawn over the lower ones, each placed in the frame by its transform (desktop.project.transform).
Audio is the sum of every unmuted audio track and the sound of every unmuted video clip, a clip at another speed
played at its pace at its own pitch (or, with `keep_pitch` off, resampled, its pitch going with the pace as a tape's
does).

A clip fades in over its first `fade_in` frames and out over its last `fade_out`, its picture to or from what lies
below it and its sound to or from silence. A cross-dissolve is a transition on a cut, where a clip starts on the frame
the one before it on its track ends: the incoming clip's `dissolve_in` frames, centred on the cut, mix the two
pictures and cross-fade their sound, using the outgoing clip's media after its out point and the incoming clip's
before its in point. Kept on the cut rather than as overlapping clips, it leaves the rule that clips never overlap
(and every edit, drag and file check built on it) as it is, and the timeline's length unchanged; the media beyond the
cut limits its length (desktop.project.transitions).
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from desktop.project.grade import Grade
from desktop.project.title import Title
from desktop.project.transform import Transform
from engine.api.records import GenerationRecord, read_provenance

MediaKind = Literal["video", "audio", "image", "title"]
TrackKind = Literal["video", "audio"]
DEFAULT_FPS = 16  # the rate InfinityStar models generate at, so generated clips need no resampling
STILL_SECONDS = 3.0  # how long an imported still image lasts when first placed
# Media positions of a clip at another speed than 1 are sums of products of floats: a position within this many frames
# of a whole frame counts as that frame
FRAME_SLACK = 1e-6


def whole_frames(frames: float) -> int:
    """The whole frames in `frames`, a float that may lie a rounding error below a whole number."""
    return math.floor(frames + FRAME_SLACK)


def new_id() -> str:
    return uuid.uuid4().hex[:12]


class ProjectError(ValueError):
    """An edit or a project that does not hold together; the message names what and why."""


@dataclass
class MediaItem:
    """A file the project uses. `path` is absolute in memory (stored relative to the project file when it can be).
    `duration` is in seconds (0 for a still image); `provenance` is what the engine recorded for a generated file.
    A title (kind "title") has no file: its `title` says what it shows, and its `path` only names it."""

    id: str
    path: Path
    kind: MediaKind
    duration: float
    fps: float | None = None
    width: int | None = None
    height: int | None = None
    has_audio: bool = False
    provenance: dict[str, Any] | None = None
    title: Title | None = None

    @property
    def name(self) -> str:
        return self.title.name if self.title is not None else self.path.name

    @property
    def on_disk(self) -> bool:
        """Whether the media is a file (every kind but a title)."""
        return self.kind != "title"

    @property
    def generation(self) -> GenerationRecord | None:
        """What the engine recorded making this file's video: its own record, or the only generated clip's of an
        exported file of one. None for media the engine did not make."""
        single = self._single_generation()
        return single[0] if single is not None else None

    @property
    def video_start(self) -> float:
        """Where the generated video starts in the file, in seconds: 0, or for an exported file of one generated clip,
        where that clip's first frame would be."""
        single = self._single_generation()
        return single[1] if single is not None else 0.0

    def _single_generation(self) -> tuple[GenerationRecord, float] | None:
        found = read_provenance(self.provenance) if self.provenance is not None else None
        return found.single if found is not None else None

    @property
    def track_kind(self) -> TrackKind:
        """The kind of track it goes on: sound files on audio tracks; videos (their sound with them), stills and titles
        on video tracks."""
        return "audio" if self.kind == "audio" else "video"


@dataclass
class Clip:
    id: str
    media_id: str
    start: int
    length: int
    source_in: float = 0  # media position of its first frame, in project frames (whole but at another speed than 1)
    gain: float = 1.0
    transform: Transform = Transform()  # where a visual clip's picture goes in the frame; audio clips keep the default
    smooth_motion: bool = False  # a video slower than the project: frames made between its own, not repeated
    fade_in: int = 0  # frames at its start over which it fades in from what lies below it (black where nothing is)
    fade_out: int = 0  # frames at its end over which it fades out to what lies below it
    dissolve_in: int = 0  # frames of cross-dissolve from the clip that ends where this one starts
    speed: float = 1.0  # how fast its media plays: 0.5 is slow motion at half speed, 2 twice as fast
    keep_pitch: bool = True  # at another speed, its sound keeps its pitch (else the pitch moves with the pace)
    reverse: bool = False  # plays its stretch of media backwards: its first frame shows what its last would
    grade: Grade = Grade()  # a video's or a picture's colour adjustment (desktop.project.grade)
    volume: tuple[tuple[int, float], ...] = ()  # its volume keys (desktop.project.volume): none, level 1
    link: str = ""  # clips with the same link are selected, moved and deleted together (a video and its sound)

    @property
    def end(self) -> int:
        """The first frame after the clip."""
        return self.start + self.length

    def media_frame(self, frame: float) -> float:
        """The media position (project frames from the media's start) timeline `frame` shows; outside the clip, where
        its media would be (a cross-dissolve shows media beyond the clip's ends). A whole frame, give or take a
        rounding error, is an int, so clips at speed 1 keep whole positions."""
        position = self.source_in + (frame - self.start) * self.speed
        whole = round(position)
        return whole if abs(position - whole) < FRAME_SLACK else position

    @property
    def source_end(self) -> float:
        """The media position just after the clip's last frame."""
        return self.media_frame(self.end)

    def shown_position(self, frame: float) -> float:
        """The media position timeline `frame` shows: `media_frame`'s, or for a reversed clip that of the frame as
        far from the clip's other end (outside the clip too: a reversed clip's dissolve shows the media past it)."""
        return self.media_frame(self.start + self.end - 1 - frame if self.reverse else frame)

    def trimmed_source(self, start: int, length: int) -> float:
        """`source_in` of this clip cut to frames [start, start + length) (or grown to them), each frame showing the
        media it shows now: trimming a reversed clip's end moves its `source_in`, trimming its start does not."""
        return self.media_frame(self.start + self.end - start - length if self.reverse else start)


@dataclass
class Track:
    id: str
    kind: TrackKind
    name: str
    muted: bool = False
    locked: bool = False
    ducked: bool = False  # an audio track lowered wherever another audio track plays a clip (desktop.media.ducking)
    clips: list[Clip] = field(default_factory=list)

    def clip_at(self, frame: int) -> Clip | None:
        return next((c for c in self.clips if c.start <= frame < c.end), None)

    def fits(self, start: int, length: int, ignore: Collection[str] = ()) -> bool:
        """Whether frames [start, start + length) are free on this track (the clips `ignore` aside)."""
        return start >= 0 and all(c.end <= start or c.start >= start + length for c in self.clips
                                  if c.id not in ignore)

    def place(self, clip: Clip) -> None:
        if not self.fits(clip.start, clip.length, ignore={clip.id}):
            raise ProjectError(f"clip {clip.id} ({clip.start}..{clip.end}) overlaps another clip on {self.name}")
        self.clips.append(clip)
        self.clips.sort(key=lambda c: c.start)


@dataclass
class Project:
    fps: int = DEFAULT_FPS
    width: int = 1280
    height: int = 720
    sample_rate: int = 48000
    media: dict[str, MediaItem] = field(default_factory=dict)
    tracks: list[Track] = field(default_factory=list)
    markers: list[int] = field(default_factory=list)  # frames the person marked on the timeline, in order
    marker_names: dict[int, str] = field(default_factory=dict)  # the names given to some of them, by frame

    @classmethod
    def empty(cls, **settings: Any) -> Project:
        """A new project with one video track and one audio track."""
        project = cls(**settings)
        project.tracks = [Track(new_id(), "video", "Video 1"), Track(new_id(), "audio", "Audio 1")]
        return project

    @property
    def duration(self) -> int:
        """Frames up to the end of the last clip."""
        return max((c.end for t in self.tracks for c in t.clips), default=0)

    def track(self, track_id: str) -> Track:
        for track in self.tracks:
            if track.id == track_id:
                return track
        raise ProjectError(f"no track {track_id}")

    def find_clip(self, clip_id: str) -> tuple[Track, Clip]:
        for track in self.tracks:
            for clip in track.clips:
                if clip.id == clip_id:
                    return track, clip
        raise ProjectError(f"no clip {clip_id}")

    def media_of(self, clip: Clip) -> MediaItem:
        try:
            return self.media[clip.media_id]
        except KeyError:
            raise ProjectError(f"clip {clip.id} uses media {clip.media_id}, which the project does not have") from None

    def source_frames(self, media: MediaItem) -> int | None:
        """How many project frames `media` holds; None for a still image or a title, which lasts as long as it is
        shown."""
        if media.kind in ("image", "title"):
            return None
        return max(1, round(media.duration * self.fps))

    def media_room(self, clip: Clip) -> tuple[int, int] | None:
        """How many timeline frames of the clip's media there are before its first frame and after its last, at its
        speed and in its direction (negative where it runs past its media); None for a still or a title, which lasts
        as long as it is shown."""
        frames = self.source_frames(self.media_of(clip))
        if frames is None:
            return None
        before, after = whole_frames(clip.source_in / clip.speed), whole_frames((frames - clip.source_end) / clip.speed)
        return (after, before) if clip.reverse else (before, after)

    def trimmed_source(self, clip: Clip, start: int, length: int) -> float:
        """`clip`'s `source_in` once it is cut to (or grown to) frames [start, start + length), each frame showing
        the media it shows now (Clip.trimmed_source). Every frame of a still is the same, so a still's source
        position never moves, which lets it grow either way."""
        if self.source_frames(self.media_of(clip)) is None:
            return clip.source_in
        return clip.trimmed_source(start, length)

    def seconds(self, frames: float) -> float:
        return frames / self.fps
