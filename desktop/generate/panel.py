"""The generate panel: what to make (mode, prompt or storyboard, duration, aspect, seed, model) -> a job.

The model list comes from the engine (a `models` event): each model's clip length, longest job, trained length,
aspects, precisions and its memory plan on this device. The panel knows nothing of files: `job(output)` turns its
fields into a JobSpec for the output path the caller picks, or raises JobInputError with a message the panel also
shows.
"""

from __future__ import annotations

import secrets

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.generate.storyboard_board import StoryboardBoard
from engine.api import jobs
from engine.api.jobs import GUIDANCE_SCALE, MAX_VIDEO_SECONDS, TAU, JobInputError, JobSpec, NumberRange
from engine.api.records import DeviceSummary, ModelInfo

MODES = {"Text to video": "t2v", "Text to image": "t2i", "Image to video": "i2v", "Storyboard": "storyboard"}
HISTORY_KEY = "generate/prompt_history"
HISTORY_SIZE = 30
MAX_SEED = min(jobs.MAX_SEED, 2**31 - 1)  # a QSpinBox holds 32-bit integers; the engine takes seeds up to 2^63 - 1
DECIMALS = 2


def spin_range(allowed: NumberRange, decimals: int = DECIMALS) -> tuple[float, float]:
    """The least and most a spin box of `decimals` decimals may show for a job field the API allows in `allowed`:
    the range itself, less its lowest value where the API excludes it."""
    step = 10.0**-decimals
    return (allowed.low + step if allowed.low_open else allowed.low), allowed.high


def trained_length_note(model: ModelInfo | None, seconds: int) -> str:
    """What the engine does for a video longer than the model was trained on, worded for the person choosing the
    length; "" within it."""
    if model is None or seconds <= model.trained_seconds:
        return ""
    trained, clip = f"{model.trained_seconds:g}", f"{model.clip_seconds:g}"
    if model.trained_seconds <= model.clip_seconds:  # weights that saw one video clip after the first frame
        return (f"Longer than the {trained} s videos this model was trained on: it goes on clip by clip, each "
                f"{clip} s clip following on from the one before, which the model reads in place of a first frame.")
    return (f"Longer than the {trained} s videos this model was trained on: it goes on clip by clip, each "
            f"{clip} s clip made as the last clip of a {trained} s video, following on from the one before.")


