"""Image-to-video: the given picture becomes the bits of clip 0 (the first frame), which the sampler then forces."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from engine.model.bsq import quantize_multiscale
from engine.model.vae import VideoVAE
from engine.pipeline.request import PipelineInputError
from engine.schedule import Schedule


def fit_image(image: np.ndarray, height: int, width: int) -> torch.Tensor:
    """uint8 RGB [H, W, 3] -> [1, 3, 1, height, width] in [-1, 1]: scaled to cover the frame, then centre-cropped."""
    if image.ndim != 3 or image.shape[-1] != 3 or image.dtype != np.uint8 or 0 in image.shape:
        raise PipelineInputError(f"the first frame must be uint8 RGB [H, W, 3], got {image.dtype} {list(image.shape)}")
    h, w = image.shape[:2]
    scale = max(height / h, width / w)
    size = (max(height, round(h * scale)), max(width, round(w * scale)))
    x = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)[None].float()
    x = F.interpolate(x, size=size, mode="bicubic", antialias=True, align_corners=False)
    top, left = (size[0] - height) // 2, (size[1] - width) // 2
    x = x[..., top : top + height, left : left + width]
    return (x / 127.5 - 1).clamp(-1, 1)[:, :, None]


def first_frame_bits(
    vae: VideoVAE, schedule: Schedule, image: np.ndarray, semantic_bits: int, detail_bits: int
) -> list[torch.Tensor]:
    """The bits of every clip-0 pass that reproduce `image` at the schedule's size. The VAE encodes to its
    posterior mean, so the same image always gives the same bits (the reference samples, so its I2V varies)."""
    param = next(vae.parameters())
    video = fit_image(image, *schedule.pixel_size).to(param.device, param.dtype)
    return quantize_multiscale(vae.encode(video), schedule, semantic_bits, detail_bits)
