"""The first-run wizard: what fits this device from a models event, and a model installed from a folder by a real
`istar models install` child process, with progress, cancel and the shown-once flag."""

from __future__ import annotations

import sys
from dataclasses import replace

import pytest
from engine_records import CPU, GB, model_info
from model_release import write_release
from PySide6.QtCore import QObject, QSettings, Signal

from desktop import first_run
from desktop.first_run import FirstRunWizard, device_summary, first_run_due
from engine.api import protocol as p
from engine.api.install_events import InstallStep, encode_event
from engine.api.records import ModelInfo, PlanSummary
from engine.weights.catalogue import CATALOGUE
from engine.weights.store import ModelStore


def model(model_id: str, installed: bool, fits: bool, precision: str, peak_gb: float, builtin: bool = False
          ) -> ModelInfo:
    return model_info(model_id, description=f"the {model_id} model", builtin=builtin, installed=installed,
                      verified=installed, variants=(precision,) if installed else (),
                      plan=PlanSummary(fits, precision, peak_gb, (f"peak {peak_gb} GB",)))


MODELS = p.Models(device=CPU, models=[
    model("toyworld", installed=True, fits=True, precision="fp32", peak_gb=0.2, builtin=True),
    model("infinitystar-8b-720p", installed=False, fits=False, precision="nf4", peak_gb=31.5),
    model("infinitystar-8b-480p", installed=False, fits=True, precision="int8", peak_gb=20.3),
    model("test-micro", installed=False, fits=True, precision="fp32", peak_gb=0.01),
])


class FakeBridge(QObject):
    """The two things the wizard uses of an EngineBridge; its `event` carries real protocol messages."""

    event = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.asked = 0

    def list_models(self, device: str = "auto", seconds: int = 5) -> None:
        self.asked += 1


