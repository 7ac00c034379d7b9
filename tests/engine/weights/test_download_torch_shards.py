"""Downloading a model whose hub repo holds the transformer as torch shards (pytorch_model.bin.index.json):
fetched and checked like any hub file, converted as install-from-folder converts them, safetensors preferred."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import torch
from fake_hub import received_before_drop, serving
from model_release import carrying_code, release_bytes

from engine.tensors.errors import CheckpointError
from engine.weights.catalogue import CATALOGUE
from engine.weights.manifest import ModelStoreError
from engine.weights.random_release import write_random_release
from engine.weights.store import ModelStore
from engine.weights.transformer_checkpoint import INDEX_NAME, TORCH_INDEX_NAME, ShardedCheckpoint

MICRO = CATALOGUE["test-micro"]
SHARDS = [f"{MICRO.weights_dir}/pytorch_model-0000{i}-of-00003.bin" for i in (1, 2, 3)]
TORCH_INDEX = f"{MICRO.weights_dir}/{TORCH_INDEX_NAME}"


@pytest.fixture(scope="module")
def releases(tmp_path_factory) -> dict[str, dict[str, bytes]]:
    """The same random weights as each format's repo files."""
    root = tmp_path_factory.mktemp("releases")
    return {fmt: release_bytes(write_random_release(root / fmt, MICRO, fmt, seed=5, shards=3).folder)
            for fmt in ("safetensors", "torch")}


@pytest.fixture
def store(tmp_path) -> ModelStore:
    return ModelStore(tmp_path / "models")


def tensors(store: ModelStore) -> dict[str, torch.Tensor]:
    ckpt = ShardedCheckpoint.open(store.resolve(MICRO.model_id).transformer)
    return {name: ckpt.read(name) for name in ckpt.where}


def quiet(_) -> None:
    pass


def test_a_hub_with_torch_shards_installs_the_same_tensors_as_one_with_safetensors(releases, tmp_path,
                                                                                  monkeypatch) -> None:
    stores = {fmt: ModelStore(tmp_path / fmt) for fmt in releases}
    steps = []
    for fmt, store in stores.items():
        with serving(MICRO.repo, releases[fmt], monkeypatch) as hub:
            manifest = store.download(MICRO.model_id, progress=steps.append if fmt == "torch" else quiet)
        assert manifest.source == {"repo": MICRO.repo, "revision": hub.commit}
    st, pt = tensors(stores["safetensors"]), tensors(stores["torch"])
    assert st.keys() == pt.keys() and all(torch.equal(st[k], pt[k]) for k in st)
    assert [(s.action, s.name, s.index, s.total) for s in steps] == [
        ("downloading", TORCH_INDEX, 1, 9), *(("downloading", p, i, 9) for i, p in enumerate(SHARDS, 2)),
        *(("converting", Path(p).name, i, 9) for i, p in enumerate(SHARDS, 5)),
        ("downloading", MICRO.vae_file, 8, 9), ("converting", "infinitystar_videovae.pth", 9, 9),
    ], "the index, its three shards, their conversions, the VAE and its conversion"
    folder = stores["torch"].folder(MICRO.model_id)
    assert sorted(p.name for p in (folder / "transformer").iterdir()) == [
        *(f"model-0000{i}-of-00003.safetensors" for i in (1, 2, 3)), INDEX_NAME]
    assert not [p for p in folder.rglob("*") if p.suffix in (".bin", ".pth")], "the released files are dropped"
    [made, *_] = [f for f in manifest.files if f.role == "transformer"]
    assert made.converted_from["sha256"] == hashlib.sha256(releases["torch"][SHARDS[0]]).hexdigest()
    assert stores["torch"].verify(MICRO.model_id) == []
    assert sorted(p.name for p in stores["torch"].root.iterdir()) == [MICRO.model_id]


