"""Which engine the studio uses: its own engine process on this computer, or one served by `istar serve` elsewhere.

The setting is two QSettings keys, `engine/address` (HOST:PORT; empty: this computer) and `engine/token_file` (the
file holding the server's token, readable by its owner only). `engine_connector(settings)` turns them into the
transport factory the engine bridge uses and a short name for the status bar; a saved setting that cannot be used
(a token file gone or made readable by others) falls back to this computer and says why, so the studio always
starts. `EngineSettingsDialog` edits the setting and tests a server in the background (desktop.workers): the
engine's `ready`, then its `models` (the device and installed models) or the reason it could not be used.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from desktop.fields import field_row
from desktop.workers import run_in_background
from engine.api import protocol as p
from engine.api.records import DeviceSummary
from engine.api.server_address import DEFAULT_PORT, parse_address, read_token
from engine.api.transport import LocalEngine, RemoteEngine, Transport
from engine.home import engine_log

ADDRESS_KEY = "engine/address"
TOKEN_FILE_KEY = "engine/token_file"
LOCAL_NAME = "this computer"
TEST_TIMEOUT = 15.0  # seconds to connect, and then for each answer the test waits for
GB = 1e9
WIDTH = 580
ERROR_COLOR = "#ff7b72"
OK_COLOR = "#7ee787"


class SettingError(ValueError):
    """A field of the engine setting that cannot be used; `field` is "address" or "token_file", and the message
    starts with the field's label."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class ConnectionTestError(Exception):
    """Why a served engine could not be used, in words for the person who set it up."""


@dataclass(frozen=True)
class EngineSetting:
    """`address` empty: an engine process on this computer. Otherwise HOST:PORT of `istar serve`, and the file
    holding its token."""

    address: str = ""
    token_file: str = ""

    @property
    def is_local(self) -> bool:
        return not self.address

    @property
    def name(self) -> str:
        """For the status bar: "this computer" or the server's HOST:PORT."""
        return LOCAL_NAME if self.is_local else self.address


