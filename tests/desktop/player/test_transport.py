"""The transport under the monitor: each button moves the playhead as its key does, play/pause follows a clock the
test moves itself (no sound device: playback runs on that clock), the label shows the playhead and the length, and
the preview quality renders the monitor's frames smaller, remembered by the window. Waits are for an event and run
out only on a hang (WAIT_MS): nothing here depends on the machine's speed."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QUndoStack
from studio_window import folder_settings, studio_window

from desktop.main_window import MainWindow
from desktop.player.monitor import Monitor
from desktop.player.playback import Playback
from desktop.player.preview import ScaledPreview
from desktop.player.transport import Transport, read_scale
from desktop.player.wiring import connect_player
from desktop.timeline.view import TimelineView

WAIT_MS = 20_000


class Clock:
    """Seconds that pass only when the test says."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def __call__(self) -> float:
        return self.seconds


@pytest.fixture
def player(qtbot, project, no_audio, monkeypatch, tmp_path):
    """The 2 s, 16 fps, 64x64 project on a timeline, playback on `clock`, the monitor and its transport."""
    monkeypatch.setenv("ISTAR_HOME", str(tmp_path / "studio"))
    clock = Clock()
    timeline = TimelineView(project, QUndoStack())
    monitor = Monitor(project)
    playback = Playback(project, now=clock)
    connect_player(timeline, playback, monitor)
    transport = Transport(timeline, playback)
    transport.scale_changed.connect(monitor.set_preview_scale)
    for widget in (timeline, monitor, transport):
        qtbot.addWidget(widget)
        widget.show()
    yield timeline, playback, monitor, transport, clock
    playback.close()


def click(qtbot, button) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_each_button_moves_the_playhead_as_its_key_does_and_the_label_follows(player, qtbot):
    timeline, _, _, transport, _ = player
    assert transport.time.text() == "0:00.00 / 0:02.00"
    moves = [(transport.frame_on, 1), (transport.second_on, 17), (transport.frame_back, 16),
             (transport.second_back, 0), (transport.end, 32), (transport.frame_back, 31), (transport.start, 0)]
    for button, frame in moves:
        click(qtbot, button)
        assert timeline.playhead == frame, button.toolTip()
    timeline.set_playhead(20)
    assert transport.time.text() == "0:01.04 / 0:02.00"  # 20 frames at 16 fps
    assert timeline.focusWidget() is timeline  # a click leaves the keys with the timeline
    tips = [b.toolTip() for b in (transport.start, transport.second_back, transport.frame_back, transport.play,
                                  transport.frame_on, transport.second_on, transport.end)]
    assert [t[t.index("(") + 1 : -1] for t in tips] == ["Home", "Shift+Left", "Left", "Space", "Right",
                                                        "Shift+Right", "End"]


def test_play_follows_the_clock_steps_play_on_and_pause_stops(player, qtbot):
    timeline, playback, _, transport, clock = player
    play_icon = transport.play.icon().cacheKey()
    with qtbot.waitSignal(playback.playing_changed, timeout=WAIT_MS) as started:
        click(qtbot, transport.play)
    assert started.args == [True] and transport.play.icon().cacheKey() != play_icon
    clock.seconds = 0.5
    qtbot.waitUntil(lambda: timeline.playhead == 8, timeout=WAIT_MS)  # half a second at 16 fps
    click(qtbot, transport.second_on)
    assert timeline.playhead == 24 and playback.is_playing  # it plays on from there
    clock.seconds = 0.75
    qtbot.waitUntil(lambda: timeline.playhead == 28, timeout=WAIT_MS)
    with qtbot.waitSignal(playback.playing_changed, timeout=WAIT_MS) as stopped:
        click(qtbot, transport.play)
    assert stopped.args == [False]
    clock.seconds = 5.0
    playback._tick()  # what a tick would do now: nothing, it is paused
    assert timeline.playhead == 28 and transport.time.text() == "0:01.12 / 0:02.00"
    click(qtbot, transport.end)
    with qtbot.waitSignal(playback.playing_changed, timeout=WAIT_MS):
        click(qtbot, transport.play)  # from the end: from the start again
    assert timeline.playhead == 0
    playback.pause()


def test_quarter_quality_renders_the_monitors_frames_at_a_quarter_of_the_size(player, qtbot, monkeypatch):
    timeline, _, monitor, transport, _ = player
    qtbot.waitUntil(lambda: monitor.image is not None, timeout=WAIT_MS)
    assert monitor.image.size() == QSize(64, 64)
    rendered, real = [], ScaledPreview.frame
    monkeypatch.setattr(ScaledPreview, "frame", lambda self, index: rendered.append(index) or real(self, index))
    with qtbot.waitSignal(monitor.frame_shown, timeout=WAIT_MS):
        transport.quality.setCurrentIndex(transport.quality.findText("Quarter"))
    assert monitor.preview_scale == 0.25 and monitor.image.size() == QSize(16, 16)
    with qtbot.waitSignal(monitor.frame_shown, timeout=WAIT_MS):
        timeline.set_playhead(10)
    assert monitor.image.size() == QSize(16, 16) and 10 in rendered
    assert monitor.renderer.frame(10).shape == (64, 64, 3)  # the project's own renderer stays full size
    monitor.project.width, monitor.project.height = 128, 96  # a new format reaches the preview
    with qtbot.waitSignal(monitor.frame_shown, timeout=WAIT_MS):
        monitor.refresh()
    assert monitor.image.size() == QSize(32, 24)
    with qtbot.waitSignal(monitor.frame_shown, timeout=WAIT_MS):
        transport.set_scale(1.0)
    assert monitor.image.size() == QSize(128, 96)


def test_the_window_remembers_the_preview_quality(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("ISTAR_HOME", str(tmp_path / "home"))
    settings = folder_settings(tmp_path)

    def window() -> MainWindow:
        return studio_window(qtbot, tmp_path, settings)

    first = window()
    assert first.editor.transport.scale == 1.0 and first.editor.monitor.preview_scale == 1.0
    first.editor.transport.quality.setCurrentIndex(first.editor.transport.quality.findText("Half"))
    first.new_project()  # a new editor: the same quality
    assert first.editor.transport.scale == 0.5 and first.editor.monitor.preview_scale == 0.5
    second = window()
    assert second.editor.transport.quality.currentText() == "Half" and second.editor.monitor.preview_scale == 0.5
    assert [read_scale(v) for v in ("0.25", 0.5, "x", None, 3, -1)] == [0.25, 0.5, 1.0, 1.0, 1.0, 1.0]
