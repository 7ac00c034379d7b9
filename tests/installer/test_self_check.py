"""`istar-studio --self-check`: in the main window, a toyworld generation from the generate panel onto the timeline
and an export of the timeline; exit 0 only when both worked, one line per step."""

from __future__ import annotations

import os
import subprocess
import sys

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from desktop import self_check
from desktop.main_window import MainWindow
from engine.api.job_book import JobBook
from engine.api.transport import LocalEngine
from engine.home import engine_log


def test_the_self_check_generates_onto_the_timeline_exports_and_exits_0(tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "OMP_NUM_THREADS": "1", "ISTAR_HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", "import sys; from desktop.app import main; sys.exit(main())", "--self-check"],
        env=env, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert "main window open:" in lines[0] and "InfinityStar Studio" in lines[0]
    assert any("generated 1 s of toyworld onto the timeline" in line for line in lines)
    assert any("exported the timeline to MP4 and decoded it back: 17 frames" in line for line in lines)
    assert lines[-1].endswith("passed")


def test_a_failed_generation_fails_the_check_with_the_engines_reason(qtbot, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ISTAR_HOME", str(tmp_path))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.setattr(self_check, "PROMPT", "xyzzy plugh")  # no word toyworld knows: the engine refuses it
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings, lambda: LocalEngine(engine_log()), JobBook(tmp_path / "queue.json"))
    qtbot.addWidget(window)
    window.show()
    assert self_check.run_self_check(QApplication.instance(), window) == 1
    out = capsys.readouterr().out
    assert "FAILED: SelfCheckFailed: generation failed: none of the words of 'xyzzy plugh'" in out
    assert f"{engine_log()} ends:" in out
    assert not window.isVisible()
