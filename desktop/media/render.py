"""The picture of a project's timeline at any frame: the clips of every unmuted video track there, bottom track first,
each placed by its transform and laid over the ones below (desktop.media.compose); black where no clip is. Live
clips (a running generation's, which are not in the project: desktop.project.live) are shown over the project's
tracks, fitted.

A clip shows its media by time, so a clip at another frame rate plays at its own speed: timeline frame i shows the
media's frame nearest to its time, repeating or skipping frames as the rates differ; or, for a clip slower than the
project with smooth motion on, a frame made between its two nearest by optical flow (desktop.media.motion)."""

from __future__ import annotations

import numpy as np

from desktop.media.compose import Layer, compose
from desktop.media.frames import FrameCache, MediaFrames
from desktop.project.live import LiveClips
from desktop.project.model import Clip, MediaItem, Project


def visible_clips(project: Project, index: int) -> list[Clip]:
    """The clips with a picture at timeline frame `index`, bottom track first; muted tracks are hidden."""
    clips = []
    for track in reversed(project.tracks):
        if track.kind == "video" and not track.muted:
            clip = track.clip_at(index)
            if clip is not None and project.media_of(clip).kind != "audio":
                clips.append(clip)
    return clips


def visible_clip(project: Project, index: int) -> Clip | None:
    """The topmost clip at timeline frame `index`."""
    clips = visible_clips(project, index)
    return clips[-1] if clips else None


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
        shown = [(clip, project.media_of(clip)) for clip in visible_clips(project, index)]
        live = self.live.at(index) if self.live is not None else None
        if live is not None:
            shown.append((live.clip, live.media))
        return compose([self._layer(clip, media, index) for clip, media in shown], (project.width, project.height))

    def _layer(self, clip: Clip, media: MediaItem, index: int) -> Layer:
        time_s = self.project.seconds(clip.source_in + index - clip.start)
        smooth = clip.smooth_motion and media.kind == "video" and 0 < (media.fps or 0) < self.project.fps
        pictures = self._media.smooth if smooth else self._media.scaled
        return Layer(self._media.source_size(media), clip.transform, lambda size: pictures(media, time_s, size))

    def close(self) -> None:
        """Close the media files it has open (it reopens them if asked for another frame)."""
        self._media.close()