@dataclass(frozen=True)
class Server:
    """A checked server setting: where it is and the token read from its token file. With `token_file`, each new
    connection reads the token again: a server started again may have written a new one there."""

    host: str
    port: int
    token: str
    token_file: Path | None = None

    def current_token(self) -> str:
        if self.token_file is None:
            return self.token
        try:
            return read_token(self.token_file)
        except ValueError as err:
            raise p.ConnectionLost(f"cannot use the token file {self.token_file}: {err}") from None

    @property
    def address(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def load_setting(settings: QSettings) -> EngineSetting:
    return EngineSetting(str(settings.value(ADDRESS_KEY, "") or "").strip(),
                         str(settings.value(TOKEN_FILE_KEY, "") or "").strip())


def save_setting(settings: QSettings, setting: EngineSetting) -> None:
    settings.setValue(ADDRESS_KEY, setting.address)
    settings.setValue(TOKEN_FILE_KEY, setting.token_file)
    settings.sync()


def normal_address(text: str) -> str:
    """`text` as HOST:PORT, the default port added to a bare host name; SettingError (field "address") if it is
    not an address."""
    text = text.strip()
    if not text:
        raise SettingError("address", f"Address: type the server's address as HOST:PORT, such as "
                                      f"gpu-box:{DEFAULT_PORT}")
    if any(c.isspace() for c in text):
        raise SettingError("address", f"Address: {text!r} has a space in it; an address is HOST:PORT, such as "
                                      f"gpu-box:{DEFAULT_PORT}")
    if ":" not in text:
        text = f"{text}:{DEFAULT_PORT}"
    try:
        host, port = parse_address(text)
    except ValueError as err:
        raise SettingError("address", f"Address: {err}") from None
    if port == 0:
        raise SettingError("address", f"Address: port 0 is not a port a server listens on (the default is "
                                      f"{DEFAULT_PORT})")
    return Server(host, port, "").address


def check_server(address: str, token_file: str) -> Server:
    """The server an address and a token file name, its token read (a small local file); SettingError naming the
    field that cannot be used."""
    host, port = parse_address(normal_address(address))
    path = token_file.strip()
    if not path:
        raise SettingError("token_file", "Token file: choose the file holding the server's token (the one "
                                         "`istar serve --token-file` wrote there, copied to this computer)")
    token_path = Path(path).expanduser()
    try:
        token = read_token(token_path)
    except ValueError as err:
        raise SettingError("token_file", f"Token file: {err}") from None
    return Server(host, port, token, token_path)


def connector(server: Server) -> Callable[[], Transport]:
    return lambda: RemoteEngine(server.host, server.port, server.current_token())


def local_connector() -> Callable[[], Transport]:
    return lambda: LocalEngine(engine_log())


def engine_connector(settings: QSettings) -> tuple[Callable[[], Transport], str, str]:
    """The saved engine setting as (transport factory, name for the status bar, problem). A server setting that
    cannot be used gives this computer's engine, and the problem says why; otherwise the problem is ""."""
    setting = load_setting(settings)
    if setting.is_local:
        return local_connector(), LOCAL_NAME, ""
    try:
        server = check_server(setting.address, setting.token_file)
    except SettingError as err:
        return local_connector(), LOCAL_NAME, (f"Using the engine on this computer: the server {setting.address} "
                                               f"cannot be used (Edit > Engine...). {err}")
    return connector(server), server.address, ""


# -- testing a server ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConnectionReport:
    """What a served engine said about itself."""

    address: str
    engine_version: str
    device: DeviceSummary
    installed: tuple[str, ...]
    not_installed: tuple[str, ...]


def _next_message(lines: Iterator[bytes], address: str, seconds: float, waiting_for: str) -> p.Message:
    line = next(lines, None)
    if line is None:
        raise ConnectionTestError(f"the engine at {address} closed the connection, or sent nothing for {seconds:g} s, "
                                  f"while the test waited for {waiting_for}")
    try:
        return p.decode(line)
    except p.ProtocolError as err:
        version = p.version_of(line)
        if version is not None and version != p.PROTOCOL_VERSION:
            raise ConnectionTestError(f"the engine at {address} speaks protocol {version}; this studio speaks "
                                      f"{p.PROTOCOL_VERSION}: update one of them") from None
        if version is None:
            shown = line[:80].decode(errors="replace").strip()
            raise ConnectionTestError(f"{address} does not answer as an InfinityStar engine does (it sent "
                                      f"{shown!r}): is `istar serve` listening on that port?") from None
        raise ConnectionTestError(f"the engine at {address} sent a message this studio cannot read: {err}") from None


def _refusal(message: p.Failed, address: str) -> ConnectionTestError:
    text = f"the engine at {address} said: {message.message}"
    if "wrong token" in message.message:
        text += ("; the token file here does not hold the server's token: copy the server's token file again "
                 "(`istar serve` writes a new one only when its file is missing)")
    return ConnectionTestError(text + (f" ({message.hint})" if message.hint else ""))


def check_connection(server: Server, timeout: float = TEST_TIMEOUT) -> ConnectionReport:
    """Connect to the served engine, read its `ready`, ask for its models and read its `models`; every wait is
    bounded by `timeout` seconds. ConnectionTestError says why the engine cannot be used."""
    address = server.address
    try:
        transport = RemoteEngine(server.host, server.port, server.token, timeout=timeout, read_timeout=timeout)
    except p.ConnectionLost as err:
        raise ConnectionTestError(f"{err}. Is `istar serve` running there, listening on an address this computer "
                                  "can reach? It listens on loopback only unless `--listen` names another.") from None
    try:
        lines = iter(transport.lines())
        first = _next_message(lines, address, timeout, "its first message")
        if isinstance(first, p.Failed):
            raise _refusal(first, address)
        if not isinstance(first, p.Ready):
            raise ConnectionTestError(f"the engine at {address} began with a {first.type!r} message, not 'ready'")
        try:
            transport.send(p.encode(p.ListModels()))
        except p.ConnectionLost as err:
            raise ConnectionTestError(str(err)) from None
        while True:
            message = _next_message(lines, address, timeout, "its list of models")
            if isinstance(message, p.Models):
                return ConnectionReport(
                    address, first.engine_version, message.device,
                    tuple(m.id for m in message.models if m.installed),
                    tuple(m.id for m in message.models if not m.installed))
            if isinstance(message, p.Failed) and message.job_id is None:
                raise _refusal(message, address)
    finally:
        transport.close(0)


def report_html(report: ConnectionReport) -> str:
    device = report.device
    where = (f"{html.escape(device.name)} ({html.escape(device.device)}, {device.total_bytes / GB:.0f} GB)"
             if device.is_cuda else f"CPU, {html.escape(device.name)}; no GPU")
    installed = ", ".join(f"<b>{html.escape(m)}</b>" for m in report.installed) or "none yet"
    text = (f"<span style='color:{OK_COLOR}'>Connected</span> to the engine at {html.escape(report.address)} "
            f"(version {html.escape(report.engine_version)}).<br>Device: {where}.<br>Installed models: {installed}.")
    if report.not_installed:
        text += (f"<br>Not installed there: {html.escape(', '.join(report.not_installed))} "
                 "(<code>istar models install</code> on the server).")
    return text


def error_html(text: str) -> str:
    return f"<span style='color:{ERROR_COLOR}'>{html.escape(text)}</span>"


# -- the dialog ---------------------------------------------------------------------------------------------------

SERVER_NOTE = (
    "With a server, the models are the server's: install them there (<code>istar models install</code> on the "
    "server). The files a job reads (a first frame, a video to continue) are sent to the server, and the videos it "
    "makes come back over the connection. Start the server with <code>istar serve --listen HOST:PORT "
    "--token-file FILE</code> and copy its token file to this computer, readable by you only "
    "(<code>chmod 600</code>). A render farm of several GPUs (<code>istar farm start</code>) is such a server too: "
    "its address (port 7870 unless chosen) and its token file (<code>farm/token</code> in the studio folder of "
    "the farm's first machine); it runs independent jobs, variants and shots side by side, one per GPU."
)
LOCAL_NOTE = "The studio starts its own engine process and uses the models installed on this computer."
SWITCH_NOTE = ("On OK, waiting jobs move to the chosen engine; a job running now starts again there.")


class EngineSettingsDialog(QDialog):
    """Edit > Engine...: this computer or a server. OK saves the setting (a server only once its fields can be
    used; otherwise the dialog stays open naming the field) and emits `chosen(connect, name)` when it changed."""

    chosen = Signal(object, str)  # the transport factory, the engine's name for the status bar
    tested = Signal(bool, str)  # a connection test ended: whether it worked, and what the dialog shows (HTML)

    def __init__(self, settings: QSettings, parent: QWidget | None = None, timeout: float = TEST_TIMEOUT) -> None:
        super().__init__(parent)
        self.setWindowTitle("Engine")
        self.settings = settings
        self.timeout = timeout
        self.saved = load_setting(settings)
        self._testing = False

        self.local = QRadioButton("On this computer")
        self.remote = QRadioButton("On a server (istar serve, or a farm: istar farm start)")
        group = QButtonGroup(self)
        group.addButton(self.local)
        group.addButton(self.remote)
        local_note = self._note(LOCAL_NOTE)

        self.address = QLineEdit(self.saved.address)
        self.address.setPlaceholderText(f"HOST:PORT, such as gpu-box:{DEFAULT_PORT}")
        self.address.setToolTip(f"HOST:PORT of `istar serve` or of a farm's head; without a port, {DEFAULT_PORT}")
        self.token_file = QLineEdit(self.saved.token_file)
        self.token_file.setPlaceholderText("the server's token file, copied to this computer")
        self.browse = QPushButton("Browse…")
        self.browse.clicked.connect(self._browse)
        token_row = field_row(self.token_file, self.browse)
        address_label, token_label = QLabel("&Address:"), QLabel("&Token file:")
        address_label.setBuddy(self.address)
        token_label.setBuddy(self.token_file)
        form = QFormLayout()
        form.addRow(address_label, self.address)
        form.addRow(token_label, token_row)
        server_note = self._note(SERVER_NOTE)

        self.test_button = QPushButton("Test connection")
        self.test_button.clicked.connect(self.test)
        test_row = QHBoxLayout()
        test_row.addWidget(self.test_button)
        test_row.addStretch(1)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        # Layouts, not a widget holding them: a label's new text then reaches the dialog's height at once.
        server_layout = QVBoxLayout()
        server_layout.setContentsMargins(24, 0, 0, 0)
        server_layout.addLayout(form)
        server_layout.addWidget(server_note)
        server_layout.addLayout(test_row)
        server_layout.addWidget(self.message)
        self.server_fields = [address_label, self.address, token_label, self.token_file, self.browse, server_note,
                              self.message]

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("<b>Where the engine runs</b>"))
        layout.addWidget(self.local)
        local_note.setContentsMargins(24, 0, 0, 0)
        layout.addWidget(local_note)
        layout.addWidget(self.remote)
        layout.addLayout(server_layout)
        layout.addSpacing(6)
        layout.addWidget(self._note(SWITCH_NOTE))
        layout.addStretch(1)
        layout.addWidget(buttons)

        (self.local if self.saved.is_local else self.remote).setChecked(True)
        self.remote.toggled.connect(self._mode_changed)
        self._mode_changed()
        self.setMinimumWidth(WIDTH)
        self._fit_height()

    @staticmethod
    def _note(text: str) -> QLabel:
        label = QLabel(text)
        label.setWordWrap(True)
        font = label.font()
        font.setPointSizeF(font.pointSizeF() * 0.92)
        label.setFont(font)
        return label

    def _fit_height(self) -> None:
        """Tall enough for the wrapped text at the dialog's width: a top-level window does not grow for its
        labels' height-for-width by itself, and would squeeze the notes instead."""
        layout = self.layout()
        layout.invalidate()  # a label's new text reaches the layouts' cached heights only on the next event loop,
        layout.activate()  # unless they are invalidated now, the nested ones too (activate does that)
        width = max(self.width(), WIDTH) if self.isVisible() else WIDTH
        needed = layout.totalHeightForWidth(width)
        if needed > 0:
            self.setMinimumHeight(needed)
            self.resize(width, max(self.height(), needed) if self.isVisible() else needed)

    def _show_message(self, text: str) -> None:
        self.message.setText(text)
        self._fit_height()

    def _mode_changed(self) -> None:
        for widget in self.server_fields:
            widget.setEnabled(self.remote.isChecked())
        self._update_test_button()

    def _update_test_button(self) -> None:
        self.test_button.setEnabled(self.remote.isChecked() and not self._testing)
        self.test_button.setText("Testing…" if self._testing else "Test connection")

    def _browse(self) -> None:
        start = str(Path(self.token_file.text().strip() or "~").expanduser())
        path, _ = QFileDialog.getOpenFileName(self, "The server's token file", start, "All files (*)")
        if path:
            self.token_file.setText(path)

    def setting(self) -> EngineSetting:
        """What the fields say (unchecked)."""
        if self.local.isChecked():
            return EngineSetting("", self.token_file.text().strip())
        return EngineSetting(self.address.text().strip(), self.token_file.text().strip())

    def _checked_server(self) -> Server | None:
        """The fields' server, or None after showing what is wrong and putting the cursor in that field."""
        try:
            return check_server(self.address.text(), self.token_file.text())
        except SettingError as err:
            self._show_message(error_html(str(err)))
            field = self.address if err.field == "address" else self.token_file
            field.setFocus()
            field.selectAll()
            return None

    def test(self) -> None:
        """Test the server the fields name, in the background; `tested` says how it went."""
        if self._testing or not self.remote.isChecked():
            return
        server = self._checked_server()
        if server is None:
            self.tested.emit(False, self.message.text())
            return
        self._testing = True
        self._update_test_button()
        self._show_message(f"Connecting to {html.escape(server.address)}…")
        run_in_background(check_connection, server, self.timeout, on_done=self._test_done,
                          on_error=self._test_failed, context=self)

    def _test_done(self, report: ConnectionReport) -> None:
        self._test_ended(True, report_html(report))

    def _test_failed(self, error: Exception) -> None:
        text = str(error) if isinstance(error, ConnectionTestError) else f"the test failed: {error}"
        self._test_ended(False, error_html(text[:1].upper() + text[1:]))

    def _test_ended(self, ok: bool, text: str) -> None:
        self._testing = False
        self._update_test_button()
        self._show_message(text)
        self.tested.emit(ok, text)

    def accept(self) -> None:
        if self.local.isChecked():
            setting = self.setting()
            connect, name = local_connector(), LOCAL_NAME
        else:
            server = self._checked_server()
            if server is None:
                return  # stays open, the field named
            setting = EngineSetting(server.address, self.token_file.text().strip())
            connect, name = connector(server), server.address
        save_setting(self.settings, setting)
        super().accept()
        if setting != self.saved and not (setting.is_local and self.saved.is_local):
            self.chosen.emit(connect, name)
