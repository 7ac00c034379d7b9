"""The slow installer tests run only when selected by their marker (`-m slow_install`, `-m frozen_build`): with them
the whole suite took 15 min on a 2-core CI machine, over its 10-minute budget. README.md (Tests) gives
their commands and last results."""

import pytest

SLOW_MARKERS = {
    "slow_install": "installer/install.sh into a fresh venv and prefix, then the installed self-check (minutes: pip)",
    "frozen_build": "installer/build.sh (PyInstaller, minutes, 1.5 GB) and the built app's self-check",
}


def pytest_configure(config: pytest.Config) -> None:
    for name, what in SLOW_MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {what}; runs with -m {name}")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    chosen = config.getoption("markexpr") or ""
    for item in items:
        for name in SLOW_MARKERS:
            if name in item.keywords and name not in chosen:
                item.add_marker(pytest.mark.skip(reason=f"slow: select it with -m {name}"))
