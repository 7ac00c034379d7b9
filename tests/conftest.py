"""Shared test setup: Qt renders offscreen unless the caller chose a platform; a Qt test's leftover objects are
collected at its own end."""

import gc
import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def _collect_qt_leftovers(request):
    """After a test that used qtbot (whose own teardown, done first, closes its widgets): collect the cycles it left,
    so that Qt objects among them are deleted there and then, not by a collection at some moment of a later test,
    which once crashed a worker in a test with no Qt at all. A crash in this collection names the test that made
    the objects."""
    yield
    if "qtbot" in request.fixturenames:
        gc.collect()
