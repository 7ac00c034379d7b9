"""Clip latents -> final uint8 frames through one VAE decode session, with frame 0 as the reference makes it."""

from __future__ import annotations

import numpy as np
import torch

from engine.model.pixels import pixels_to_uint8
from engine.model.vae import Tiling, VideoVAE
from engine.schedule import Schedule


def _frames(chunk: torch.Tensor) -> np.ndarray:
    """Decoded chunk [1, 3, f, H, W] -> uint8 [f, H, W, 3]."""
    return pixels_to_uint8(chunk[0]).permute(1, 2, 3, 0).cpu().numpy()


class ClipDecoder:
    """Decodes a generation's clips in order, each as soon as its latent is final.

    Frame 0: the image clip's single latent frame decodes to one frame, which the reference's video pipeline
    overwrites with frame 1. So in a video, clip 0 is decoded only to carry the decoder's causal state and
    gives no frames; clip 1 comes back from frame 0 with its first frame twice. An image is its decoded frame.
    The first `context` clips (those a continuation starts from) give no frames: the last `warm` of them are
    decoded for the same reason, and the decoder's state after them is what the video's own decode had there
    when they reach back at least as far as the decoder does (engine.model.vae.decoder_history); earlier ones are
    not decoded at all.
    """

    def __init__(
        self, vae: VideoVAE, schedule: Schedule, context: int = 0, warm: int = 0, chunk_latents: int | None = 2,
        tiling: Tiling | None = None,
    ) -> None:
        self.session = vae.decoder_session(chunk_latents, tiling)
        self.schedule = schedule
        self.context = context
        self.first_decoded = max(context - warm, 0)
        self.next_frame = 0

    def decode(self, clip: int, latent: torch.Tensor) -> tuple[int, np.ndarray] | None:
        """(first frame index, frames [f, H, W, 3]) of clip `clip` (latent [1, C, t, h, w]); None for a clip that
        gives no frames of its own."""
        s = self.schedule
        if clip < self.first_decoded:
            return None
        frames = np.concatenate([_frames(c) for c in self.session.feed(latent, last=clip == s.clips - 1)])
        new_video = s.starts_video(0) and s.clips > 1
        if clip < self.context or (new_video and clip == 0):
            return None
        if new_video and clip == 1:
            frames = np.concatenate([frames[:1], frames])
        start = self.next_frame
        self.next_frame += len(frames)
        return start, frames
