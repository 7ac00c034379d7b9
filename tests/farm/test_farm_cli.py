"""`istar farm` where no farm can run: it says why and what to do, with the exit code of a refused command."""

from __future__ import annotations

import json
import subprocess
import sys

from engine.cli.main import main


def test_farm_status_without_a_farm_says_how_to_start_one(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ISTAR_HOME", str(tmp_path))
    assert main(["farm", "status"]) == 1
    assert "istar farm start" in capsys.readouterr().out


def test_farm_start_without_ray_names_the_extra_to_install(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ISTAR_HOME", str(tmp_path))
    monkeypatch.setitem(sys.modules, "ray", None)
    assert main(["farm", "start", "--actors", "1"]) == 2
    assert "pip install .[farm]" in capsys.readouterr().err
    assert not (tmp_path / "farm").exists()  # nothing was started


def test_farm_status_after_the_head_died_says_how_to_clean_up(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ISTAR_HOME", str(tmp_path))
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / "farm").mkdir()
    (tmp_path / "farm" / "state.json").write_text(json.dumps(
        {"pid": dead.pid, "listen": "127.0.0.1:7870", "token_file": "t", "ray_port": 6379}))
    assert main(["farm", "status"]) == 1
    assert "istar farm stop" in capsys.readouterr().out
