"""Self-test of the video VAE against a recorded run of the official code (a parity fixture folder)."""

from __future__ import annotations

import torch

from engine.config import VAEConfig
from engine.model.vae import VideoVAE
from engine.selftest.fixture import Fixture

# What our VideoVAE implements; a fixture describing anything else cannot be checked with it.
_SUPPORTED = {
    "norm_type": "rms",
    "act_fn": "silu",
    "down_layer": "3d-dc",
    "up_layer": "3d-dc",
    "down_block_mode": "dc",
    "up_block_mode": "dc",
    "pad_mode": "constant",
    "use_feat_proj": 2,
}


class VAEFixtureError(ValueError):
    """The fixture lacks a field or describes a VAE this engine does not implement."""


def vae_config_from_fixture(vae: dict) -> VAEConfig:
    """The VAEConfig described by a fixture's "vae" section."""
    try:
        for key, want in _SUPPORTED.items():
            if vae[key] != want:
                raise VAEFixtureError(f"fixture vae.{key} is {vae[key]!r}; this engine implements {want!r}")
        if vae["encoder_out_channels"] != 2 * vae["latent_channels"]:
            raise VAEFixtureError("fixture vae.encoder_out_channels must be 2 * latent_channels (mean, logvar)")
        return VAEConfig(
            block_out_channels=tuple(vae["block_out_channels"]),
            layers_per_block=vae["layers_per_block"],
            decoder_layers_per_block=vae["decoder_resnets_per_block"],
            in_channels=vae["in_channels"],
            latent_channels=vae["latent_channels"],
            temporal_compression=tuple(vae["temporal_compression_list"]),
            spatial_compression=tuple(vae["spatial_compression_list"]),
            codebook_dim=vae["codebook_dim"],
            semantic_bits=vae["semantic_bits"],
            detail_bits=vae["detail_bits"],
        )
    except KeyError as missing:
        raise VAEFixtureError(f"fixture vae section has no field {missing}") from None


def _max_abs(a: torch.Tensor, b: torch.Tensor) -> float:
    if a.shape != b.shape:
        raise VAEFixtureError(f"shape mismatch: ours {tuple(a.shape)}, fixture {tuple(b.shape)}")
    return float((a.float().cpu() - b.float()).abs().max())


@torch.no_grad()
def check_vae(fixture: Fixture, device: str = "cpu") -> dict[str, float]:
    """Worst max-abs error per part: decoding the fixture's summed codes, and encoding its input video.

    The VAE is built only from fixture.json's "vae" description and loads vae.safetensors unchanged.
    """
    cfg = vae_config_from_fixture(fixture.field("vae"))
    vae = VideoVAE.from_file(cfg, fixture.root / "vae.safetensors", device)
    io = fixture.io

    decoded = vae.decode(io["summed_codes"].to(device)).cpu()
    rows, cols = io["decoded.grid_rows"].long(), io["decoded.grid_cols"].long()
    tl, br = io["decoded.tile_top_left"], io["decoded.tile_bottom_right"]
    decode_errors = (
        _max_abs(decoded[:, :, :, rows][..., cols], io["decoded.grid"]),
        _max_abs(decoded[..., : tl.shape[-2], : tl.shape[-1]], tl),
        _max_abs(decoded[..., -br.shape[-2] :, -br.shape[-1] :], br),
    )

    video = io["vae_encode.input_video"].to(device)
    features = vae.encoder_features(video)
    mean, _ = vae.posterior(features)
    return {
        "vae.decoded": max(decode_errors),
        "vae.encoder_out": _max_abs(features, io["vae_encode.encoder_out"]),
        "vae.posterior_mean": _max_abs(mean, io["vae_encode.posterior_mean"]),
        "vae.raw_features": _max_abs(vae.encode(video), io["vae_encode.raw_features"]),
        "vae.encode_decoded": _max_abs(
            vae.decode(io["vae_encode.raw_features"].to(device)), io["vae_encode.decoded"]
        ),
    }
