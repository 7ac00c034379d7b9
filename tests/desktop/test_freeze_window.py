"""Freeze frame as a person uses it: Timeline > Freeze frame (Shift+F) writes the picture under the playhead beside
the project's media, holds it for 2 s with the clip going on after it, selects the hold, and undoes in one step;
with no video under the playhead it says so."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtGui import QKeySequence
from studio_window import shown_window

from desktop.generate.outputs import media_folder
from engine.media.image import read_rgb
from engine.media.mp4 import mp4_writer

COLOURS = [(200, 40, 40), (40, 200, 40)]  # the video's first second red, then green


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    w = shown_window(qtbot, tmp_path, monkeypatch)
    path = tmp_path / "two.mp4"
    with mp4_writer(path, 16) as stream:
        for colour in COLOURS:
            stream.write(np.full((16, 64, 64, 3), colour, np.uint8))
    [media_id] = w.import_paths([path])
    w.place_media(media_id)
    return w


def test_freeze_frame_holds_the_picture_under_the_playhead_for_two_seconds(window):
    action = next(a for a in window.findChildren(type(window.split_action)) if a.text() == "&Freeze frame")
    assert action.shortcut() == QKeySequence("Shift+F")
    timeline = window.editor.timeline
    timeline.set_playhead(24)  # in the green second
    action.trigger()
    clips = window.project.tracks[0].clips
    assert [(c.start, c.length) for c in clips] == [(0, 24), (24, 32), (56, 8)]
    hold = window.project.media_of(clips[1])
    assert hold.kind == "image" and hold.path.parent == media_folder(None)
    assert np.abs(read_rgb(hold.path)[32, 32].astype(int) - COLOURS[1]).max() <= 8
    assert timeline.selected_clip_ids() == [clips[1].id]
    assert window.editor.stack.undoText() == "Freeze frame"
    window.editor.stack.undo()
    assert [(c.start, c.length) for c in window.project.tracks[0].clips] == [(0, 32)]


def test_with_no_video_under_the_playhead_it_says_so(window):
    window.editor.timeline.set_playhead(100)
    window.freeze_frame()
    assert window.statusBar().currentMessage() == ("Cannot freeze the frame: no video clip is under the playhead to "
                                                   "freeze")
    assert len(window.project.tracks[0].clips) == 1