class GeneratePanel(QWidget):
    """`storyboard_changed()` when the storyboard it would make may differ: its mode, model, length or a prompt."""

    generate_clicked = Signal()
    storyboard_changed = Signal()

    def __init__(self, settings: QSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.models: dict[str, ModelInfo] = {}  # the installed models, which the picker offers
        self.known_models: dict[str, ModelInfo] = {}  # every model the engine listed, installed or not
        self.device = ""
        self._build()
        self._load_history()
        self._mode_changed()

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.mode = QComboBox()
        self.mode.addItems(list(MODES))
        self.mode.currentIndexChanged.connect(self._mode_changed)
        form.addRow("Mode", self.mode)

        self.prompt = QPlainTextEdit()
        self.prompt.setPlaceholderText("What the video should show, e.g. a red circle moves to the right")
        self.prompt.setFixedHeight(70)
        self.history = QComboBox()
        self.history.setPlaceholderText("Recent prompts")
        self.history.activated.connect(lambda i: self.prompt.setPlainText(self.history.itemText(i)))
        self.prompt_box = QWidget()
        prompt_layout = QVBoxLayout(self.prompt_box)
        prompt_layout.setContentsMargins(0, 0, 0, 0)
        prompt_layout.addWidget(self.prompt)
        prompt_layout.addWidget(self.history)
        form.addRow("Prompt", self.prompt_box)

        self.board = StoryboardBoard()
        self.board.changed.connect(self.storyboard_changed)
        form.addRow("Storyboard", self.board)
        self.words_note = QLabel()  # the words the model would leave out, shown as the person types
        self.words_note.setObjectName("noteLabel")
        self.words_note.setWordWrap(True)
        form.addRow("", self.words_note)
        self.prompt.textChanged.connect(self._check_words)
        self.board.changed.connect(self._check_words)

        self.image = QLineEdit()
        self.image.setPlaceholderText("the first frame (an image file)")
        browse = QPushButton("Browse...")
        browse.clicked.connect(self._browse_image)
        self.image_row = QWidget()
        image_layout = QHBoxLayout(self.image_row)
        image_layout.setContentsMargins(0, 0, 0, 0)
        image_layout.addWidget(self.image)
        image_layout.addWidget(browse)
        form.addRow("First frame", self.image_row)

        self.duration = QSpinBox()
        self.duration.setRange(1, MAX_VIDEO_SECONDS)
        self.duration.setSuffix(" s")
        self.duration.valueChanged.connect(self._duration_changed)
        form.addRow("Duration", self.duration)
        self.length_note = QLabel()
        self.length_note.setObjectName("noteLabel")
        self.length_note.setWordWrap(True)
        self.length_note.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        form.addRow("", self.length_note)
        self.aspect = QComboBox()
        form.addRow("Aspect", self.aspect)

        self.seed = QSpinBox()
        self.seed.setRange(0, MAX_SEED)
        self.random_seed = QCheckBox("random")
        self.random_seed.setChecked(True)
        self.random_seed.toggled.connect(lambda on: self.seed.setEnabled(not on))
        dice = QPushButton("\N{DIE FACE-5}")
        dice.setToolTip("A new random seed, kept fixed")
        dice.setFixedWidth(36)
        dice.clicked.connect(self.roll_seed)
        seed_row = QWidget()
        seed_layout = QHBoxLayout(seed_row)
        seed_layout.setContentsMargins(0, 0, 0, 0)
        seed_layout.addWidget(self.seed, 1)
        seed_layout.addWidget(self.random_seed)
        seed_layout.addWidget(dice)
        self.seed.setEnabled(False)
        form.addRow("Seed", seed_row)

        self.model = QComboBox()
        self.model.currentIndexChanged.connect(self._model_changed)
        form.addRow("Model", self.model)
        self.precision = QComboBox()
        form.addRow("Precision", self.precision)
        self.plan = QLabel("asking the engine for its models...")
        self.plan.setWordWrap(True)
        self.plan.setObjectName("planLabel")
        form.addRow("", self.plan)
        layout.addLayout(form)

        self.advanced = QGroupBox("Advanced")
        self.advanced.setCheckable(True)
        self.advanced.setChecked(False)
        advanced = QFormLayout(self.advanced)
        self.guidance = QDoubleSpinBox()
        self.guidance.setDecimals(DECIMALS)
        self.guidance.setRange(*spin_range(GUIDANCE_SCALE))
        self.guidance.setSingleStep(0.5)
        self.temperature = QDoubleSpinBox()
        self.temperature.setDecimals(DECIMALS)
        self.temperature.setRange(*spin_range(TAU))
        self.temperature.setSingleStep(0.05)
        advanced.addRow("Guidance scale", self.guidance)
        advanced.addRow("Temperature", self.temperature)
        layout.addWidget(self.advanced)

        self.error = QLabel()
        self.error.setObjectName("errorLabel")
        self.error.setStyleSheet("color: #ff7b72")
        self.error.setWordWrap(True)
        layout.addWidget(self.error)
        self.button = QPushButton("Generate")
        self.button.setDefault(True)
        self.button.clicked.connect(self.generate_clicked)
        layout.addWidget(self.button)
        layout.addStretch(1)
        self.form = form

    @property
    def mode_key(self) -> str:
        return MODES[self.mode.currentText()]

    def set_models(self, models: list[ModelInfo], device: DeviceSummary) -> None:
        """Fill the picker with the installed ones of a `models` event; the current choice is kept when it is still
        there."""
        current = self.model.currentData()
        self.known_models = {m.id: m for m in models}
        self.models = {m.id: m for m in models if m.installed}
        self.device = device.name or device.device
        self.model.blockSignals(True)
        self.model.clear()
        for m in self.models.values():
            self.model.addItem(f"{m.id} ({m.plan.precision}, {m.plan.peak_gb:g} GB)", m.id)
        if current in self.models:
            self.model.setCurrentIndex(self.model.findData(current))
        self.model.blockSignals(False)
        self._model_changed()

    def _model_changed(self) -> None:
        model = self.models.get(self.model.currentData())
        self.button.setEnabled(model is not None)
        if model is None:
            return
        self.duration.setMaximum(min(model.max_seconds, MAX_VIDEO_SECONDS))
        self.aspect.clear()
        self.aspect.addItems(list(model.aspects))
        self.aspect.setCurrentText(model.default_aspect)
        self.precision.clear()
        self.precision.addItem("Auto (the plan's choice)", None)
        for precision in model.precisions:
            self.precision.addItem(precision, precision)
        self.guidance.setValue(model.guidance_scale)
        self.temperature.setValue(model.tau_video)
        plan = model.plan
        fits = "fits" if plan.fits else "does NOT fit"
        self.plan.setText(f"{plan.precision} on {self.device}: peak {plan.peak_gb:g} GB, {fits}")
        self.plan.setToolTip("\n".join(plan.lines))
        self._duration_changed()
        self._check_words()

    def unknown_words(self) -> list[str]:
        """The words of the prompts as they stand that the chosen model does not know, so would leave out."""
        model = self.models.get(self.model.currentData())
        if model is None:
            return []
        return list(dict.fromkeys(w for prompt in self.prompts() for w in model.unknown_words(prompt)))

    def _check_words(self) -> None:
        unknown = self.unknown_words()
        model = self.model.currentData()
        self.words_note.setText(f"{model} does not know the words {', '.join(unknown)}: they are left out of the "
                                "prompt" if unknown else "")
        self.form.setRowVisible(self.words_note, bool(unknown))

    def _mode_changed(self) -> None:
        mode = self.mode_key
        self.form.setRowVisible(self.prompt_box, mode != "storyboard")
        self.form.setRowVisible(self.board, mode == "storyboard")
        self.form.setRowVisible(self.image_row, mode == "i2v")
        self.duration.setEnabled(mode != "t2i")
        self._duration_changed()
        self._check_words()

    def _clip_seconds(self) -> int:
        model = self.models.get(self.model.currentData())
        return max(1, round(model.clip_seconds)) if model else 1

    def storyboard_segments(self) -> list[tuple[int, int]]:
        """(start s, end s) of every clip of the current duration: one prompt each."""
        step, total = self._clip_seconds(), self.duration.value()
        return [(start, min(start + step, total)) for start in range(0, total, step)]

    def _duration_changed(self) -> None:
        if self.mode_key == "storyboard":
            self.board.set_segments(self.storyboard_segments())
        else:
            self.storyboard_changed.emit()
        note = trained_length_note(self.models.get(self.model.currentData()), self.duration.value())
        self.length_note.setText(note)
        self.form.setRowVisible(self.length_note, bool(note) and self.mode_key != "t2i")

    def set_storyboard(self, prompts: list[str]) -> None:
        self.mode.setCurrentText("Storyboard")
        self.board.set_prompts(prompts)

    def set_first_frame(self, path: str) -> None:
        """Image to video from `path` (e.g. the frame under the playhead)."""
        self.mode.setCurrentText("Image to video")
        self.image.setText(path)

    def roll_seed(self) -> None:
        self.random_seed.setChecked(False)
        self.seed.setValue(secrets.randbelow(MAX_SEED))

    def _browse_image(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "First frame", "", "Images (*.png *.jpg *.jpeg *.webp *.bmp)")
        if path:
            self.image.setText(path)

    def prompts(self) -> tuple[str, ...]:
        if self.mode_key == "storyboard":
            return self.board.prompts()
        return (self.prompt.toPlainText().strip(),)

    def job(self, output: str) -> JobSpec:
        """The job the fields describe, writing to `output`; JobInputError (also shown in the panel) if they do not
        make one."""
        try:
            spec = self._job(output)
        except JobInputError as err:
            self.error.setText(str(err))
            raise
        self.error.clear()
        self._remember(spec.prompts)
        return spec

    def _job(self, output: str) -> JobSpec:
        model = self.model.currentData()
        if model is None:
            raise JobInputError("no model yet: the engine has not listed its models")
        mode = self.mode_key
        if mode == "i2v" and not self.image.text().strip():
            raise JobInputError("image to video needs a first frame: pick an image file")
        advanced = self.advanced.isChecked()
        return JobSpec(
            kind="storyboard" if mode == "storyboard" else "generate",
            model=model,
            output=output,
            prompts=self.prompts(),
            seconds=0 if mode == "t2i" else self.duration.value(),
            seed=secrets.randbelow(MAX_SEED) if self.random_seed.isChecked() else self.seed.value(),
            precision=self.precision.currentData(),
            aspect=self.aspect.currentText() or None,
            guidance_scale=self.guidance.value() if advanced else None,
            tau_video=self.temperature.value() if advanced else None,
            image=self.image.text().strip() if mode == "i2v" else None,
        )

    def _load_history(self) -> None:
        history = self.settings.value(HISTORY_KEY, [], list) or []
        self.history.clear()
        self.history.addItems([str(h) for h in history])

    def _remember(self, prompts: tuple[str, ...]) -> None:
        history = [self.history.itemText(i) for i in range(self.history.count())]
        for prompt in prompts:
            if prompt in history:
                history.remove(prompt)
            history.insert(0, prompt)
        self.settings.setValue(HISTORY_KEY, history[:HISTORY_SIZE])
        self._load_history()
