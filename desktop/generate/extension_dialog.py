"""The dialog that asks how to continue a clip or bridge two: how many seconds, what happens (optional) and, for a
bridge, how long its end fades into the next clip."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from desktop.timecode import clock
from engine.api.jobs import DEFAULT_CROSSFADE_SECONDS


@dataclass(frozen=True)
class Extension:
    seconds: int
    prompt: str
    crossfade_seconds: float | None = None  # a bridge's; None for a continuation


class ExtensionDialog(QDialog):
    """`extension()` is what the fields say; `crossfade` only for a bridge."""

    def __init__(self, parent: QWidget | None, title: str, seconds: int, max_seconds: int, crossfade: bool) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        form = QFormLayout(self)
        self.seconds = QSpinBox()
        self.seconds.setRange(1, max_seconds)
        self.seconds.setSuffix(" s")
        self.seconds.setValue(seconds)
        self.seconds.setToolTip(f"Up to {max_seconds} s ({clock(max_seconds)}), the longest one job makes; "
                                "continue again for more")
        self.prompt = QLineEdit()
        self.prompt.setPlaceholderText("what happens next (empty: as before)" if not crossfade else
                                       "what happens on the way (empty: the next clip's prompt)")
        self.prompt.setMinimumWidth(320)
        form.addRow("Seconds", self.seconds)
        form.addRow("Prompt", self.prompt)
        self.crossfade: QDoubleSpinBox | None = None
        if crossfade:
            self.crossfade = QDoubleSpinBox()
            self.crossfade.setDecimals(2)
            self.crossfade.setSingleStep(0.25)
            self.crossfade.setSuffix(" s")
            self.crossfade.setSpecialValueText("none (cut)")
            self.crossfade.setRange(0, seconds)
            self.crossfade.setValue(DEFAULT_CROSSFADE_SECONDS)
            self.seconds.valueChanged.connect(self.crossfade.setMaximum)  # the fade is part of the bridge
            form.addRow("Cross-fade", self.crossfade)
            note = QLabel("The bridge's last seconds fade into the next clip, which then plays on from there.")
            note.setWordWrap(True)
            form.addRow(note)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def extension(self) -> Extension:
        fade = None if self.crossfade is None else self.crossfade.value()
        return Extension(self.seconds.value(), self.prompt.text(), fade)


def ask_extension(parent: QWidget, title: str, seconds: int, max_seconds: int, crossfade: bool = False
                  ) -> Extension | None:
    dialog = ExtensionDialog(parent, title, seconds, max_seconds, crossfade)
    return dialog.extension() if dialog.exec() else None
