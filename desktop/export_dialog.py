"""File > Export video...: the file, its size (the project's, a preset or custom), frame rate, codec, encoder speed,
quality (a CRF or a bitrate) and audio bitrate; the length and an estimated size before exporting; then the export
in the background (desktop.workers) with its progress, the time left, and a Cancel that leaves no file (a file
already there stays as it was). The encoder speed of the last export is remembered (QSettings key `export/speed`)."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSettings, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.fields import field_row, side_box
from desktop.media.export import ExportCancelled, export_video
from desktop.media.export_settings import (
    AUDIO_BITRATES,
    CODEC_NAMES,
    CRF_RANGE,
    DEFAULT_AUDIO_BITRATE,
    DEFAULT_CRF,
    DEFAULT_SPEED,
    ENCODER_SPEEDS,
    ESTIMATE_FACTOR,
    FPS_CHOICES,
    SIZE_PRESETS,
    SPEED_NAMES,
    VIDEO_BITRATE_RANGE,
    ExportSettings,
    ExportSettingsError,
    TimeLeft,
    available_codecs,
    clock_text,
    estimate_bytes,
    has_sound,
    output_frames,
    size_text,
)
from desktop.project.model import Project
from desktop.timecode import timecode
from desktop.workers import Task, current_task, run_in_background

CUSTOM = "Custom"
ERROR_COLOR = "#ff7b72"
WIDTH = 520
EXPORTED = "the exported video"  # whose sides the size boxes give
DEFAULT_VIDEO_KBPS = 8_000
CRF, BITRATE = "crf", "bitrate"
VIDEO_FILTER = "MP4 video (*.mp4)"
SPEED_KEY = "export/speed"


def remembered_speed(settings: QSettings | None) -> str:
    """The encoder speed of the last export, or DEFAULT_SPEED when there was none (or it is no longer offered)."""
    speed = settings.value(SPEED_KEY, DEFAULT_SPEED) if settings is not None else DEFAULT_SPEED
    return speed if speed in ENCODER_SPEEDS else DEFAULT_SPEED


class ExportDialog(QDialog):
    """Exports `project` as it is when Export is pressed (a copy: editing meanwhile changes nothing written).
    `exported(path)` when a file has been written. `clock` (seconds) times the export for the time left. With
    `settings` the encoder speed starts as the last export's and an export remembers its own. Its Range offers the
    whole timeline, the selected clips' span (`selection`: project frames [first, end)), from the `playhead` on, and
    between the markers around the playhead."""

    exported = Signal(object)  # the Path written

    def __init__(self, project: Project, path: Path, parent: QWidget | None = None,
                 clock: Callable[[], float] = time.monotonic, settings: QSettings | None = None,
                 selection: tuple[int, int] | None = None, playhead: int = 0) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export video")
        self.project = project
        self.stored = settings
        self.clock = clock
        self.task: Task[None] | None = None
        self._time_left: TimeLeft | None = None
        self._frames = 0

        self.file = QLineEdit(str(path))
        self.file.setAccessibleName("File")
        self.browse = QPushButton("&Browse...")
        self.browse.clicked.connect(self.choose_file)
        file_row = field_row(self.file, self.browse)

        self.span = QComboBox()
        self.span.addItem("Whole timeline", None)
        end = project.duration
        if selection is not None and selection[0] < end:
            self.span.addItem(f"Selected clips ({timecode(selection[0], project.fps)} to "
                              f"{timecode(min(selection[1], end), project.fps)})", selection)
        if 0 < playhead < end:
            self.span.addItem(f"From the playhead ({timecode(playhead, project.fps)} to the end)", (playhead, end))
        if project.markers:
            first = max((m for m in project.markers if m <= playhead), default=0)
            last = min([m for m in project.markers if m > playhead] + [end])
            if first < last:
                named = project.marker_names.get(first)
                what = f"“{named}”, " if named else ""
                self.span.addItem(f"Between the markers ({what}{timecode(first, project.fps)} to "
                                  f"{timecode(last, project.fps)})", (first, last))

        self.frame_size = QComboBox()
        for label, size in SIZE_PRESETS.items():
            shown = f"{label} ({project.width}x{project.height})" if size is None else label
            self.frame_size.addItem(shown, size)
        self.frame_size.addItem(CUSTOM, CUSTOM)
        self.width_box, self.height_box = side_box("Width", EXPORTED), side_box("Height", EXPORTED)
        size_row = QHBoxLayout()
        size_row.setContentsMargins(0, 0, 0, 0)
        for widget in (self.width_box, QLabel("x"), self.height_box, QLabel("pixels")):
            size_row.addWidget(widget)
        size_row.addStretch(1)

        self.fps = QComboBox()
        self.fps.addItem(f"Project ({project.fps} fps)", None)
        for fps in FPS_CHOICES:
            if fps != project.fps:
                self.fps.addItem(f"{fps} fps", fps)
        self.codec = QComboBox()
        for codec in available_codecs():
            self.codec.addItem(CODEC_NAMES[codec], codec)
        self.speed = QComboBox()
        for speed, name in SPEED_NAMES.items():
            self.speed.addItem(name, speed)
        self.speed.setCurrentIndex(self.speed.findData(remembered_speed(settings)))
        self.speed.setToolTip("How long the encoder works on each frame. Fastest is for drafts: at the same CRF an "
                              "H.264 file is larger, an H.265 one lower in quality. Fast makes the file Thorough "
                              "makes of generated footage in about half the time. Thorough searches motion more "
                              "widely, for footage where much moves fast.")

        self.quality_mode = QComboBox()
        self.quality_mode.addItem("Constant quality (CRF)", CRF)
        self.quality_mode.addItem("Bitrate", BITRATE)
        self.crf = QSpinBox()
        self.crf.setRange(*CRF_RANGE)
        self.crf.setValue(DEFAULT_CRF)
        self.crf.setAccessibleName("CRF")
        self.crf.setToolTip("Lower is better and larger; 18-23 looks close to the source, +5 about halves the size")
        self.bitrate = QSpinBox()
        self.bitrate.setRange(VIDEO_BITRATE_RANGE[0] // 1000, VIDEO_BITRATE_RANGE[1] // 1000)
        self.bitrate.setSuffix(" kb/s")
        self.bitrate.setSingleStep(500)
        self.bitrate.setValue(DEFAULT_VIDEO_KBPS)
        self.bitrate.setAccessibleName("Video bitrate")
        self.quality_value = QStackedWidget()
        self.quality_value.addWidget(self._labelled(self.crf, "0 best ... 51 smallest"))
        self.quality_value.addWidget(self._labelled(self.bitrate, "video"))
        quality_row = QHBoxLayout()
        quality_row.setContentsMargins(0, 0, 0, 0)
        quality_row.addWidget(self.quality_mode)
        quality_row.addWidget(self.quality_value, 1)

        self.audio = QComboBox()
        for rate in AUDIO_BITRATES:
            self.audio.addItem(f"{rate // 1000} kb/s AAC", rate)
        self.audio.setCurrentIndex(AUDIO_BITRATES.index(DEFAULT_AUDIO_BITRATE))

        self.fields = QWidget()  # disabled as a whole while the export runs
        form = QFormLayout(self.fields)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow(self._label("&File:", self.file), file_row)
        form.addRow("Ra&nge:", self.span)
        form.addRow("Frame &size:", self.frame_size)
        form.addRow("", size_row)
        form.addRow("Frame &rate:", self.fps)
        form.addRow("&Codec:", self.codec)
        form.addRow("S&peed:", self.speed)
        form.addRow(self._label("&Quality:", self.quality_mode), quality_row)
        form.addRow("&Audio:", self.audio)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet(f"color: {ERROR_COLOR}")
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress_text = QLabel()
        self.export_button = QPushButton("&Export")
        self.export_button.setDefault(True)
        self.export_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Close")
        self.cancel_button.clicked.connect(self.cancel_or_close)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.cancel_button)

        layout = QVBoxLayout(self)
        layout.addWidget(self.fields)
        layout.addWidget(self.summary)
        layout.addWidget(self.note)
        layout.addWidget(self.message)
        layout.addWidget(self.progress)
        layout.addWidget(self.progress_text)
        layout.addStretch(1)
        layout.addLayout(buttons)
        self.setMinimumWidth(WIDTH)

        self.width_box.setValue(project.width)
        self.height_box.setValue(project.height)
        self.frame_size.currentIndexChanged.connect(self._size_chosen)
        self.quality_mode.currentIndexChanged.connect(self._quality_chosen)
        for box in (self.width_box, self.height_box, self.crf, self.bitrate):
            box.valueChanged.connect(self._update)
        for combo in (self.span, self.fps, self.codec, self.speed, self.audio):
            combo.currentIndexChanged.connect(self._update)
        self.file.textChanged.connect(self._update)
        self._size_chosen()
        self._show_progress(None)

    @staticmethod
    def _label(text: str, buddy: QWidget) -> QLabel:
        """A field's label whose shortcut (the letter after &) goes to `buddy`, for rows that hold a layout."""
        label = QLabel(text)
        label.setBuddy(buddy)
        return label

    @staticmethod
    def _labelled(box: QSpinBox, text: str) -> QWidget:
        holder = QWidget()
        row = QHBoxLayout(holder)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(box)
        row.addWidget(QLabel(text))
        row.addStretch(1)
        return holder

    # what is chosen

    def path(self) -> Path:
        text = self.file.text().strip()
        path = Path(text).expanduser()
        return path if path.suffix.lower() == ".mp4" else path.with_name(path.name + ".mp4")

    def settings(self) -> ExportSettings:
        """The settings the fields say (unchecked: `problem` says what is wrong with them)."""
        size = self.frame_size.currentData()
        if size == CUSTOM:
            size = (self.width_box.value(), self.height_box.value())
        bitrate = self.bitrate.value() * 1000 if self.quality_mode.currentData() == BITRATE else None
        return ExportSettings(size=size, fps=self.fps.currentData(), codec=self.codec.currentData(),
                              crf=self.crf.value(), video_bitrate=bitrate, audio_bitrate=self.audio.currentData(),
                              speed=self.speed.currentData(), span=self.span.currentData())

    def problem(self) -> str | None:
        """Why these fields cannot be exported, starting with the field's name ("Width ..."); None when they can."""
        if not self.file.text().strip():
            return "File: choose where to write the video"
        if not self.path().parent.is_dir():
            return f"File: the folder {self.path().parent} does not exist"
        if self.project.duration == 0:
            return "The timeline is empty: there is nothing to export"
        try:
            self.settings().check()
        except ExportSettingsError as err:
            return f"{err.field.capitalize()} {err.problem}"
        return None

    def choose_preset(self, label: str) -> None:
        """Pick the size whose label starts with `label` ("720p", "Project", CUSTOM)."""
        index = next(i for i in range(self.frame_size.count()) if self.frame_size.itemText(i).startswith(label))
        self.frame_size.setCurrentIndex(index)

    def choose_file(self) -> None:
        chosen, _ = QFileDialog.getSaveFileName(self, "Export video", str(self.path()), VIDEO_FILTER)
        if chosen:
            self.file.setText(chosen)

    def _size_chosen(self) -> None:
        size = self.frame_size.currentData()
        custom = size == CUSTOM
        if not custom:
            width, height = size if size is not None else (self.project.width, self.project.height)
            self.width_box.setValue(width)
            self.height_box.setValue(height)
        self.width_box.setEnabled(custom)
        self.height_box.setEnabled(custom)
        self._update()

    def _quality_chosen(self) -> None:
        self.quality_value.setCurrentIndex(0 if self.quality_mode.currentData() == CRF else 1)
        self._update()

    def _update(self) -> None:
        """The length, the estimated size, the notes and what is wrong, for the fields as they are."""
        problem = self.problem()
        self.message.setText(problem or "")
        self.export_button.setEnabled(problem is None and self.task is None)
        settings = self.settings()
        project = self.project
        fps = settings.fps_for(project)
        frames = settings.frames_for(project) if problem is None else output_frames(project, fps)
        seconds = frames / fps
        size = (self.width_box.value(), self.height_box.value())
        length = f"Length {clock_text(seconds)} ({frames} frames at {fps} fps)"
        if problem is not None and not problem.startswith(("File", "The timeline")):
            self.summary.setText(length)
        else:
            estimate = size_text(estimate_bytes(seconds, size, settings, has_sound(project)))
            how = ("from the bitrate" if settings.video_bitrate is not None
                   else f"an estimate: detailed footage is larger, flat titles smaller, up to {ESTIMATE_FACTOR}x")
            self.summary.setText(f"{length}, about {estimate} ({how})")
        notes = []
        if fps != project.fps:
            notes.append(f"At {fps} fps each clip keeps its time, as when the project's rate changes; a clip slower "
                         "than that repeats its frames, or with smooth motion on (the inspector) gains frames made "
                         "between them.")
        if size[0] * project.height != size[1] * project.width and problem is None:
            notes.append("The frame's shape is not the project's: each clip is placed in it as its transform says "
                         "(fitted, filled or stretched).")
        self.note.setText(" ".join(notes))
        self.note.setVisible(bool(notes))

    # the export

    def confirm_replace(self, path: Path) -> bool:
        answer = QMessageBox.question(self, "Replace the file?", f"{path} exists. Replace it with this export?")
        return answer == QMessageBox.StandardButton.Yes

    def start(self) -> Task[None] | None:
        """Export with the settings shown; the running Task, or None when nothing was started."""
        if self.task is not None or self.problem() is not None:
            return None
        path, settings = self.path(), self.settings()
        if path.exists() and not self.confirm_replace(path):
            return None
        if self.stored is not None:
            self.stored.setValue(SPEED_KEY, settings.speed)
        snapshot = copy.deepcopy(self.project)  # edits during the export do not change what it writes
        self._frames = settings.frames_for(snapshot)
        self._time_left = TimeLeft(self.clock)

        def work() -> None:
            task = current_task()
            export_video(snapshot, path, settings, progress=task.progress, cancelled=task.cancel_requested)

        self.task = run_in_background(work, on_done=lambda _: self._finished(path, None), context=self,
                                      on_error=lambda error: self._finished(path, error),
                                      on_progress=self._show_progress,
                                      on_cancelled=lambda: self._finished(path, ExportCancelled("cancelled")))
        self._set_running(True)
        self._show_progress(0.0)
        return self.task

    def cancel_or_close(self) -> None:
        """Cancel a running export (nothing is written), else close."""
        if self.task is not None:
            self.task.cancel()
            self.cancel_button.setEnabled(False)
            self.progress_text.setText("Cancelling...")
        else:
            self.reject()

    def reject(self) -> None:
        """Closing the dialog (Esc, the title bar) cancels a running export."""
        if self.task is not None:
            self.task.cancel()
        super().reject()

    def _set_running(self, running: bool) -> None:
        self.fields.setEnabled(not running)
        self.export_button.setEnabled(not running and self.problem() is None)
        self.cancel_button.setText("Cancel" if running else "Close")
        self.cancel_button.setEnabled(True)

    def _show_progress(self, done: float | None) -> None:
        self.progress.setVisible(done is not None)
        self.progress_text.setVisible(done is not None)
        if done is None or self._time_left is None:
            return
        self.progress.setValue(round(done * 1000))
        left = self._time_left(done)
        eta = "estimating the time left" if left is None else f"{clock_text(left)} left"
        self.progress_text.setText(f"Frame {round(done * self._frames)} of {self._frames} · {eta}")

    def _finished(self, path: Path, error: object) -> None:
        self.task = None
        self._set_running(False)
        if error is None:
            self.progress_text.setText(f"Exported {path.name} ({size_text(path.stat().st_size)})")
            self.exported.emit(path)
            self.accept()
        elif isinstance(error, ExportCancelled):
            self._show_progress(None)
            self.message.setText("Export cancelled: nothing was written.")
        else:
            self._show_progress(None)
            self.message.setText(f"Export failed: {error}")


def default_export_path(project_path: Path | None) -> Path:
    """Beside the project, named after it; an unsaved project's goes to the home folder."""
    if project_path is None:
        return Path.home() / "untitled.mp4"
    return project_path.with_suffix(".mp4")
