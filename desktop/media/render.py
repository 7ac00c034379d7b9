"""The picture of a project's timeline at any frame: the clips of every unmuted video track there, bottom track first,
each placed by its transform and laid over the ones below (desktop.media.compose); black where no clip is. Live
clips (a running generation's, which are not in the project: desktop.project.live) are shown over the project's
tracks, fitted. A title's picture is the frame's size, clear but for its text (desktop.media.titles).

A clip shows its media by time, so a clip at another frame rate plays at its own pace (times the clip's speed, and
backwards for a reversed clip: Clip.shown_position): timeline frame i shows the media's frame nearest to its time,
repeating or skipping frames as the rates differ; or, for a clip slower than the project (its media's rate times its
speed under the project's) with smooth motion on, a frame made between its two nearest by optical flow
(desktop.media.motion).

A video or a picture is graded (desktop.media.grading) before it is placed. A clip fading shows at its fade's share of
its opacity over what lies below; during a cross-dissolve the frame is the frame with the outgoing clip and the frame
with the incoming one, mixed linearly (desktop.project.transitions)."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np

from desktop.media.compose import Layer, compose
from desktop.media.frames import FrameCache, MediaFrames
from desktop.media.grading import graded
from desktop.media.titles import cached_title
from desktop.project.live import LiveClips
from desktop.project.model import Clip, MediaItem, Project, Track
from desktop.project.transitions import fade_alpha, pictures_at


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
        slots = [self._track_layers(track, index) for track in reversed(project.tracks)
                 if track.kind == "video" and not track.muted]
        slots = [slot for slot in slots if slot]
        live = self.live.at(index) if self.live is not None else None
        if live is not None:
            slots.append([(self._layer(live.clip, live.media, index), 1.0)])
        return _mixed(slots, (project.width, project.height))

    def _track_layers(self, track: Track, index: int) -> list[tuple[Layer, float]]:
        """The track's pictures at frame `index`, each at its fades' opacity, with its share of the track's picture
        (two during a cross-dissolve)."""
        layers = []
        for clip, share in pictures_at(self.project, track, index):
            media = self.project.media_of(clip)
            if media.kind != "audio":
                layer = self._layer(clip, media, index)
                alpha = fade_alpha(clip, index)
                if alpha < 1:
                    layer = replace(layer, transform=replace(layer.transform,
                                                             opacity=layer.transform.opacity * alpha))
                layers.append((layer, share))
        return layers

    def _layer(self, clip: Clip, media: MediaItem, index: int) -> Layer:
        if media.title is not None:  # drawn at the size it is shown, its text block centred on the clip's position
            title = media.title
            return Layer((self.project.width, self.project.height), clip.transform,
                         lambda size: cached_title(self._media.cache, title, size))
        time_s = self.project.seconds(clip.shown_position(index))
        smooth = clip.smooth_motion and media.kind == "video" and 0 < (media.fps or 0) * clip.speed < self.project.fps
        pictures = self._media.smooth if smooth else self._media.scaled
        grade = clip.grade
        return Layer(self._media.source_size(media), clip.transform,
                     lambda size: graded(pictures(media, time_s, size), grade))

    def close(self) -> None:
        """Close the media files it has open (it reopens them if asked for another frame)."""
        self._media.close()


def _mixed(slots: list[list[tuple[Layer, float]]], size: tuple[int, int]) -> np.ndarray:
    """The frame of `slots` (bottom first), each one layer, or two of a cross-dissolve: the frame with the outgoing
    layer and the frame with the incoming one, mixed by their shares."""
    for index, slot in enumerate(slots):
        if len(slot) == 2:
            (outgoing, out_share), (incoming, in_share) = slot
            pictures = [_mixed([*slots[:index], [(layer, 1.0)], *slots[index + 1:]], size)
                        for layer in (outgoing, incoming)]
            return cv2.addWeighted(pictures[0], out_share, pictures[1], in_share, 0)
    return compose([slot[0][0] for slot in slots], size)
