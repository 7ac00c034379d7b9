"""Where a dragged clip or clip edge would land: snapped, kept within what the edit allows. Qt-free.

The view shows this while the mouse moves and turns the last one into an edit command on release.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Literal

from desktop.project.model import Project
from desktop.project.snapping import snap

Edge = Literal["start", "end"]


@dataclass(frozen=True)
class Landing:
    track_id: str
    start: int
    length: int
    source_in: int
    allowed: bool = True
    guide: int | None = None  # the frame it snapped to, for a guide line


def move_landing(project: Project, clip_id: str, track_id: str, start: int, tolerance: int | None,
                 playhead: int) -> Landing:
    """The clip moved to `start` on `track_id` (if that track takes its kind, else its own); with a `tolerance`
    (frames), whichever of its edges is nearer a snap point jumps to it."""
    own, clip = project.find_clip(clip_id)
    target = next((t for t in project.tracks if t.id == track_id and t.kind == own.kind), own)
    start, guide = max(0, start), None
    if tolerance is not None:
        head = snap(project, start, tolerance, playhead, ignore_clip=clip_id)
        tail = snap(project, start + clip.length, tolerance, playhead, ignore_clip=clip_id)
        head_moved, tail_moved = head != start, tail != start + clip.length
        if head_moved and (not tail_moved or abs(head - start) <= abs(tail - start - clip.length)):
            start = guide = head
        elif tail_moved and tail - clip.length >= 0:
            start, guide = tail - clip.length, tail
    allowed = not own.locked and not target.locked and target.fits(start, clip.length, ignore=clip_id)
    return Landing(target.id, start, clip.length, clip.source_in, allowed, guide)


def trim_landing(project: Project, clip_id: str, edge: Edge, frame: int, tolerance: int | None,
                 playhead: int) -> Landing:
    """The clip with its `edge` dragged to timeline `frame`, snapped, then held to its media and its neighbours."""
    track, clip = project.find_clip(clip_id)
    guide = None
    if tolerance is not None:
        snapped = snap(project, frame, tolerance, playhead, ignore_clip=clip_id)
        frame, guide = snapped, (snapped if snapped != frame else None)
    low, high = trim_limits(project, clip_id, edge)
    if not low <= frame <= high:
        frame, guide = min(high, max(low, frame)), None
    if edge == "end":
        return Landing(track.id, clip.start, frame - clip.start, clip.source_in, not track.locked, guide)
    still = project.source_frames(project.media_of(clip)) is None
    source_in = clip.source_in if still else clip.source_in + frame - clip.start
    return Landing(track.id, frame, clip.end - frame, source_in, not track.locked, guide)


def trim_limits(project: Project, clip_id: str, edge: Edge) -> tuple[int, int]:
    """The frames `edge` may be trimmed to: at least one frame left, within the media, not over a neighbour."""
    track, clip = project.find_clip(clip_id)
    frames = project.source_frames(project.media_of(clip))
    if edge == "start":
        earliest = max((c.end for c in track.clips if c.end <= clip.start), default=0)
        if frames is not None:
            earliest = max(earliest, clip.start - clip.source_in)
        return earliest, clip.end - 1
    latest = min((c.start for c in track.clips if c.start >= clip.end), default=None)
    if frames is not None:
        media_end = clip.start + frames - clip.source_in
        latest = media_end if latest is None else min(latest, media_end)
    return clip.start + 1, latest if latest is not None else sys.maxsize
