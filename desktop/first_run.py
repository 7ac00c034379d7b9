"""The first-run wizard: what this computer can run (the engine's `models` event: device, and each model's plan), then
installing a model from a folder or a download, run as `istar models ... --events` in a child process whose typed
events (engine.api.install_events) drive the progress bar and the log. With the engine on a server (Edit > Engine),
the models are the server's: the wizard says what runs there and how to install a model on that machine, since a
model installed on this computer would not reach it.

Shown once on first start (a QSettings flag) and again from Help;
`FirstRunWizard(bridge, settings, parent, engine_name)`.
"""

from __future__ import annotations

import html
import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QProcess, QSettings, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from desktop.engine_settings import LOCAL_NAME
from engine.api import protocol as p
from engine.api.install_events import InstallDone, InstallFailed, InstallStep, read_install_event
from engine.api.records import DeviceSummary, ModelInfo, RecordError

SHOWN_KEY = "first_run/shown"
GB = 1e9
KILL_AFTER_MS = 3000


def first_run_due(settings: QSettings) -> bool:
    return not settings.value(SHOWN_KEY, False, type=bool)


def istar_command(args: list[str]) -> tuple[str, list[str]]:
    """Program and arguments that run `istar ARGS`; a frozen studio is its own `istar` given --istar
    (installer/pyinstaller/istar_studio.py)."""
    if getattr(sys, "frozen", False):
        return sys.executable, ["--istar", *args]
    return sys.executable, ["-u", "-m", "engine.cli.main", *args]


def device_summary(device: DeviceSummary) -> str:
    ram = device.host_total_bytes / GB
    if device.is_cuda:
        return (f"GPU: <b>{html.escape(device.name)}</b> with {device.total_bytes / GB:.1f} GB of video memory; "
                f"{ram:.1f} GB of RAM.")
    return (f"No NVIDIA GPU found: the engine runs on the CPU (<b>{html.escape(device.name)}</b>) "
            f"with {ram:.1f} GB of RAM.")


def what_fits(device: DeviceSummary, models: list[ModelInfo]) -> str:
    """One line per model on what it can do here, then what to install, if anything fits."""
    lines = []
    for m in models:
        plan = m.plan
        if m.builtin:
            lines.append(f"<b>{m.id}</b>, the built-in demo model, always runs here, on any computer.")
        elif plan.fits:
            lines.append(f"<b>{m.id}</b> fits at <b>{plan.precision}</b> (peak {plan.peak_gb:g} GB).")
        else:
            lines.append(f"<b>{m.id}</b> does not fit: even at {plan.precision} it needs "
                         f"{plan.peak_gb:g} GB at its peak.")
    if not device.is_cuda and any(m.plan.fits and not m.builtin for m in models):
        lines.append("On the CPU the big models run, but far slower than on a GPU: they are made for one.")
    best = installable(models)
    if best and best[0].plan.fits:
        lines.append(f"Next: install <b>{best[0].id}</b> (it would run at {best[0].plan.precision}).")
    return "<br>".join(lines)


def installable(models: list[ModelInfo]) -> list[ModelInfo]:
    """Not installed yet, best first: those that fit this device, then the rest."""
    todo = [m for m in models if not m.installed and not m.builtin]
    return sorted(todo, key=lambda m: not m.plan.fits)


class InstallProcess(QObject):
    """`istar models install ID --from DIR --events` or `istar models download ID --events` as a child process.

    Each step it reports is a `step` (an InstallStep) and a log line; any line that is no event (a library's
    warning, a traceback) goes to the log as it is. The end is its InstallDone or InstallFailed; the exit code
    only when it ended without one (a crash, a cancel)."""

    line = Signal(str)
    step = Signal(object)  # InstallStep: step `index` of `total`
    ended = Signal(bool, str)  # success, what happened

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._process = QProcess(self)
        self._process.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)
        self._process.readyReadStandardOutput.connect(self._read)
        self._process.finished.connect(self._finished)
        self._process.errorOccurred.connect(self._error)
        self._kill = QTimer(self, singleShot=True, interval=KILL_AFTER_MS)
        self._kill.timeout.connect(self._process.kill)
        self._pending = b""
        self._last = ""
        self._outcome: InstallDone | InstallFailed | None = None
        self._cancelled = False

    @property
    def running(self) -> bool:
        return self._process.state() != QProcess.ProcessState.NotRunning

    def start(self, model_id: str, folder: Path | None) -> None:
        """From `folder` (laid out like the release), or downloaded from the hub when `folder` is None."""
        args = ["models", "install", model_id, "--from", str(folder)] if folder else ["models", "download", model_id]
        args.append("--events")
        self._pending, self._last, self._outcome, self._cancelled = b"", "", None, False
        program, arguments = istar_command(args)
        self.line.emit("$ istar " + " ".join(args))
        self._process.start(program, arguments)

    def cancel(self) -> None:
        if not self.running:
            return
        self._cancelled = True
        self._process.terminate()
        self._kill.start()

    def _read(self) -> None:
        self._pending += self._process.readAllStandardOutput().data()
        *lines, self._pending = self._pending.split(b"\n")
        for raw in lines:
            text = raw.decode(errors="replace").rstrip()
            if text:
                self._take(text)

    def _take(self, text: str) -> None:
        try:
            event = read_install_event(text)
        except RecordError as err:
            event, text = None, f"{text} (not a readable event: {err})"
        if isinstance(event, InstallStep):
            self.step.emit(event)
        elif isinstance(event, InstallDone | InstallFailed):
            self._outcome = event
        self._last = text if event is None else event.describe()
        self.line.emit(self._last)

    def _finished(self, code: int, status: QProcess.ExitStatus) -> None:
        self._kill.stop()
        self._read()
        if self._pending.strip():
            self._take(self._pending.decode(errors="replace").rstrip())
            self._pending = b""
        if isinstance(self._outcome, InstallDone):  # it may have ended before a cancel arrived
            self.ended.emit(True, self._outcome.describe())
        elif isinstance(self._outcome, InstallFailed):
            self.ended.emit(False, self._outcome.describe())
        elif status == QProcess.ExitStatus.NormalExit and code == 0:
            self.ended.emit(True, self._last)
        elif self._cancelled:
            self.ended.emit(False, "cancelled: installing again resumes where it stopped")
        else:
            self.ended.emit(False, f"failed (exit code {code}): {self._last}")

    def _error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self.ended.emit(False, f"could not start {self._process.program()}: {self._process.errorString()}")


