"""A small project on a shown timeline."""

from __future__ import annotations

import pytest
from timeline_helpers import SyntheticMedia, shown_timeline, small_project


@pytest.fixture
def synthetic() -> SyntheticMedia:
    return SyntheticMedia()


@pytest.fixture
def view(qtbot, synthetic):
    with shown_timeline(qtbot, small_project(), synthetic, 320) as widget:
        yield widget
