"""Clip speed as a person changes it in the window: Edit > Speed (also on a clip's menu) for the selected clips in
one undo step, the later clips of a track moving along, the inspector's Speed box for any pace, and the clip's label
saying its speed."""

from __future__ import annotations

import wave

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QPushButton
from studio_window import window_with_clips

from desktop.media.audio import shared_audio, stretches_to_make
from desktop.project.commands import SetClipSpeed
from desktop.project.model import Clip


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    """A 16 fps project; Video 1: "a" (a 48-frame video) at 0..16 from its frame 4, "b" at 40..56."""
    return window_with_clips(qtbot, tmp_path, monkeypatch, [Clip("a", "v", 0, 16, source_in=4), Clip("b", "v", 40, 16)])


def choice(window, text: str):
    return next(a for a in window.speed_action.menu().actions() if a.text().startswith(text))


def test_edit_speed_slows_the_selected_clips_in_one_undo_step(window):
    timeline = window.editor.timeline
    timeline.select_clips(["a", "b"])
    assert [a.text() for a in window.speed_action.menu().actions()] == [
        "25 % (slow motion)", "50 %", "100 % (normal)", "200 %", "400 %"]
    choice(window, "50 %").trigger()
    clips = [(c.start, c.length, c.source_in, c.speed) for c in window.project.tracks[0].clips]
    assert clips == [(0, 32, 4, 0.5), (56, 32, 0, 0.5)], "b moved on by the 16 frames a grew"
    assert timeline._items["a"].name == "v.mp4 (50 %)", "the clip's label says its speed"
    assert window.editor.stack.undoText() == "Change clip speeds"
    window.editor.stack.undo()
    assert [(c.length, c.speed) for c in window.project.tracks[0].clips] == [(16, 1.0), (16, 1.0)]
    assert window.speed_action in window.clip_menu().actions(), "also on a clip's menu"


def test_a_slowdown_moves_the_later_clips_of_the_track_along(window):
    window.editor.timeline.select_clips(["a"])
    choice(window, "25 %").trigger()
    assert [(c.id, c.start, c.length) for c in window.project.tracks[0].clips] == [("a", 0, 64), ("b", 88, 16)]


def test_the_inspector_speed_box_takes_any_pace(window, qtbot):
    window.editor.timeline.select_clips(["b"])
    box = window.inspector.form.itemAt(4, window.inspector.form.ItemRole.FieldRole).widget()
    assert box.value() == 100 and box.suffix() == " %"
    box.lineEdit().selectAll()
    qtbot.keyClicks(box.lineEdit(), "160")
    qtbot.keyClick(box.lineEdit(), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.project.find_clip("b")[1].speed == 1.6)
    assert window.project.find_clip("b")[1].length == 10


def test_edit_reverse_plays_the_selection_backwards_and_again_forwards(window):
    timeline = window.editor.timeline
    timeline.select_clips(["a", "b"])
    window.reverse_action.trigger()
    assert [c.reverse for c in window.project.tracks[0].clips] == [True, True]
    assert timeline._items["a"].name == "v.mp4 (reversed)"
    assert window.editor.stack.undoText() == "Reverse clips"
    assert window.reverse_action in window.clip_menu().actions()
    window.project.tracks[0].clips[1].reverse = False  # one forwards: Reverse plays both backwards
    window.reverse_action.trigger()
    assert [c.reverse for c in window.project.tracks[0].clips] == [True, True]
    window.reverse_action.trigger()
    assert [c.reverse for c in window.project.tracks[0].clips] == [False, False]
    assert window.editor.stack.undoText() == "Play clips forwards"


def test_the_inspectors_backwards_box_reverses_the_clip(window, qtbot):
    window.editor.timeline.select_clips(["b"])
    box = next(b for b in window.inspector.findChildren(QCheckBox) if b.text() == "Backwards")
    assert not box.isChecked()
    box.click()
    qtbot.waitUntil(lambda: window.project.find_clip("b")[1].reverse)
    assert window.editor.stack.undoText() == "Reverse clip"


def test_the_level_at_the_playhead_sets_a_volume_key_and_clear_takes_them_away(window, qtbot):
    window.project.media["v"].has_audio = True
    window.editor.timeline.refresh()
    window.editor.timeline.select_clips(["b"])  # 40..56
    window.editor.timeline.set_playhead(44)
    box = window.inspector.level_here
    assert box.value() == 100
    box.setValue(50)
    box.editingFinished.emit()
    qtbot.waitUntil(lambda: window.project.find_clip("b")[1].volume == ((4, 0.5),))
    assert window.editor.stack.undoText() == "Set volume key"
    window.editor.timeline.set_playhead(52)
    assert window.inspector.level_here.value() == 50, "one key: its level throughout"
    window.inspector.level_here.setValue(100)
    window.inspector.level_here.editingFinished.emit()
    qtbot.waitUntil(lambda: window.project.find_clip("b")[1].volume == ((4, 0.5), (12, 1.0)))
    window.editor.timeline.set_playhead(48)
    assert window.inspector.level_here.value() == 75, "halfway between the keys"
    clear = next(b for b in window.inspector.findChildren(QPushButton) if b.text() == "Clear 2 volume keys")
    clear.click()
    qtbot.waitUntil(lambda: window.project.find_clip("b")[1].volume == ())


def test_a_sound_slowed_at_its_pitch_is_stretched_ahead_of_playback(window, qtbot, tmp_path):
    path = tmp_path / "tone.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(48000)
        tone = 0.2 * np.sin(2 * np.pi * 220 * np.arange(48000) / 48000)
        out.writeframes((tone * 32767).astype("<i2").tobytes())
    [media_id] = window.import_paths([path])
    window.place_media(media_id)
    media = window.project.media[media_id]
    clip = next(c for t in window.project.tracks if t.kind == "audio" for c in t.clips)
    assert not shared_audio.has_stretched(media, 48000, 0.5)
    window.editor.timeline.edit(SetClipSpeed(clip.id, 0.5))
    qtbot.waitUntil(lambda: shared_audio.has_stretched(media, 48000, 0.5), timeout=20_000)
    assert stretches_to_make(window.project) == []
