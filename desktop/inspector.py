"""The inspector: what the selected clip is (media, place, length, speed and direction for a video or a sound, gain
where it has sound, fades, and for a video slower than the project whether its motion is smoothed), for a generated
one what made it, for a visual one how it is placed in the frame (desktop.transform_panel), for a video or a picture
its colour (desktop.grade_panel); for a title, what it shows (desktop.title_panel)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.grade_panel import GradePanel
from desktop.project.model import Clip, Project
from desktop.project.rules import MAX_SPEED, MIN_SPEED
from desktop.project.volume import MAX_LEVEL, level_at
from desktop.timecode import speed_text, timecode
from desktop.title_panel import TitlePanel
from desktop.transform_panel import TransformPanel
from engine.api.records import GenerationRecord


def generation_summary(record: GenerationRecord) -> list[tuple[str, str]]:
    """(label, value) rows of a generation record worth showing at a glance."""
    distinct = list(dict.fromkeys(record.prompts))
    rows = [("Model", f"{record.model} ({record.precision})"), ("Seed", str(record.settings.seed)),
            ("Prompt" if len(distinct) <= 1 else "Prompts", " | ".join(distinct) or "-")]
    if record.settings.guidance_scale is not None:
        rows.append(("Guidance", f"{record.settings.guidance_scale:g}"))
    return rows


class Inspector(QWidget):
    gain_changed = Signal(str, float)  # clip id, new gain
    provenance_requested = Signal(str)  # media id
    transform_changed = Signal(str, object, str, object)  # clip id, Transform, what changed, merge key
    grade_changed = Signal(str, object, str, object)  # clip id, Grade, what changed, merge key
    smooth_motion_changed = Signal(str, bool)  # clip id, whether frames are made between a slow clip's own
    speed_changed = Signal(str, float)  # clip id, new speed (1: the media's own pace)
    keep_pitch_changed = Signal(str, bool)  # clip id, whether its sound keeps its pitch at its speed
    reverse_changed = Signal(str, bool)  # clip id, whether it plays backwards
    volume_key_set = Signal(str, int, float)  # clip id, frame from its start, level
    volume_keys_cleared = Signal(str)  # clip id
    title_changed = Signal(str, object, str, object)  # media id, Title, what changed, merge key
    fades_changed = Signal(str, int, int)  # clip id, fade-in and fade-out frames

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.form = QFormLayout()
        self.empty = QLabel("Select a clip on the timeline to see it here.")
        self.empty.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.empty)
        layout.addLayout(self.form)
        self.title_panel: TitlePanel | None = None  # made when a title is first shown
        self.transform_panel = TransformPanel()
        self.transform_panel.changed.connect(self.transform_changed)
        self.transform_panel.hide()
        layout.addWidget(self.transform_panel)
        self.grade_panel = GradePanel()
        self.grade_panel.changed.connect(self.grade_changed)
        self.grade_panel.hide()
        layout.addWidget(self.grade_panel)
        layout.addStretch(1)
        self.clip: Clip | None = None
        self.level_here: QDoubleSpinBox | None = None  # the sound's level at the playhead, which sets a volume key
        self._playhead = 0

    def show_clip(self, project: Project, clip: Clip | None) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)
        self.clip = clip
        self.level_here = None
        self.empty.setVisible(clip is None)
        self.transform_panel.setVisible(clip is not None and project.media_of(clip).kind != "audio")
        self.grade_panel.setVisible(clip is not None and project.media_of(clip).kind in ("video", "image"))
        title = project.media_of(clip).title if clip is not None else None
        if title is not None and self.title_panel is None:
            self.title_panel = TitlePanel()
            self.title_panel.changed.connect(self.title_changed)
            self.layout().insertWidget(self.layout().indexOf(self.form) + 1, self.title_panel)
        if self.title_panel is not None:
            self.title_panel.setVisible(title is not None)
        if clip is None:
            return
        media = project.media_of(clip)
        editable = not project.find_clip(clip.id)[0].locked
        if title is not None:
            self.title_panel.show_title(media.id, title, editable=editable)
        if media.kind != "audio":
            self.transform_panel.show_clip(project, clip, editable=editable)
        if media.kind in ("video", "image"):
            self.grade_panel.show_clip(clip, editable=editable)
        fps = project.fps
        for name, value in (("Media", media.name), ("Start", timecode(clip.start, fps)),
                            ("Length", timecode(clip.length, fps)),
                            ("Source in", timecode(round(clip.source_in), fps))):
            label = QLabel(value)
            label.setWordWrap(True)  # a long file name takes lines, not the dock's width
            self.form.addRow(name, label)
        if project.media_room(clip) is not None:
            self.form.addRow("Speed", self._speed_box(clip, editable))
            self.form.addRow("Direction", self._flag_box(
                "Backwards", "Checked, the clip plays its stretch of media backwards, picture and sound",
                clip.reverse, editable, lambda on: self.reverse_changed.emit(clip.id, on)))
        if clip.speed != 1 and (media.kind == "audio" or media.has_audio):
            self.form.addRow("Pitch", self._flag_box(
                "Keep", "Checked, the sound keeps its pitch at the clip's speed; unchecked, its pitch goes up or down "
                "with the pace, as a tape played faster or slower", clip.keep_pitch, editable,
                lambda on: self.keep_pitch_changed.emit(clip.id, on)))
        if media.kind == "audio" or media.has_audio:  # a title, a picture or a silent video has no sound to turn up
            gain = QDoubleSpinBox()
            gain.setRange(0, 4)
            gain.setSingleStep(0.1)
            gain.setValue(clip.gain)
            gain.editingFinished.connect(lambda: self.gain_changed.emit(clip.id, gain.value()))
            self.form.addRow("Gain", gain)
            self._volume_rows(clip, editable)
        self._fade_rows(project, clip, editable)
        if media.kind == "video" and media.fps and media.fps * clip.speed < fps:
            pace = f"{media.fps:g} fps" + (f" at {speed_text(clip.speed)}" if clip.speed != 1 else "")
            self.form.addRow("Motion", self._flag_box(
                "Smooth", f"The clip is {pace}, the project {fps} fps: checked, the frames between the clip's own are "
                "made by optical flow; unchecked, its frames are repeated", clip.smooth_motion, editable,
                lambda on: self.smooth_motion_changed.emit(clip.id, on)))
        record = media.generation
        if record is not None:
            for name, value in generation_summary(record):
                text = QLabel(value)
                text.setWordWrap(True)
                self.form.addRow(name, text)
            button = QPushButton("Open provenance...")
            button.clicked.connect(lambda: self.provenance_requested.emit(media.id))
            self.form.addRow("", button)

    def steady_width(self) -> int:
        """The width its widest section needs, shown or hidden: given to the dock from the start, so that selecting
        a clip never widens the dock (and narrows the monitor); longer text wraps."""
        layout = self.layout()
        widgets = [layout.itemAt(i).widget() for i in range(layout.count())]
        margins = layout.contentsMargins()
        return max((w.minimumSizeHint().width() for w in widgets if w is not None), default=0) + margins.left() + \
            margins.right()

    def _fade_rows(self, project: Project, clip: Clip, editable: bool) -> None:
        """Fade in and Fade out in frames (with their seconds), and the cross-dissolve into the clip if it has one."""
        boxes = []
        for name, frames in (("Fade in", clip.fade_in), ("Fade out", clip.fade_out)):
            box = QSpinBox()
            box.setRange(0, clip.length)
            box.setSuffix(" frames")
            box.setValue(frames)
            box.setToolTip(f"{project.seconds(frames):.2f} s at {project.fps} fps; the picture fades to or from what "
                           "lies below it, the sound to or from silence")
            box.setEnabled(editable)
            boxes.append(box)
            self.form.addRow(name, box)
        fade_in, fade_out = boxes

        def finished() -> None:
            wanted = fade_in.value(), fade_out.value()
            if wanted != (clip.fade_in, clip.fade_out):  # after the box is done: the edit rebuilds these rows
                QTimer.singleShot(0, lambda: self.fades_changed.emit(clip.id, *wanted))

        for box in boxes:
            box.editingFinished.connect(finished)
        if clip.dissolve_in:
            self.form.addRow("Cross-dissolve", QLabel(f"{clip.dissolve_in} frames "
                                                      f"({project.seconds(clip.dissolve_in):.2f} s) from the clip "
                                                      "before"))

    def _speed_box(self, clip: Clip, editable: bool) -> QDoubleSpinBox:
        box = QDoubleSpinBox()
        box.setRange(MIN_SPEED * 100, MAX_SPEED * 100)
        box.setDecimals(1)
        box.setSuffix(" %")
        box.setValue(clip.speed * 100)
        box.setToolTip("How fast the clip plays its media: under 100 % slow motion, over it faster. The clip keeps its "
                       "start and grows or shrinks to show the same media, the later clips of its track moving along")
        box.setEnabled(editable)

        def finished() -> None:
            wanted = box.value() / 100
            if abs(wanted - clip.speed) > 1e-9:  # after the box is done: the edit rebuilds these rows
                QTimer.singleShot(0, lambda: self.speed_changed.emit(clip.id, wanted))

        box.editingFinished.connect(finished)
        return box

    def _volume_rows(self, clip: Clip, editable: bool) -> None:
        """The level at the playhead, which sets a volume key there when changed, and how many keys there are, with
        a button that clears them."""
        box = QDoubleSpinBox()
        box.setRange(0, MAX_LEVEL * 100)
        box.setSuffix(" %")
        box.setDecimals(0)
        box.setSingleStep(10)
        box.setKeyboardTracking(False)
        box.setToolTip("The sound's level at the playhead, times the gain; changing it sets a volume key there, and "
                       "the level runs in straight lines from key to key")
        box.setEnabled(editable)

        def finished() -> None:
            offset = self._playhead - clip.start
            wanted = box.value() / 100
            if 0 <= offset <= clip.length and abs(wanted - level_at(clip.volume, offset)) > 1e-9:
                QTimer.singleShot(0, lambda: self.volume_key_set.emit(clip.id, offset, wanted))

        box.editingFinished.connect(finished)
        self.level_here = box
        self.form.addRow("Level here", box)
        clear = QPushButton(f"Clear {len(clip.volume)} volume key{'s' if len(clip.volume) != 1 else ''}")
        clear.setEnabled(editable and bool(clip.volume))
        clear.clicked.connect(lambda: QTimer.singleShot(0, lambda: self.volume_keys_cleared.emit(clip.id)))
        self.form.addRow("", clear)
        self.show_playhead(self._playhead)

    def show_playhead(self, frame: int) -> None:
        """Show the selected clip's level at timeline `frame` (the playhead), where it is on the clip."""
        self._playhead = frame
        box, clip = self.level_here, self.clip
        if box is None or clip is None:
            return
        offset = frame - clip.start
        inside = 0 <= offset <= clip.length
        box.blockSignals(True)
        box.setValue(level_at(clip.volume, min(max(offset, 0), clip.length)) * 100)
        box.blockSignals(False)
        box.setReadOnly(not inside)

    def _flag_box(self, text: str, tip: str, checked: bool, editable: bool,
                  changed: Callable[[bool], None]) -> QCheckBox:
        """A check box that asks for an edit (`changed(on)`) when clicked."""
        box = QCheckBox(text)
        box.setToolTip(tip)
        box.setChecked(checked)
        box.setEnabled(editable)
        # after the click is handled: the edit rebuilds these rows, the box with them
        box.toggled.connect(lambda on: QTimer.singleShot(0, lambda: changed(on)))
        return box
