"""The picture of a project's timeline at any frame: the clip of the topmost unmuted video track there, scaled to
fit the project's size with black bars, black where no clip is. Live clips (a running generation's, which are not
in the project: desktop.project.live) are shown over the project's tracks."""

from __future__ import annotations

import numpy as np

from desktop.media.frames import FrameCache, MediaFrames
from desktop.project.live import LiveClips
from desktop.project.model import Clip, MediaItem, Project


def visible_clip(project: Project, index: int) -> Clip | None:
    """The clip seen at timeline frame `index`: muted video tracks are hidden, upper tracks cover lower ones."""
    for track in project.tracks:
        if track.kind == "video" and not track.muted:
            clip = track.clip_at(index)
            if clip is not None and project.media_of(clip).kind != "audio":
                return clip
    return None


class TimelineRenderer:
    """Frames of `project` as it is when each is asked for, with `live`'s clips over it when given; share `cache`
    with other renderers of the project to reuse their decoded frames. Thread safe."""

    def __init__(self, project: Project, cache: FrameCache | None = None, live: LiveClips | None = None) -> None:
        self.project = project
        self.live = live
        self._media = MediaFrames(cache if cache is not None else FrameCache())

    def frame(self, index: int) -> np.ndarray:
        """uint8 RGB [height, width, 3] of timeline frame `index`."""
        project = self.project
        canvas = np.zeros((project.height, project.width, 3), np.uint8)
        shown = self._shown(index)
        if shown is not None:
            clip, media = shown
            time_s = project.seconds(clip.source_in + index - clip.start)
            picture = self._media.fitted(media, time_s, (project.width, project.height))
            height, width = picture.shape[:2]
            top, left = (project.height - height) // 2, (project.width - width) // 2
            canvas[top : top + height, left : left + width] = picture
        return canvas

    def _shown(self, index: int) -> tuple[Clip, MediaItem] | None:
        """The clip seen at `index` and its media: a live clip, else the project's visible clip."""
        live = self.live.at(index) if self.live is not None else None
        if live is not None:
            return live.clip, live.media
        clip = visible_clip(self.project, index)
        return None if clip is None else (clip, self.project.media_of(clip))

    def close(self) -> None:
        """Close the media files it has open (it reopens them if asked for another frame)."""
        self._media.close()
