"""Fixtures of the training tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from random_toyworld import export_random_toyworld


@pytest.fixture(scope="session")
def builtin(tmp_path_factory) -> Path:
    """Random toyworld weights exported as a built-in root, once for all the tests that only read it: most of an
    export's seconds go to fitting its preview map."""
    return export_random_toyworld(tmp_path_factory.mktemp("runs"), tmp_path_factory.mktemp("resources"))