class DevicePage(QWizardPage):
    """What the engine's machine (this computer, or the server named `engine_name`) is and which models run on it,
    once the engine has answered."""

    def __init__(self, engine_name: str = LOCAL_NAME) -> None:
        super().__init__()
        self.engine_name = engine_name
        self.setTitle("What this computer can run" if engine_name == LOCAL_NAME else
                      f"What the engine on {engine_name} can run")
        self.device = QLabel("Asking the engine about this computer and the models...")
        self.device.setWordWrap(True)
        self.table = QTreeWidget()
        self.table.setHeaderLabels(["Model", "State", "Precision", "Peak memory", "Fits"])
        self.table.setRootIsDecorated(False)
        self.fits = QLabel()
        self.fits.setWordWrap(True)
        layout = QVBoxLayout(self)
        for widget in (self.device, self.table, self.fits):
            layout.addWidget(widget)
        self._answered = False

    def show_models(self, device: DeviceSummary, models: list[ModelInfo]) -> None:
        where = "" if self.engine_name == LOCAL_NAME else f"The engine's server, {html.escape(self.engine_name)}. "
        self.device.setText(where + device_summary(device))
        self.table.clear()
        for m in models:
            state = "built in" if m.builtin else "installed" if m.installed else "not installed"
            plan = m.plan
            QTreeWidgetItem(self.table, [m.id, state, plan.precision, f"{plan.peak_gb:g} GB",
                                         "yes" if plan.fits else "no"]).setToolTip(0, m.description)
        for column in range(self.table.columnCount()):
            self.table.resizeColumnToContents(column)
        self.fits.setText(what_fits(device, models))
        self._answered = True
        self.completeChanged.emit()

    def show_failure(self, message: str) -> None:
        self.device.setText(f"The engine could not answer: {html.escape(message)}")

    def isComplete(self) -> bool:  # noqa: N802 (Qt's name)
        return self._answered


