"""The inspector's Transform section: how the selected visual clip is placed in the frame (desktop.project.transform).

Each change is one edit (`changed`); the steps of one spin-box drag, wheel turn or arrow-key hold carry the same
merge key, so they undo as one, and the next edit of a box after it loses focus or Enter is pressed starts a new
one. Moving, scaling or turning a fitted, filled or stretched clip makes it custom, starting from where it shows.
The widgets stay while the same clip is shown, so an edit's refresh does not take the focus from the box in use.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QLabel,
    QPushButton,
    QWidget,
)

from desktop.fields import scaled_box
from desktop.project.model import Clip, Project
from desktop.project.transform import MIN_KEPT, MODES, RANGES, Size, Transform

MODE_NAMES = {"fit": "Fit (letterbox)", "fill": "Fill (crop)", "stretch": "Stretch", "custom": "Custom"}
# field: (label, shown as value x factor with this suffix, step, decimals)
BOXES = {
    "x": ("X", 100, " %", 1, 1), "y": ("Y", 100, " %", 1, 1), "scale": ("Scale", 100, " %", 5, 1),
    "rotation": ("Rotation", 1, "°", 1, 1), "crop_left": ("Left", 100, " %", 1, 1),
    "crop_top": ("Top", 100, " %", 1, 1), "crop_right": ("Right", 100, " %", 1, 1),
    "crop_bottom": ("Bottom", 100, " %", 1, 1), "opacity": ("Opacity", 100, " %", 5, 0),
}
PLACING = ("x", "y", "scale", "rotation")  # the fields a custom placement has
OPPOSITE = {"crop_left": "crop_right", "crop_right": "crop_left", "crop_top": "crop_bottom",
            "crop_bottom": "crop_top"}


class TransformPanel(QGroupBox):
    changed = Signal(str, object, str, object)  # clip id, new Transform, what changed (for the undo text), merge key

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Transform", parent)
        self.clip_id: str | None = None
        self.transform = Transform()
        self._source: Size = (1, 1)
        self._frame: Size = (1, 1)
        self._session = 0  # counts finished edits: the merge key's part that ends a drag
        self.mode = QComboBox()
        for mode in MODES:
            self.mode.addItem(MODE_NAMES[mode], mode)
        self.mode.setToolTip("How the picture fills the frame; moving, scaling or turning it makes it Custom")
        self.mode.currentIndexChanged.connect(self._mode_chosen)
        self.boxes: dict[str, QDoubleSpinBox] = {}
        for name, (label, factor, suffix, step, decimals) in BOXES.items():
            box = scaled_box(RANGES[name], factor, suffix, step, decimals)
            box.setAccessibleName(f"{label} ({name.replace('_', ' ')})")
            box.valueChanged.connect(lambda value, name=name: self._edited(name, value))
            box.editingFinished.connect(self._finish)
            self.boxes[name] = box
        custom = "\nChanging it makes the placement Custom."
        self.boxes["x"].setToolTip("The picture's centre across the frame: 0 % left edge, 100 % right edge" + custom)
        self.boxes["y"].setToolTip("The picture's centre down the frame: 0 % top edge, 100 % bottom edge" + custom)
        self.boxes["scale"].setToolTip("100 % is the size that fits the frame" + custom)
        self.boxes["rotation"].setToolTip("Degrees clockwise" + custom)
        self.reset = QPushButton("Reset")
        self.reset.setToolTip("Fit the whole picture into the frame again")
        self.reset.clicked.connect(lambda: self._emit(Transform(), "placement", None))
        form = QFormLayout(self)
        form.addRow("Placement", self.mode)
        position = QGridLayout()
        for column, name in enumerate(("x", "y")):
            position.addWidget(QLabel(BOXES[name][0]), 0, 2 * column)
            position.addWidget(self.boxes[name], 0, 2 * column + 1)
        form.addRow("Position", position)
        form.addRow("Scale", self.boxes["scale"])
        form.addRow("Rotation", self.boxes["rotation"])
        crop = QGridLayout()
        for index, name in enumerate(("crop_left", "crop_right", "crop_top", "crop_bottom")):
            row, column = divmod(index, 2)
            crop.addWidget(QLabel(BOXES[name][0]), row, 2 * column)
            crop.addWidget(self.boxes[name], row, 2 * column + 1)
        form.addRow("Crop", crop)
        form.addRow("Opacity", self.boxes["opacity"])
        form.addRow("", self.reset)

    def show_clip(self, project: Project, clip: Clip, editable: bool) -> None:
        """Show `clip`'s transform; `editable` False (a locked track) shows it greyed."""
        if clip.id != self.clip_id:
            self._session += 1  # another clip: nothing merges across
        self.clip_id = clip.id
        media = project.media_of(clip)
        self._frame = (project.width, project.height)
        self._source = (media.width, media.height) if media.width and media.height else self._frame
        self.transform = clip.transform
        self.setEnabled(editable)
        self._show_values()

    def _show_values(self) -> None:
        transform = self.transform
        self.mode.blockSignals(True)
        self.mode.setCurrentIndex(MODES.index(transform.mode))
        self.mode.blockSignals(False)
        seen = transform.as_custom(self._source, self._frame)  # a fill's scale, say, as it shows
        for name, box in self.boxes.items():
            box.blockSignals(True)
            box.setValue(getattr(seen, name) * BOXES[name][1])
            box.blockSignals(False)

    def _mode_chosen(self, index: int) -> None:
        mode = self.mode.itemData(index)
        if mode == "custom":
            self._emit(self.transform.as_custom(self._source, self._frame), "placement", None)
        else:
            self._emit(replace(self.transform, mode=mode), "placement", None)

    def _edited(self, name: str, shown: float) -> None:
        value = shown / BOXES[name][1]
        transform = self.transform
        if name in PLACING and transform.mode != "custom":
            transform = transform.as_custom(self._source, self._frame)
        if name in OPPOSITE:  # the two crops of a side leave some of the picture
            value = min(value, round(1 - MIN_KEPT - getattr(transform, OPPOSITE[name]), 6))
        self._emit(replace(transform, **{name: value}), BOXES[name][0].lower() if name not in OPPOSITE else "crop",
                   (name, self._session))

    def _finish(self) -> None:
        self._session += 1

    def _emit(self, transform: Transform, what: str, merge_key: object) -> None:
        if self.clip_id is None or transform == self.transform:
            return
        self.transform = transform
        self._show_values()
        self.changed.emit(self.clip_id, transform, what, merge_key)
