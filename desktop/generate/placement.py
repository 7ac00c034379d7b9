"""Where a finished generation lands on the timeline, as one undoable command. Qt-free.

- new: on the video track the person chose (the track of the clip selected when asking; else the top video track),
  at the playhead, or at the first free space after it on that track: never on a track of its own, so variants'
  tracks do not collect later generations;
- replace (regenerate): where the old clip was; later clips on its track move right to make room;
- extend (continue, keep going): right after the continued clip, which first gets back any tail trimmed off (the
  continuation plays on from its media's last frame); later clips on its track move right to make room;
- bridge: right after the first clip (its tail back, as for extend); the second clip follows the bridge with its
  head trimmed by the frames the bridge fades into, so it plays on from there; later clips move with it;
- variant: on a new video track of its own, at the same start as the request.
When a clip the placement names is gone by the time the video comes, the video is placed at `start` on the first
video track with room there, else on a new video track.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from desktop.project.commands import (
    AddClip,
    AddMedia,
    AddTrack,
    Command,
    Macro,
    MoveClip,
    RemoveClip,
    TrimClip,
)
from desktop.project.model import STILL_SECONDS, Clip, MediaItem, Project, Track, new_id, whole_frames


@dataclass(frozen=True)
class Placement:
    mode: str  # "new", "replace", "extend", "bridge", "variant", "none"
    start: int = 0
    clips: tuple[str, ...] = ()  # the clip replaced or extended, or the two clips bridged
    label: str = ""
    track: str | None = None  # new: the video track chosen for it (None: the top one)


def media_end(project: Project, clip: Clip) -> int:
    """The timeline frame where `clip`'s media ends: its end, once any tail trimmed off is back."""
    room = project.media_room(clip)
    return clip.end if room is None else clip.end + room[1]


def fade_frames(project: Project, bridge: MediaItem) -> int:
    """Project frames of the second clip that a bridge's end fades into (its generation record counts them in its
    own rate)."""
    record = bridge.generation
    frames = record.inputs.crossfade_frames if record is not None else 0
    return round(frames * project.fps / (bridge.fps or project.fps))


def _push_later(track: Track, after: int, by: int, skip: set[str]) -> list[Command]:
    """Moves of `track`'s clips starting at or after `after` by `by` frames, last first so none collide."""
    later = [c for c in track.clips if c.start >= after and c.id not in skip]
    return [MoveClip(c.id, track.id, c.start + by) for c in sorted(later, key=lambda c: -c.start)] if by > 0 else []


def _restore_tail(clip: Clip, end: int) -> list[Command]:
    return [TrimClip(clip.id, "end", end)] if end != clip.end else []


def place_media(project: Project, media: MediaItem, start: int, new_track_name: str = "") -> list[Command]:
    """`media` (already in the project, or added by the caller first) at `start` on the first track of its kind with
    room, or on a new track of that kind (a video track goes on top). The project's format stays as the person
    chose it, whatever the media's size."""
    length = project.source_frames(media) or round(STILL_SECONDS * project.fps)
    kind = media.track_kind
    track = next((t for t in project.tracks if t.kind == kind and not t.locked and t.fits(start, length)), None)
    if track is not None:
        return [AddClip(track.id, Clip(new_id(), media.id, start, length))]
    count = sum(t.kind == kind for t in project.tracks) + 1
    new_track = AddTrack(kind, new_track_name or f"{kind.capitalize()} {count}", index=0 if kind == "video" else None)
    return [new_track, AddClip(new_track.track.id, Clip(new_id(), media.id, start, length))]


def _replace(project: Project, media: MediaItem, old_id: str, length: int) -> list[Command]:
    track, old = project.find_clip(old_id)
    moves = _push_later(track, old.end, old.start + length - old.end, {old.id})
    return [RemoveClip(old.id), *moves, AddMedia(media), AddClip(track.id, Clip(new_id(), media.id, old.start, length))]


def _extend(project: Project, media: MediaItem, clip_id: str, length: int) -> list[Command]:
    track, clip = project.find_clip(clip_id)
    end = media_end(project, clip)
    moves = _push_later(track, clip.end, end + length - clip.end, {clip.id})
    added = Clip(new_id(), media.id, end, length)
    return [*moves, *_restore_tail(clip, end), AddMedia(media), AddClip(track.id, added)]


def _bridge(project: Project, media: MediaItem, first_id: str, second_id: str, length: int) -> list[Command]:
    track, first = project.find_clip(first_id)
    second = project.find_clip(second_id)[1]
    end = media_end(project, first)
    faded = fade_frames(project, media)
    # what the second clip still shows once it plays on after the fade
    rest = whole_frames((second.source_end - faded) / second.speed)
    follower = replace(second, start=end + length, source_in=faded, length=rest)
    moves = _push_later(track, second.end, follower.end - second.end, {first.id, second.id})
    follows = [AddClip(track.id, follower)] if rest > 0 else []  # a second clip shorter than the fade is all in it
    return [RemoveClip(second.id), *moves, *_restore_tail(first, end), AddMedia(media),
            AddClip(track.id, Clip(new_id(), media.id, end, length)), *follows]


def place_result(project: Project, media: MediaItem, placement: Placement) -> Command:
    length = project.source_frames(media) or 1
    clips = placement.clips
    if clips and all(_has_clip(project, c) for c in clips):
        if placement.mode == "replace":
            return Macro(placement.label or "Replace clip", _replace(project, media, clips[0], length))
        if placement.mode == "extend":
            return Macro(placement.label or "Continue clip", _extend(project, media, clips[0], length))
        if placement.mode == "bridge":
            return Macro(placement.label or "Bridge clips", _bridge(project, media, *clips, length))
    if placement.mode == "variant":
        new_track = AddTrack("video", placement.label or "Variant", index=0)
        clip = Clip(new_id(), media.id, placement.start, length)
        return Macro("Generate variant", [new_track, AddMedia(media), AddClip(new_track.track.id, clip)])
    if placement.mode == "new":
        return Macro("Generate clip", [AddMedia(media), *_new(project, media, placement.start, placement.track)])
    # what the placement named is gone: at the time asked, on a track with room there
    return Macro("Generate clip", [AddMedia(media), *place_media(project, media, placement.start)])


def first_free(track: Track, start: int, length: int) -> int:
    """The first frame at or after `start` where `length` frames are free on `track`: `start` itself, or where one of
    its clips ends."""
    candidates = [start, *(c.end for c in track.clips if c.end > start)]
    return next(at for at in candidates if track.fits(at, length))


def _new(project: Project, media: MediaItem, start: int, track_id: str | None) -> list[Command]:
    length = project.source_frames(media) or 1
    tracks = [t for t in project.tracks if t.kind == "video" and not t.locked]
    chosen = next((t for t in tracks if t.id == track_id), tracks[0] if tracks else None)
    if chosen is None:  # every video track is locked: one of its own
        return place_media(project, media, start)
    return [AddClip(chosen.id, Clip(new_id(), media.id, first_free(chosen, start, length), length))]


def _has_clip(project: Project, clip_id: str) -> bool:
    return any(c.id == clip_id for t in project.tracks for c in t.clips)
