"""Where a finished generation lands on the timeline, as one undoable command. Qt-free.

- new: at the playhead on the first video track with room, else on a new video track;
- replace (continue, regenerate): where the old clip was; later clips on its track move right to make room;
- bridge: the joined video replaces the two clips it joins, later clips move to fit;
- variant: on a new video track of its own, at the same start as the request.
"""

from __future__ import annotations

from dataclasses import dataclass

from desktop.project.commands import AddClip, AddMedia, AddTrack, Command, Macro, MoveClip, RemoveClip, SetFrameSize
from desktop.project.model import STILL_SECONDS, Clip, MediaItem, Project, Track, new_id


@dataclass(frozen=True)
class Placement:
    mode: str  # "new", "replace", "bridge", "variant"
    start: int = 0
    clips: tuple[str, ...] = ()  # the clip replaced, or the two clips bridged
    label: str = ""


def _push_later(track: Track, after: int, by: int, skip: set[str]) -> list[Command]:
    """Moves of `track`'s clips starting at or after `after` by `by` frames, last first so none collide."""
    later = [c for c in track.clips if c.start >= after and c.id not in skip]
    return [MoveClip(c.id, track.id, c.start + by) for c in sorted(later, key=lambda c: -c.start)] if by > 0 else []


def adopt_frame_size(project: Project, media: MediaItem) -> list[Command]:
    """The first picture on an empty timeline sets the frame size (rounded down to even), as editors' automatic
    video mode does: a 128x128 toyworld clip is not exported letterboxed into 1280x720."""
    if project.duration or media.track_kind != "video" or not media.width or not media.height:
        return []
    size = (max(2, media.width // 2 * 2), max(2, media.height // 2 * 2))
    return [SetFrameSize(*size)] if size != (project.width, project.height) else []


def place_media(project: Project, media: MediaItem, start: int, new_track_name: str = "") -> list[Command]:
    """`media` (already in the project, or added by the caller first) at `start` on the first track of its kind with
    room, or on a new track of that kind (a video track goes on top)."""
    size = adopt_frame_size(project, media)
    length = project.source_frames(media) or round(STILL_SECONDS * project.fps)
    kind = media.track_kind
    track = next((t for t in project.tracks if t.kind == kind and not t.locked and t.fits(start, length)), None)
    if track is not None:
        return [*size, AddClip(track.id, Clip(new_id(), media.id, start, length))]
    count = sum(t.kind == kind for t in project.tracks) + 1
    new_track = AddTrack(kind, new_track_name or f"{kind.capitalize()} {count}", index=0 if kind == "video" else None)
    return [*size, new_track, AddClip(new_track.track.id, Clip(new_id(), media.id, start, length))]


def place_result(project: Project, media: MediaItem, placement: Placement) -> Command:
    length = project.source_frames(media) or 1
    add_media = AddMedia(media)
    if placement.mode in ("replace", "bridge") and all(_has_clip(project, c) for c in placement.clips):
        track, first = project.find_clip(placement.clips[0])
        last = project.find_clip(placement.clips[-1])[1]
        removed = [RemoveClip(c) for c in placement.clips]
        moves = _push_later(track, last.end, first.start + length - last.end, set(placement.clips))
        clip = Clip(new_id(), media.id, first.start, length)
        text = "Continue clip" if placement.label == "continue" else placement.label or "Replace clip"
        return Macro(text, [*removed, *moves, add_media, AddClip(track.id, clip)])
    if placement.mode == "variant":
        new_track = AddTrack("video", placement.label or "Variant", index=0)
        clip = Clip(new_id(), media.id, placement.start, length)
        return Macro("Generate variant", [new_track, add_media, AddClip(new_track.track.id, clip)])
    return Macro("Generate clip", [add_media, *place_media(project, media, placement.start)])


def _has_clip(project: Project, clip_id: str) -> bool:
    return any(c.id == clip_id for t in project.tracks for c in t.clips)
