"""`istar models ...` as a person runs it: messages and exit codes (0 ok, 1 verify found problems, 2 bad input)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from model_release import write_release

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
    assert "copying transformer/model.safetensors.index.json" in out
    assert "converting infinitystar_videovae.pth to safetensors" in out
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
