"""Exported toyworld weights form a built-in model: read-only in the store, loadable, and it generates."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from random_toyworld import TEST_HOST

from engine.loader import load_model
from engine.pipeline import ClipFrames, GenerationRequest, PassProgress, run_generation
from engine.text.words import WordTextEncoder
from engine.weights.manifest import ModelStoreError
from engine.weights.store import ModelStore


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
    loaded = load_model("toyworld", TEST_HOST, store=_store(builtin, tmp_path), progress=lambda _: None)
    assert isinstance(loaded.text_encoder, WordTextEncoder) and loaded.precision == "fp32"
    request = GenerationRequest(prompts=("a red circle moves to the left",), seconds=1, aspect="1:1", seed=3)
    events = list(run_generation(loaded, request, loaded.preview))
    video = np.concatenate([e.frames for e in events if isinstance(e, ClipFrames)])
    assert video.shape == (17, 64, 64, 3) and video.dtype == np.uint8
    previews = [e.preview for e in events if isinstance(e, PassProgress)]
    assert loaded.preview is not None and all(p is not None and p.dtype == np.uint8 for p in previews)


def test_unknown_words_are_told_to_the_user(builtin: Path, tmp_path: Path) -> None:
    loaded = load_model("toyworld", TEST_HOST, store=_store(builtin, tmp_path), progress=lambda _: None)
    request = GenerationRequest(prompts=("a red zeppelin moves left",), seconds=0, aspect="1:1", seed=1)
    started = next(iter(run_generation(loaded, request)))
    assert started.notes == ("this model does not know the words zeppelin: they were left out of the prompt",)
