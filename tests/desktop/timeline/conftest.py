"""A small project on a shown timeline."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QUndoStack
from timeline_helpers import SyntheticMedia, small_project

from desktop.timeline.previews import MediaPreviews
from desktop.timeline.view import TimelineView


@pytest.fixture
def synthetic() -> SyntheticMedia:
    return SyntheticMedia()


@pytest.fixture
def view(qtbot, synthetic):
    previews = MediaPreviews(synthetic.thumbnail, synthetic.peaks)
    widget = TimelineView(small_project(), QUndoStack(), previews)
    qtbot.addWidget(widget)
    widget.resize(1100, 320)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    previews.close()
