"""Where a dragged clip or clip edge would land: snapped, kept within what the edit allows. Qt-free.

The view shows this while the mouse moves and turns the last one into an edit command on release. A clip laid over
the end or the start of its neighbour (moved, or an edge dragged into it) makes a cross-dissolve over the frames they
share (`overlap_dissolve`) where the clips allow one; other overlaps are refused, and an edge stops at the neighbour.
A clip dragged with others selected moves them all by the same time, each on its own track (`group_landing`).
"""

from __future__ import annotations

import sys
from collections.abc import Collection
from dataclasses import dataclass, replace
from typing import Literal

from desktop.project.commands import overlap_dissolve
from desktop.project.model import Project, ProjectError
from desktop.project.snapping import snap

Edge = Literal["start", "end"]


@dataclass(frozen=True)
class Landing:
    track_id: str
    start: int
    length: int
    source_in: float
    allowed: bool = True
    guide: int | None = None  # the frame it snapped to, for a guide line
    dissolve: tuple[int, int] | None = None  # first frame and length of the cross-dissolve an overlap makes
    along: tuple[tuple[str, int], ...] = ()  # (clip id, start) of the other clips a group move takes along


def _dissolve(project: Project, clip_id: str, grip: Literal["move", "start", "end"], track_id: str, start: int,
              length: int) -> tuple[int, int] | None:
    """The frames of the cross-dissolve the clip laid at [start, start + length) on `track_id` would make with the
    neighbour it overlaps, or None where that overlap makes none. The edit is tried on a copy of the tracks, so what
    the drag shows is what its release does."""
    try:
        edit = overlap_dissolve(project, clip_id, grip, track_id, start, length)
        edit.do(replace(project, tracks=[replace(t, clips=[replace(c) for c in t.clips]) for t in project.tracks]))
    except ProjectError:
        return None
    dissolve = edit.commands[-1]
    _, incoming = project.find_clip(dissolve.clip_id)
    first = start if incoming.id == clip_id else incoming.start
    return first, dissolve.length


def move_landing(project: Project, clip_id: str, track_id: str, start: int, tolerance: int | None,
                 playhead: int) -> Landing:
    """The clip moved to `start` on `track_id` (if that track takes its kind, else its own); with a `tolerance`
    (frames), whichever of its edges is nearer a snap point jumps to it."""
    own, clip = project.find_clip(clip_id)
    target = next((t for t in project.tracks if t.id == track_id and t.kind == own.kind), own)
    start, guide = max(0, start), None
    if tolerance is not None:
        start, guide = _snapped(project, start, clip.length, tolerance, playhead, {clip_id})
    allowed = not own.locked and not target.locked and target.fits(start, clip.length, ignore={clip_id})
    dissolve = None if allowed else _dissolve(project, clip_id, "move", target.id, start, clip.length)
    return Landing(target.id, start, clip.length, clip.source_in, allowed or dissolve is not None, guide, dissolve)


def group_landing(project: Project, clip_id: str, together: Collection[str], start: int, tolerance: int | None,
                  playhead: int) -> Landing:
    """Clip `clip_id` moved to `start` and the clips `together` (selected with it) by the same time, each on its own
    track: snapped as the one clip is, the earliest of them held at frame 0, refused where one would land on a clip
    that stays or a locked track. Never a cross-dissolve: an overlap is refused."""
    group = {clip_id, *together}
    placed = {c.id: (t, c) for t in project.tracks for c in t.clips if c.id in group}
    _, clip = placed[clip_id]
    earliest = clip.start - min(c.start for _, c in placed.values())  # where `clip` is with the group at frame 0
    start, guide = max(start, earliest), None
    if tolerance is not None:
        start, guide = _snapped(project, start, clip.length, tolerance, playhead, group)
        start = max(start, earliest)
    shift = start - clip.start
    allowed = all(not t.locked and t.fits(c.start + shift, c.length, ignore=group) for t, c in placed.values())
    along = tuple((c.id, c.start + shift) for _, c in placed.values() if c.id != clip_id)
    return Landing(placed[clip_id][0].id, start, clip.length, clip.source_in, allowed, guide, along=along)


