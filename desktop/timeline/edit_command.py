"""The one place edits meet Qt's undo stack: a QUndoCommand that runs a Qt-free project command."""

from __future__ import annotations

from typing import Protocol

from PySide6.QtGui import QUndoCommand, QUndoStack

from desktop.project.model import Project

MERGING = 1  # the QUndoCommand id of edits that may merge; their own `merge` says whether two do


class ProjectCommand(Protocol):
    text: str

    def do(self, project: Project) -> None: ...

    def undo(self, project: Project) -> None: ...


class EditCommand(QUndoCommand):
    """Redo and undo are the command's own do and undo, which restore the project exactly."""

    def __init__(self, project: Project, command: ProjectCommand) -> None:
        super().__init__(command.text)
        self.project = project
        self.command = command
        self._done = True  # push() calls redo() at once; apply_edit has already done the command

    def redo(self) -> None:
        if self._done:
            self._done = False
            return
        self.command.do(self.project)

    def undo(self) -> None:
        self.command.undo(self.project)

    def id(self) -> int:
        """MERGING for a command that can take in the next one (its `merge`), so that the stack offers it."""
        return MERGING if getattr(self.command, "merge", None) is not None else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        """Whether `other`, done right after this one, became part of it (one undo step undoes both)."""
        return isinstance(other, EditCommand) and self.command.merge(other.command)


def apply_edit(stack: QUndoStack, project: Project, command: ProjectCommand) -> None:
    """Do `command` and put it on `stack`. An edit that cannot be done raises ProjectError and changes nothing,
    the stack included; that is why it runs here rather than in the first redo, where Qt would swallow the error."""
    command.do(project)
    stack.push(EditCommand(project, command))
