"""Install a model from a folder laid out like the release: copy and hash, validate, convert the VAE, commit.

The transformer shards come as safetensors (model.safetensors.index.json), copied as they are, or as torch
pickles (pytorch_model.bin.index.json), read with weights_only one shard at a time and converted once to
safetensors shards with an index of the first kind, so memory holds about one shard and every later load is the
same. The torch shards' conversion and the last steps (VAE conversion, transformer validation, manifest) are
shared with the hub download.
Progress is reported as InstallStep records, numbered over every step (a file an earlier run finished is a
"kept" step).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from engine.api.install_events import InstallStep
from engine.api.json_text import loads_limited
from engine.atomic import write_text_atomic
from engine.config import Preset, TransformerConfig, get_preset
from engine.file_hash import sha256_file
from engine.tensors.errors import CheckpointError
from engine.tensors.safetensors_file import save_safetensors
from engine.tensors.torch_pickle import load_tensor_pickle
from engine.tensors.validate import check_shapes
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
from engine.weights.transformer_checkpoint import (
    DENSE_DTYPES,
    INDEX_NAME,
    TORCH_INDEX_NAME,
    ShardedCheckpoint,
    expected_shapes,
    open_transformer_checkpoint,
)
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
    weights = source / entry.weights_dir
    pickled = None if (weights / INDEX_NAME).is_file() else TorchShards.find(weights, preset.transformer)
    copies = [] if pickled else [(p, f"{TRANSFORMER_DIR}/{p.name}", "transformer")
                                 for p in open_transformer_checkpoint(weights / INDEX_NAME, preset.transformer).files()]
    if entry.text_encoder_dir:
        copies += [(p, f"{TEXT_ENCODER_DIR}/{rel}", "text_encoder")
                   for p, rel in _folder_files(source / entry.text_encoder_dir)]

    origin = {"folder": str(source)}
    staging = Staging(root, entry.model_id, origin)
    # each copy or shard conversion, then the VAE conversion
    steps = Steps(len(copies) + (len(pickled.shards) if pickled else 0) + 1, progress)
    files = pickled.convert(staging, steps) if pickled else []
    files += [_copy(staging, src, rel, role, steps) for src, rel, role in copies]
    pth = source / entry.vae_file
    files.append(converted_vae(staging, pth, _stamp(pth), None, preset, steps))
    return finish(staging, entry, origin, files)


class TorchShards:
    """A transformer in torch shards named by pytorch_model.bin.index.json, checked by name before any is read."""

    def __init__(self, index: Path, weight_map: dict[str, str], expected: dict[str, tuple[int, ...]]) -> None:
        self.index = index
        self.weight_map = weight_map
        self.expected = expected
        self.shards = sorted(set(weight_map.values()))

    @classmethod
    def find(cls, folder: Path, cfg: TransformerConfig) -> TorchShards:
        index = folder / TORCH_INDEX_NAME
        if not index.is_file():
            raise CheckpointError(f"{folder} holds neither {INDEX_NAME} nor {TORCH_INDEX_NAME}: expected the "
                                  "transformer's shards and their index")
        shards = cls.read(index, cfg)
        missing = [n for n in shards.shards if not (folder / n).is_file()]
        if missing:
            raise CheckpointError(f"{index} names shard files that do not exist: {', '.join(missing)}")
        return shards

    @classmethod
    def read(cls, index: Path, cfg: TransformerConfig) -> TorchShards:
        """The index's tensor names checked against the transformer's, and its shard names; no shard is looked at
        (the hub download reads the index before it fetches the shards, into the index's folder)."""
        try:
            data = loads_limited(index.read_text(encoding="utf-8"), "its text")
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            raise CheckpointError(f"{index} is not valid JSON: {err}") from None
        weight_map = data.get("weight_map") if isinstance(data, dict) else None
        if not isinstance(weight_map, dict) or not weight_map:
            raise CheckpointError(f"{index} has no weight_map: expected {{'weight_map': {{tensor name: shard file}}}}")
        names = set(weight_map.values())
        bad = sorted(str(n) for n in names if not isinstance(n, str) or Path(n).name != n or not n.endswith(".bin"))
        if bad:
            raise CheckpointError(f"{index} names shard files that are not .bin files in its folder: {', '.join(bad)}")
        expected = expected_shapes(cfg)
        check_shapes(dict.fromkeys(expected), dict.fromkeys(weight_map, ()), str(index), "transformer")
        return cls(index, weight_map, expected)

    def convert(self, staging: Staging, steps: Steps) -> list[FileEntry]:
        """Each shard converted to safetensors in the store (resumable shard by shard), then the index for them."""
        renamed = {shard: _safetensors_name(shard) for shard in self.shards}
        if len(set(renamed.values())) < len(renamed):
            raise CheckpointError(f"{self.index} names shards that would convert to the same file: {self.shards}")
        files = [self._converted(staging, shard, renamed[shard], steps) for shard in self.shards]
        rel = f"{TRANSFORMER_DIR}/{INDEX_NAME}"
        total = sum(f.bytes for f in files)  # an upper bound (headers included), as transformers' own index says
        weight_map = {name: renamed[shard] for name, shard in self.weight_map.items()}
        write_text_atomic(staging.path(rel), json.dumps({"metadata": {"total_size": total},
                                                         "weight_map": weight_map}, indent=2))
        index = staging.path(rel)
        return [*files, FileEntry(rel, "transformer", index.stat().st_size, sha256_file(index))]

    def _converted(self, staging: Staging, shard: str, name: str, steps: Steps) -> FileEntry:
        src = self.index.parent / shard
        rel = f"{TRANSFORMER_DIR}/{name}"
        stamp = _stamp(src)
        done = staging.finished(rel, stamp)
        if done is not None:
            steps("kept", rel)
            return done
        steps("converting", shard, "to safetensors")
        state = load_tensor_pickle(src)
        if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
            raise CheckpointError(f"{src} holds {type(state).__name__}, not a transformer shard "
                                  "({tensor name: tensor}, as torch.save of a state dict writes)")
        listed = [n for n, s in self.weight_map.items() if s == shard]
        check_shapes({n: self.expected[n] for n in listed}, {k: v.shape for k, v in state.items()}, str(src),
                     "transformer")
        odd = [f"{k} is {str(v.dtype).removeprefix('torch.')}" for k, v in state.items() if v.dtype not in DENSE_DTYPES]
        if odd:
            raise CheckpointError(f"{src} holds non-float tensors (expected float32/bfloat16/float16): {odd[:8]}")
        out = staging.path(rel)
        save_safetensors(state, out, metadata={"format": "pt", "converted_from": shard})
        del state
        provenance = {"file": shard, "bytes": stamp["bytes"], "sha256": sha256_file(src)}
        entry = FileEntry(rel, "transformer", out.stat().st_size, sha256_file(out), converted_from=provenance)
        staging.record(entry, stamp)
        return entry


def _safetensors_name(shard: str) -> str:
    """pytorch_model-00001-of-00006.bin -> model-00001-of-00006.safetensors, the names save_pretrained gives."""
    stem = shard.removesuffix(".bin")
    return stem.replace("pytorch_model", "model", 1) + ".safetensors"


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
