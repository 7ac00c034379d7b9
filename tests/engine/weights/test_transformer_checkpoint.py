"""Loading the transformer from the release's sharded layout, and every way a checkpoint can be bad."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import torch
from tiny_models import random_bits, random_model, three_clip_schedule

from engine.config import get_preset
from engine.model.packed import teacher_forced_logits
from engine.tensors.errors import CheckpointError
from engine.tensors.safetensors_file import SafetensorsFile
from engine.weights.transformer_checkpoint import (
    INDEX_NAME,
    load_transformer,
    open_transformer_checkpoint,
    write_transformer_checkpoint,
)

CFG = get_preset("test-micro").transformer


def logits_of(model) -> list[torch.Tensor]:
    schedule = three_clip_schedule()
    text = torch.randn(4, CFG.text_channels, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        return teacher_forced_logits(model, schedule, text, random_bits(model, schedule))


@pytest.fixture
def release(tmp_path: Path):
    model = random_model()
    index = write_transformer_checkpoint(model.state_dict(), tmp_path / "weights", shards=3)
    return model, index


def test_the_release_layout_has_an_index_naming_every_tensor_in_balanced_shards(release) -> None:
    model, index = release
    data = json.loads(index.read_text())
    assert set(data["weight_map"]) == set(model.state_dict())
    shards = sorted(index.parent.glob("*.safetensors"))
    assert [s.name for s in shards] == [f"model-0000{i}-of-00003.safetensors" for i in (1, 2, 3)]
    assert data["metadata"]["total_size"] == sum(t.nbytes for t in model.state_dict().values())


def test_a_sharded_checkpoint_loads_to_the_same_outputs_as_the_model_in_memory(release) -> None:
    model, index = release
    loaded = load_transformer(index, CFG, dtype=torch.float32)
    for name, tensor in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[name], tensor), name
    for ours, theirs in zip(logits_of(loaded), logits_of(model), strict=True):
        assert torch.equal(ours, theirs)


def test_loading_converts_each_tensor_to_the_compute_dtype(release) -> None:
    model, index = release
    loaded = load_transformer(index.parent, CFG, dtype=torch.bfloat16)
    for name, tensor in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[name], tensor.bfloat16()), name
    assert not any(p.requires_grad for p in loaded.parameters())


def test_conversion_streams_through_a_small_buffer(release, monkeypatch) -> None:
    import engine.tensors.safetensors_file as sf

    model, index = release
    monkeypatch.setattr(sf, "STAGING_BYTES", 100)  # many chunks per tensor, with a ragged last one
    loaded = load_transformer(index, CFG, dtype=torch.bfloat16)
    for name, tensor in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[name], tensor.bfloat16()), name


def _rewrite(index: Path, edit) -> None:
    """Load every shard's tensors, let `edit` change the dict, write the release again in place."""
    from safetensors.torch import load_file

    state = {}
    for shard in sorted(index.parent.glob("*.safetensors")):
        state.update(load_file(shard))
        shard.unlink()
    edit(state)
    write_transformer_checkpoint(state, index.parent, shards=3)


def _truncate(index: Path) -> None:
    shard = index.parent / "model-00002-of-00003.safetensors"
    shard.write_bytes(shard.read_bytes()[:-100])


BAD_RELEASES = {
    "truncated shard": (
        _truncate,
        r"model-00002-of-00003.safetensors is truncated: it is [\d,]+ bytes but its header describes [\d,]+ bytes",
    ),
    "wrong shape": (
        lambda index: _rewrite(index, lambda s: s.update({"word_embed.weight": torch.zeros(3, 3)})),
        r"does not fit this transformer config: 1 mis-shaped: word_embed.weight is 3x3, not 64x64",
    ),
    "missing key": (
        lambda index: _rewrite(index, lambda s: s.pop("head.bias")),
        r"does not fit this transformer config: 1 missing: head.bias$",
    ),
    "extra key": (
        lambda index: _rewrite(index, lambda s: s.update({"lm_head.weight": torch.zeros(2)})),
        r"does not fit this transformer config: 1 unexpected: lm_head.weight$",
    ),
    "bad index json": (
        lambda index: index.write_text('{"weight_map": {'),
        r"model.safetensors.index.json is not valid JSON: ",
    ),
    "index without a weight map": (
        lambda index: index.write_text('{"metadata": {}}'),
        r"has no weight_map: expected",
    ),
    "shard named by the index is gone": (
        lambda index: (index.parent / "model-00003-of-00003.safetensors").unlink(),
        r"names shard files that do not exist: model-00003-of-00003.safetensors",
    ),
    "index pointing outside its folder": (
        lambda index: index.write_text(json.dumps({"weight_map": {"head.bias": "../elsewhere.safetensors"}})),
        r"names shard files outside its folder: ../elsewhere.safetensors",
    ),
    "not a safetensors file": (
        lambda index: (index.parent / "model-00001-of-00003.safetensors").write_bytes(b"PK\x03\x04" + b"\0" * 64),
        r"model-00001-of-00003.safetensors is not a safetensors file",
    ),
    "integer weights": (
        lambda index: _rewrite(index, lambda s: s.update({"head.bias": s["head.bias"].to(torch.int32)})),
        r"holds non-float tensors \(expected float32/bfloat16/float16\): \['head.bias is int32'\]",
    ),
}


@pytest.mark.parametrize("case", BAD_RELEASES)
def test_a_bad_release_gives_one_clear_error_and_nothing_is_read(release, case, monkeypatch) -> None:
    _, index = release
    damage, message = BAD_RELEASES[case]
    damage(index)

    def no_reads(*args, **kwargs):
        raise AssertionError("a tensor was read from a checkpoint that had not been validated")

    monkeypatch.setattr(SafetensorsFile, "read", no_reads)
    with pytest.raises(CheckpointError, match=message):
        load_transformer(index, CFG)


def test_a_missing_index_is_named(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match=re.escape(f"{tmp_path / INDEX_NAME} does not exist")):
        open_transformer_checkpoint(tmp_path, CFG)


def test_a_release_size_checkpoint_is_refused_by_a_tiny_config_from_its_headers_alone(tmp_path: Path) -> None:
    released = random_model("tiny-a").state_dict()
    index = write_transformer_checkpoint(released, tmp_path, shards=2)
    with pytest.raises(CheckpointError, match=r"mis-shaped: .* and \d+ more$"):
        open_transformer_checkpoint(index, CFG)


def test_a_single_file_checkpoint_loads_too(tmp_path: Path) -> None:
    from engine.tensors.safetensors_file import save_safetensors

    model = random_model()
    save_safetensors(model.state_dict(), tmp_path / "model.safetensors")
    loaded = load_transformer(tmp_path, CFG, dtype=torch.float32)
    assert all(torch.equal(loaded.state_dict()[k], v) for k, v in model.state_dict().items())


def test_fused_projections_save_as_separate_tensors(tmp_path: Path) -> None:
    model = random_model().fuse_projections()
    index = write_transformer_checkpoint(model.state_dict(), tmp_path, shards=2)
    loaded = load_transformer(index, CFG, dtype=torch.float32)
    assert all(torch.equal(loaded.state_dict()[k], v) for k, v in model.state_dict().items())
