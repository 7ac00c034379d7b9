"""Right-click menus on the timeline, in the window: on a clip (its edits and, for a generated one, the Generate
menu's clip actions, each with its shortcut), on the timeline where no clip is (what happens at the playhead,
which moves there first) and on a track header (mute, lock, remove). Each menu is opened by a right click and an
entry is chosen with the keyboard, as a person would."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from engine_records import TOYWORLD
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt, QTimer
from PySide6.QtGui import QAction, QContextMenuEvent, QKeyEvent, QMouseEvent
from PySide6.QtWidgets import QApplication, QMenu, QWidget
from studio_window import studio_window
from timeline_helpers import viewport_point

from desktop.main_window import MainWindow
from desktop.project.model import Clip, MediaItem, Track

VIDEO1, AUDIO1 = 0, 1


def generated(folder: Path, name: str, seconds: float) -> MediaItem:
    path = folder / f"{name}.mp4"
    path.with_suffix(".bits").write_bytes(b"")
    provenance = {"model": "toyworld", "preset": "toyworld", "precision": "fp32", "settings": {"seconds": 3, "seed": 9},
                  "inputs": {"kind": "generate", "prompts": ["a red ball"]}}
    return MediaItem(name, path, "video", seconds, 16, 64, 64, provenance=provenance)


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    """Video 1: "shot" (imported) at 0..48 and "gen" (generated) at 60..140; Audio 1: "voice" at 10..110. Shown
    (the engine is never asked for: no engine process), with no job submitted for real."""
    monkeypatch.setenv("ISTAR_HOME", str(tmp_path / "home"))
    w = studio_window(qtbot, tmp_path)
    w.models = {"toyworld": TOYWORLD}
    w.submitted = []
    monkeypatch.setattr(w.controller, "submit",
                        lambda spec, placement, then=None: w.submitted.append((spec, placement)))
    project = w.project
    project.media = {"v": MediaItem("v", tmp_path / "shot.mp4", "video", 60.0, 16, 64, 64),
                     "g": generated(tmp_path, "g", 60.0),
                     "a": MediaItem("a", tmp_path / "voice.wav", "audio", 60.0)}
    project.tracks = [Track("t1", "video", "Video 1", clips=[Clip("shot", "v", 0, 48), Clip("gen", "g", 60, 80)]),
                      Track("t3", "audio", "Audio 1", clips=[Clip("voice", "a", 10, 100)])]
    w._engine_asked = True  # shown without starting an engine
    w.resize(1400, 900)
    w.show()
    qtbot.waitExposed(w)
    w.editor.timeline.refresh()
    return w


def right_click(widget: QWidget, point: QPoint, in_menu) -> dict[str, tuple[bool, str]]:
    """Right-click `widget` at `point`; while the menu that opens is open, note each entry (enabled, shortcut shown)
    and call `in_menu(menu)`, which chooses an entry or closes it. What was noted."""
    seen: dict[str, tuple[bool, str]] = {}

    def look() -> None:
        menu = QApplication.activePopupWidget()
        assert isinstance(menu, QMenu)
        for action in menu.actions():
            if action.text():
                shortcut = action.shortcut().toString() if action.isShortcutVisibleInContextMenu() else ""
                seen[action.text().replace("&", "")] = (action.isEnabled(), shortcut)
        in_menu(menu)

    QTimer.singleShot(0, look)
    right = Qt.MouseButton.RightButton
    QApplication.sendEvent(widget, QMouseEvent(QEvent.Type.MouseButtonPress, QPointF(point),
                                               QPointF(widget.mapToGlobal(point)), right, right,
                                               Qt.KeyboardModifier.NoModifier))
    QApplication.sendEvent(widget, QContextMenuEvent(QContextMenuEvent.Reason.Mouse, point, widget.mapToGlobal(point)))
    QApplication.sendEvent(widget, QMouseEvent(QEvent.Type.MouseButtonRelease, QPointF(point),
                                               QPointF(widget.mapToGlobal(point)), right, Qt.MouseButton.NoButton,
                                               Qt.KeyboardModifier.NoModifier))
    assert seen, "no menu opened"
    return seen


def choose(text: str):
    """Pick the entry named `text` with the keyboard (it must be enabled to be picked)."""
    def pick(menu: QMenu) -> None:
        action = next(a for a in menu.actions() if a.text().replace("&", "") == text)
        menu.setActiveAction(action)
        QApplication.sendEvent(menu, _key(Qt.Key.Key_Return))
    return pick


def close(menu: QMenu) -> None:
    QApplication.sendEvent(menu, _key(Qt.Key.Key_Escape))


def _key(key: Qt.Key) -> QKeyEvent:
    return QKeyEvent(QEvent.Type.KeyPress, key, Qt.KeyboardModifier.NoModifier)


def clip_spans(window: MainWindow) -> dict[str, tuple[int, int]]:
    return {c.id: (c.start, c.length) for t in window.project.tracks for c in t.clips}


def test_a_right_click_on_a_generated_clip_selects_it_and_its_menu_splits_it_at_the_playhead(window):
    timeline = window.editor.timeline
    timeline.select_clips(["shot"])
    timeline.set_playhead(100)
    seen = right_click(timeline.viewport(), viewport_point(timeline, 90, VIDEO1), choose("Split at playhead"))
    assert timeline.selected_clip_ids() == ["gen"]
    enabled = {text for text, (on, _) in seen.items() if on}
    assert {"Split at playhead", "Delete (leave gap)", "Ripple delete", "Continue clip...", "Keep going",
            "Regenerate clip", "Open provenance"} <= enabled
    assert seen["Bridge to next clip..."] == (False, "Ctrl+Shift+B")  # no clip after it: nothing to bridge to
    assert seen["Split at playhead"][1] == "S" and seen["Ripple delete"][1] == "Shift+Del"
    assert seen["Continue clip..."][1] == "Ctrl+Shift+C" and seen["Keep going"][1] == "Ctrl+Shift+K"
    spans = clip_spans(window)
    assert spans["gen"] == (60, 40) and spans["shot"] == (0, 48) and spans["voice"] == (10, 100)  # only that clip
    assert [c.start for c in window.project.track("t1").clips] == [0, 60, 100]
    assert window.split_action.isEnabled() and window.context_menu is None  # the Edit menu's state is back


def test_a_right_click_in_a_multi_selection_keeps_it_and_delete_lifts_them_all(window):
    timeline = window.editor.timeline
    timeline.select_clips(["shot", "voice"])
    timeline.set_playhead(120)  # inside neither: splitting would cut other clips, so it is not offered
    seen = right_click(timeline.viewport(), viewport_point(timeline, 20, VIDEO1), choose("Delete (leave gap)"))
    assert seen["Split at playhead"] == (False, "S") and seen["Delete (leave gap)"] == (True, "Del")
    assert "Continue clip..." not in seen  # no generated clip in the selection: no generation actions
    assert clip_spans(window) == {"gen": (60, 80)}
    window.editor.stack.undo()
    assert set(clip_spans(window)) == {"shot", "gen", "voice"}


def test_a_right_click_where_no_clip_is_moves_the_playhead_there_and_offers_what_happens_at_it(window):
    timeline = window.editor.timeline
    timeline.select_clips(["gen"])
    before = copy.deepcopy(window.project)
    seen = right_click(timeline.viewport(), viewport_point(timeline, 52, VIDEO1), close)
    assert timeline.playhead == 52 and window.project == before and timeline.selected_clip_ids() == ["gen"]
    assert window.editor.stack.count() == 0
    assert seen["Generate"] == (True, "Ctrl+G") and seen["Variants (3 seeds)"][0]
    assert seen["Import media..."] == (True, "Ctrl+I") and seen["Record voice-over"][1] == "R"
    assert seen["Place media at playhead (pick it in the Media bin)"][0] is False
    right_click(timeline.viewport(), viewport_point(timeline, 160, AUDIO1), choose("Add video track"))
    assert [t.kind for t in window.project.tracks] == ["video", "video", "audio"] and timeline.playhead == 160

    window.bin.list.setCurrentRow(next(i for i in range(window.bin.list.count())
                                       if "shot" in window.bin.list.item(i).text()))
    right_click(timeline.viewport(), viewport_point(timeline, 150, AUDIO1), choose("Place shot.mp4 at playhead"))
    placed = [c for t in window.project.tracks for c in t.clips if c.media_id == "v" and c.id != "shot"]
    assert [c.start for c in placed] == [150]


def test_a_right_click_in_a_gap_offers_to_close_it_and_the_later_clips_of_that_track_move_left(window):
    timeline = window.editor.timeline
    seen = right_click(timeline.viewport(), viewport_point(timeline, 120, AUDIO1), close)  # Audio 1 ends at 110
    assert seen["Close gap"] == (False, ""), "after the last clip there is nothing to close"
    seen = right_click(timeline.viewport(), viewport_point(timeline, 52, VIDEO1),
                       choose("Close gap (0.75 s): the later clips move left"))  # between shot (..48) and gen (60..)
    assert clip_spans(window) == {"shot": (0, 48), "gen": (48, 80), "voice": (10, 100)}, "other tracks stay"
    assert window.editor.stack.undoText() == "Close gap"


def test_a_track_headers_menu_mutes_locks_and_removes_it(window):
    timeline = window.editor.timeline
    header = timeline.headers.rows["t1"]
    seen = right_click(header, QPoint(10, 10), choose("Mute track"))
    assert seen == {"Mute track": (True, ""), "Lock track": (True, ""), "Remove track": (True, "")}
    assert window.project.track("t1").muted
    seen = right_click(header, QPoint(10, 10), choose("Lock track"))
    assert window.project.track("t1").locked and seen["Mute track"] == (True, "")
    seen = right_click(header, QPoint(10, 10), close)
    assert seen["Remove track"] == (False, "")  # a locked track stays
    window.editor.stack.undo()
    right_click(header, QPoint(10, 10), choose("Remove track"))
    assert [t.id for t in window.project.tracks] == ["t3"]


def test_the_menu_key_opens_the_selections_menu_or_the_timelines_without_moving_the_playhead(window):
    timeline = window.editor.timeline
    timeline.set_playhead(30)
    opened = []

    def menu_key() -> None:
        def look() -> None:
            menu = QApplication.activePopupWidget()
            opened.append([a.text().replace("&", "") for a in menu.actions() if a.text()])
            close(menu)

        QTimer.singleShot(0, look)
        point = QPoint(5, 5)
        QApplication.sendEvent(timeline, QContextMenuEvent(QContextMenuEvent.Reason.Keyboard, point,
                                                           timeline.mapToGlobal(point)))

    timeline.select_clips(["voice"])
    menu_key()
    timeline.select_clips([])
    menu_key()
    assert opened[0][0] == "Split at playhead" and opened[1][0] == "Generate"
    assert timeline.playhead == 30 and window.project.tracks[0].clips[0].id == "shot"


def test_an_audio_tracks_header_ducks_it_undoably_and_a_video_tracks_has_no_duck(window):
    timeline = window.editor.timeline
    audio, video = timeline.headers.rows["t3"], timeline.headers.rows["t1"]
    assert audio.duck.isVisible() and not video.duck.isVisible()
    assert "Duck under other audio" not in right_click(video, QPoint(10, 10), close)
    seen = right_click(audio, QPoint(10, 10), choose("Duck under other audio"))
    assert seen["Duck under other audio"] == (True, "")
    assert window.project.track("t3").ducked and audio.duck.isChecked()
    assert window.editor.stack.undoText() == "Duck track"
    window.editor.stack.undo()
    assert not window.project.track("t3").ducked and not audio.duck.isChecked()


def test_double_clicking_a_marker_on_the_ruler_names_it_and_the_menu_names_the_one_at_the_playhead(window, qtbot):
    timeline = window.editor.timeline
    timeline.set_playhead(30)
    timeline.toggle_marker()
    asked = []
    window.ask_text = lambda title, label, text: asked.append((label, text)) or ("The chase", True)
    ruler = timeline.ruler
    qtbot.mouseDClick(ruler, Qt.MouseButton.LeftButton, pos=QPoint(round(timeline.scale.x(30) - ruler.offset) + 2, 5))
    assert window.project.marker_names == {30: "The chase"} and ruler.marker_names == {30: "The chase"}
    assert asked == [("Name of the marker at 0:01.14:", "")] and window.editor.stack.undoText() == "Name marker"
    window.ask_text = lambda title, label, text: asked.append((label, text)) or ("", True)
    next(a for a in window.findChildren(QAction) if a.text() == "&Name marker...").trigger()
    assert asked[-1] == ("Name of the marker at 0:01.14:", "The chase") and window.project.marker_names == {}
    timeline.set_playhead(31)
    next(a for a in window.findChildren(QAction) if a.text() == "&Name marker...").trigger()
    assert len(asked) == 2 and "No marker is at the playhead" in window.statusBar().currentMessage()
