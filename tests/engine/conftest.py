"""Fixtures of the engine tests; the tiny models and schedules themselves live in tests/tiny_models.py."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from model_release import write_release
from tiny_models import random_model

from engine.config import get_preset
from engine.model.transformer import InfinityStarTransformer
from engine.weights.catalogue import CATALOGUE
from engine.weights.store import ModelStore

# Tiny ops on two OpenMP threads mostly wait on each other, and stall badly when another
# process holds a core; one thread keeps these tests fast and their timing steady.
torch.set_num_threads(1)


@pytest.fixture
def micro_model() -> InfinityStarTransformer:
    return random_model()


@pytest.fixture
def micro_text() -> torch.Tensor:
    channels = get_preset("test-micro").transformer.text_channels
    return torch.randn(5, channels, generator=torch.Generator().manual_seed(7))


@pytest.fixture(scope="session")
def micro_home(tmp_path_factory) -> Path:
    """An ISTAR_HOME whose model store has test-micro installed (random weights); do not change it."""
    home = tmp_path_factory.mktemp("home")
    release = write_release(tmp_path_factory.mktemp("release"), CATALOGUE["test-micro"])
    ModelStore(home / "models").install("test-micro", release, progress=lambda _: None)
    return home
