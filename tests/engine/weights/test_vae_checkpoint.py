"""The released VAE pickle is converted once to safetensors; a pickle that carries code never runs."""

from __future__ import annotations

import os
import pickle
import zipfile
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
    with pytest.raises(VAECheckpointError, match="not a plain tensor checkpoint: .* refused for safety"):
        convert_vae_checkpoint(path, tmp_path / "vae.safetensors", TINY)
    assert not marker.exists()
    assert not (tmp_path / "vae.safetensors").exists()


def test_a_legacy_format_tensors_only_pth_converts_like_the_zip_format(vae: VideoVAE, tmp_path: Path) -> None:
    """torch.save(..., _use_new_zipfile_serialization=False): the pre-1.6 format, still tensors only, so it loads."""
    legacy = tmp_path / "infinitystar_videovae.pth"
    torch.save({"vae": vae.state_dict()}, legacy, _use_new_zipfile_serialization=False)
    assert not zipfile.is_zipfile(legacy)
    out = tmp_path / "vae.safetensors"
    convert_vae_checkpoint(legacy, out, TINY)
    loaded = VideoVAE.from_file(TINY, out).state_dict()
    assert all(torch.equal(loaded[k], v) for k, v in vae.state_dict().items())


@pytest.mark.parametrize("legacy", [False, True], ids=["zip format", "legacy format"])
def test_a_pth_carrying_code_is_refused_for_safety_naming_what_loads(tmp_path: Path, legacy: bool) -> None:
    marker = tmp_path / "code-ran"
    path = tmp_path / "infinitystar_videovae.pth"
    torch.save({"vae": {"proj_up.weight": _RunsCode(marker)}}, path, _use_new_zipfile_serialization=not legacy)
    with pytest.raises(VAECheckpointError) as err:
        convert_vae_checkpoint(path, tmp_path / "vae.safetensors", TINY)
    message = str(err.value)
    assert message.startswith(f"{path} is not a plain tensor checkpoint: ")
    assert "refused for safety" in message and "What loads: a .safetensors file, or a PyTorch .pth" in message
    assert "save" not in message.split("What loads")[0]  # no advice to re-save the file
    assert not marker.exists()
    assert not (tmp_path / "vae.safetensors").exists()


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_a_raw_pickle_renamed_pth_is_refused_for_safety_and_never_runs(tmp_path: Path) -> None:
    marker = tmp_path / "code-ran"
    path = tmp_path / "infinitystar_videovae.pth"
    path.write_bytes(pickle.dumps({"vae": {"proj_up.weight": _RunsCode(marker)}}))
    with pytest.raises(VAECheckpointError, match=r"is not a plain tensor checkpoint: .* refused for safety"):
        convert_vae_checkpoint(path, tmp_path / "vae.safetensors", TINY)
    assert not marker.exists()
