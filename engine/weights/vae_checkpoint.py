"""The released VAE `.pth` (a pickle of {"vae": state_dict}) converted once to safetensors.

The pickle is opened with weights_only=True: objects other than tensors (and a raw pickle) are refused before
anything runs. A zip-format file (torch >= 1.6) is memory-mapped, so the conversion never holds it twice; a legacy
tensors-only file loads too, read into memory. Later loads read the safetensors.
"""

from __future__ import annotations

from pathlib import Path

import torch

from engine.config import VAEConfig
from engine.model.vae import VAECheckpointError, VideoVAE, load_vae_state
from engine.tensors.safetensors_file import save_safetensors
from engine.tensors.validate import check_shapes


def convert_vae_checkpoint(pth: str | Path, out: str | Path, cfg: VAEConfig) -> None:
    """Validate the released VAE against `cfg` and write it as safetensors, atomically."""
    state = load_vae_state(pth)
    with torch.device("meta"):
        expected = {k: v.shape for k, v in VideoVAE(cfg).state_dict().items()}
    check_shapes(expected, {k: v.shape for k, v in state.items()}, str(pth), "VAE", VAECheckpointError)
    save_safetensors(state, out, metadata={"format": "pt", "converted_from": Path(pth).name})