class InstallPage(QWizardPage):
    """Pick a model that is not installed yet; install it from a folder or download it, with progress and cancel.
    With the engine on a server (`engine_name` not this computer), say how to install the model there instead, and
    ask the engine again (`check_asked`) once the person has."""

    installed = Signal()
    check_asked = Signal()

    def __init__(self, engine_name: str = LOCAL_NAME) -> None:
        super().__init__()
        self.engine_name = engine_name
        self.setTitle("Install a model (optional)")
        self.setSubTitle("toyworld works without this. Downloads resume where they stopped, and every file's "
                         "sha256 is checked before it is used.")
        self.model = QComboBox()
        self.from_folder = QRadioButton("From a folder laid out like the release (FoundationVision/InfinityStar):")
        self.from_hub = QRadioButton("Download from the Hugging Face hub")
        self.from_folder.setChecked(True)
        self._source = QButtonGroup(self)
        self._source.addButton(self.from_folder)
        self._source.addButton(self.from_hub)
        self.folder = QLineEdit()
        browse = QPushButton("Browse...")
        browse.clicked.connect(self._browse)
        self.install_button = QPushButton("Install")
        self.install_button.clicked.connect(self.install)
        self.cancel_button = QPushButton("Cancel install")
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar()
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.server_steps = QLabel()
        self.server_steps.setWordWrap(True)
        self.server_steps.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.check_button = QPushButton("Check again")
        self.check_button.clicked.connect(self.check_asked)
        self.model.currentIndexChanged.connect(self._show_server_steps)

        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder)
        folder_row.addWidget(browse)
        buttons = QHBoxLayout()
        buttons.addWidget(self.install_button)
        buttons.addWidget(self.cancel_button)
        buttons.addStretch()
        layout = QVBoxLayout(self)
        layout.addWidget(self.model)
        if self.on_server:
            check_row = QHBoxLayout()
            check_row.addWidget(self.check_button)
            check_row.addStretch()
            layout.addWidget(self.server_steps)
            layout.addLayout(check_row)
            layout.addWidget(self.status)
            layout.addStretch()
            self._show_server_steps()
        else:
            layout.addWidget(self.from_folder)
            layout.addLayout(folder_row)
            layout.addWidget(self.from_hub)
            layout.addLayout(buttons)
            layout.addWidget(self.progress)
            layout.addWidget(self.status)
            layout.addWidget(self.log)

        self.process = InstallProcess(self)
        self.cancel_button.clicked.connect(self.process.cancel)
        self.process.line.connect(self.log.appendPlainText)
        self.process.step.connect(self._step)
        self.process.ended.connect(self._ended)

    @property
    def on_server(self) -> bool:
        return self.engine_name != LOCAL_NAME

    def show_models(self, models: list[ModelInfo]) -> None:
        self.model.clear()
        for m in installable(models):
            fits = f"fits at {m.plan.precision}" if m.plan.fits else "does not fit this device"
            self.model.addItem(f"{m.id} ({fits})", m.id)
        if not self.process.running:
            self.install_button.setEnabled(self.model.count() > 0 and not self.on_server)
            if self.model.count() == 0:
                where = f" on {self.engine_name}" if self.on_server else ""
                self.status.setText(f"Every model of the catalogue is installed{where}.")
            elif self.on_server:
                self.status.setText("")

    def _show_server_steps(self) -> None:
        model_id = html.escape(self.model.currentData() or "MODEL")
        name = html.escape(self.engine_name)
        self.server_steps.setText(
            f"The engine runs on <b>{name}</b>, so a model is installed on that machine: one installed on this "
            f"computer would not reach it. On {name}, download it with<br><code>istar models download {model_id}"
            f"</code><br>or install it from a folder there that holds the release files with<br>"
            f"<code>istar models install {model_id} --from FOLDER</code><br>then press <i>Check again</i>: the "
            f"list shows what the engine holds.")

    def install(self) -> None:
        model_id = self.model.currentData()
        folder = Path(self.folder.text()).expanduser() if self.from_folder.isChecked() else None
        if model_id is None or self.on_server:
            return
        if folder is not None and not folder.is_dir():
            self.status.setText(f"{folder} is not a folder: choose the folder that holds the release files.")
            return
        self.progress.setRange(0, 0)  # busy until the first step says how many there are
        self.progress.setValue(0)
        self.status.setText(f"Installing {model_id}...")
        self.install_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.process.start(model_id, folder)
        self.completeChanged.emit()

    def _step(self, step: InstallStep) -> None:
        self.progress.setRange(0, step.total)
        self.progress.setValue(step.index)

    def _ended(self, ok: bool, message: str) -> None:
        if self.progress.maximum() == 0:  # no step arrived: the bar stops being busy
            self.progress.setRange(0, 1)
            self.progress.setValue(1 if ok else 0)
        self.status.setText(("Done: " if ok else "Stopped: ") + message)
        self.install_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.completeChanged.emit()
        if ok:
            self.installed.emit()

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder with the release files", self.folder.text())
        if folder:
            self.folder.setText(folder)

    def isComplete(self) -> bool:  # noqa: N802 (Qt's name)
        return not self.process.running


class FirstRunWizard(QWizard):
    """`bridge`: the app's EngineBridge (its `event` signal and `list_models()`); `settings`: where the
    shown-once flag is kept; `engine_name`: where the engine runs (this computer, or a server's HOST:PORT). Make one
    each time it is shown: closing it lets go of the bridge."""

    def __init__(self, bridge: Any, settings: QSettings, parent: QWidget | None = None,
                 engine_name: str = LOCAL_NAME) -> None:
        super().__init__(parent)
        self.setWindowTitle("Set up InfinityStar Studio")
        self.bridge = bridge
        self.settings = settings
        self.device_page = DevicePage(engine_name)
        self.install_page = InstallPage(engine_name)
        self.addPage(self.device_page)
        self.addPage(self.install_page)
        self.resize(760, 560)
        bridge.event.connect(self._on_event)
        self.install_page.installed.connect(bridge.list_models)  # the new model's state and plan
        self.install_page.check_asked.connect(bridge.list_models)
        bridge.list_models()

    def _on_event(self, message: p.Message) -> None:
        if isinstance(message, p.Models):
            self.device_page.show_models(message.device, message.models)
            self.install_page.show_models(message.models)
        elif isinstance(message, p.Failed) and message.job_id is None and not self.device_page.isComplete():
            self.device_page.show_failure(message.message)

    def done(self, result: int) -> None:
        """Closing stops an install in progress (running it again resumes) and keeps the wizard from coming back
        on its own."""
        self.install_page.process.cancel()
        self.bridge.event.disconnect(self._on_event)
        self.settings.setValue(SHOWN_KEY, True)
        super().done(result)
