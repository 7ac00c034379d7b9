"""Titles as a person makes them: Timeline > Add title puts one at the playhead and selects it; the inspector's Title
section edits it, typing is one undo step, and the monitor shows the text."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from studio_window import shown_window

from desktop.main_window import MainWindow
from desktop.project.commands import SetTrackFlag
from desktop.project.title import LOWER_THIRD, Title


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    return shown_window(qtbot, tmp_path, monkeypatch)  # it closes with edits unsaved: quietly


def white_share(window: MainWindow) -> float:
    image = window.editor.monitor.image
    if image is None:
        return 0.0
    rgb = image.convertToFormat(image.Format.Format_RGB888)
    data = np.frombuffer(rgb.constBits(), np.uint8).reshape(rgb.height(), rgb.bytesPerLine())
    return float((data[:, : rgb.width() * 3] > 250).mean())


def test_add_title_places_a_selected_title_that_the_inspector_edits(window, qtbot) -> None:
    window.editor.timeline.set_playhead(16)
    window.title_action.trigger()
    [clip] = [c for t in window.project.tracks for c in t.clips]
    media = window.project.media_of(clip)
    assert (clip.start, clip.length, clip.transform, media.title) == (16, 3 * window.project.fps, LOWER_THIRD,
                                                                      Title())
    assert window.editor.timeline.selected_clip_ids() == [clip.id]
    panel = window.inspector.title_panel
    assert panel.isVisible() and panel.text.toPlainText() == "Title"
    qtbot.waitUntil(lambda: white_share(window) > 0.001)  # the monitor shows the text

    panel.text.setFocus()
    panel.text.selectAll()
    QTest.keyClicks(panel.text, "Hello")
    QTest.keyClick(panel.text, Qt.Key.Key_Return)
    QTest.keyClicks(panel.text, "there")
    panel.commit_text()  # as leaving the box or pausing does
    assert window.project.media[media.id].title.text == "Hello\nthere"
    assert window.editor.stack.undoText() == "Change title text"
    assert panel.text.toPlainText() == "Hello\nthere"

    panel.boxes["size"].setValue(12)
    panel.box.setChecked(True)
    assert window.project.media[media.id].title == Title(text="Hello\nthere", size=0.12, box=True)
    window.editor.stack.undo()
    window.editor.stack.undo()
    assert window.project.media[media.id].title == Title(text="Hello\nthere")
    window.editor.stack.undo()  # the whole typing at once
    assert window.project.media[media.id].title == Title()
    assert panel.text.toPlainText() == "Title" and panel.boxes["size"].value() == 8


def test_a_title_on_a_locked_track_shows_greyed(window) -> None:
    window.title_action.trigger()
    track = window.project.tracks[0]
    window.editor.timeline.edit(SetTrackFlag(track.id, "locked", True))
    window.inspector.show_clip(window.project, track.clips[0])
    assert window.inspector.title_panel.isVisible() and not window.inspector.title_panel.isEnabled()


def test_a_long_title_wraps_at_the_width_set_in_the_inspector_and_the_outline_follows(window, qtbot) -> None:
    window.editor.timeline.set_playhead(0)
    window.title_action.trigger()
    [clip] = [c for t in window.project.tracks for c in t.clips]
    media_id = clip.media_id
    panel = window.inspector.title_panel
    panel.text.setPlainText("A title line far too long to fit across the frame in one go")
    panel.commit_text()
    handles = window.editor.monitor.placement_handles
    picture = handles._picture()

    def outline_width() -> float:
        outline = handles._outline(window.project.find_clip(clip.id)[1]).boundingRect()
        return outline.width() / picture.width()

    assert panel.boxes["wrap_width"].value() == 80 and 0.6 < outline_width() <= 0.82  # the title-safe area
    panel.boxes["wrap_width"].setValue(40)
    assert window.project.media[media_id].title.wrap_width == 0.4
    assert window.editor.stack.undoText() == "Change title wrap width"
    assert outline_width() <= 0.42
    window.editor.stack.undo()
    assert window.project.media[media_id].title.wrap_width == 0.8 and panel.boxes["wrap_width"].value() == 80


def test_editing_one_half_of_a_split_title_leaves_the_other_as_it_was(window) -> None:
    timeline = window.editor.timeline
    timeline.set_playhead(0)
    window.title_action.trigger()
    timeline.set_playhead(20)
    window.split_action.trigger()
    left, right = window.project.tracks[0].clips
    assert window.editor.stack.undoText() == "Split clip"
    timeline.select_clips([right.id])
    panel = window.inspector.title_panel
    panel.text.setPlainText("Second half")
    panel.commit_text()
    assert window.project.media_of(right).title.text == "Second half"
    assert window.project.media_of(left).title.text == "Title"
    timeline.select_clips([left.id])
    assert panel.text.toPlainText() == "Title"
    window.editor.stack.undo()
    window.editor.stack.undo()  # the split: one title clip and one title again
    assert [c.media_id for t in window.project.tracks for c in t.clips] == [left.media_id]
    assert list(window.project.media) == [left.media_id]
