"""Live preview without the VAE: a per-model linear map from the 64-channel running sum to RGB, then an upsample.

The map is fitted once per model by least squares on (latent token, decoded colour) pairs and stored as a
small safetensors file. A 720p preview frame (45x80 latent) costs about a millisecond on a CPU.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

from engine.config import VAEConfig
from engine.model.bsq import quantize_multiscale
from engine.model.pixels import pixels_to_uint8
from engine.model.running_sum import RunningSums
from engine.model.vae import VideoVAE
from engine.schedule import Schedule


@dataclass(frozen=True)
class PreviewMap:
    """RGB = weight @ latent + bias per token, in the decoder's [-1, 1] range. weight [3, C], bias [3]."""

    weight: torch.Tensor
    bias: torch.Tensor

    def to_rgb(self, latent: torch.Tensor) -> torch.Tensor:
        """Latent [..., C, H, W] -> colours [..., 3, H, W] at token resolution (float, unclamped)."""
        flat = latent.reshape(-1, latent.shape[-3], latent.shape[-2] * latent.shape[-1]).to(self.weight)
        rgb = torch.baddbmm(self.bias[None, :, None], self.weight.expand(flat.shape[0], -1, -1), flat)
        return rgb.reshape(*latent.shape[:-3], 3, *latent.shape[-2:])

    def frame(self, latent: torch.Tensor, size: tuple[int, int] | None = None, upscale: int = 16) -> torch.Tensor:
        """One latent frame [C, H, W] -> a displayable uint8 image [height, width, 3] (contiguous RGB888).

        `size` is the output (height, width); by default `upscale` pixels per token. Bilinear upsampling
        runs on uint8 channels-last, which is what keeps it cheap.
        """
        if latent.dim() != 3 or latent.shape[0] != self.weight.shape[1]:
            raise ValueError(f"latent frame has shape {tuple(latent.shape)}; expected [{self.weight.shape[1]}, H, W]")
        rgb = pixels_to_uint8(self.to_rgb(latent))
        size = size or (latent.shape[1] * upscale, latent.shape[2] * upscale)
        image = rgb[None].contiguous(memory_format=torch.channels_last)
        image = F.interpolate(image, size=size, mode="bilinear", align_corners=False)
        return image[0].permute(1, 2, 0)

    def save(self, path: str | Path) -> None:
        save_file({"weight": self.weight.contiguous(), "bias": self.bias.contiguous()}, str(path))

    @classmethod
    def load(cls, path: str | Path) -> PreviewMap:
        tensors = load_file(str(path))
        return cls(tensors["weight"].float(), tensors["bias"].float())


def fit_preview_map(latents: torch.Tensor, rgb: torch.Tensor) -> PreviewMap:
    """Least-squares fit of RGB [N, 3] from latent tokens [N, C] (with a bias), solved in float64."""
    if latents.dim() != 2 or rgb.shape != (latents.shape[0], 3):
        raise ValueError(f"need latents [N, C] and rgb [N, 3]; got {tuple(latents.shape)} and {tuple(rgb.shape)}")
    x = torch.cat([latents.double(), torch.ones(latents.shape[0], 1, dtype=torch.float64)], dim=1)
    solution = torch.linalg.lstsq(x, rgb.double()).solution  # [C + 1, 3]
    return PreviewMap(solution[:-1].T.float().contiguous(), solution[-1].float().contiguous())


def token_colours(video: torch.Tensor, pixels_per_token: int, time_factor: int) -> torch.Tensor:
    """Decoded video [B, 3, 1 + f(T-1), H, W] -> mean colour per latent token [B, 3, T, H/p, W/p].

    Latent frame 0 covers video frame 0; latent frame k >= 1 covers frames f(k-1)+1 .. fk.
    """
    first, rest = video[:, :, :1], video[:, :, 1:]
    b, c, n, h, w = rest.shape
    rest = rest.reshape(b, c, n // time_factor, time_factor, h, w).mean(dim=3)
    per_frame = torch.cat([first, rest], dim=2)
    return F.avg_pool3d(per_frame, kernel_size=(1, pixels_per_token, pixels_per_token))


def running_sums_by_pass(
    latent: torch.Tensor, schedule: Schedule, cfg: VAEConfig
) -> tuple[list[tuple[int, torch.Tensor]], torch.Tensor]:
    """What a live preview is shown while `latent` [B, C, T, H, W] is sampled bit for bit: per pass of `schedule`,
    (its clip, that clip's running sum after it), built from the latent's own bits as the sampler builds them; and
    the finished, quantised latent."""
    sums = RunningSums(schedule, cfg.codebook_dim, latent.device, batch=latent.shape[0])
    seen = []
    for p, bits in zip(schedule.passes, quantize_multiscale(latent, schedule, cfg.semantic_bits, cfg.detail_bits),
                       strict=True):
        sums.add(p, bits)
        seen.append((p.clip, sums.clip_latent(p.clip)))
    return seen, sums.latent()


@torch.no_grad()
def fit_preview_from_vae(vae: VideoVAE, latents: Iterable[torch.Tensor], schedule: Schedule) -> PreviewMap:
    """Fit the map on what a live preview shows: each encoder latent [B, C, T, H, W] is quantised along `schedule`,
    and the running sum after every pass is paired with the decoded colours of the finished, quantised video.

    Fitted on the encoder's continuous latents instead, the map was 4-5 dB from the decoded colours on running sums:
    the quantised latent the sampler builds lies elsewhere, and a least-squares map does not extrapolate there.
    """
    cfg = vae.cfg
    xs, ys = [], []
    for latent in latents:
        seen, finished = running_sums_by_pass(latent, schedule, cfg)
        colours = token_colours(vae.decode(finished), cfg.pixels_per_token, cfg.time_factor)
        for clip, running in seen:
            start, end = schedule.clip_spans[clip]
            xs.append(running.movedim(1, -1).reshape(-1, running.shape[1]))
            ys.append(colours[:, :, start:end].movedim(1, -1).reshape(-1, 3))
    return fit_preview_map(torch.cat(xs), torch.cat(ys))


def synthetic_videos(
    count: int, frames: int, height: int, width: int, generator: torch.Generator | None = None
) -> list[torch.Tensor]:
    """Smooth random colour fields that drift over time, in [-1, 1]: [1, 3, frames, height, width] each.

    Encoding these gives latents like the VAE's own, for fitting a preview map without a dataset.
    """
    videos = []
    for _ in range(count):
        coarse = torch.randn(1, 3, max(frames // 8, 2), 4, 6, generator=generator) * 1.5
        video = F.interpolate(coarse, size=(frames, height, width), mode="trilinear", align_corners=True)
        videos.append(torch.tanh(video))
    return videos
