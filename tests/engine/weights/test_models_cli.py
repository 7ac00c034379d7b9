"""`istar models ...` as a person runs it: messages and exit codes (0 ok, 1 verify found problems, 2 bad input)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from model_release import write_release

from engine.api.install_events import InstallDone, InstallFailed, read_install_event
from engine.cli.main import main
from engine.cli.models import human_bytes
from engine.weights.catalogue import CATALOGUE


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> Path:
    return write_release(tmp_path_factory.mktemp("release"), CATALOGUE["test-micro"])


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("ISTAR_HOME", str(tmp_path))
    return tmp_path / "models"


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["models", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_install_list_verify_remove(home: Path, release: Path, capsys) -> None:
    code, out, _ = run(capsys, "list")
    assert code == 0 and f"models in {home}" in out
    assert "infinitystar-8b-720p     infinitystar-8b-720p     -" in out and "not installed" in out
    assert "test-micro" not in out  # test sizes are listed only once installed

    code, out, _ = run(capsys, "install", "test-micro", "--from", str(release))
    assert code == 0
    assert "[1/4] copying transformer/model.safetensors.index.json\n" in out
    assert "[4/4] converting infinitystar_videovae.pth to safetensors\n" in out
    assert f"installed test-micro (test-micro, fp32) in {home / 'test-micro'}: 4 files" in out

    size = sum(p.stat().st_size for p in (home / "test-micro").rglob("*") if p.is_file())
    code, out, _ = run(capsys, "list")
    [row] = [line for line in out.splitlines() if line.startswith("test-micro")]
    assert row.split()[:3] == ["test-micro", "test-micro", "fp32"]
    assert row.endswith(f"{human_bytes(size)}  verified")

    assert run(capsys, "verify", "test-micro")[:2] == (0, "test-micro: all 4 files match their manifest\n")

    code, _, err = run(capsys, "install", "test-micro", "--from", str(release))
    assert code == 2 and "test-micro is already installed" in err and "istar models remove test-micro" in err

    code, out, _ = run(capsys, "remove", "test-micro")
    assert code == 0 and out == f"removed test-micro from {home}: freed {human_bytes(size)}\n"
    assert not (home / "test-micro").exists()


def test_install_with_events_prints_one_event_a_line(home: Path, release: Path, capsys) -> None:
    code, out, err = run(capsys, "install", "test-micro", "--from", str(release), "--events")
    assert code == 0 and err == ""
    events = [read_install_event(line) for line in out.splitlines()]
    *steps, done = events
    assert [(s.action, s.index, s.total) for s in steps] == [
        ("copying", 1, 4), ("copying", 2, 4), ("copying", 3, 4), ("converting", 4, 4)
    ]
    size = sum(p.stat().st_size for p in (home / "test-micro").rglob("*") if p.is_file() and p.name != "manifest.json")
    assert done == InstallDone("test-micro", 4, size, str(home / "test-micro"))

    code, out, err = run(capsys, "install", "test-micro", "--from", str(release), "--events")
    assert code == 2 and err == ""
    [failed] = [read_install_event(line) for line in out.splitlines()]
    assert isinstance(failed, InstallFailed) and failed.message.startswith("test-micro is already installed")

    code, out, _ = run(capsys, "install", "tiny-a", "--from", str(home / "missing"), "--events")
    assert code == 2 and [read_install_event(line) for line in out.splitlines()] == [
        InstallFailed(f"{home / 'missing'} is not a folder")
    ]


def test_verify_reports_each_problem_by_name_and_exits_1(home: Path, release: Path, capsys) -> None:
    assert run(capsys, "install", "test-micro", "--from", str(release))[0] == 0
    index = home / "test-micro/transformer/model.safetensors.index.json"
    os.truncate(index, 10)
    code, out, _ = run(capsys, "verify", "test-micro")
    assert code == 1
    assert "test-micro: transformer/model.safetensors.index.json is truncated: 10 of" in out
    assert out.endswith("test-micro: 1 problem; remove the model and install it again\n")
    assert "changed since last verified" in run(capsys, "list")[1]


def test_bad_input_exits_2_with_the_reason(home: Path, tmp_path: Path, capsys) -> None:
    code, _, err = run(capsys, "verify", "nope")
    assert code == 2
    assert err == ("istar models: unknown model 'nope'; known models: infinitystar-8b-720p, infinitystar-8b-480p, "
                   "toyworld, tiny-a, test-micro\n")
    code, _, err = run(capsys, "verify", "test-micro")
    assert code == 2
    assert "test-micro is not installed; install it with `istar models install test-micro --from DIR`" in err
    code, _, err = run(capsys, "install", "test-micro", "--from", str(tmp_path / "missing"))
    assert code == 2 and "missing is not a folder" in err
    code, _, err = run(capsys, "remove", "tiny-a")
    assert code == 2 and "tiny-a is not installed" in err


def test_quantize_adds_a_precision_that_list_shows(home: Path, release: Path, capsys) -> None:
    pytest.importorskip("bitsandbytes")
    assert run(capsys, "install", "test-micro", "--from", str(release))[0] == 0
    code, out, _ = run(capsys, "quantize", "test-micro", "--precision", "int8")
    assert code == 0 and out.startswith("quantised test-micro to int8: 2 files, ")
    [row] = [line for line in run(capsys, "list")[1].splitlines() if line.startswith("test-micro")]
    assert row.split()[2:4] == ["fp32,", "int8"] and row.endswith("verified")
    assert run(capsys, "verify", "test-micro")[0] == 0
