"""Snapping on the timeline: a dragged frame jumps to a nearby clip edge, marker, the playhead or the timeline's
start."""

from __future__ import annotations

from collections.abc import Collection

from desktop.project.model import Project


def snap_points(project: Project, playhead: int | None = None, ignore: Collection[str] = ()) -> set[int]:
    """Frame 0, the playhead, the markers and both edges of every clip but those in `ignore` (the ones being
    dragged)."""
    points = {0, *project.markers} if playhead is None else {0, playhead, *project.markers}
    for track in project.tracks:
        points.update(edge for c in track.clips if c.id not in ignore for edge in (c.start, c.end))
    return points


def snap(project: Project, frame: int, tolerance: int, playhead: int | None = None, ignore: Collection[str] = ()
         ) -> int:
    """The snap point nearest `frame` if it is within `tolerance` frames (the earlier one on a tie), else `frame`."""
    nearest = min(snap_points(project, playhead, ignore), key=lambda p: (abs(p - frame), p))
    return nearest if abs(nearest - frame) <= tolerance else frame
