"""What a generation reports, in order: Started, then PassProgress after every pass with ClipFrames as soon as a
clip's frames are decoded, then Finished. Frames and previews are numpy uint8 RGB, so consumers need no torch."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engine.api.records import GenerationSettings
from engine.pipeline.bits import ClipBits


@dataclass(frozen=True)
class Started:
    """`frames` video frames of `height` x `width` at `fps` will come, from `clips` clips (a new video's first
    frame is one) in `passes` passes; `notes` are things the user should know."""

    passes: int
    clips: int
    frames: int
    height: int
    width: int
    fps: int
    settings: GenerationSettings
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class PassProgress:
    """Pass `index` (0-based) of `total` is done. `eta_seconds` is None until a pass has been sampled.
    `preview` [h, w, 3] is the clip's newest latent frame through the preview map, when one was given."""

    index: int
    total: int
    clip: int
    seconds: float
    eta_seconds: float | None
    preview: np.ndarray | None


@dataclass(frozen=True)
class ClipFrames:
    """Final frames [f, H, W, 3] of the video from frame `frame_start` on, decoded once clip `clip` of this run's
    video (0: its first frame) was. `records` are the bits of the clips decoded since the last ClipFrames (a new
    video's first frame gives no frames of its own, so it comes with clip 1), as a bits file stores them:
    appended clip by clip, they make the video continuable from any finished clip."""

    clip: int
    frame_start: int
    frames: np.ndarray
    records: tuple[ClipBits, ...] = field(repr=False)


@dataclass(frozen=True)
class Finished:
    sampling_seconds: float
    decode_seconds: float
    seconds: float


PipelineEvent = Started | PassProgress | ClipFrames | Finished
