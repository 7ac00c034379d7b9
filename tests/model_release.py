"""Small model releases laid out like the FoundationVision/InfinityStar repo, for the model store tests."""

from __future__ import annotations

import io
import os
from pathlib import Path

import torch

from engine.config import get_preset
from engine.model.transformer import InfinityStarTransformer
from engine.model.vae import VideoVAE
from engine.weights.catalogue import CatalogueEntry
from engine.weights.transformer_checkpoint import write_transformer_checkpoint

TEXT_ENCODER_FILES = {"config.json": b'{"d_model": 32}\n', "spiece.model": b"\x00sentencepiece" * 64,
                      "sub/extra.json": b"{}\n"}


def write_release(folder: Path, entry: CatalogueEntry, seed: int = 0, shards: int = 2) -> Path:
    """The release files of `entry` under `folder`: sharded transformer, VAE pickle, text encoder folder."""
    preset = get_preset(entry.preset)
    torch.manual_seed(seed)
    write_transformer_checkpoint(InfinityStarTransformer(preset.transformer).state_dict(),
                                 folder / entry.weights_dir, shards)
    torch.save({"vae": VideoVAE(preset.vae).state_dict()}, folder / entry.vae_file)
    if entry.text_encoder_dir:
        for rel, data in TEXT_ENCODER_FILES.items():
            path = folder / entry.text_encoder_dir / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    return folder


def release_bytes(folder: Path) -> dict[str, bytes]:
    """Every file of a release folder by its '/'-separated path, as a repo lists them."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


class _RunsCode:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def carrying_code(shard: bytes, marker: Path) -> bytes:
    """A torch shard's bytes with one more entry that would create `marker` (run code) if unpickled unsafely."""
    state = torch.load(io.BytesIO(shard), weights_only=True)
    out = io.BytesIO()
    torch.save(dict(state, payload=_RunsCode(marker)), out)
    return out.getvalue()
