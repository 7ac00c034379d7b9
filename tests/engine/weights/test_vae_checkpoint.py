"""The released VAE pickle is converted once to safetensors; a pickle that carries code never runs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from engine.config import VAEConfig
from engine.model.vae import VAECheckpointError, VideoVAE
from engine.tensors.safetensors_file import SafetensorsFile
from engine.weights.vae_checkpoint import convert_vae_checkpoint

TINY = VAEConfig(block_out_channels=(8, 16, 32, 32, 32))


@pytest.fixture(scope="module")
def vae() -> VideoVAE:
    torch.manual_seed(0)
    return VideoVAE(TINY).eval()


def test_the_released_pth_converts_to_safetensors_that_decode_identically(vae: VideoVAE, tmp_path: Path) -> None:
    torch.save({"vae": vae.state_dict()}, tmp_path / "infinitystar_videovae.pth")
    out = tmp_path / "vae.safetensors"
    convert_vae_checkpoint(tmp_path / "infinitystar_videovae.pth", out, TINY)
    assert SafetensorsFile.open(out).metadata["converted_from"] == "infinitystar_videovae.pth"
    z = torch.randn(1, TINY.codebook_dim, 2, 2, 3, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        assert torch.equal(VideoVAE.from_file(TINY, out).decode(z), vae.decode(z))
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_pth_that_does_not_fit_the_config_is_not_converted(vae: VideoVAE, tmp_path: Path) -> None:
    state = dict(vae.state_dict())
    state["proj_up.weight"] = torch.zeros(3, 3)
    torch.save({"vae": state}, tmp_path / "vae.pth")
    with pytest.raises(VAECheckpointError, match="vae.pth does not fit this VAE config: 1 mis-shaped: proj_up.weight"):
        convert_vae_checkpoint(tmp_path / "vae.pth", tmp_path / "vae.safetensors", TINY)
    assert not (tmp_path / "vae.safetensors").exists()


class _RunsCode:
    """Unpickling this calls os.system: what a malicious checkpoint would do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_pickle_carrying_code_is_refused_and_the_code_never_runs(tmp_path: Path) -> None:
    marker = tmp_path / "code-ran"
    path = tmp_path / "infinitystar_videovae.pth"
    torch.save({"vae": {"proj_up.weight": _RunsCode(marker)}}, path)
    with pytest.raises(VAECheckpointError, match="holds Python objects other than tensors; .* refused"):
        convert_vae_checkpoint(path, tmp_path / "vae.safetensors", TINY)
    assert not marker.exists()
    assert not (tmp_path / "vae.safetensors").exists()
