"""Install a model from a folder laid out like the release: copy and hash, validate, convert the VAE, commit.

The last steps (VAE conversion, transformer validation, manifest) are shared with the hub download. Progress is
reported as InstallStep records, numbered over every step (a file an earlier run finished is a "kept" step).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from engine.api.install_events import InstallStep
from engine.config import Preset, get_preset
from engine.file_hash import sha256_file
from engine.weights.catalogue import CatalogueEntry
from engine.weights.files import copy_hashed
from engine.weights.manifest import (
    TEXT_ENCODER_DIR,
    TRANSFORMER_DIR,
    VAE_SAFETENSORS,
    FileEntry,
    Manifest,
    ModelStoreError,
    Variant,
)
from engine.weights.staging import Staging
from engine.weights.transformer_checkpoint import INDEX_NAME, ShardedCheckpoint, open_transformer_checkpoint
from engine.weights.vae_checkpoint import convert_vae_checkpoint

PRECISION_NAMES = {torch.float32: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}

Progress = Callable[[InstallStep], None]


class Steps:
    """Numbers the steps of one install for `progress`: `total` is known once the list of files is."""

    def __init__(self, total: int, progress: Progress) -> None:
        self.total = total
        self.done = 0
        self.progress = progress

    def __call__(self, action: str, name: str, detail: str = "") -> None:
        self.done += 1
        self.progress(InstallStep(action, name, self.done, self.total, detail))


def install_from_folder(entry: CatalogueEntry, source: Path, root: Path, progress: Progress) -> Manifest:
    """Copy the release files of `entry` out of `source` into the store under `root`."""
    source = Path(source).expanduser().resolve()
    if not source.is_dir():
        raise ModelStoreError(f"{source} is not a folder")
    preset = get_preset(entry.preset)
    missing = [p for p in entry.layout() if not (source / p).exists()]
    if missing:
        raise ModelStoreError(f"{source} lacks {', '.join(missing)}: expected a folder laid out like the "
                              f"{entry.repo} release ({', '.join(entry.layout())})")
    ckpt = open_transformer_checkpoint(source / entry.weights_dir / INDEX_NAME, preset.transformer)
    copies = [(p, f"{TRANSFORMER_DIR}/{p.name}", "transformer") for p in ckpt.files()]
    if entry.text_encoder_dir:
        copies += [(p, f"{TEXT_ENCODER_DIR}/{rel}", "text_encoder")
                   for p, rel in _folder_files(source / entry.text_encoder_dir)]

    origin = {"folder": str(source)}
    staging = Staging(root, entry.model_id, origin)
    steps = Steps(len(copies) + 1, progress)  # each copy, then the VAE conversion
    files = [_copy(staging, src, rel, role, steps) for src, rel, role in copies]
    pth = source / entry.vae_file
    files.append(converted_vae(staging, pth, _stamp(pth), None, preset, steps))
    return finish(staging, entry, origin, files)


def _folder_files(folder: Path) -> list[tuple[Path, str]]:
    """Every file under `folder` with its '/'-separated path inside it; hidden files and folders are not taken."""
    files = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if path.is_file() and not any(part.startswith(".") for part in rel.parts):
            files.append((path, rel.as_posix()))
    return files


def _stamp(path: Path) -> dict[str, int]:
    st = path.stat()
    return {"bytes": st.st_size, "mtime_ns": st.st_mtime_ns}


def _copy(staging: Staging, src: Path, rel: str, role: str, steps: Steps) -> FileEntry:
    stamp = _stamp(src)
    done = staging.finished(rel, stamp)
    if done is not None:
        steps("kept", rel)
        return done
    steps("copying", rel)
    size, sha256 = copy_hashed(src, staging.path(rel))
    entry = FileEntry(rel, role, size, sha256)
    staging.record(entry, stamp)
    return entry


def converted_vae(
    staging: Staging, pth: Path, stamp: dict[str, Any], pth_sha256: str | None, preset: Preset, steps: Steps
) -> FileEntry:
    """The released VAE .pth converted to safetensors in the staging folder; its own sha256 kept as provenance."""
    done = staging.finished(VAE_SAFETENSORS, stamp)
    if done is not None:
        steps("kept", VAE_SAFETENSORS)
        return done
    steps("converting", pth.name, "to safetensors")
    out = staging.path(VAE_SAFETENSORS)
    convert_vae_checkpoint(pth, out, preset.vae)
    provenance = {"file": pth.name, "bytes": pth.stat().st_size, "sha256": pth_sha256 or sha256_file(pth)}
    entry = FileEntry(VAE_SAFETENSORS, "vae", out.stat().st_size, sha256_file(out), converted_from=provenance)
    staging.record(entry, stamp)
    return entry


def release_precision(ckpt: ShardedCheckpoint) -> str:
    """The dtype holding most of the checkpoint's bytes (norms may be kept wider than the linears)."""
    weight: Counter[torch.dtype] = Counter()
    for name, shard in ckpt.where.items():
        tensor = ckpt.shards[shard].entries[name]
        weight[tensor.dtype] += tensor.nbytes
    return PRECISION_NAMES[weight.most_common(1)[0][0]]


def finish(staging: Staging, entry: CatalogueEntry, source: dict[str, str], files: list[FileEntry]) -> Manifest:
    """Validate the staged transformer, write the manifest and move the model into place."""
    index = staging.folder / TRANSFORMER_DIR / INDEX_NAME
    ckpt = open_transformer_checkpoint(index, get_preset(entry.preset).transformer)
    precision = release_precision(ckpt)
    used = {p.relative_to(staging.folder).as_posix() for p in ckpt.files()}
    files = [replace(f, variant=precision) if f.role == "transformer" else f
             for f in files if f.role != "transformer" or f.path in used]
    variant = Variant(entry=f"{TRANSFORMER_DIR}/{INDEX_NAME}")
    manifest = Manifest(entry.model_id, entry.preset, source, precision, {precision: variant}, files)
    staging.commit(manifest)
    return manifest
