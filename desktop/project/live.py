"""Clips shown with the project that are not part of it: a running generation's clips, each as soon as it is decoded.

They are view state, not the document. The timeline draws them on a lane of their own, named LIVE_TRACK, above the
project's tracks, and the monitor and playback show them over the project's picture; but they are never in
`Project.tracks` or `Project.media`, so the undo stack, saving, autosave and export see only the person's edits.
When the job ends its clips go, and its video is placed on the project by one undoable edit
(desktop.generate.placement).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from desktop.project.model import Clip, MediaItem, Track, new_id

LIVE_TRACK = "Generating"


@dataclass(frozen=True)
class LiveClip:
    clip: Clip
    media: MediaItem


class LiveClips:
    """The live clips, in order of start, on one lane where they never overlap. Read from any thread: each change
    replaces `shown` whole, so a reader on another thread (the monitor's renderer) sees the clips as they were
    before the change or after it."""

    def __init__(self) -> None:
        self.track_id = new_id()  # the lane's, for the timeline's rows; no project track has it
        self.shown: tuple[LiveClip, ...] = ()

    @property
    def end(self) -> int:
        """The first frame after the last live clip; 0 when there is none."""
        return max((live.clip.end for live in self.shown), default=0)

    def at(self, frame: int) -> LiveClip | None:
        return next((live for live in self.shown if live.clip.start <= frame < live.clip.end), None)

    def track(self) -> Track:
        """The lane as a track to draw: a video track named LIVE_TRACK, which no project holds."""
        return Track(self.track_id, "video", LIVE_TRACK, clips=[live.clip for live in self.shown])

    def add(self, media: MediaItem, start: int, length: int) -> LiveClip:
        """Show `length` frames of `media` from timeline frame `start`, or right after the last live clip where
        that would overlap one."""
        if not self.track().fits(start, length):
            start = self.end
        added = LiveClip(Clip(new_id(), media.id, start, length), media)
        self.shown = tuple(sorted((*self.shown, added), key=lambda live: live.clip.start))
        return added

    def remove(self, media_ids: Collection[str]) -> bool:
        """Take away the clips of these media; whether any was shown."""
        kept = tuple(live for live in self.shown if live.media.id not in media_ids)
        removed = len(kept) != len(self.shown)
        self.shown = kept
        return removed
