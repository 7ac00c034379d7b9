"""The engine setting (Edit > Engine...): this computer or a server. The setting round-trips through QSettings; a bad
address or token file is refused naming the field; "Test connection" against a real `istar serve` on 127.0.0.1
reports its device and models, or why it cannot be used; switching the bridge or the window to the served engine
moves the queued jobs there and lists its models. Waits are on signals; they run out only on a hang."""

from __future__ import annotations

import queue
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QDialog

from desktop.engine_settings import (
    ADDRESS_KEY,
    LOCAL_NAME,
    TOKEN_FILE_KEY,
    ConnectionTestError,
    EngineSetting,
    EngineSettingsDialog,
    Server,
    _next_message,
    check_server,
    connector,
    engine_connector,
    load_setting,
    save_setting,
)
from desktop.generate.bridge import EngineBridge
from desktop.main_window import MainWindow
from engine.api import protocol as p
from engine.api.job_book import JobBook
from engine.api.jobs import JobSpec
from engine.api.server_address import read_token
from engine.service.tcp import serve_tcp
from engine.weights.store import ModelStore

PROMPT = "a red circle moves to the right on a blue background"
WAIT_MS = 120_000  # only a hang runs this out


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> tuple[str, Path]:
    """One `istar serve` for the module, in process on 127.0.0.1 (port 0: any free one): its address and token file.
    Its thread serves until the test process ends, as serve_tcp does until interrupted."""
    folder = tmp_path_factory.mktemp("served")
    with pytest.MonkeyPatch.context() as environment:  # set for the module, as it was after
        environment.setenv("ISTAR_HOME", str(folder / "home"))
        environment.setenv("OMP_NUM_THREADS", "1")
        token = read_token(folder / "token", create=True)
        ports: queue.Queue[int] = queue.Queue()
        threading.Thread(target=serve_tcp, args=("127.0.0.1", 0, token, ModelStore(), ports.put), daemon=True,
                         name="test-istar-serve").start()
        yield f"127.0.0.1:{ports.get(timeout=60)}", folder / "token"


@pytest.fixture
def settings(tmp_path) -> QSettings:
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def token_file(tmp_path) -> Path:
    read_token(tmp_path / "token", create=True)
    return tmp_path / "token"


def _shared_token_file(tmp_path: Path) -> Path:
    path = tmp_path / "shared-token"
    path.write_text("x" * 40 + "\n")
    path.chmod(0o644)
    return path


