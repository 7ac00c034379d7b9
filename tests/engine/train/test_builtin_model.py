"""Exported toyworld weights form a built-in model: read-only in the store, loadable, and it generates."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from engine.config import get_preset
from engine.model.vae import VideoVAE
from engine.pipeline import ClipFrames, GenerationRequest, run_generation
from engine.runtime.hardware import DeviceInfo
from engine.text.words import WordTextEncoder
from engine.train.checkpoint import WEIGHTS
from engine.train.export import export
from engine.train.transformer_train import Toyworld
from engine.weights.loader import load_model
from engine.weights.manifest import ModelStoreError
from engine.weights.safetensors_file import save_safetensors
from engine.weights.store import ModelStore

GB = 10**9


@pytest.fixture(scope="module")
def builtin(tmp_path_factory) -> Path:
    runs = tmp_path_factory.mktemp("runs")
    torch.manual_seed(0)
    (runs / "vae").mkdir()
    (runs / "transformer").mkdir()
    save_safetensors(VideoVAE(get_preset("toyworld").vae).state_dict(), runs / "vae" / WEIGHTS)
    save_safetensors(Toyworld().state_dict(), runs / "transformer" / WEIGHTS)
    root = tmp_path_factory.mktemp("resources")
    export(runs / "vae", runs / "transformer", root / "toyworld", {"trained": "random weights, for a test"})
    return root


def _store(builtin: Path, tmp_path: Path) -> ModelStore:
    return ModelStore(tmp_path / "user", builtin_root=builtin)


def test_the_export_is_a_verified_read_only_model(builtin: Path, tmp_path: Path) -> None:
    store = _store(builtin, tmp_path)
    manifest_bytes = (builtin / "toyworld" / "manifest.json").read_bytes()
    assert store.is_builtin("toyworld") and store.verify("toyworld") == []
    assert [m.model_id for m in store.installed()] == ["toyworld"]
    assert sum(f.bytes for f in store.manifest("toyworld").files) < 40 * 2**20
    with pytest.raises(ModelStoreError, match="ships with the studio"):
        store.remove("toyworld")
    with pytest.raises(ModelStoreError, match="read-only"):
        store.quantize("toyworld", "nf4")
    store.resolve("toyworld")
    assert (builtin / "toyworld" / "manifest.json").read_bytes() == manifest_bytes


def test_a_changed_builtin_file_is_refused(builtin: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    import shutil

    shutil.copytree(builtin, copy)
    words = copy / "toyworld" / "text_encoder" / "words.safetensors"
    data = bytearray(words.read_bytes())
    data[-1] ^= 0xFF
    words.write_bytes(bytes(data))
    with pytest.raises(ModelStoreError, match="does not match its sha256"):
        ModelStore(tmp_path / "user", builtin_root=copy).resolve("toyworld")


def test_the_builtin_model_loads_with_its_word_encoder_and_generates(builtin: Path, tmp_path: Path) -> None:
    host = DeviceInfo("cpu", "test CPU", 16 * GB, 16 * GB, 16 * GB, 16 * GB)
    loaded = load_model("toyworld", host, store=_store(builtin, tmp_path), progress=lambda _: None)
    assert isinstance(loaded.text_encoder, WordTextEncoder) and loaded.precision == "fp32"
    request = GenerationRequest(prompts=("a red circle moves to the left",), seconds=1, aspect="1:1", seed=3)
    clips = [e.frames for e in run_generation(loaded, request) if isinstance(e, ClipFrames)]
    video = np.concatenate(clips)
    assert video.shape == (17, 64, 64, 3) and video.dtype == np.uint8
