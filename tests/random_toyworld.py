"""Random toyworld weights exported as a built-in model, for tests that need the model before it is trained."""

from __future__ import annotations

from pathlib import Path

import torch

from engine.config import get_preset
from engine.model.vae import VideoVAE
from engine.runtime.hardware import DeviceInfo
from engine.tensors.safetensors_file import save_safetensors
from engine.train.checkpoint import WEIGHTS
from engine.train.export import export
from engine.train.transformer_train import Toyworld

GB = 10**9
TEST_HOST = DeviceInfo("cpu", "test CPU", 16 * GB, 16 * GB, 16 * GB, 16 * GB)


def export_random_toyworld(runs: Path, root: Path) -> Path:
    """Export seeded random VAE and transformer weights (training runs under `runs`) to `root`/toyworld; `root`
    is the built-in root to give a ModelStore."""
    torch.manual_seed(0)
    (runs / "vae").mkdir()
    (runs / "transformer").mkdir()
    save_safetensors(VideoVAE(get_preset("toyworld").vae).state_dict(), runs / "vae" / WEIGHTS)
    save_safetensors(Toyworld().state_dict(), runs / "transformer" / WEIGHTS)
    export(runs / "vae", runs / "transformer", root / "toyworld", {"trained": "random weights, for a test"})
    return root
