"""Installing a release whose transformer comes as torch shards (pytorch_model.bin.index.json): read safely one
shard at a time, converted once to safetensors in the store, and loaded to the same tensors as the other format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from model_release import carrying_code

from engine.tensors.errors import CheckpointError
from engine.weights.catalogue import CATALOGUE
from engine.weights.manifest import MANIFEST
from engine.weights.random_release import write_random_release
from engine.weights.store import ModelStore
from engine.weights.transformer_checkpoint import INDEX_NAME, TORCH_INDEX_NAME, ShardedCheckpoint

MICRO = CATALOGUE["test-micro"]
SHARD = "pytorch_model-00002-of-00006.bin"


@pytest.fixture(scope="module")
def releases(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("releases")
    return {fmt: write_random_release(root / fmt, MICRO, fmt, seed=5).folder for fmt in ("safetensors", "torch")}


@pytest.fixture
def torch_release(releases, tmp_path) -> Path:
    """A copy of the torch-format release, to spoil."""
    copy = tmp_path / "release"
    for src in releases["torch"].rglob("*"):
        if src.is_file():
            dst = copy / src.relative_to(releases["torch"])
            dst.parent.mkdir(parents=True, exist_ok=True)
            dst.write_bytes(src.read_bytes())
    return copy


def _store(tmp_path: Path, name: str = "models") -> ModelStore:
    return ModelStore(tmp_path / name, builtin_root=tmp_path / "no-builtin-models")


def _tensors(store: ModelStore) -> dict[str, torch.Tensor]:
    ckpt = ShardedCheckpoint.open(store.resolve(MICRO.model_id).transformer)
    return {name: ckpt.read(name) for name in ckpt.where}


def test_both_formats_install_and_load_to_the_same_tensors(releases, tmp_path) -> None:
    stores = {fmt: _store(tmp_path, fmt) for fmt in releases}
    for fmt, store in stores.items():
        store.install(MICRO.model_id, releases[fmt], progress=lambda _: None)
    st, pt = _tensors(stores["safetensors"]), _tensors(stores["torch"])
    assert st.keys() == pt.keys() and all(torch.equal(st[k], pt[k]) for k in st)
    assert stores["torch"].verify(MICRO.model_id) == []


def test_torch_shards_become_safetensors_shards_with_their_provenance(releases, tmp_path) -> None:
    store = _store(tmp_path)
    steps = []
    store.install(MICRO.model_id, releases["torch"], progress=steps.append)
    folder = store.folder(MICRO.model_id)
    names = sorted(p.name for p in (folder / "transformer").iterdir())
    assert names == [*(f"model-0000{i}-of-00006.safetensors" for i in range(1, 7)), INDEX_NAME]
    files = {f["path"]: f for f in json.loads((folder / MANIFEST).read_text())["files"]}
    source = releases["torch"] / MICRO.weights_dir / SHARD
    made = files["transformer/model-00002-of-00006.safetensors"]
    assert made["converted_from"]["file"] == SHARD and made["converted_from"]["bytes"] == source.stat().st_size
    assert made["variant"] == "bf16"
    assert [s.action for s in steps].count("converting") == 7  # six shards and the VAE
    assert not any(p.suffix == ".bin" for p in folder.rglob("*"))


def test_a_shard_carrying_code_is_refused_naming_it_and_never_runs(torch_release, tmp_path) -> None:
    shard = torch_release / MICRO.weights_dir / SHARD
    marker = tmp_path / "code-ran"
    shard.write_bytes(carrying_code(shard.read_bytes(), marker))
    store = _store(tmp_path)
    with pytest.raises(CheckpointError, match=rf"{SHARD} was refused: .*would run code .*system"):
        store.install(MICRO.model_id, torch_release, progress=lambda _: None)
    assert not marker.exists()
    assert not store.folder(MICRO.model_id).exists()


def test_a_truncated_shard_is_named(torch_release, tmp_path) -> None:
    shard = torch_release / MICRO.weights_dir / SHARD
    shard.write_bytes(shard.read_bytes()[: shard.stat().st_size // 2])
    with pytest.raises(CheckpointError, match=rf"{SHARD} is not a readable PyTorch checkpoint \(truncated"):
        _store(tmp_path).install(MICRO.model_id, torch_release, progress=lambda _: None)


def test_a_misshapen_shard_is_named_before_anything_is_written_from_it(torch_release, tmp_path) -> None:
    shard = torch_release / MICRO.weights_dir / SHARD
    state = torch.load(shard, weights_only=True)
    name = next(iter(state))
    state[name] = torch.zeros(3, 3, dtype=torch.bfloat16)
    torch.save(state, shard)
    with pytest.raises(CheckpointError, match=rf"{SHARD} does not fit .*{name} is 3x3"):
        _store(tmp_path).install(MICRO.model_id, torch_release, progress=lambda _: None)


def test_an_index_missing_tensors_is_refused_before_any_shard_is_read(torch_release, tmp_path) -> None:
    index = torch_release / MICRO.weights_dir / TORCH_INDEX_NAME
    data = json.loads(index.read_text())
    dropped = next(iter(data["weight_map"]))
    del data["weight_map"][dropped]
    index.write_text(json.dumps(data))
    with pytest.raises(CheckpointError, match=rf"{TORCH_INDEX_NAME} does not fit .*1 missing: {dropped}"):
        _store(tmp_path).install(MICRO.model_id, torch_release, progress=lambda _: None)


def test_an_interrupted_conversion_resumes_keeping_the_shards_done(torch_release, tmp_path, monkeypatch) -> None:
    from engine.weights import install

    store = _store(tmp_path)
    real = install.load_tensor_pickle
    calls = []

    def failing(path):
        calls.append(path.name)
        if len(calls) == 3:
            raise OSError("disk went away")
        return real(path)

    monkeypatch.setattr(install, "load_tensor_pickle", failing)
    with pytest.raises(OSError, match="disk went away"):
        store.install(MICRO.model_id, torch_release, progress=lambda _: None)
    monkeypatch.setattr(install, "load_tensor_pickle", real)
    steps = []
    store.install(MICRO.model_id, torch_release, progress=steps.append)
    actions = [(s.action, s.name) for s in steps]
    assert actions[:2] == [("kept", "transformer/model-00001-of-00006.safetensors"),
                           ("kept", "transformer/model-00002-of-00006.safetensors")]
    assert ("converting", "pytorch_model-00003-of-00006.bin") in actions


def test_a_folder_with_neither_index_is_refused_naming_both(torch_release, tmp_path) -> None:
    (torch_release / MICRO.weights_dir / TORCH_INDEX_NAME).unlink()
    with pytest.raises(CheckpointError, match=rf"neither {INDEX_NAME} nor {TORCH_INDEX_NAME}"):
        _store(tmp_path).install(MICRO.model_id, torch_release, progress=lambda _: None)
