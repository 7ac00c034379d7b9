"""The main window opens with its title, menus and an honest status page."""

import tomllib
from pathlib import Path

import pytest
from PySide6.QtWidgets import QLabel

from desktop.main_window import APP_NAME, MainWindow, about_text, app_version


def menu_titles(window: MainWindow) -> dict[str, list[str]]:
    return {action.text(): [item.text() for item in action.menu().actions()] for action in window.menuBar().actions()}


def test_window_opens_with_title(qtbot):
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    assert window.isVisible()
    assert window.windowTitle() == "InfinityStar Studio"


def test_menus_offer_quit_and_about(qtbot):
    window = MainWindow()
    qtbot.addWidget(window)
    assert menu_titles(window) == {"&File": ["&Quit"], "&Help": [f"&About {APP_NAME}"]}


def test_quit_closes_the_window(qtbot):
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    quit_action = window.menuBar().actions()[0].menu().actions()[0]
    quit_action.trigger()
    assert not window.isVisible()


def test_about_names_the_installed_version():
    pyproject = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())
    if app_version().startswith("unknown"):
        pytest.skip("infinitystar-studio is not pip-installed in this environment")
    assert app_version() == pyproject["project"]["version"]
    assert app_version() in about_text()


def test_status_page_says_generation_is_not_available_yet(qtbot):
    window = MainWindow()
    qtbot.addWidget(window)
    page = window.centralWidget()
    assert isinstance(page, QLabel)
    assert "What works in this build" in page.text()
    assert "Not here yet" in page.text()
    assert "no engine connected, generation is not available yet" in window.statusBar().currentMessage()
