"""What a generation reports, in order: Started, then PassProgress after every pass with ClipFrames as soon as a
clip's frames are decoded, then Finished. Frames and previews are numpy uint8 RGB, so consumers need no torch."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch


@dataclass(frozen=True)
class Started:
    """`frames` video frames of `height` x `width` at `fps` will come; `notes` are things the user should know."""

    passes: int
    clips: int
    frames: int
    height: int
    width: int
    fps: int
    settings: dict[str, Any]
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
    """Final frames [f, H, W, 3] of the video from frame `frame_start` on, decoded once `clip`'s latent was.
    `bits` are those of every pass up to this clip's last (the same tensors Finished will hold): stored with the
    frames so far, they make that much of the video continuable before the run ends."""

    clip: int
    frame_start: int
    frames: np.ndarray
    bits: list[torch.Tensor] = field(repr=False)


@dataclass(frozen=True)
class Finished:
    """`bits` (one [1, t, h, w, d] uint8 tensor per pass) reproduce the video: force them to continue it."""

    bits: list[torch.Tensor] = field(repr=False)
    sampling_seconds: float
    decode_seconds: float
    seconds: float


PipelineEvent = Started | PassProgress | ClipFrames | Finished
