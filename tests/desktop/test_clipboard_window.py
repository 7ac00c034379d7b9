"""Cut, copy and paste of clips as a person uses them in the window: the Edit menu's actions with their usual keys,
the clip's and the empty timeline's right-click menus, one undo step each, and a paste into another project; and
selecting all clips and the snapping choice, which go with them in the menus."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QAction, QKeySequence
from studio_window import studio_window, window_with_clips

from desktop.project.formats import ProjectFormat
from desktop.project.model import Clip


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    """A 16 fps project; Video 1: "a" (a 48-frame video) at 0..40 from its frame 4, "b" at 40..56."""
    clips = [Clip("a", "v", 0, 40, source_in=4, fade_in=8), Clip("b", "v", 40, 16)]
    return window_with_clips(qtbot, tmp_path, monkeypatch, clips)


def _clips(window) -> list[tuple[str, int, int, int]]:
    return [(t.name, c.start, c.length, c.source_in) for t in window.project.tracks for c in t.clips]


def test_the_edit_menu_has_cut_copy_and_paste_on_their_usual_keys(window):
    keys = {a.text(): a.shortcut() for a in (window.cut_action, window.copy_action, window.paste_action)}
    assert keys == {"Cu&t": QKeySequence(QKeySequence.StandardKey.Cut),
                    "&Copy": QKeySequence(QKeySequence.StandardKey.Copy),
                    "&Paste at playhead": QKeySequence(QKeySequence.StandardKey.Paste)}
    assert not window.paste_action.isEnabled(), "nothing to paste yet"


def test_copy_then_paste_at_the_playhead_selects_the_copy_and_undoes_in_one_step(window):
    timeline = window.editor.timeline
    timeline.select_clips(["a"])
    window.copy_action.trigger()
    assert window.paste_action.isEnabled()
    assert window.statusBar().currentMessage() == "1 clip ready to paste at the playhead"

    timeline.set_playhead(80)
    window.paste_action.trigger()
    assert _clips(window)[-1] == ("Video 1", 80, 40, 4)
    pasted = window.project.tracks[0].clips[-1]
    assert pasted.fade_in == 8 and timeline.selected_clip_ids() == [pasted.id]
    assert window.editor.stack.undoText() == "Paste clip"
    window.editor.stack.undo()
    assert _clips(window) == [("Video 1", 0, 40, 4), ("Video 1", 40, 16, 0)]


def test_cut_leaves_a_gap_and_its_clips_paste_back_elsewhere(window):
    timeline = window.editor.timeline
    timeline.select_clips(["a", "b"])
    window.cut_action.trigger()
    assert _clips(window) == [] and window.editor.stack.undoText() == "Cut clips"
    timeline.set_playhead(16)
    window.paste_action.trigger()
    assert _clips(window) == [("Video 1", 16, 40, 4), ("Video 1", 56, 16, 0)]


def test_clips_copied_in_one_project_paste_into_the_next_at_its_frame_rate(window):
    window.editor.timeline.select_clips(["b"])
    window.copy_action.trigger()
    window.new_project(ProjectFormat(1280, 720, 24))
    window.paste_action.trigger()
    assert _clips(window) == [("Video 1", 0, 24, 0)], "16 frames at 16 fps are 24 at 24 fps"
    assert "v" in window.project.media and window.bin.list.count() == 1


def test_the_right_click_menus_offer_them(window):
    window.editor.timeline.select_clips(["a"])
    clip_menu = [a.text() for a in window.clip_menu().actions()]
    assert {"Cu&t", "&Copy", "&Paste at playhead"} <= set(clip_menu)
    assert "&Paste at playhead" in [a.text() for a in window.space_menu().actions()]


def test_select_all_takes_every_clip_of_unlocked_tracks_and_cut_takes_them(window):
    window.project.tracks[1].clips = [Clip("locked", "v", 0, 10)]  # Audio 1's place, on a locked track of its own
    window.project.tracks[1].kind, window.project.tracks[1].locked = "video", True
    window.editor.timeline.refresh()
    keys = [a for a in window.findChildren(QAction) if a.text() == "Select &all clips"]
    assert [a.shortcut() for a in keys] == [QKeySequence(QKeySequence.StandardKey.SelectAll)]
    keys[0].trigger()
    assert sorted(window.editor.timeline.selected_clip_ids()) == ["a", "b"]


def test_snapping_is_a_checkable_choice_the_next_window_remembers(window, qtbot, tmp_path):
    assert window.snap_action.isChecked() and window.editor.timeline.snapping
    window.snap_action.trigger()
    assert not window.editor.timeline.snapping
    window.new_project(ProjectFormat(640, 360, 16))
    assert not window.editor.timeline.snapping, "a project opened next snaps as chosen"
    again = studio_window(qtbot, tmp_path)
    assert not again.snap_action.isChecked() and not again.editor.timeline.snapping


def test_paste_insert_on_ctrl_shift_v_pushes_the_later_clips_and_undoes_in_one_step(window):
    timeline = window.editor.timeline
    assert window.insert_action.shortcut() == QKeySequence("Ctrl+Shift+V") and not window.insert_action.isEnabled()
    timeline.select_clips(["b"])
    window.copy_action.trigger()
    timeline.set_playhead(20)
    window.insert_action.trigger()
    assert _clips(window) == [("Video 1", 0, 20, 4), ("Video 1", 20, 16, 0), ("Video 1", 36, 20, 24),
                              ("Video 1", 56, 16, 0)], "a split at the playhead, the copy, then the rest moved on"
    assert window.editor.stack.undoText() == "Insert clip"
    window.editor.stack.undo()
    assert _clips(window) == [("Video 1", 0, 40, 4), ("Video 1", 40, 16, 0)]
    assert window.insert_action in window.space_menu().actions()
