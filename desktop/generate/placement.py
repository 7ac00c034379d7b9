"""Where a finished generation lands on the timeline, as one undoable command. Qt-free.

- new: at the playhead on the first video track with room, else on a new video track;
- replace (continue, regenerate): where the old clip was; later clips on its track move right to make room;
- bridge: the joined video replaces the two clips it joins, later clips move to fit;
- variant: on a new video track of its own, at the same start as the request.
"""

from __future__ import annotations

from dataclasses import dataclass

from desktop.project.commands import AddClip, AddMedia, AddTrack, Command, Macro, MoveClip, RemoveClip
from desktop.project.model import Clip, MediaItem, Project, Track, new_id


@dataclass(frozen=True)
class Placement:
    mode: str  # "new", "replace", "bridge", "variant"
    start: int = 0
    clips: tuple[str, ...] = ()  # the clip replaced, or the two clips bridged
    label: str = ""


def _free_video_track(project: Project, start: int, length: int) -> Track | None:
    return next((t for t in project.tracks if t.kind == "video" and not t.locked and t.fits(start, length)), None)


def _push_later(track: Track, after: int, by: int, skip: set[str]) -> list[Command]:
    """Moves of `track`'s clips starting at or after `after` by `by` frames, last first so none collide."""
    later = [c for c in track.clips if c.start >= after and c.id not in skip]
    return [MoveClip(c.id, track.id, c.start + by) for c in sorted(later, key=lambda c: -c.start)] if by > 0 else []


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
    start = placement.start
    if placement.mode != "variant":
        track = _free_video_track(project, start, length)
        if track is not None:
            return Macro("Generate clip", [add_media, AddClip(track.id, Clip(new_id(), media.id, start, length))])
    new_track = AddTrack("video", placement.label or f"Video {sum(t.kind == 'video' for t in project.tracks) + 1}",
                         index=0)
    clip = Clip(new_id(), media.id, start, length)
    return Macro("Generate variant" if placement.mode == "variant" else "Generate clip",
                 [new_track, add_media, AddClip(new_track.track.id, clip)])


def _has_clip(project: Project, clip_id: str) -> bool:
    return any(c.id == clip_id for t in project.tracks for c in t.clips)
