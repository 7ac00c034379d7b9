"""Selecting a clip shows it in the inspector without moving anything else: the left dock, and so the monitor, keep
their widths, whatever the clip's prompt and name."""

from __future__ import annotations

from engine_records import generation
from PySide6.QtCore import QSettings

from desktop.main_window import MainWindow
from desktop.project.commands import AddClip, AddMedia
from desktop.project.model import Clip, MediaItem
from engine.api.job_book import JobBook
from engine.api.transport import LocalEngine

LONG = ("a red circle rolls slowly to the right across a blue floor while a yellow square waits in the far corner "
        "and the light changes from morning to evening")


def test_selecting_a_clip_with_a_long_prompt_keeps_the_docks_and_the_monitor_steady(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("ISTAR_HOME", str(tmp_path / "home"))
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings, lambda: LocalEngine(tmp_path / "engine.log"), JobBook(tmp_path / "q.json"))
    qtbot.addWidget(window)
    window.confirm_discard = lambda: True
    window.resize(1400, 900)
    window.show()
    qtbot.waitExposed(window)
    name = "a-very-long-file-name-of-a-generated-clip-" * 3 + ".mp4"
    media = MediaItem("m", tmp_path / name, "video", 5.0, 16, 1280, 720, False, generation([LONG, LONG], seconds=5))
    track = window.project.tracks[0]
    window.editor.timeline.edit(AddMedia(media))
    window.editor.timeline.edit(AddClip(track.id, Clip("c", "m", 0, 80)))
    qtbot.wait(50)
    inspector_dock = window.docks["inspector"]
    before = (inspector_dock.width(), window.editor.width(), window.docks["generate"].width())
    window.editor.timeline.select_clips(["c"])
    qtbot.waitUntil(lambda: window.inspector.clip is not None)
    qtbot.wait(50)
    assert (inspector_dock.width(), window.editor.width(), window.docks["generate"].width()) == before
    window.close()
