"""The generate panel's storyboard: one prompt row per model clip, any number of them, scrolling past a few.

An empty row goes on with the prompt of the row above it, so a long storyboard needs a prompt only where something
changes.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Signal
from PySide6.QtWidgets import QFormLayout, QFrame, QLabel, QLineEdit, QScrollArea, QWidget

from desktop.timecode import clock

VISIBLE_ROWS = 6  # more rows scroll, so the panel's other fields stay in view


def span_label(start: int, end: int) -> str:
    """'2-3 s', or '9:55-10:00' once past a minute."""
    return f"{start}-{end} s" if end < 60 else f"{clock(start)}-{clock(end)}"


def carried_on(texts: list[str]) -> list[str]:
    """Each row's prompt: its own, or the one above it when it is empty (the first row has none to carry on)."""
    prompts: list[str] = []
    for text in texts:
        prompts.append(text.strip() or (prompts[-1] if prompts else ""))
    return prompts


class StoryboardBoard(QScrollArea):
    """`changed()` when a row's text or the rows changed."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        rows = QWidget()
        self.form = QFormLayout(rows)
        self.form.setContentsMargins(0, 0, 0, 0)
        self.setWidget(rows)
        self.edits: list[QLineEdit] = []

    def set_segments(self, segments: list[tuple[int, int]]) -> None:
        """One row per (start s, end s); rows already there keep their text."""
        while len(self.edits) > len(segments):
            self.edits.pop()
            self.form.removeRow(len(self.edits))
        for i, (start, end) in enumerate(segments):
            if i == len(self.edits):
                edit = QLineEdit()
                edit.textChanged.connect(self.changed)
                self.form.addRow(QLabel(), edit)
                edit.ensurePolished()  # styled now, so the height asked for below is the one it will have
                self.edits.append(edit)
            label = self.form.itemAt(i, QFormLayout.ItemRole.LabelRole).widget()
            label.setText(span_label(start, end))
            self.edits[i].setPlaceholderText(f"what happens from {span_label(start, end)}" if i == 0 else
                                             "empty: as above")
        self.updateGeometry()
        self.changed.emit()

    def sizeHint(self) -> QSize:
        """As tall as its rows, up to VISIBLE_ROWS of them; counted from the rows themselves, since rows just added
        are not shown yet and a layout would count them as nothing."""
        if not self.edits:
            return QSize(0, 0)
        spacing = max(self.form.verticalSpacing(), 0)
        shown = min(len(self.edits), VISIBLE_ROWS)
        width = self.widget().sizeHint().width() + self.verticalScrollBar().sizeHint().width()
        return QSize(width, shown * (self.edits[0].sizeHint().height() + spacing) - spacing)

    def minimumSizeHint(self) -> QSize:
        return self.sizeHint()

    def texts(self) -> list[str]:
        return [edit.text() for edit in self.edits]

    def prompts(self) -> tuple[str, ...]:
        """One prompt per row, empty rows carrying on the prompt above."""
        return tuple(carried_on(self.texts()))

    def set_prompts(self, prompts: list[str]) -> None:
        for edit, text in zip(self.edits, prompts, strict=False):
            edit.setText(text)
