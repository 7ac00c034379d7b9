"""Fixtures of the engine tests; the tiny models and schedules themselves live in tests/tiny_models.py."""

from __future__ import annotations

import pytest
import torch
from tiny_models import random_model

from engine.config import get_preset
from engine.model.transformer import InfinityStarTransformer

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
