"""Help > Keyboard shortcuts: every menu command that has a key, read from the window's menus themselves (so the
list cannot fall behind them), then the keys the timeline takes directly when it has the focus."""

from __future__ import annotations

from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QMenu, QMenuBar, QTableWidget, QTableWidgetItem, QVBoxLayout

# The timeline's own keys (desktop.timeline.view), beside the menus' shortcuts
TIMELINE_KEYS = (
    ("Space", "Play or pause"),
    ("J / K / L", "Play backwards / pause / play forwards; J or L again: twice as fast, up to 8x"),
    ("Left / Right", "One frame back / on (with Shift: one second)"),
    ("Home / End", "To the start / the end of the timeline"),
    ("+ / -", "Zoom the timeline in / out (Ctrl+wheel too; Shift+wheel scrolls)"),
)


def menu_shortcuts(bar: QMenuBar) -> list[tuple[str, str, str]]:
    """(menu path, command, key) of every enabled-or-not menu action with a shortcut, in menu order."""
    rows: list[tuple[str, str, str]] = []

    def walk(menu: QMenu, path: str) -> None:
        for action in menu.actions():
            if action.menu() is not None:
                walk(action.menu(), f"{path} > {_plain(action.text())}")
            elif not action.shortcut().isEmpty():
                key = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
                rows.append((path, _plain(action.text()), key))

    for top in bar.actions():
        if top.menu() is not None:
            walk(top.menu(), _plain(top.text()))
    return rows


def _plain(text: str) -> str:
    """A menu text without its mnemonic marks (&&, an escaped ampersand, stays one)."""
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&")


class ShortcutsDialog(QDialog):
    def __init__(self, bar: QMenuBar, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        rows = [(key, f"{path}: {command}") for path, command, key in menu_shortcuts(bar)]
        rows += [(key, f"Timeline: {what}") for key, what in TIMELINE_KEYS]
        self.table = QTableWidget(len(rows), 2)
        self.table.setHorizontalHeaderLabels(["Key", "What it does"])
        for row, (key, what) in enumerate(rows):
            self.table.setItem(row, 0, QTableWidgetItem(key))
            self.table.setItem(row, 1, QTableWidgetItem(what))
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.resizeColumnsToContents()
        self.table.resizeRowsToContents()
        self.table.horizontalHeader().setStretchLastSection(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(640, 560)
