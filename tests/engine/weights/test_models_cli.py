"""`istar models ...` as a person runs it: messages and exit codes (0 ok, 1 verify found problems, 2 bad input)."""

from __future__ import annotations

import errno
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
                   "toyworld, tiny-a, test-micro, test-micro-t5\n")
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


def _read_only(folder: Path, monkeypatch) -> None:
    """Make `folder` refuse new entries: chmod, and for root (whom chmod does not stop) mkdir fails as it would."""
    folder.chmod(0o555)
    if os.geteuid() == 0:
        real_mkdir = os.mkdir

        def mkdir(path, *args, **kwargs):
            if Path(path).parent == folder:
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
            return real_mkdir(path, *args, **kwargs)

        monkeypatch.setattr(os, "mkdir", mkdir)


def test_quantize_into_a_read_only_store_says_which_path_and_why(home: Path, release: Path, capsys, monkeypatch):
    pytest.importorskip("bitsandbytes")
    assert run(capsys, "install", "test-micro", "--from", str(release))[0] == 0
    folder = home / "test-micro"
    _read_only(folder, monkeypatch)
    try:
        code, out, err = run(capsys, "quantize", "test-micro", "--precision", "int8")
    finally:
        folder.chmod(0o755)
    assert (code, out) == (2, "")
    assert err == f"istar models: {folder / '.quantizing-int8'}: Permission denied\n"


def test_quantize_on_a_full_disk_says_which_file_and_leaves_nothing_behind(home: Path, release: Path, capsys,
                                                                           monkeypatch):
    pytest.importorskip("bitsandbytes")
    from safetensors import SafetensorError

    assert run(capsys, "install", "test-micro", "--from", str(release))[0] == 0

    def full_disk(tensors, filename, metadata=None):
        Path(filename).write_bytes(b"partial")
        # what safetensors raises when the disk fills: no OSError, no file name
        raise SafetensorError("Error while serializing: I/O error: No space left on device (os error 28)")

    monkeypatch.setattr("engine.tensors.safetensors_file.save_file", full_disk)
    code, out, err = run(capsys, "quantize", "test-micro", "--precision", "int8")
    folder = home / "test-micro"
    assert (code, out) == (2, "")
    assert err == f"istar models: {folder / '.quantizing-int8' / 'model.safetensors'}: No space left on device\n"
    assert sorted(p.name for p in folder.iterdir()) == ["manifest.json", "transformer", "vae"]
    assert "int8" not in run(capsys, "list")[1]


def test_an_os_error_is_one_line_naming_the_path_for_every_command(capsys, monkeypatch) -> None:
    """Whatever command hits it: a file write without a file name, a rename with two."""

    def failing(error: OSError):
        def run_command(args):
            raise error

        return run_command

    for error, line in [
        (OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)), "istar models: No space left on device\n"),
        (OSError(errno.EROFS, os.strerror(errno.EROFS), "/store/a", None, "/store/b"),
         "istar models: /store/a -> /store/b: Read-only file system\n"),
        (FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), "/store/x"),
         "istar models: /store/x: No such file or directory\n"),
    ]:
        monkeypatch.setattr("engine.cli.models._list", failing(error))
        code, _, err = run(capsys, "list")
        assert (code, err) == (2, line)
