"""The model store: installing from a release folder, interruption, verification, resolving for load, removal."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path

import pytest
from model_release import TEXT_ENCODER_FILES, write_release

from engine.api.install_events import InstallStep
from engine.weights import catalogue, install
from engine.weights import store as store_module
from engine.weights.catalogue import CATALOGUE, T5_DIR
from engine.weights.manifest import MANIFEST, ModelStoreError
from engine.weights.store import ModelStore

MICRO = CATALOGUE["test-micro"]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> Path:
    return write_release(tmp_path_factory.mktemp("release"), MICRO)


@pytest.fixture
def store(tmp_path) -> ModelStore:
    return ModelStore(tmp_path / "models", builtin_root=tmp_path / "no-builtin-models")


@pytest.fixture
def installed(store, release) -> ModelStore:
    store.install("test-micro", release, progress=lambda _: None)
    return store


def test_install_copies_the_release_and_records_every_file(installed: ModelStore, release: Path) -> None:
    folder = installed.root / "test-micro"
    data = json.loads((folder / MANIFEST).read_text())
    assert (data["schema"], data["id"], data["preset"]) == (1, "test-micro", "test-micro")
    assert data["source"] == {"folder": str(release)}
    assert data["release_precision"] == "fp32"
    assert data["variants"] == {"fp32": {"entry": "transformer/model.safetensors.index.json"}}
    by_path = {f["path"]: f for f in data["files"]}
    weights = release / MICRO.weights_dir
    expected = {f"transformer/{p.name}" for p in weights.iterdir()} | {"vae/infinitystar_videovae.safetensors"}
    assert set(by_path) == expected and len(expected) == 4  # two shards, the index, the converted VAE
    for p in weights.iterdir():
        entry = by_path[f"transformer/{p.name}"]
        assert (entry["role"], entry["variant"], entry["bytes"]) == ("transformer", "fp32", p.stat().st_size)
        assert entry["sha256"] == sha256(p)
    vae = by_path["vae/infinitystar_videovae.safetensors"]
    assert vae["role"] == "vae" and vae["sha256"] == sha256(folder / vae["path"])
    pth = release / MICRO.vae_file
    assert vae["converted_from"] == {"file": pth.name, "bytes": pth.stat().st_size, "sha256": sha256(pth)}
    assert sorted(p.name for p in installed.root.iterdir()) == ["test-micro"]  # no staging folder left
    assert not [p for p in folder.rglob("*") if p.name.endswith((".part", ".tmp"))]
    [listed] = installed.installed()
    assert (listed.variants, listed.verified) == (["fp32"], True)


def test_text_encoder_folder_is_copied_whole_and_resolved(store, tmp_path, monkeypatch) -> None:
    entry = dataclasses.replace(MICRO, text_encoder_dir=T5_DIR)
    monkeypatch.setitem(catalogue.CATALOGUE, "test-micro", entry)
    source = write_release(tmp_path / "release", entry)
    store.install("test-micro", source, progress=lambda _: None)
    model = store.resolve("test-micro")
    assert model.text_encoder == store.root / "test-micro" / "text_encoder"
    for rel, data in TEXT_ENCODER_FILES.items():
        assert (model.text_encoder / rel).read_bytes() == data
    roles = {f.path: f.role for f in model.manifest.files}
    assert {p for p, r in roles.items() if r == "text_encoder"} == {f"text_encoder/{r}" for r in TEXT_ENCODER_FILES}


def test_an_interrupted_install_leaves_no_model_and_the_next_run_resumes(store, release, monkeypatch) -> None:
    copied = []
    real_copy = install.copy_hashed

    def copy_then_fail(src: Path, dst: Path):
        if len(copied) == 1:
            (dst.parent / (dst.name + ".part")).write_bytes(src.read_bytes()[:100])  # half-written, then the crash
            raise KeyboardInterrupt
        copied.append(src.name)
        return real_copy(src, dst)

    monkeypatch.setattr(install, "copy_hashed", copy_then_fail)
    with pytest.raises(KeyboardInterrupt):
        store.install("test-micro", release, progress=lambda _: None)
    assert not (store.root / "test-micro").exists()
    assert store.interrupted() == ["test-micro"] and store.installed() == []
    with pytest.raises(ModelStoreError, match="test-micro is not installed"):
        store.resolve("test-micro")

    monkeypatch.setattr(install, "copy_hashed", lambda src, dst: (copied.append(src.name), real_copy(src, dst))[1])
    steps: list[InstallStep] = []
    store.install("test-micro", release, progress=steps.append)
    assert len(copied) == 3 and len(set(copied)) == 3  # the first shard was not copied again
    assert store.interrupted() == [] and store.verify("test-micro") == []
    assert [(s.action, s.index, s.total) for s in steps] == [
        ("kept", 1, 4), ("copying", 2, 4), ("copying", 3, 4), ("converting", 4, 4)
    ], "the file the first run finished is a kept step, so the count still ends at the total"
    assert steps[0].name == f"transformer/{copied[0]}"


def test_a_resumed_install_keeps_every_finished_file_and_still_counts_to_the_end(store, release, monkeypatch) -> None:
    def stop_before_the_manifest(*_):
        raise KeyboardInterrupt

    monkeypatch.setattr(install, "finish", stop_before_the_manifest)
    first: list[InstallStep] = []
    with pytest.raises(KeyboardInterrupt):
        store.install("test-micro", release, progress=first.append)
    assert [s.describe() for s in first] == [
        "[1/4] copying transformer/model.safetensors.index.json",
        "[2/4] copying transformer/model-00001-of-00002.safetensors",
        "[3/4] copying transformer/model-00002-of-00002.safetensors",
        "[4/4] converting infinitystar_videovae.pth to safetensors",
    ]

    monkeypatch.undo()
    again: list[InstallStep] = []
    store.install("test-micro", release, progress=again.append)
    assert [s.describe() for s in again] == [
        "[1/4] kept transformer/model.safetensors.index.json",
        "[2/4] kept transformer/model-00001-of-00002.safetensors",
        "[3/4] kept transformer/model-00002-of-00002.safetensors",
        "[4/4] kept vae/infinitystar_videovae.safetensors",
    ]
    assert store.verify("test-micro") == []


def test_install_names_what_a_folder_lacks(store, tmp_path) -> None:
    with pytest.raises(ModelStoreError, match=r"lacks test_micro_weights/, infinitystar_videovae.pth: expected a"):
        store.install("test-micro", tmp_path, progress=lambda _: None)
    assert not store.root.exists() or not any(store.root.iterdir())


def test_verify_names_every_damaged_file(installed: ModelStore) -> None:
    folder = installed.root / "test-micro"
    shard1, shard2 = sorted((folder / "transformer").glob("*.safetensors"))
    index, vae = folder / "transformer/model.safetensors.index.json", folder / "vae/infinitystar_videovae.safetensors"
    data = bytearray(shard1.read_bytes())
    data[len(data) // 2] ^= 0x01
    shard1.write_bytes(bytes(data))  # one flipped bit, same size
    os.truncate(shard2, shard2.stat().st_size - 10)
    vae.unlink()
    foreign = folder / "foreign.bin"
    foreign.write_bytes(b"x" * index.stat().st_size)
    os.replace(foreign, index)  # a different file renamed into place, same size
    (folder / "transformer" / "stray.txt").write_text("not mine")
    problems = {p.path: p.what for p in installed.verify("test-micro")}
    assert set(problems) == {shard1.relative_to(folder).as_posix(), shard2.relative_to(folder).as_posix(),
                             "transformer/model.safetensors.index.json", "vae/infinitystar_videovae.safetensors",
                             "transformer/stray.txt"}
    assert problems[f"transformer/{shard1.name}"].startswith("does not match its sha256")
    assert problems[f"transformer/{shard2.name}"].startswith("is truncated")
    assert problems["transformer/model.safetensors.index.json"].startswith("does not match its sha256")
    assert problems["vae/infinitystar_videovae.safetensors"].startswith("is missing")
    assert "not in its manifest" in problems["transformer/stray.txt"]


def test_resolve_gives_checked_paths_and_rehashes_only_touched_files(installed: ModelStore, monkeypatch) -> None:
    model = installed.resolve("test-micro")
    folder = installed.root / "test-micro"
    assert model.transformer == folder / "transformer/model.safetensors.index.json" and model.transformer.is_file()
    assert model.vae == folder / "vae/infinitystar_videovae.safetensors" and model.text_encoder is None
    assert (model.precision, model.preset.name) == ("fp32", "test-micro")

    hashed = []
    real = store_module.sha256_file
    monkeypatch.setattr(store_module, "sha256_file", lambda p: (hashed.append(p.name), real(p))[1])
    installed.resolve("test-micro")
    assert hashed == []  # sizes and mtimes as recorded: nothing is read
    os.utime(model.vae, ns=(1, 1))
    installed.resolve("test-micro")
    installed.resolve("test-micro")
    assert hashed == [model.vae.name]  # re-hashed once, then its new mtime is in the manifest


def test_resolve_refuses_a_changed_or_truncated_file(installed: ModelStore) -> None:
    model = installed.resolve("test-micro")
    shard = sorted(model.transformer.parent.glob("*.safetensors"))[0]
    [recorded] = [f for f in model.manifest.files if f.path == f"transformer/{shard.name}"]
    data = bytearray(shard.read_bytes())
    data[-1] ^= 0xFF
    shard.write_bytes(bytes(data))
    with pytest.raises(ModelStoreError, match=rf"test-micro: transformer/{shard.name} does not match its sha256 "
                                              rf"\(expected {recorded.sha256}"):
        installed.resolve("test-micro")
    os.truncate(shard, 100)
    with pytest.raises(ModelStoreError, match=rf"transformer/{shard.name} is truncated: 100 of [\d,]+ bytes"):
        installed.resolve("test-micro")


def test_resolve_names_the_missing_precision_and_unknown_models(installed: ModelStore) -> None:
    with pytest.raises(ModelStoreError, match=r"has no nf4 variant; installed: fp32 .*istar models quantize"):
        installed.resolve("test-micro", "nf4")
    with pytest.raises(ModelStoreError, match=r"unknown model 'nope'; known models: infinitystar-8b-720p, "
                                              r"infinitystar-8b-480p, toyworld, tiny-a, test-micro"):
        installed.resolve("nope")


def test_remove_deletes_only_that_model(installed: ModelStore, tmp_path) -> None:
    tiny = CATALOGUE["tiny-a"]
    installed.install("tiny-a", write_release(tmp_path / "tiny", tiny), progress=lambda _: None)
    folder = installed.root / "test-micro"
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    assert installed.remove("test-micro") == size
    assert sorted(p.name for p in installed.root.iterdir()) == ["tiny-a"]
    assert installed.verify("tiny-a") == [] and installed.resolve("tiny-a").preset.name == "tiny-a"
    with pytest.raises(ModelStoreError, match="test-micro is not installed"):
        installed.remove("test-micro")


def test_quantize_records_the_variant_with_its_files(installed: ModelStore) -> None:
    pytest.importorskip("bitsandbytes")
    manifest = installed.quantize("test-micro", "nf4")
    folder = installed.root / "test-micro"
    assert manifest.variants["nf4"].entry == "quantized/nf4"
    assert (manifest.variants["nf4"].quantized_from, manifest.variants["nf4"].double_quant) == ("fp32", True)
    files = [f for f in manifest.files if f.variant == "nf4"]
    assert files and all(f.role == "quantized" and f.sha256 == sha256(folder / f.path) for f in files)
    model = installed.resolve("test-micro", "nf4")
    assert model.transformer == folder / "quantized/nf4" and model.precision == "nf4"
    assert installed.verify("test-micro") == []
    again = installed.quantize("test-micro", "nf4", double_quant=False)  # replaces the earlier nf4
    assert again.variants["nf4"].double_quant is False
    assert len([f for f in again.files if f.variant == "nf4"]) == len(files)
    assert installed.installed()[0].variants == ["fp32", "nf4"] and installed.verify("test-micro") == []


def test_a_damaged_manifest_is_named(installed: ModelStore) -> None:
    manifest = installed.root / "test-micro" / MANIFEST
    data = json.loads(manifest.read_text())
    del data["files"]
    manifest.write_text(json.dumps(data))
    with pytest.raises(ModelStoreError, match=rf"{manifest} has no field 'files'; remove the model and install"):
        installed.resolve("test-micro")
    manifest.write_text("{not json")
    with pytest.raises(ModelStoreError,
                       match=rf"{manifest} is not a readable model manifest \(its text is not JSON: Expecting"):
        installed.verify("test-micro")
