"""`istar-studio --self-check`: with the window open, a toyworld generation through the engine bridge and its
export; exit 0 only when both worked, one line per step."""

from __future__ import annotations

import os
import subprocess
import sys

from PySide6.QtWidgets import QApplication, QMainWindow

from desktop import self_check


def test_the_self_check_generates_and_exports_and_exits_0(tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "OMP_NUM_THREADS": "1", "ISTAR_HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", "import sys; from desktop.app import main; sys.exit(main())", "--self-check"],
        env=env, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert "main window open:" in lines[0] and "InfinityStar Studio" in lines[0]
    assert any("generated 1 s of toyworld" in line for line in lines)
    assert any("exported a one-clip project" in line or "decodes:" in line for line in lines)
    assert lines[-1].endswith("passed")


def test_a_failed_generation_fails_the_check_with_the_engines_reason(qtbot, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ISTAR_HOME", str(tmp_path))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.setattr(self_check, "SECONDS", 60)  # toyworld makes at most 6 s
    window = QMainWindow()
    qtbot.addWidget(window)
    window.show()
    assert self_check.run_self_check(QApplication.instance(), window) == 1
    out = capsys.readouterr().out
    assert "FAILED: SelfCheckFailed: generation failed (bad_input)" in out
    assert "engine log ends:" in out
