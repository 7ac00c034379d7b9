"""Loading an installed model as its load plan says, quantising a missing precision once."""

from __future__ import annotations

from pathlib import Path

import bitsandbytes as bnb
import pytest
import torch
from model_release import write_release

import engine.weights.quantize as quantize
from engine.loader import ModelLoadError, load_model
from engine.runtime.hardware import DeviceInfo
from engine.sampler import Guidance, generate, run_to_end
from engine.schedule import build_schedule
from engine.weights.catalogue import CATALOGUE
from engine.weights.store import ModelStore

GB = 10**9


def cpu(gb: float) -> DeviceInfo:
    return DeviceInfo("cpu", "test CPU", int(gb * GB), int(gb * GB), int(gb * GB), int(gb * GB))


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> ModelStore:
    release = write_release(tmp_path_factory.mktemp("release"), CATALOGUE["test-micro"])
    store = ModelStore(tmp_path_factory.mktemp("store"))
    store.install("test-micro", release, progress=lambda _: None)
    return store


def _video(loaded) -> list[torch.Tensor]:
    schedule = build_schedule(loaded.preset.schedule, 1, "1:1")
    text = torch.randn(3, loaded.preset.transformer.text_channels, generator=torch.Generator().manual_seed(0))
    done = run_to_end(generate(loaded.transformer, schedule, text, Guidance("cfg", 3.0), seed=1))
    return done.bits


def test_a_roomy_cpu_loads_full_precision_and_generates(store: ModelStore) -> None:
    lines = []
    loaded = load_model("test-micro", cpu(16), store=store, progress=lines.append)
    assert loaded.precision == "fp32" and loaded.device == torch.device("cpu")
    assert loaded.transformer.word_embed.weight.dtype == torch.float32
    assert any("precision fp32" in line for line in lines)
    assert _video(loaded)
    latent = torch.randn(1, loaded.preset.vae.codebook_dim, 2, 2, 2)
    assert loaded.vae.decode(latent).shape[2] == 5


def test_a_missing_quantised_precision_is_made_once_then_read_directly(store: ModelStore, monkeypatch) -> None:
    lines = []
    loaded = load_model("test-micro", cpu(16), precision="nf4", store=store, progress=lines.append)
    assert isinstance(loaded.transformer.block_chunks[0].module[0].mlp.up_proj, bnb.nn.Linear4bit)
    assert any("quantising test-micro to nf4" in line for line in lines)
    assert "nf4" in store.manifest("test-micro").variants
    first = _video(loaded)

    def never(*args, **kwargs):
        raise AssertionError("quantised again")

    monkeypatch.setattr(quantize, "quantize_checkpoint", never)
    again = load_model("test-micro", cpu(16), precision="nf4", store=store, progress=lambda _: None)
    assert all(torch.equal(a, b) for a, b in zip(_video(again), first, strict=True))


def test_a_model_that_does_not_fit_is_refused_with_the_plan(store: ModelStore) -> None:
    with pytest.raises(ModelLoadError, match="(?s)test-micro does not fit cpu:\n.*DOES NOT FIT"):
        load_model("test-micro", cpu(0.001), store=store, progress=lambda _: None)


def test_a_model_that_is_not_installed_says_how_to_install_it(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="tiny-a is not installed; install it with `istar models install tiny-a"):
        load_model("tiny-a", cpu(16), store=ModelStore(tmp_path))
