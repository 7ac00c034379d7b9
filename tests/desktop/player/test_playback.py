"""Playback follows the sound it plays (null device), stops, and plays on without sound when there is no device;
J/K/L and the arrows move the playhead."""

from __future__ import annotations

import threading
import time

from PySide6.QtCore import Qt

from desktop.media import audio
from desktop.player.playback import Playback
from desktop.player.sound_output import NO_OUTPUT_MESSAGE


def test_playback_advances_with_the_sound_and_stops_at_the_end(null_audio, editor, qtbot):
    timeline, playback, monitor = editor
    messages = []
    playback.message.connect(messages.append)
    started = time.monotonic()
    with qtbot.waitSignal(playback.playing_changed, timeout=1000) as playing:
        qtbot.keyClick(timeline, Qt.Key.Key_Space)
    assert playing.args == [True]
    qtbot.wait(500)
    assert 3 <= timeline.playhead <= 12  # about 8 frames in half a second at 16 fps
    with qtbot.waitSignal(playback.playing_changed, timeout=4000) as stopped:
        pass
    elapsed = time.monotonic() - started
    assert stopped.args == [False] and timeline.playhead == playback.position == 32
    assert 1.8 <= elapsed <= 3.0, elapsed  # 2 s of timeline played in about 2 s
    assert messages == [] and not monitor.message.isVisible()


def test_the_picture_waits_for_the_sound(null_audio, project, qtbot):
    """The sound's clock is the master: when mixing stalls, so does the picture (instead of running ahead)."""
    release = threading.Event()

    def slow_mix(project, start_frame, n_samples):
        if start_frame >= 8:
            release.wait(5)
        return audio.mix(project, start_frame, n_samples)

    playback = Playback(project, mix=slow_mix)
    playback.play()
    qtbot.wait(1200)
    stalled = playback.position
    assert 5 <= stalled <= 9  # the sound up to frame 8 has been mixed; no frame after it is shown
    release.set()
    qtbot.waitUntil(lambda: playback.position >= stalled + 4, timeout=2000)
    playback.pause()
    position = playback.position
    qtbot.wait(300)
    assert playback.position == position and not playback.is_playing


def test_without_an_output_device_it_plays_on_a_timer_and_says_so(no_audio, editor, qtbot):
    timeline, playback, monitor = editor
    with qtbot.waitSignal(playback.message, timeout=1000) as said:
        playback.play()
    assert said.args == [NO_OUTPUT_MESSAGE] == ["No audio output device: playing without sound"]
    assert monitor.message.text() == NO_OUTPUT_MESSAGE and monitor.message.isVisibleTo(monitor)
    qtbot.waitUntil(lambda: timeline.playhead >= 6, timeout=1500)
    playback.pause()


def test_jkl_shuttle_and_arrows_move_the_playhead(null_audio, editor, qtbot):
    timeline, playback, _ = editor
    qtbot.keyClick(timeline, Qt.Key.Key_L)
    qtbot.waitUntil(lambda: timeline.playhead >= 4, timeout=1500)
    qtbot.keyClick(timeline, Qt.Key.Key_K)
    paused_at = timeline.playhead
    qtbot.wait(250)
    assert timeline.playhead == paused_at and not playback.is_playing
    qtbot.keyClick(timeline, Qt.Key.Key_L)
    qtbot.keyClick(timeline, Qt.Key.Key_L)
    assert playback.rate == 2.0
    qtbot.keyClick(timeline, Qt.Key.Key_J)  # from forward: reverse at normal speed
    assert playback.rate == -1.0
    reversed_from = timeline.playhead
    qtbot.waitUntil(lambda: timeline.playhead <= reversed_from - 3, timeout=1500)
    qtbot.keyClick(timeline, Qt.Key.Key_K)
    stopped_at = timeline.playhead
    qtbot.keyClick(timeline, Qt.Key.Key_Right)
    qtbot.keyClick(timeline, Qt.Key.Key_Right)
    qtbot.keyClick(timeline, Qt.Key.Key_Left)
    assert timeline.playhead == playback.position == stopped_at + 1
