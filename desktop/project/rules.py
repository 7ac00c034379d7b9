"""What makes a clip valid where it sits; the edit commands and the project file loader both hold clips to it."""

from __future__ import annotations

import math

from desktop.project.model import Clip, Project, ProjectError, Track


class ClipProblem(ProjectError):
    """A clip that cannot be where it is; `field` names the Clip attribute at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def check_clip(project: Project, track: Track, clip: Clip) -> None:
    """Raise ClipProblem unless `clip` may sit on `track`. Overlaps with other clips are `Track.fits`' business."""
    media = project.media.get(clip.media_id)
    if media is None:
        raise ClipProblem("media_id", f"the clip uses media {clip.media_id}, which the project does not have")
    if media.track_kind != track.kind:
        raise ClipProblem("media_id", f"{media.name} is {media.kind}; it cannot go on {track.kind} track {track.name}")
    if clip.length < 1:
        raise ClipProblem("length", f"a clip lasts at least 1 frame; this one would last {clip.length}")
    if clip.start < 0:
        raise ClipProblem("start", f"the clip would start at frame {clip.start}, before the timeline begins")
    if clip.source_in < 0:
        raise ClipProblem("source_in", f"the clip would start before the beginning of {media.name}")
    frames = project.source_frames(media)
    if frames is not None and clip.source_in + clip.length > frames:
        raise ClipProblem(
            "length",
            f"{media.name} has {frames} frames; the clip would need frames up to {clip.source_in + clip.length}",
        )
    if not (math.isfinite(clip.gain) and clip.gain >= 0):
        raise ClipProblem("gain", f"the clip's gain {clip.gain} is not a volume (a finite number from 0)")
