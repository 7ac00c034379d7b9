"""Right-click menus built from the window's own actions: the same QAction a menu bar item or a shortcut triggers,
so a context menu does exactly what the menu bar does, shows the same shortcut and needs no code of its own."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QWidget

Entry = QAction | None  # None: a separator


def build_menu(parent: QWidget, sections: Sequence[Sequence[Entry]]) -> QMenu:
    """A menu of `sections` separated by lines; empty sections are left out. Each action shows its shortcut."""
    menu = QMenu(parent)
    for section in (s for s in sections if s):
        if menu.actions():
            menu.addSeparator()
        for action in section:
            if action is None:
                menu.addSeparator()
                continue
            action.setShortcutVisibleInContextMenu(True)
            menu.addAction(action)
    return menu


@contextmanager
def enabled_while(states: Mapping[QAction, bool]) -> Iterator[None]:
    """Set each action's enabled state for the time a menu is open, then put back what it was: an action shared
    with the menu bar can mean less on a clip's menu (split only the clicked selection) than it does there."""
    before = {action: action.isEnabled() for action in states}
    for action, enabled in states.items():
        action.setEnabled(enabled)
    try:
        yield
    finally:
        for action, enabled in before.items():
            action.setEnabled(enabled)
