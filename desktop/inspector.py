"""The inspector: what the selected clip is (media, place, length, gain) and, for a generated one, what made it."""

from __future__ import annotations

import json

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDoubleSpinBox, QFormLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from desktop.project.model import Clip, Project
from desktop.timecode import timecode


def generation_summary(provenance: dict) -> list[tuple[str, str]]:
    """(label, value) rows of an engine provenance dict worth showing at a glance."""
    settings, inputs = provenance.get("settings", {}), provenance.get("inputs", {})
    prompts = inputs.get("prompts") or []
    distinct = list(dict.fromkeys(prompts))
    rows = [("Model", f"{provenance.get('model', '?')} ({provenance.get('precision', '?')})"),
            ("Seed", str(settings.get("seed", "?"))),
            ("Prompt" if len(distinct) <= 1 else "Prompts", " | ".join(distinct) or "-")]
    if "guidance_scale" in settings:
        rows.append(("Guidance", f"{settings['guidance_scale']:g}"))
    return rows


class Inspector(QWidget):
    gain_changed = Signal(str, float)  # clip id, new gain
    provenance_requested = Signal(str)  # media id

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.form = QFormLayout()
        self.empty = QLabel("Select a clip on the timeline to see it here.")
        self.empty.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.empty)
        layout.addLayout(self.form)
        layout.addStretch(1)
        self.clip: Clip | None = None

    def show_clip(self, project: Project, clip: Clip | None) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)
        self.clip = clip
        self.empty.setVisible(clip is None)
        if clip is None:
            return
        media = project.media_of(clip)
        fps = project.fps
        for name, value in (("Media", media.name), ("Start", timecode(clip.start, fps)),
                            ("Length", timecode(clip.length, fps)), ("Source in", timecode(clip.source_in, fps))):
            self.form.addRow(name, QLabel(value))
        gain = QDoubleSpinBox()
        gain.setRange(0, 4)
        gain.setSingleStep(0.1)
        gain.setValue(clip.gain)
        gain.editingFinished.connect(lambda: self.gain_changed.emit(clip.id, gain.value()))
        self.form.addRow("Gain", gain)
        if isinstance(media.provenance, dict) and "settings" in media.provenance:
            for name, value in generation_summary(media.provenance):
                text = QLabel(value)
                text.setWordWrap(True)
                self.form.addRow(name, text)
            button = QPushButton("Open provenance...")
            button.clicked.connect(lambda: self.provenance_requested.emit(media.id))
            self.form.addRow("", button)


def provenance_text(provenance: dict) -> str:
    return json.dumps(provenance, indent=2, sort_keys=True)
