"""The project's format chosen by the person: File > Project settings... (any time, one undoable edit) and the small
dialog File > New project asks with. The format chosen last is remembered (QSettings key `project/format`, as
"WIDTHxHEIGHT@FPS") and is what a new project, and the studio's first empty project, starts with; the format itself
and its presets are desktop.project.formats.
"""

from __future__ import annotations

from math import gcd

from PySide6.QtCore import QSettings, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from desktop.fields import side_box
from desktop.project.formats import (
    DEFAULT_FORMAT,
    FPS_CHOICES,
    SIZE_PRESETS,
    ProjectFormat,
    format_from_text,
    format_to_text,
    size_preset,
)

FORMAT_KEY = "project/format"
CUSTOM = "Custom"
ERROR_COLOR = "#ff7b72"
WIDTH = 440

SETTINGS_NOTE = ("Clips keep their place in time at a new frame rate: each edge moves to the nearest frame. "
                 "Pictures of another size are fitted into the frame.")
NEW_NOTE = "Change it at any time in File > Project settings."
FPS_NOTES = {16: "the rate the models generate at", 24: "film", 25: "PAL video", 30: "NTSC video, the web"}


def remembered_format(settings: QSettings) -> ProjectFormat:
    """The format chosen last, or DEFAULT_FORMAT when none was (or the stored one cannot be used)."""
    return format_from_text(settings.value(FORMAT_KEY, "")) or DEFAULT_FORMAT


def remember_format(settings: QSettings, chosen: ProjectFormat) -> None:
    settings.setValue(FORMAT_KEY, format_to_text(chosen))
    settings.sync()


def _aspect(width: int, height: int) -> str:
    divisor = gcd(width, height) or 1
    across, down = width // divisor, height // divisor
    return f"{across}:{down}" if max(across, down) <= 32 else f"{width / height:.2f}:1"


class ProjectFormatDialog(QDialog):
    """A frame size (a preset, or Custom with its width and height) and a frame rate. OK emits `chosen(format)` and
    closes; a custom size that cannot be a frame keeps OK off, and the message under the fields names the field."""

    chosen = Signal(object)  # the ProjectFormat

    def __init__(self, current: ProjectFormat, parent: QWidget | None = None, new_project: bool = False) -> None:
        super().__init__(parent)
        self.setWindowTitle("New project" if new_project else "Project settings")
        self.frame_size = QComboBox()
        self.frame_size.addItems([p.label for p in SIZE_PRESETS] + [CUSTOM])
        self.width_box, self.height_box = side_box("Width", "the frame"), side_box("Height", "the frame")
        size_row = QHBoxLayout()
        size_row.setContentsMargins(0, 0, 0, 0)
        size_row.addWidget(self.width_box)
        size_row.addWidget(QLabel("x"))
        size_row.addWidget(self.height_box)
        size_row.addWidget(QLabel("pixels"))
        size_row.addStretch(1)
        self.fps = QComboBox()
        rates = sorted({*FPS_CHOICES, current.fps})
        for fps in rates:
            note = FPS_NOTES.get(fps)
            self.fps.addItem(f"{fps} fps" + (f" ({note})" if note else ""), fps)

        form = QFormLayout()
        form.addRow("Frame &size:", self.frame_size)
        form.addRow("", size_row)
        form.addRow("&Frame rate:", self.fps)
        self.summary = QLabel()
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet(f"color: {ERROR_COLOR}")
        note = QLabel(NEW_NOTE if new_project else SETTINGS_NOTE)
        note.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("<b>Format of the new project</b>" if new_project else "<b>Format of the video</b>"))
        layout.addLayout(form)
        layout.addWidget(self.summary)
        layout.addWidget(self.message)
        layout.addWidget(note)
        layout.addStretch(1)
        layout.addSpacing(6)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(WIDTH)

        preset = size_preset(current.width, current.height)
        self.frame_size.setCurrentText(preset.label if preset else CUSTOM)
        self.width_box.setValue(current.width)
        self.height_box.setValue(current.height)
        self.fps.setCurrentIndex(rates.index(current.fps))
        self.frame_size.currentTextChanged.connect(self._size_chosen)
        for box in (self.width_box, self.height_box):
            box.valueChanged.connect(self._update)
        self.fps.currentIndexChanged.connect(self._update)
        self._size_chosen(self.frame_size.currentText())

    def chosen_format(self) -> ProjectFormat:
        return ProjectFormat(self.width_box.value(), self.height_box.value(), int(self.fps.currentData()))

    def problem(self) -> str | None:
        """Why the format in the fields cannot be used, starting with the field's name; None when it can."""
        return self.chosen_format().problem()

    def choose_preset(self, name: str) -> None:
        """Pick the size preset called `name` ("720p"), or CUSTOM."""
        label = next((p.label for p in SIZE_PRESETS if p.name == name), name)
        self.frame_size.setCurrentText(label)

    def choose_fps(self, fps: int) -> None:
        self.fps.setCurrentIndex(self.fps.findData(fps))

    def _size_chosen(self, label: str) -> None:
        preset = next((p for p in SIZE_PRESETS if p.label == label), None)
        if preset is not None:
            self.width_box.setValue(preset.width)
            self.height_box.setValue(preset.height)
        for box in (self.width_box, self.height_box):
            box.setEnabled(preset is None)
        self._update()

    def _update(self) -> None:
        problem = self.problem()
        self.message.setText(problem or "")
        self.message.setVisible(problem is not None)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(problem is None)
        chosen = self.chosen_format()
        self.summary.setText(f"{chosen.width}x{chosen.height} ({_aspect(chosen.width, chosen.height)}) at "
                             f"{chosen.fps} frames a second")
        self.summary.setVisible(problem is None)  # the message takes its place
        self.adjustSize()

    def accept(self) -> None:
        if self.problem() is not None:
            return
        self.chosen.emit(self.chosen_format())
        super().accept()
