"""Package trained toyworld weights as a built-in model: the store's layout and manifest, sha256 per file.

    python -m engine.train.export --vae runs/toyworld/decoder --transformer runs/toyworld/transformer \\
        --out resources/models/toyworld

The folder is built beside the target and renamed into place, so a half-written model never appears.
"""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path

import torch
from safetensors.torch import load_file

from engine.config import get_preset
from engine.file_hash import sha256_file
from engine.model.preview import PreviewMap, fit_preview_from_vae
from engine.model.vae import VideoVAE
from engine.schedule import build_schedule
from engine.tensors.safetensors_file import save_safetensors
from engine.text.words import WORDS_FILE
from engine.train.builtin_files import MODEL_ID, PREVIEW_FILE, TRANSFORMER_FILE, VAE_FILE
from engine.train.checkpoint import WEIGHTS
from engine.train.toyworld.world import EVAL_SEED_START, sample_batch
from engine.train.transformer_train import Toyworld
from engine.train.vae_train import load_vae, to_video
from engine.weights.manifest import TEXT_ENCODER_DIR, FileEntry, Manifest, Variant

PREVIEW_FIT_VIDEOS = 32
SIZE_LIMIT = 40 * 2**20


def preview_map(vae: VideoVAE) -> PreviewMap:
    """The live-preview map, fitted on the running sums of toyworld videos' own bits (seeds outside training)."""
    seeds = list(range(EVAL_SEED_START - PREVIEW_FIT_VIDEOS, EVAL_SEED_START))
    frames, _ = sample_batch(seeds, 1, 64)
    with torch.no_grad():
        latents = vae.encode(to_video(frames))
    return fit_preview_from_vae(vae, latents.split(8), build_schedule(get_preset(MODEL_ID).schedule, 1, "1:1"))


def export(vae_run: Path, transformer_run: Path, out: Path, source: dict[str, str]) -> Manifest:
    vae = load_vae(vae_run)
    pair = Toyworld()
    pair.load_state_dict(load_file(transformer_run / WEIGHTS))
    work = out.with_name(f".{out.name}.exporting")
    shutil.rmtree(work, ignore_errors=True)
    for sub in ("transformer", "vae", TEXT_ENCODER_DIR):
        (work / sub).mkdir(parents=True)
    save_safetensors(pair.transformer.state_dict(), work / TRANSFORMER_FILE, metadata={"format": "pt"})
    save_safetensors(vae.state_dict(), work / VAE_FILE, metadata={"format": "pt"})
    pair.text.save(work / TEXT_ENCODER_DIR / WORDS_FILE)
    preview_map(vae).save(work / PREVIEW_FILE)
    roles = {TRANSFORMER_FILE: "transformer", VAE_FILE: "vae", f"{TEXT_ENCODER_DIR}/{WORDS_FILE}": "text_encoder",
             PREVIEW_FILE: "preview"}
    files = []
    for rel, role in roles.items():
        variant = "fp32" if role == "transformer" else None
        files.append(FileEntry(rel, role, (work / rel).stat().st_size, sha256_file(work / rel), variant))
    total = sum(f.bytes for f in files)
    if total > SIZE_LIMIT:
        raise ValueError(f"the toyworld files are {total / 2**20:.1f} MB; the built-in model must stay under 40 MB")
    manifest = Manifest(MODEL_ID, MODEL_ID, source, "fp32", {"fp32": Variant(TRANSFORMER_FILE)}, files)
    manifest.save(work)
    old = out.with_name(f".{out.name}.old")
    if out.exists():
        os.replace(out, old)
    os.replace(work, out)
    shutil.rmtree(old, ignore_errors=True)
    return manifest


def main() -> None:
    parser = argparse.ArgumentParser(description="package trained toyworld weights as the built-in model")
    parser.add_argument("--vae", type=Path, default=Path("runs/toyworld/vae"))
    parser.add_argument("--transformer", type=Path, default=Path("runs/toyworld/transformer"))
    parser.add_argument("--out", type=Path, default=Path("resources/models/toyworld"))
    args = parser.parse_args()
    source = {"trained": "python -m engine.train.vae_train; python -m engine.train.transformer_train (see docs)"}
    manifest = export(args.vae, args.transformer, args.out, source)
    for f in manifest.files:
        print(f"{f.path:40s} {f.bytes / 2**20:6.2f} MB  sha256 {f.sha256}")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
