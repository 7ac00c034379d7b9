"""Latent -> RGB preview: the least-squares fit, its pairing with decoded frames, the displayable frame."""

from __future__ import annotations

import torch

from engine.config import get_preset
from engine.model.bsq import bits_to_codes, quantize_multiscale, upsample_codes
from engine.model.preview import PreviewMap, fit_preview_from_vae, fit_preview_map, synthetic_videos
from engine.model.running_sum import bits_to_latent
from engine.model.vae import VideoVAE
from engine.schedule import build_schedule


def test_fit_recovers_a_known_linear_map() -> None:
    g = torch.Generator().manual_seed(0)
    weight, bias = torch.randn(3, 64, generator=g), torch.randn(3, generator=g)
    latents = torch.randn(500, 64, generator=g)
    fitted = fit_preview_map(latents, latents @ weight.T + bias)
    assert torch.allclose(fitted.weight, weight, atol=1e-4)
    assert torch.allclose(fitted.bias, bias, atol=1e-4)


def _colours_by_hand(video: torch.Tensor) -> torch.Tensor:
    """Mean colour of each token's block of pixels, over frame 0 for latent frame 0 and frames 4k-3..4k for frame k."""
    frames = video.shape[2]
    groups = [[0]] + [list(range(f, f + 4)) for f in range(1, frames, 4)]
    per_latent = torch.stack([video[:, :, g].mean(dim=2) for g in groups], dim=2)  # [1, 3, T, H, W]
    b, c, t, h, w = per_latent.shape
    px = get_preset("toyworld").vae.pixels_per_token
    return per_latent.reshape(b, c, t, h // px, px, w // px, px).mean(dim=(4, 6))


def test_fit_from_vae_is_the_least_squares_map_of_every_passs_running_sum_to_the_decoded_colours() -> None:
    toy = get_preset("toyworld")
    cfg = toy.vae
    torch.manual_seed(0)
    vae = VideoVAE(cfg).eval()
    schedule = build_schedule(toy.schedule, 1, "1:1")
    latents = [vae.encode(v) for v in synthetic_videos(2, 17, 64, 64, torch.Generator().manual_seed(1))]
    fitted = fit_preview_from_vae(vae, latents, schedule)
    grid = schedule.latent_shape[1:]
    x, y = [], []
    for z in latents:
        bits = quantize_multiscale(z, schedule, cfg.semantic_bits, cfg.detail_bits)
        colours = _colours_by_hand(vae.decode(bits_to_latent(bits, schedule, cfg.codebook_dim)))
        for k, p in enumerate(schedule.passes):
            same_clip = [j for j in range(k + 1) if schedule.passes[j].clip == p.clip]
            running = sum(upsample_codes(bits_to_codes(bits[j]), cfg.codebook_dim, *grid) for j in same_clip)
            frames = slice(sum(schedule.clip_lengths[: p.clip]), sum(schedule.clip_lengths[: p.clip + 1]))
            x.append(running.movedim(1, -1).reshape(-1, cfg.codebook_dim))
            y.append(colours[:, :, frames].movedim(1, -1).reshape(-1, 3))
    x, y = torch.cat(x).double(), torch.cat(y).double()
    residual = x @ fitted.weight.double().T + fitted.bias.double() - y
    # optimality: the residual is orthogonal to every latent channel and to the constant
    assert (x.T @ residual).abs().max() < 1e-4 * x.abs().max() * y.abs().sum()
    assert abs(float(residual.sum())) < 1e-3 * float(y.abs().sum())
    assert residual.norm() < (y - y.mean(dim=0)).norm()


def test_frame_is_a_displayable_upsampled_image() -> None:
    preview = PreviewMap(torch.full((3, 64), 0.01), torch.tensor([0.5, -0.5, 2.0]))
    frame = preview.frame(torch.ones(64, 3, 5))
    assert frame.shape == (48, 80, 3) and frame.dtype == torch.uint8 and frame.is_contiguous()
    # rgb = 0.64 + bias, clamped to [-1, 1], mapped to 0..255
    want = torch.tensor([round((min(max(0.64 + b, -1), 1) + 1) * 127.5) for b in (0.5, -0.5, 2.0)], dtype=torch.uint8)
    assert torch.equal(frame.reshape(-1, 3).unique(dim=0), want[None])
    assert preview.frame(torch.zeros(64, 3, 5), size=(30, 50)).shape == (30, 50, 3)


def test_save_and_load_round_trip(tmp_path) -> None:
    preview = PreviewMap(torch.randn(3, 64), torch.randn(3))
    preview.save(tmp_path / "preview.safetensors")
    loaded = PreviewMap.load(tmp_path / "preview.safetensors")
    assert torch.equal(loaded.weight, preview.weight) and torch.equal(loaded.bias, preview.bias)