def test_a_hub_with_both_formats_gives_the_safetensors_shards(releases, store, monkeypatch) -> None:
    with serving(MICRO.repo, {**releases["torch"], **releases["safetensors"]}, monkeypatch) as hub:
        store.download(MICRO.model_id, progress=quiet)
    fetched = [name for name, _ in hub.requests]
    assert f"{MICRO.weights_dir}/{INDEX_NAME}" in fetched and not [n for n in fetched if TORCH_INDEX_NAME in n
                                                                     or n.endswith(".bin")]
    assert store.verify(MICRO.model_id) == []


def test_a_hub_with_neither_index_names_both(releases, store, monkeypatch) -> None:
    files = {p: data for p, data in releases["torch"].items() if p != TORCH_INDEX}
    with serving(MICRO.repo, files, monkeypatch), pytest.raises(
        ModelStoreError, match=rf"{MICRO.repo} at \w+ lacks {MICRO.weights_dir}/{INDEX_NAME} or {TORCH_INDEX}$"
    ):
        store.download(MICRO.model_id, progress=quiet)
    assert not (store.root / MICRO.model_id).exists()


def test_an_index_naming_a_shard_the_hub_lacks_is_refused_before_any_shard_is_fetched(releases, store,
                                                                                       monkeypatch) -> None:
    files = {p: data for p, data in releases["torch"].items() if p != SHARDS[1]}
    with serving(MICRO.repo, files, monkeypatch) as hub, pytest.raises(
        ModelStoreError, match=rf"lacks {SHARDS[1]}, named by {TORCH_INDEX}"
    ):
        store.download(MICRO.model_id, progress=quiet)
    assert [name for name, _ in hub.requests] == [TORCH_INDEX]


def test_a_shard_whose_bytes_do_not_match_its_sha256_is_refused_naming_it(releases, store, monkeypatch) -> None:
    with serving(MICRO.repo, releases["torch"], monkeypatch) as hub:
        hub.faults = {SHARDS[1]: ["corrupt"]}
        expected = hashlib.sha256(releases["torch"][SHARDS[1]]).hexdigest()
        with pytest.raises(ModelStoreError, match=rf"{SHARDS[1]} from {MICRO.repo} does not match the hub's "
                                                  rf"sha256: expected {expected}"):
            store.download(MICRO.model_id, progress=quiet)
        assert not [p for p in store.root.rglob("*") if Path(SHARDS[1]).name in p.name], "the bad bytes are gone"
        assert not (store.root / MICRO.model_id).exists()
        store.download(MICRO.model_id, progress=quiet)  # the next run fetches it again and installs
    assert tensors(store).keys()


def test_a_shard_carrying_code_is_refused_naming_it_and_never_runs(releases, store, tmp_path, monkeypatch) -> None:
    marker = tmp_path / "code-ran"
    files = dict(releases["torch"], **{SHARDS[1]: carrying_code(releases["torch"][SHARDS[1]], marker)})
    with serving(MICRO.repo, files, monkeypatch), pytest.raises(
        CheckpointError, match=rf"{Path(SHARDS[1]).name} was refused: .*would run code .*system"
    ):
        store.download(MICRO.model_id, progress=quiet)
    assert not marker.exists()
    assert not (store.root / MICRO.model_id).exists()


def test_an_interrupted_download_resumes_keeping_what_it_finished(releases, store, monkeypatch) -> None:
    with serving(MICRO.repo, releases["torch"], monkeypatch) as hub:
        hub.faults = {SHARDS[2]: ["drop", "fail"]}
        with pytest.raises(ModelStoreError, match=rf"downloading {SHARDS[2]} stopped: .*Run the same command again"):
            store.download(MICRO.model_id, progress=quiet)
        have = received_before_drop(releases["torch"][SHARDS[2]])
        hub.requests.clear()
        steps = []
        store.download(MICRO.model_id, progress=steps.append)
    assert hub.requests[0] == (SHARDS[2], f"bytes={have}-")
    assert [s.describe() for s in steps[:4]] == [
        f"[1/9] kept {TORCH_INDEX}", f"[2/9] kept {SHARDS[0]}", f"[3/9] kept {SHARDS[1]}",
        f"[4/9] downloading {SHARDS[2]} (resuming after {have:,} bytes)",
    ]
    assert steps[-1].index == steps[-1].total == 9
    assert store.verify(MICRO.model_id) == []
