"""A studio main window for a test: its settings, engine log and job book in the test's folder, closed with the test
(qtbot); the windows tests open and show are made here."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings

from desktop.main_window import MainWindow
from desktop.project.formats import ProjectFormat
from desktop.project.model import Clip, MediaItem
from engine.api.job_book import JobBook
from engine.api.transport import LocalEngine


def folder_settings(folder: Path) -> QSettings:
    return QSettings(str(folder / "settings.ini"), QSettings.Format.IniFormat)


def studio_window(qtbot, folder: Path, settings: QSettings | None = None, quiet: bool = True) -> MainWindow:
    """A window whose settings (`settings`, else folder/settings.ini), engine log and job book are in `folder`.
    `quiet`: closing it or opening another project with edits unsaved asks nothing."""
    settings = settings if settings is not None else folder_settings(folder)
    window = MainWindow(settings, lambda: LocalEngine(folder / "engine.log"), JobBook(folder / "q.json"))
    if quiet:
        window.confirm_discard = lambda: True
    qtbot.addWidget(window)
    return window


def shown_window(qtbot, folder: Path, monkeypatch, size: tuple[int, int] | None = None) -> MainWindow:
    """A quiet studio_window with ISTAR_HOME in `folder`, shown; at `size` (then waited on until it shows), if given."""
    monkeypatch.setenv("ISTAR_HOME", str(folder / "home"))
    window = studio_window(qtbot, folder)
    if size is not None:
        window.resize(*size)
    window.show()
    if size is not None:
        qtbot.waitExposed(window)
    return window


def window_with_clips(qtbot, folder: Path, monkeypatch, clips: list[Clip]) -> MainWindow:
    """A quiet studio_window (ISTAR_HOME in `folder`) on a new 640x360 16 fps project whose Video 1 holds `clips` of
    media "v", a 3 s (48-frame) video."""
    monkeypatch.setenv("ISTAR_HOME", str(folder / "home"))
    window = studio_window(qtbot, folder)
    window.new_project(ProjectFormat(640, 360, 16))
    window.project.media["v"] = MediaItem("v", folder / "v.mp4", "video", 3.0, 16, 64, 64)
    window.project.tracks[0].clips = clips
    window.editor.timeline.refresh()
    return window
