"""The transformer checkpoint in the release's layout: safetensors shards named by model.safetensors.index.json.

Everything is validated from headers alone (index, shard sizes, tensor names and shapes) before a single
weight is allocated. Loading builds the model on the meta device and assigns each tensor as it is read,
so the process never holds more than the model plus one tensor in flight.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import torch

from engine.api.json_text import loads_limited
from engine.atomic import write_text_atomic
from engine.config import TransformerConfig
from engine.model.transformer import InfinityStarTransformer
from engine.tensors.errors import CheckpointError
from engine.tensors.safetensors_file import SafetensorsFile, save_safetensors
from engine.tensors.validate import check_shapes

INDEX_NAME = "model.safetensors.index.json"
# The other layout transformers' load_sharded_checkpoint reads: torch pickles, converted once when installed.
TORCH_INDEX_NAME = "pytorch_model.bin.index.json"
SINGLE_NAME = "model.safetensors"
DENSE_DTYPES = (torch.float32, torch.bfloat16, torch.float16)


class ShardedCheckpoint:
    """Tensor name -> the shard holding it, for an index json or a single safetensors file."""

    def __init__(self, source: Path, shards: dict[str, SafetensorsFile], where: dict[str, str]) -> None:
        self.source = source
        self.shards = shards
        self.where = where

    @classmethod
    def open(cls, path: str | Path) -> ShardedCheckpoint:
        """`path`: an index json, a folder holding one (or a single model.safetensors), or a .safetensors file."""
        path = Path(path)
        if path.is_dir():
            index = path / INDEX_NAME
            path = index if index.is_file() or not (path / SINGLE_NAME).is_file() else path / SINGLE_NAME
        if path.suffix == ".safetensors":
            shard = SafetensorsFile.open(path)
            return cls(path, {path.name: shard}, dict.fromkeys(shard.entries, path.name))
        return cls._from_index(path)

    @classmethod
    def _from_index(cls, index: Path) -> ShardedCheckpoint:
        if not index.is_file():
            raise CheckpointError(f"{index} does not exist: a sharded checkpoint needs its {INDEX_NAME}")
        try:
            data = loads_limited(index.read_text(), "its text")
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise CheckpointError(f"{index} is not valid JSON: {err}") from None
        weight_map = data.get("weight_map") if isinstance(data, dict) else None
        if not isinstance(weight_map, dict) or not weight_map:
            raise CheckpointError(f"{index} has no weight_map: expected {{'weight_map': {{tensor name: shard file}}}}")
        names = set(weight_map.values())
        bad = sorted(str(n) for n in names if not isinstance(n, str) or Path(n).name != n)
        if bad:
            raise CheckpointError(f"{index} names shard files outside its folder: {', '.join(bad)}")
        missing = sorted(n for n in names if not (index.parent / n).is_file())
        if missing:
            raise CheckpointError(f"{index} names shard files that do not exist: {', '.join(missing)}")
        shards = {n: SafetensorsFile.open(index.parent / n) for n in sorted(names)}
        absent = [f"{k} (in {v})" for k, v in weight_map.items() if k not in shards[v].entries]
        if absent:
            raise CheckpointError(f"{index} lists tensors its shards do not hold: {', '.join(absent[:8])}")
        return cls(index, shards, dict(weight_map))

    def shapes(self) -> dict[str, tuple[int, ...]]:
        return {name: self.shards[shard].entries[name].shape for name, shard in self.where.items()}

    def dtypes(self) -> dict[str, torch.dtype]:
        return {name: self.shards[shard].entries[name].dtype for name, shard in self.where.items()}

    @property
    def data_bytes(self) -> int:
        return sum(self.shards[s].entries[n].nbytes for n, s in self.where.items())

    def read(self, name: str, dtype: torch.dtype | None = None, device: str | torch.device = "cpu") -> torch.Tensor:
        return self.shards[self.where[name]].read(name, dtype, device)

    def files(self) -> list[Path]:
        extra = [self.source] if self.source.name == INDEX_NAME else []
        return extra + [shard.path for shard in self.shards.values()]


def expected_shapes(cfg: TransformerConfig) -> dict[str, tuple[int, ...]]:
    with torch.device("meta"):
        model = InfinityStarTransformer(cfg)
    return {k: tuple(v.shape) for k, v in model.state_dict().items()}


def open_transformer_checkpoint(path: str | Path, cfg: TransformerConfig) -> ShardedCheckpoint:
    """Open and validate against `cfg`: names, shapes and dense float dtypes, from the headers only."""
    ckpt = ShardedCheckpoint.open(path)
    check_shapes(expected_shapes(cfg), ckpt.shapes(), str(ckpt.source), "transformer")
    odd = [f"{k} is {str(d).removeprefix('torch.')}" for k, d in ckpt.dtypes().items() if d not in DENSE_DTYPES]
    if odd:
        raise CheckpointError(f"{ckpt.source} holds non-float tensors (expected float32/bfloat16/float16): {odd[:8]}")
    return ckpt


def load_transformer(
    path: str | Path,
    cfg: TransformerConfig,
    dtype: torch.dtype = torch.bfloat16,
    device: str | torch.device = "cpu",
) -> InfinityStarTransformer:
    """The dense model at `dtype` on `device`, every tensor converted on the way in."""
    ckpt = open_transformer_checkpoint(path, cfg)
    with torch.device("meta"):
        model = InfinityStarTransformer(cfg)
    assign_tensors(model, ((name, ckpt.read(name, dtype, device)) for name in ckpt.where))
    return model.eval()


def assign_tensors(model: torch.nn.Module, tensors: Iterator[tuple[str, torch.Tensor]]) -> None:
    """Replace meta parameters one at a time, so only one freshly read tensor is ever unowned."""
    for name, tensor in tensors:
        owner_name, _, attr = name.rpartition(".")
        owner = model.get_submodule(owner_name)
        setattr(owner, attr, torch.nn.Parameter(tensor, requires_grad=False))
    left = [n for n, p in model.named_parameters() if p.is_meta]
    if left:
        raise CheckpointError(f"tensors were never loaded: {', '.join(left[:8])}")


def write_transformer_checkpoint(state: dict[str, torch.Tensor], folder: str | Path, shards: int = 1) -> Path:
    """Write the release's layout (model-0000i-of-0000N.safetensors + index), shards balanced by bytes."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    total = sum(t.numel() * t.element_size() for t in state.values())
    groups: list[dict[str, torch.Tensor]] = [{} for _ in range(shards)]
    done = 0
    for name, tensor in state.items():
        groups[min(shards - 1, done * shards // max(total, 1))][name] = tensor
        done += tensor.numel() * tensor.element_size()
    weight_map = {}
    for i, group in enumerate(groups, 1):
        shard = f"model-{i:05d}-of-{shards:05d}.safetensors"
        save_safetensors(group, folder / shard, metadata={"format": "pt"})
        weight_map.update(dict.fromkeys(group, shard))
    index = folder / INDEX_NAME
    write_text_atomic(index, json.dumps({"metadata": {"total_size": total}, "weight_map": weight_map}, indent=2))
    return index
