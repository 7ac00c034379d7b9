"""The tiny T5 checkpoint folder, built once for the text encoder tests."""

from __future__ import annotations

import pytest
from tiny_t5 import TinyT5, build_tiny_t5


@pytest.fixture(scope="session")
def tiny_t5(tmp_path_factory: pytest.TempPathFactory) -> TinyT5:
    return build_tiny_t5(tmp_path_factory.mktemp("t5"))
