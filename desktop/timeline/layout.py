"""Where things sit on the timeline, in pixels: the ruler and header strips and the rows of the tracks."""

from __future__ import annotations

from desktop.project.model import Track, TrackKind

RULER_HEIGHT = 28
HEADER_WIDTH = 184
LABEL_HEIGHT = 15  # the strip at a clip's top that names its media
TRACK_GAP = 2
TRACK_HEIGHTS: dict[TrackKind, int] = {"video": 64, "audio": 48}
EDGE_GRIP = 6  # pixels inside a clip's edge where dragging trims instead of moving
TAIL_SECONDS = 60  # room to drag beyond the last clip


def track_height(kind: TrackKind) -> int:
    return TRACK_HEIGHTS[kind]


def track_tops(tracks: list[Track]) -> list[int]:
    """The top of each track's row, top to bottom in the project's order, and after them the bottom of the last."""
    tops = [0]
    for track in tracks:
        tops.append(tops[-1] + track_height(track.kind) + TRACK_GAP)
    return tops
