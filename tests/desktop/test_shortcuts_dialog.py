"""Help > Keyboard shortcuts as a person reads it: every menu command with a key, by menu, read from the menus (a
command added to a menu shows up), then the timeline's own keys."""

from __future__ import annotations

from studio_window import studio_window

from desktop.shortcuts_dialog import TIMELINE_KEYS


def rows(dialog) -> list[tuple[str, str]]:
    table = dialog.table
    return [(table.item(r, 0).text(), table.item(r, 1).text()) for r in range(table.rowCount())]


def test_the_list_holds_every_menu_key_then_the_timelines(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("ISTAR_HOME", str(tmp_path / "home"))
    window = studio_window(qtbot, tmp_path)
    listed = rows(window.show_shortcuts())
    for row in [("S", "Edit: Split at playhead"), ("Q", "Edit: Ripple trim start to playhead"),
                ("Ctrl+Shift+V", "Edit: Paste insert at playhead"), ("Shift+F", "Timeline: Freeze frame"),
                ("M", "Timeline: Add or remove marker"), ("F1", "Help: Keyboard shortcuts")]:
        assert row in listed
    assert listed[-len(TIMELINE_KEYS):] == [(key, f"Timeline: {what}") for key, what in TIMELINE_KEYS]
    assert not any("Speed" in what for _, what in listed), "Edit > Speed's choices have no keys"
    window.speed_action.menu().actions()[1].setShortcut("Ctrl+Alt+5")
    assert ("Ctrl+Alt+5", "Edit > Speed: 50 %") in rows(window.show_shortcuts())