def _free_port() -> int:
    """A port nothing listens on (bound, then let go)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- the setting --------------------------------------------------------------------------------------------------


def test_the_setting_round_trips_through_qsettings(tmp_path, settings, token_file):
    assert load_setting(settings) == EngineSetting()  # nothing saved: this computer
    save_setting(settings, EngineSetting("gpu-box:7860", str(token_file)))
    again = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    assert again.value(ADDRESS_KEY) == "gpu-box:7860" and again.value(TOKEN_FILE_KEY) == str(token_file)
    assert load_setting(again) == EngineSetting("gpu-box:7860", str(token_file))

    connect, name, problem = engine_connector(again)
    assert (name, problem) == ("gpu-box:7860", "")  # nothing connects until the bridge's first call
    save_setting(again, EngineSetting("", str(token_file)))
    assert engine_connector(again)[1:] == (LOCAL_NAME, "")


@pytest.mark.parametrize("kind", ["missing", "shared"])
def test_a_saved_token_file_that_cannot_be_read_starts_the_engine_on_this_computer_and_says_why(tmp_path, settings,
                                                                                              kind):
    path = tmp_path / "gone" if kind == "missing" else _shared_token_file(tmp_path)
    save_setting(settings, EngineSetting("gpu-box:7860", str(path)))
    connect, name, problem = engine_connector(settings)
    assert name == LOCAL_NAME
    assert "gpu-box:7860" in problem and "Token file" in problem and "this computer" in problem
    assert ("chmod 600" in problem) == (kind == "shared")


def test_a_bare_host_gets_the_default_port(token_file):
    assert check_server("gpu-box", str(token_file)).address == "gpu-box:7860"
    assert check_server(" [::1]:9000 ", str(token_file)).address == "[::1]:9000"


@pytest.mark.parametrize(("address", "token", "field", "words"), [
    ("gpu-box:port", "good", "address", "HOST:PORT"),
    ("", "good", "address", "HOST:PORT"),
    ("gpu box:7860", "good", "address", "space"),
    ("gpu-box:0", "good", "address", "port 0"),
    ("gpu-box:7860", "", "token_file", "choose the file"),
    ("gpu-box:7860", "missing", "token_file", "cannot read the token file"),
    ("gpu-box:7860", "shared", "token_file", "chmod 600"),
])
def test_the_dialog_refuses_a_bad_field_naming_it_and_stays_open(qtbot, tmp_path, settings, token_file, address,
                                                                  token, field, words):
    paths = {"good": str(token_file), "": "", "missing": str(tmp_path / "no-such-token"),
             "shared": str(_shared_token_file(tmp_path))}
    dialog = EngineSettingsDialog(settings)
    qtbot.addWidget(dialog)
    dialog.open()
    dialog.remote.setChecked(True)
    dialog.address.setText(address)
    dialog.token_file.setText(paths[token])
    chosen = []
    dialog.chosen.connect(lambda *args: chosen.append(args))
    dialog.accept()
    assert dialog.isVisible() and dialog.result() != QDialog.DialogCode.Accepted
    label = "Address:" if field == "address" else "Token file:"
    assert label in dialog.message.text() and words in dialog.message.text()
    assert chosen == [] and load_setting(settings) == EngineSetting()  # nothing saved

    with qtbot.waitSignal(dialog.tested, timeout=WAIT_MS) as tested:  # the test refuses it the same way
        dialog.test_button.click()
    assert tested.args[0] is False and label in tested.args[1]


def test_ok_saves_a_server_and_says_which_was_chosen(qtbot, settings, token_file):
    dialog = EngineSettingsDialog(settings)
    qtbot.addWidget(dialog)
    dialog.open()
    assert dialog.local.isChecked() and not dialog.address.isEnabled()  # this computer by default
    dialog.remote.setChecked(True)
    dialog.address.setText("gpu-box")
    dialog.token_file.setText(str(token_file))
    with qtbot.waitSignal(dialog.chosen, timeout=WAIT_MS) as chosen:
        dialog.accept()
    assert chosen.args[1] == "gpu-box:7860" and callable(chosen.args[0])
    assert load_setting(settings) == EngineSetting("gpu-box:7860", str(token_file))
    assert dialog.result() == QDialog.DialogCode.Accepted

    back = EngineSettingsDialog(settings)  # opens on the saved choice; going back to this computer is a change
    qtbot.addWidget(back)
    assert back.remote.isChecked() and back.address.text() == "gpu-box:7860"
    back.local.setChecked(True)
    with qtbot.waitSignal(back.chosen, timeout=WAIT_MS) as chosen:
        back.accept()
    assert chosen.args[1] == LOCAL_NAME and load_setting(settings).is_local


# -- testing a connection -----------------------------------------------------------------------------------------


def _test_in_dialog(qtbot, settings, address: str, token: Path, timeout: float = 15.0) -> tuple[bool, str]:
    dialog = EngineSettingsDialog(settings, timeout=timeout)
    qtbot.addWidget(dialog)
    dialog.open()
    dialog.remote.setChecked(True)
    dialog.address.setText(address)
    dialog.token_file.setText(str(token))
    with qtbot.waitSignal(dialog.tested, timeout=WAIT_MS) as tested:
        dialog.test_button.click()
        assert not dialog.test_button.isEnabled()  # one test at a time
    assert dialog.test_button.isEnabled() and dialog.message.text() == tested.args[1]
    return tested.args[0], tested.args[1]


def test_test_connection_reports_the_served_engines_device_and_models(qtbot, settings, served):
    address, token = served
    ok, text = _test_in_dialog(qtbot, settings, address, token)
    assert ok, text
    assert "Connected" in text and address in text
    assert "CPU" in text and "<b>toyworld</b>" in text  # the device, and the installed model
    assert load_setting(settings) == EngineSetting()  # a test saves nothing


def test_test_connection_with_a_wrong_token_reports_the_refusal(qtbot, settings, served, token_file):
    address, _ = served
    ok, text = _test_in_dialog(qtbot, settings, address, token_file)
    assert not ok and "connection refused: wrong token" in text and "copy the server" in text


def test_test_connection_to_nothing_says_it_cannot_reach_it(qtbot, settings, token_file):
    address = f"127.0.0.1:{_free_port()}"
    ok, text = _test_in_dialog(qtbot, settings, address, token_file)
    assert not ok and f"cannot reach the engine at {address}" in text.lower()


def test_test_connection_to_a_server_that_never_answers_gives_up_after_its_timeout(qtbot, settings, token_file):
    with socket.create_server(("127.0.0.1", 0)) as silent:  # the system accepts connections; nobody answers
        address = f"127.0.0.1:{silent.getsockname()[1]}"
        ok, text = _test_in_dialog(qtbot, settings, address, token_file, timeout=1.0)
    assert not ok and "sent nothing for 1 s" in text


def _lines(*lines: bytes) -> Iterator[bytes]:
    return iter(lines)


def test_a_first_line_of_another_protocol_version_says_which_to_update():
    line = b'{"v":2,"type":"ready","protocol":2,"engine_version":"0.0.9","pid":1}\n'
    with pytest.raises(ConnectionTestError, match=r"the engine at h:1 speaks protocol 2; this studio speaks "
                                                  rf"{p.PROTOCOL_VERSION}: update one of them"):
        _next_message(_lines(line), "h:1", 1.0, "its first message")
    with pytest.raises(ConnectionTestError, match="does not answer as an InfinityStar engine"):
        _next_message(_lines(b"HTTP/1.1 400 Bad Request\r\n"), "h:1", 1.0, "its first message")


# -- switching engines --------------------------------------------------------------------------------------------


class HeldEngine:
    """An engine that says it is ready and takes every job, and runs none: a job sent to it stays in flight."""

    def __init__(self) -> None:
        self.sent: list[p.Message] = []
        self._closed = threading.Event()

    def send(self, line: bytes) -> None:
        self.sent.append(p.decode(line))

    def lines(self) -> Iterator[bytes]:
        yield p.encode(p.Ready(p.PROTOCOL_VERSION, "held", 0))
        self._closed.wait()

    def close(self, timeout: float) -> None:
        self._closed.set()

    def gone_reason(self) -> str:
        return "the held engine closed"

    def job_message(self, spec: JobSpec) -> p.Submit:
        return p.Submit(spec.to_json())

    def arrived(self, message: p.Message) -> p.Message | None:
        return message


def _server(address: str, token: Path) -> Server:
    return check_server(address, str(token))


def test_switching_the_bridge_moves_the_jobs_in_flight_to_the_served_engine_and_lists_its_models(qtbot, tmp_path,
                                                                                                   served):
    held = HeldEngine()
    book = JobBook(tmp_path / "queue.json")
    earlier = book.add(JobSpec(kind="generate", model="toyworld", output=str(tmp_path / "earlier.mp4"),
                               prompts=(PROMPT,), seconds=1, seed=2, device="cpu")).spec  # left by a past session
    bridge = EngineBridge(lambda: held, book)
    events: list[p.Message] = []
    bridge.event.connect(events.append)
    spec = JobSpec(kind="generate", model="toyworld", output=str(tmp_path / "moved.mp4"), prompts=(PROMPT,),
                   seconds=1, seed=1, device="cpu")
    try:
        bridge.submit(spec)  # sent to the held engine, which never runs it
        qtbot.waitUntil(lambda: any(isinstance(m, p.Submit) for m in held.sent), timeout=WAIT_MS)

        bridge.switch_engine(connector(_server(*served)))
        bridge.list_models()
        qtbot.waitUntil(lambda: any(isinstance(e, p.Models) for e in events), timeout=WAIT_MS)
        models = next(e for e in events if isinstance(e, p.Models))
        assert {m.id for m in models.models if m.installed} >= {"toyworld"}
        qtbot.waitUntil(lambda: any(isinstance(e, p.TERMINAL) and e.job_id == spec.id for e in events),
                        timeout=WAIT_MS)
        ended = next(e for e in events if isinstance(e, p.TERMINAL) and e.job_id == spec.id)
        assert isinstance(ended, p.Finished), ended  # made by the served engine
        assert bridge.queue.get(spec.id).state == "done"
        assert held._closed.is_set()  # the held engine was let go
        # only the jobs in flight moved: one an earlier session left queued waits to be offered back
        assert book.get(earlier.id).state == "queued" and not any(e.job_id == earlier.id for e in events
                                                                   if isinstance(e, (p.Accepted, *p.TERMINAL)))
    finally:
        bridge.close()


def test_a_token_file_copied_again_after_the_server_restarts_is_read_at_the_next_connection(qtbot, tmp_path,
                                                                                             served):
    """A restarted server writes a new token; the person copies it over the old file. The studio reads the file at
    each connection, so it reconnects without going back to Edit > Engine...; a file that is gone by then is
    named in the failure."""
    address, token = served
    copy = tmp_path / "token"
    copy.write_text(read_token(tmp_path / "old-token", create=True) + "\n")  # the token of the server before
    copy.chmod(0o600)
    server = check_server(address, str(copy))
    copy.write_text(token.read_text())
    bridge = EngineBridge(connector(server), JobBook(tmp_path / "queue.json"))
    events: list[p.Message] = []
    bridge.event.connect(events.append)
    try:
        bridge.list_models()
        qtbot.waitUntil(lambda: any(isinstance(e, p.Models) for e in events), timeout=WAIT_MS)
    finally:
        bridge.close()
    copy.unlink()
    with pytest.raises(p.ConnectionLost, match=f"cannot use the token file {copy}"):
        connector(server)()


def test_the_window_switches_to_a_server_chosen_in_edit_engine(qtbot, tmp_path, settings, served):
    address, token = served
    unused: list[str] = []

    def local():
        unused.append("the first engine was started")
        raise p.ConnectionLost("not this one")

    window = MainWindow(settings, local, JobBook(tmp_path / "queue.json"))
    window.confirm_discard = lambda: True
    qtbot.addWidget(window)
    assert window.engine_label.text().startswith(f"Engine: {LOCAL_NAME}")
    [engine_action] = [a for a in window.menuBar().actions()[1].menu().actions() if a.text() == "&Engine..."]

    engine_action.trigger()
    dialog = window.findChild(EngineSettingsDialog)
    assert dialog is not None and dialog.isVisible()
    dialog.remote.setChecked(True)
    dialog.address.setText(address)
    dialog.token_file.setText(str(token))
    dialog.accept()
    qtbot.waitUntil(lambda: "toyworld" in window.models, timeout=WAIT_MS)
    assert window.engine_name == address and window.engine_label.text().startswith(f"Engine: {address} · ")
    assert load_setting(settings) == EngineSetting(address, str(token))
    assert unused == []
    window.close()
