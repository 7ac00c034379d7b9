"""The slow installer tests run only when selected by their marker (`-m slow_install`, `-m frozen_build`) or in CI
(the environment variable CI=true), so a local run of the suite stays quick."""

import os

import pytest

SLOW_MARKERS = {
    "slow_install": "installer/install.sh into a fresh venv and prefix, then the installed self-check (minutes: pip)",
    "frozen_build": "installer/build.sh (PyInstaller, minutes, 1.5 GB) and the built app's self-check",
}


def pytest_configure(config: pytest.Config) -> None:
    for name, what in SLOW_MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {what}; runs with -m {name} or in CI")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("CI") == "true":
        return
    chosen = config.getoption("markexpr") or ""
    for item in items:
        for name in SLOW_MARKERS:
            if name in item.keywords and name not in chosen:
                item.add_marker(pytest.mark.skip(reason=f"slow: select it with -m {name}"))