@pytest.fixture
def wizard(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("ISTAR_HOME", str(tmp_path / "home"))
    bridge = FakeBridge()
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    w = FirstRunWizard(bridge, settings)
    qtbot.addWidget(w)
    w.show()
    return w


def test_it_shows_what_fits_this_device_from_the_models_event(wizard):
    assert wizard.bridge.asked == 1, "the wizard asks the engine as it opens"
    assert not wizard.device_page.isComplete()
    wizard.bridge.event.emit(MODELS)

    assert wizard.device_page.isComplete()
    assert "No NVIDIA GPU" in wizard.device_page.device.text() and "24.0 GB of RAM" in wizard.device_page.device.text()
    table = wizard.device_page.table
    rows = [[table.topLevelItem(i).text(c) for c in range(5)] for i in range(table.topLevelItemCount())]
    assert rows[0] == ["toyworld", "built in", "fp32", "0.2 GB", "yes"]
    assert rows[1] == ["infinitystar-8b-720p", "not installed", "nf4", "31.5 GB", "no"]
    fits = wizard.device_page.fits.text()
    assert "<b>toyworld</b>, the built-in demo model, always runs here" in fits
    assert "<b>infinitystar-8b-480p</b> fits at <b>int8</b>" in fits and "On the CPU" in fits
    assert "<b>infinitystar-8b-720p</b> does not fit: even at nf4 it needs 31.5 GB" in fits
    assert "Next: install <b>infinitystar-8b-480p</b>" in fits

    picker = wizard.install_page.model
    offered = [picker.itemData(i) for i in range(picker.count())]
    assert offered == ["infinitystar-8b-480p", "test-micro", "infinitystar-8b-720p"], "what fits first"


def test_a_gpu_is_named_with_its_video_memory():
    gpu = replace(CPU, device="cuda:0", name="NVIDIA RTX 4090", total_bytes=24 * GB, host_total_bytes=64 * GB)
    assert device_summary(gpu) == ("GPU: <b>NVIDIA RTX 4090</b> with 24.0 GB of video memory; 64.0 GB of RAM.")


def _choose(wizard, model_id: str, folder) -> None:
    wizard.bridge.event.emit(MODELS)
    wizard.next()
    assert wizard.currentPage() is wizard.install_page
    page = wizard.install_page
    page.model.setCurrentIndex(page.model.findData(model_id))
    page.from_folder.setChecked(True)
    page.folder.setText(str(folder))


def test_installing_from_a_folder_shows_each_step_and_ends_with_the_model_in_the_store(qtbot, wizard, tmp_path):
    release = write_release(tmp_path / "release", CATALOGUE["test-micro"])
    _choose(wizard, "test-micro", release)
    page = wizard.install_page
    events: list[InstallStep] = []
    bar: list[tuple[int, int]] = []
    page.process.step.connect(events.append)
    page.process.step.connect(lambda _: bar.append((page.progress.value(), page.progress.maximum())))

    page.install_button.click()
    assert not page.isComplete() and page.cancel_button.isEnabled(), "no leaving the page mid-install"
    assert (page.progress.minimum(), page.progress.maximum()) == (0, 0), "busy until the first step"
    qtbot.waitUntil(lambda: page.isComplete(), timeout=120_000)

    assert page.status.text().startswith("Done: installed test-micro"), page.log.toPlainText()
    assert [(s.action, s.index, s.total) for s in events] == [
        ("copying", 1, 4), ("copying", 2, 4), ("copying", 3, 4), ("converting", 4, 4)
    ], "index, two shards, the VAE conversion"
    assert bar == [(1, 4), (2, 4), (3, 4), (4, 4)], "the bar follows the steps and reaches their total exactly"
    assert (page.progress.value(), page.progress.maximum()) == (4, 4)
    log = page.log.toPlainText()
    assert "[3/4] copying transformer/model-00002-of-00002.safetensors" in log
    assert "[4/4] converting infinitystar_videovae.pth to safetensors" in log
    assert '"event"' not in log, "events are shown as their lines, not as JSON"
    assert [m.model_id for m in ModelStore().installed() if m.model_id == "test-micro"] == ["test-micro"]
    assert wizard.bridge.asked == 2, "after an install the wizard asks the engine for the models again"


def test_cancel_stops_the_install_and_installing_again_completes(qtbot, wizard, tmp_path):
    release = write_release(tmp_path / "release", CATALOGUE["test-micro"])
    _choose(wizard, "test-micro", release)
    page = wizard.install_page

    page.install_button.click()
    page.cancel_button.click()
    qtbot.waitUntil(lambda: page.isComplete(), timeout=30_000)
    assert page.status.text().startswith("Stopped: cancelled"), page.log.toPlainText()
    assert not ModelStore().installed() or "test-micro" not in {m.model_id for m in ModelStore().installed()}

    page.install_button.click()
    qtbot.waitUntil(lambda: page.isComplete(), timeout=120_000)
    assert page.status.text().startswith("Done: installed test-micro"), page.log.toPlainText()


def test_a_failed_install_ends_with_the_reason_its_event_gives(qtbot, wizard, tmp_path):
    (tmp_path / "empty").mkdir()
    _choose(wizard, "test-micro", tmp_path / "empty")
    page = wizard.install_page
    page.install_button.click()
    qtbot.waitUntil(lambda: page.isComplete(), timeout=60_000)
    status = page.status.text()
    assert status.startswith("Stopped: failed: ") and "lacks test_micro_weights/" in status, page.log.toPlainText()
    assert "exit code" not in status, "the end comes from the InstallFailed event"


def _fake_child(monkeypatch, tmp_path, lines: list[str], code: int) -> None:
    """Run a script that prints `lines` and exits with `code` in place of `istar`."""
    script = tmp_path / "child.py"
    script.write_text(f"import sys\nfor line in {lines!r}:\n    print(line, flush=True)\nsys.exit({code})\n")
    monkeypatch.setattr(first_run, "istar_command", lambda args: (sys.executable, [str(script), *args]))


def test_a_download_shows_its_steps_and_other_lines_and_a_crash_ends_by_its_exit_code(qtbot, wizard, tmp_path,
                                                                                      monkeypatch):
    step = encode_event(InstallStep("downloading", "weights/model.safetensors.index.json", 1, 5))
    _fake_child(monkeypatch, tmp_path, ["UserWarning: something a library says", step, '{"event": "step"}',
                                        "Traceback (most recent call last):", "RuntimeError: boom"], code=1)
    _choose(wizard, "test-micro", tmp_path)
    page = wizard.install_page
    page.from_hub.setChecked(True)
    page.install_button.click()
    qtbot.waitUntil(lambda: page.isComplete(), timeout=30_000)

    assert (page.progress.value(), page.progress.maximum()) == (1, 5), "a download's bar has a total, too"
    log = page.log.toPlainText().splitlines()
    assert log[0] == "$ istar models download test-micro --events"
    assert log[1:3] == ["UserWarning: something a library says",
                        "[1/5] downloading weights/model.safetensors.index.json"]
    assert log[3].startswith('{"event": "step"} (not a readable event: an install step needs the field \'action\'')
    assert page.status.text() == "Stopped: failed (exit code 1): RuntimeError: boom"


def test_a_missing_folder_is_named_and_nothing_runs(wizard, tmp_path):
    _choose(wizard, "test-micro", tmp_path / "nowhere")
    wizard.install_page.install_button.click()
    assert "nowhere is not a folder" in wizard.install_page.status.text()
    assert not wizard.install_page.process.running


def test_with_the_engine_on_a_server_it_says_how_to_install_there_and_installs_nothing_here(qtbot, tmp_path,
                                                                                          monkeypatch):
    monkeypatch.setenv("ISTAR_HOME", str(tmp_path / "home"))
    bridge = FakeBridge()
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    wizard = FirstRunWizard(bridge, settings, engine_name="render-box:8731")
    qtbot.addWidget(wizard)
    wizard.show()
    bridge.event.emit(MODELS)

    assert wizard.device_page.title() == "What the engine on render-box:8731 can run"
    assert wizard.device_page.device.text().startswith("The engine's server, render-box:8731. No NVIDIA GPU")
    wizard.next()
    page = wizard.install_page
    assert wizard.currentPage() is page
    for local_only in (page.install_button, page.from_folder, page.from_hub, page.folder, page.progress, page.log):
        assert not local_only.isVisible(), "nothing on this page installs on this computer"
    page.model.setCurrentIndex(page.model.findData("test-micro"))
    steps = page.server_steps.text()
    assert "The engine runs on <b>render-box:8731</b>" in steps
    assert "<code>istar models download test-micro</code>" in steps
    assert "<code>istar models install test-micro --from FOLDER</code>" in steps
    page.install()
    assert not page.process.running and "test-micro" not in {m.model_id for m in ModelStore().installed()}

    page.check_button.click()
    assert bridge.asked == 2, "Check again asks the engine for its models"
    everything = p.Models(device=CPU, models=[replace(m, installed=True) for m in MODELS.models])
    bridge.event.emit(everything)
    assert page.status.text() == "Every model of the catalogue is installed on render-box:8731."


def test_it_is_due_until_it_has_been_closed_once(wizard):
    assert first_run_due(wizard.settings)
    wizard.reject()
    assert not first_run_due(wizard.settings)