def _snapped(project: Project, start: int, length: int, tolerance: int, playhead: int, ignore: set[str]
             ) -> tuple[int, int | None]:
    """`start` of a clip of `length` frames moved with whichever of its edges is nearer a snap point at that point,
    and the point (None: no edge is near one)."""
    head = snap(project, start, tolerance, playhead, ignore)
    tail = snap(project, start + length, tolerance, playhead, ignore)
    head_moved, tail_moved = head != start, tail != start + length
    if head_moved and (not tail_moved or abs(head - start) <= abs(tail - start - length)):
        return head, head
    if tail_moved and tail - length >= 0:
        return tail - length, tail
    return start, None


def trim_landing(project: Project, clip_id: str, edge: Edge, frame: int, tolerance: int | None,
                 playhead: int) -> Landing:
    """The clip with its `edge` dragged to timeline `frame`, snapped, then held to its media and its neighbours."""
    track, clip = project.find_clip(clip_id)
    guide = None
    if tolerance is not None:
        snapped = snap(project, frame, tolerance, playhead, ignore={clip_id})
        frame, guide = snapped, (snapped if snapped != frame else None)
    low, high = trim_limits(project, clip_id, edge)
    over = _trim_over(project, clip_id, edge, frame, low, high)
    if over is not None:
        return over
    if not low <= frame <= high:
        frame, guide = min(high, max(low, frame)), None
    start, end = (clip.start, frame) if edge == "end" else (frame, clip.end)
    return Landing(track.id, start, end - start, project.trimmed_source(clip, start, end - start), not track.locked,
                   guide)


def _trim_over(project: Project, clip_id: str, edge: Edge, frame: int, low: int, high: int) -> Landing | None:
    """The clip with its `edge` dragged to `frame` past the neighbour that limits it (`low`, `high`: the trim's
    limits) and into that neighbour, as far as its media reaches: a cross-dissolve over the overlap; None where the
    edge stays short of a neighbour or the clips cannot make that dissolve."""
    track, clip = project.find_clip(clip_id)
    room = project.media_room(clip)
    if edge == "start":
        neighbour = next((c for c in track.clips if c.end == low and c.id != clip_id), None)
        if frame >= low or neighbour is None:
            return None
        frame = max(frame, neighbour.start + 1, clip.start - room[0] if room is not None else 0)
        start, length = frame, clip.end - frame
    else:
        neighbour = next((c for c in track.clips if c.start == high and c.id != clip_id), None)
        if frame <= high or neighbour is None:
            return None
        frame = min(frame, neighbour.end - 1)
        if room is not None:
            frame = min(frame, clip.end + room[1])
        start, length = clip.start, frame - clip.start
    dissolve = _dissolve(project, clip_id, edge, track.id, start, length)
    if dissolve is None:
        return None
    return Landing(track.id, start, length, project.trimmed_source(clip, start, length), not track.locked, None,
                   dissolve)


def trim_limits(project: Project, clip_id: str, edge: Edge) -> tuple[int, int]:
    """The frames `edge` may be trimmed to: at least one frame left, within the media, not over a neighbour."""
    track, clip = project.find_clip(clip_id)
    room = project.media_room(clip)
    if edge == "start":
        earliest = max((c.end for c in track.clips if c.end <= clip.start), default=0)
        if room is not None:
            earliest = max(earliest, clip.start - room[0])
        return earliest, clip.end - 1
    latest = min((c.start for c in track.clips if c.start >= clip.end), default=None)
    if room is not None:
        media_end = clip.end + room[1]
        latest = media_end if latest is None else min(latest, media_end)
    return clip.start + 1, latest if latest is not None else sys.maxsize
