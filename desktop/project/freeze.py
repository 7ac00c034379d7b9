"""Freeze frame: a video clip's picture at the playhead held as a still for a while, the clip going on after it.

The picture is written as a file of its own (by the caller: desktop.media.frames), so the hold is an ordinary still
clip that can be trimmed, moved or deleted. It takes the video clip's place at the playhead with the clip's transform
and grade, so it looks as the clip did there; the clip is split at the playhead and the rest of it, with the later
clips of its track, moves on by the hold's length. Other tracks stay as they are, as with Ripple delete.
"""

from __future__ import annotations

from desktop.project.commands import AddClip, AddMedia, Macro, insert_room
from desktop.project.model import Clip, MediaItem, Project, ProjectError, new_id

FREEZE_SECONDS = 2.0


def frozen_clip(project: Project, frame: int, clip_id: str | None = None) -> Clip:
    """The video clip a freeze at timeline `frame` holds: `clip_id` if given, else the topmost video clip there (of an
    unmuted track). ProjectError naming why when there is none."""
    if clip_id is not None:
        track, clip = project.find_clip(clip_id)
        if not clip.start <= frame < clip.end:
            raise ProjectError(f"the playhead is not on the clip (frames {clip.start}..{clip.end})")
    else:
        found = [(t, c) for t in project.tracks if t.kind == "video" and not t.muted
                 for c in [t.clip_at(frame)] if c is not None]
        if not found:
            raise ProjectError("no video clip is under the playhead to freeze")
        track, clip = found[0]
    if project.media_of(clip).kind != "video":
        raise ProjectError(f"{project.media_of(clip).name} is not a video: it is still already")
    if track.locked:
        raise ProjectError(f"track {track.name} is locked")
    return clip


def freeze_frame(project: Project, clip_id: str, frame: int, picture: MediaItem,
                 seconds: float = FREEZE_SECONDS) -> Macro:
    """The edit that holds clip `clip_id`'s picture at timeline `frame` for `seconds`, `picture` (a still not yet in
    the project) showing it."""
    track, clip = project.find_clip(clip_id)
    length = max(1, round(seconds * project.fps))
    hold = Clip(new_id(), picture.id, frame, length, transform=clip.transform, grade=clip.grade)
    return Macro("Freeze frame", [insert_room(project, frame, length, {track.id}), AddMedia(picture),
                                  AddClip(track.id, hold)])
