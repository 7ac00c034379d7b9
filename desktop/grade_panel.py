"""The inspector's Colour section: the selected video's or picture's grade (desktop.project.grade), as brightness,
contrast and saturation in percent, and Reset.

As in the Transform section, the steps of one spin-box drag, wheel turn or arrow-key hold carry one merge key, so
they undo as one edit; the next edit of a box after it loses focus or Enter is pressed starts a new one.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDoubleSpinBox, QFormLayout, QGroupBox, QPushButton, QWidget

from desktop.fields import scaled_box
from desktop.project.grade import RANGES, Grade
from desktop.project.model import Clip

# field: (label, tooltip)
BOXES = {
    "brightness": ("Brightness", "Added to every colour: -100 % is black, 100 % white"),
    "contrast": ("Contrast", "Spread of the colours about mid-grey: 0 % is flat grey, 100 % as it is"),
    "saturation": ("Saturation", "How vivid the colours are: 0 % is black and white, 100 % as it is"),
}


class GradePanel(QGroupBox):
    changed = Signal(str, object, str, object)  # clip id, new Grade, what changed (for the undo text), merge key

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Colour", parent)
        self.clip_id: str | None = None
        self.grade = Grade()
        self._session = 0  # counts finished edits: the merge key's part that ends a drag
        self.boxes: dict[str, QDoubleSpinBox] = {}
        form = QFormLayout(self)
        for name, (label, tip) in BOXES.items():
            box = scaled_box(RANGES[name], 100, " %", 5, 0)
            box.setAccessibleName(label)
            box.setToolTip(tip)
            box.valueChanged.connect(lambda value, name=name: self._edited(name, value))
            box.editingFinished.connect(self._finish)
            self.boxes[name] = box
            form.addRow(label, box)
        self.reset = QPushButton("Reset")
        self.reset.setToolTip("Show the picture's own colours again")
        self.reset.clicked.connect(lambda: self._emit(Grade(), "colour", None))
        form.addRow("", self.reset)

    def show_clip(self, clip: Clip, editable: bool) -> None:
        """Show `clip`'s grade; `editable` False (a locked track) shows it greyed."""
        if clip.id != self.clip_id:
            self._session += 1  # another clip: nothing merges across
        self.clip_id = clip.id
        self.grade = clip.grade
        self.setEnabled(editable)
        self._show_values()

    def _show_values(self) -> None:
        for name, box in self.boxes.items():
            box.blockSignals(True)
            box.setValue(getattr(self.grade, name) * 100)
            box.blockSignals(False)

    def _edited(self, name: str, shown: float) -> None:
        self._emit(replace(self.grade, **{name: shown / 100}), BOXES[name][0].lower(), (name, self._session))

    def _finish(self) -> None:
        self._session += 1

    def _emit(self, grade: Grade, what: str, merge_key: object) -> None:
        if self.clip_id is None or grade == self.grade:
            return
        self.grade = grade
        self._show_values()
        self.changed.emit(self.clip_id, grade, what, merge_key)
