"""The random-weight release: the real names, shapes and dtypes, the hub's layout in both shard formats, written a
shard at a time, and taken unchanged by `istar models install`."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from reference import TRANSFORMER_KEYS, VAE_KEYS, requires_reference

from engine.text import T5TextEncoder
from engine.weights import random_release
from engine.weights.catalogue import CATALOGUE, T5_DIR
from engine.weights.random_release import (
    FLAN_T5_XL,
    shard_groups,
    t5_config,
    t5_table,
    transformer_table,
    vae_table,
    write_random_release,
)
from engine.weights.transformer_checkpoint import INDEX_NAME, TORCH_INDEX_NAME, ShardedCheckpoint

ENTRY = CATALOGUE["test-micro-t5"]


def _tsv(path: Path) -> list[list[str]]:
    return [line.split("\t") for line in path.read_text().splitlines() if line and not line.startswith("#")]


def _shape(text: str) -> tuple[int, ...]:
    return tuple(int(d) for d in text.split(",") if d)


@requires_reference
def test_full_size_tables_are_the_releases() -> None:
    table = transformer_table("infinitystar-8b-720p")
    assert [(t.name, t.shape) for t in table] == [(k, _shape(s)) for k, s in _tsv(TRANSFORMER_KEYS)]
    assert sum(math.prod(t.shape) for t in table) == 8_768_382_112
    assert {t.dtype for t in table} == {torch.bfloat16}
    vae = [(t.name, t.shape, str(t.dtype).removeprefix("torch.")) for t in vae_table("infinitystar-8b-720p")]
    assert vae == [(k, _shape(s), d) for k, s, d in _tsv(VAE_KEYS)]


def test_the_8b_text_encoder_is_shaped_like_flan_t5_xl() -> None:
    table = {t.name: t.shape for t in t5_table(t5_config(2048))}
    assert table["shared.weight"] == (32128, 2048)
    assert table["encoder.block.23.layer.1.DenseReluDense.wi_0.weight"] == (5120, 2048)
    assert table["encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"] == (32, 32)
    assert "encoder.embed_tokens.weight" not in table  # tied to shared.weight, as save_pretrained leaves it out
    assert not any(name.startswith("decoder.") for name in table)
    assert t5_config(2048) == FLAN_T5_XL and t5_config(32)["d_model"] == 32


def test_shards_split_the_8b_evenly_and_in_order() -> None:
    table = transformer_table("infinitystar-8b-480p")
    groups = shard_groups(table, 6)
    assert [t for g in groups for t in g] == table and len(groups) == 6
    sizes = [sum(t.nbytes for t in g) for g in groups]
    assert sum(sizes) == 8_768_382_112 * 2
    largest = max(t.nbytes for t in table)
    assert max(sizes) - min(sizes) <= 2 * largest


@pytest.fixture(scope="module")
def releases(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("random-release")
    return {fmt: write_random_release(root / fmt, ENTRY, fmt, seed=3).folder for fmt in ("safetensors", "torch")}


def test_each_format_has_the_hub_layout(releases: dict[str, Path]) -> None:
    st, pt = releases["safetensors"], releases["torch"]
    weights = sorted(p.name for p in (st / ENTRY.weights_dir).iterdir())
    assert weights == [*(f"model-0000{i}-of-00006.safetensors" for i in range(1, 7)), INDEX_NAME]
    weights = sorted(p.name for p in (pt / ENTRY.weights_dir).iterdir())
    assert weights == [*(f"pytorch_model-0000{i}-of-00006.bin" for i in range(1, 7)), TORCH_INDEX_NAME]
    index = json.loads((pt / ENTRY.weights_dir / TORCH_INDEX_NAME).read_text())
    assert set(index["weight_map"]) == {t.name for t in transformer_table(ENTRY.preset)}
    assert index["metadata"]["total_size"] == sum(t.nbytes for t in transformer_table(ENTRY.preset))
    t5 = {p.name for p in (st / T5_DIR).iterdir()}
    assert {"config.json", "spiece.model", "tokenizer_config.json", INDEX_NAME} <= t5
    vae = torch.load(st / ENTRY.vae_file, weights_only=True)
    assert [(k, tuple(v.shape), v.dtype) for k, v in vae["vae"].items()] == [
        (t.name, t.shape, t.dtype) for t in vae_table(ENTRY.preset)
    ]


def test_one_seed_gives_the_same_weights_in_both_formats(releases: dict[str, Path]) -> None:
    st = ShardedCheckpoint.open(releases["safetensors"] / ENTRY.weights_dir)
    index = json.loads((releases["torch"] / ENTRY.weights_dir / TORCH_INDEX_NAME).read_text())
    folder = releases["torch"] / ENTRY.weights_dir
    for shard in sorted(set(index["weight_map"].values())):
        for name, tensor in torch.load(folder / shard, weights_only=True).items():
            assert torch.equal(tensor, st.read(name)), name
    norms = [n for n in st.where if n.endswith("norm.weight")]
    assert norms and all(torch.equal(st.read(n), torch.ones_like(st.read(n))) for n in norms)
    weight = st.read(next(n for n, shape in st.shapes().items() if ".module.0." in n and len(shape) == 2))
    assert weight.std().item() == pytest.approx(weight.shape[1] ** -0.5, rel=0.2)


def test_the_text_encoder_folder_loads_and_encodes(releases: dict[str, Path]) -> None:
    for folder in releases.values():
        encoder = T5TextEncoder.from_folder(folder / T5_DIR, dtype=torch.float32, channels=32)
        features = encoder.encode("<<<t=5s>>> a red fox runs through tall grass")
        assert features.shape[1] == 32 and features.shape[0] > 5 and features.isfinite().all()


class _CountingFill(random_release.RandomFill):
    """The bytes RandomFill would make, without allocating them (the 8B's 17.5 GB)."""

    def __init__(self) -> None:
        self.made = 0

    def __call__(self, t: random_release.Tensor) -> torch.Tensor:
        self.made += t.nbytes
        return torch.empty(0)


def test_shards_are_generated_and_written_one_at_a_time(tmp_path: Path, monkeypatch) -> None:
    fill = _CountingFill()
    held: list[int] = []

    def save(tensors, path, metadata=None):
        held.append(fill.made)
        fill.made = 0
        Path(path).write_bytes(b"")

    monkeypatch.setattr(random_release, "save_safetensors", save)
    table = transformer_table("infinitystar-8b-480p")
    random_release.write_sharded(table, tmp_path, "safetensors", 6, fill, random_release.ReleaseSummary(tmp_path))
    total = sum(t.nbytes for t in table)
    assert len(held) == 6 and sum(held) == total
    assert max(held) < total / 6 * 1.2
