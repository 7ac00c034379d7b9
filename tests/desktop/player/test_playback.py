"""Playback follows the sound it plays (null device), stops, and plays on without sound when there is no device;
J/K/L and the arrows move the playhead.

Playing is real time, but no assertion here depends on how fast the machine is: waits are for an event and run out
only on a hang (WAIT_MS), and what is checked holds at every moment (never ahead of the sound, never faster than
real time), so a slow or loaded machine passes as a fast one does."""

from __future__ import annotations

import threading
import time

from PySide6.QtCore import Qt

from desktop.media import audio
from desktop.player.playback import Playback
from desktop.player.sound_output import NO_OUTPUT_MESSAGE

WAIT_MS = 20_000  # a wait for an event: only a hang runs it out


def test_playback_advances_with_the_sound_and_stops_at_the_end(null_audio, editor, qtbot):
    timeline, playback, monitor = editor
    messages, shown, ahead = [], [], []
    playback.message.connect(messages.append)

    def changed(frame: int) -> None:
        shown.append(frame)
        if frame > playback._sound.position():
            ahead.append(frame)

    playback.position_changed.connect(changed)
    started = time.monotonic()
    with qtbot.waitSignal(playback.playing_changed, timeout=WAIT_MS) as playing:
        qtbot.keyClick(timeline, Qt.Key.Key_Space)
    assert playing.args == [True]
    with qtbot.waitSignal(playback.playing_changed, timeout=WAIT_MS) as stopped:
        pass
    elapsed = time.monotonic() - started
    assert stopped.args == [False] and timeline.playhead == playback.position == 32
    assert shown == sorted(set(shown)) and shown[-1] == 32 and ahead == []  # on with the sound, never before it
    assert elapsed >= 1.8, elapsed  # 2 s of timeline: never faster than real time (a slow machine may take longer)
    assert messages == [] and not monitor.message.isVisible()


def test_the_picture_waits_for_the_sound(null_audio, project, qtbot):
    """The sound's clock is the master: when mixing stalls, so does the picture (instead of running ahead)."""
    release, stalled = threading.Event(), threading.Event()

    def slow_mix(project, start_frame, n_samples):
        if start_frame >= 8:
            stalled.set()
            release.wait(120)  # set by the test: this only frees the thread if the test itself fails
        return audio.mix(project, start_frame, n_samples)

    playback = Playback(project, mix=slow_mix)
    try:
        playback.play()
        qtbot.waitUntil(stalled.is_set, timeout=WAIT_MS)  # the sound up to frame 8 is mixed, no more
        qtbot.waitUntil(lambda: playback.position >= 5, timeout=WAIT_MS)  # what was mixed plays
        qtbot.wait(300)  # time to run ahead, if it would
        stalled_at = playback.position
        assert stalled_at <= 9  # no frame after the mixed sound is shown, however long the mix takes
    finally:
        release.set()
    qtbot.waitUntil(lambda: playback.position >= stalled_at + 4, timeout=WAIT_MS)
    playback.pause()
    position = playback.position
    qtbot.wait(300)
    assert playback.position == position and not playback.is_playing


def test_without_an_output_device_it_plays_on_a_timer_and_says_so(no_audio, editor, qtbot):
    timeline, playback, monitor = editor
    with qtbot.waitSignal(playback.message, timeout=WAIT_MS) as said:
        playback.play()
    assert said.args == [NO_OUTPUT_MESSAGE] == ["No audio output device: playing without sound"]
    assert monitor.message.text() == NO_OUTPUT_MESSAGE and monitor.message.isVisibleTo(monitor)
    qtbot.waitUntil(lambda: timeline.playhead >= 6, timeout=WAIT_MS)
    playback.pause()


def test_jkl_shuttle_and_arrows_move_the_playhead(null_audio, editor, qtbot):
    timeline, playback, _ = editor
    qtbot.keyClick(timeline, Qt.Key.Key_L)
    qtbot.waitUntil(lambda: timeline.playhead >= 4, timeout=WAIT_MS)
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
    qtbot.waitUntil(lambda: timeline.playhead <= reversed_from - 3, timeout=WAIT_MS)
    qtbot.keyClick(timeline, Qt.Key.Key_K)
    stopped_at = timeline.playhead
    qtbot.keyClick(timeline, Qt.Key.Key_Right)
    qtbot.keyClick(timeline, Qt.Key.Key_Right)
    qtbot.keyClick(timeline, Qt.Key.Key_Left)
    assert timeline.playhead == playback.position == stopped_at + 1
