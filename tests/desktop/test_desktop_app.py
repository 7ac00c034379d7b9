"""The `istar-studio` entry point: --screenshot writes the window as PNG, and desktop never imports torch."""

import ast
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from desktop.main_window import DEFAULT_SIZE

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == PNG_SIGNATURE, f"{path} is not a PNG"
    return struct.unpack(">II", header[16:24])


def test_screenshot_writes_png_of_the_window(tmp_path):
    out = tmp_path / "window.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "ISTAR_HOME": str(tmp_path / "home")}
    result = subprocess.run(
        [sys.executable, "-c", "import sys; from desktop.app import main; sys.exit(main())", "--screenshot", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert out.stat().st_size > 0
    assert png_size(out) == (DEFAULT_SIZE.width(), DEFAULT_SIZE.height())
    assert not list(tmp_path.glob(".*.tmp")), "the temporary file should have been renamed"


@pytest.fixture(scope="module")
def loaded_by_desktop() -> list[str]:
    """Every module in sys.modules once each desktop module is imported, in a fresh interpreter."""
    code = (
        "import pkgutil, importlib, sys, desktop\n"
        "for m in pkgutil.walk_packages(desktop.__path__, 'desktop.'):\n"
        "    importlib.import_module(m.name)\n"
        "print('\\n'.join(sorted(sys.modules)))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_desktop_modules_do_not_import_torch(loaded_by_desktop):
    assert [n for n in loaded_by_desktop if n == "torch" or n.startswith("torch.")] == []


# and the modules under them
ENGINE_ALLOWED = ("engine.api", "engine.home", "engine.atomic", "engine.file_hash", "engine.media")


def _allowed(module: str) -> bool:
    return any(module == a or module.startswith(a + ".") for a in ENGINE_ALLOWED)


def _engine_imports(tree: ast.AST) -> list[tuple[int, str]]:
    """Each engine module an import statement names, with its line; `from engine import x` names engine.x."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [f"engine.{a.name}" for a in node.names] if node.module == "engine" else [node.module]
        else:
            continue
        found += [(node.lineno, n) for n in names if n.split(".")[0] == "engine"]
    return found


def test_desktop_imports_nothing_of_the_engine_but_its_api_home_atomic_and_media_as_written():
    root = Path(__file__).resolve().parents[2]
    wrong = [f"{path.relative_to(root)}:{line} imports {name}"
             for path in sorted((root / "desktop").rglob("*.py"))
             for line, name in _engine_imports(ast.parse(path.read_text(encoding="utf-8"), str(path)))
             if not _allowed(name)]
    assert wrong == []


def test_desktop_imports_nothing_of_the_engine_but_its_api_home_atomic_and_media_when_run(loaded_by_desktop):
    loaded = [n for n in loaded_by_desktop if n.split(".")[0] == "engine"]
    assert "engine.api" in loaded, "the check sees the engine modules the desktop loads"
    assert [m for m in loaded if m != "engine" and not _allowed(m)] == [], "`engine` itself: the packages' parent"


def test_a_queue_file_nested_too_deep_is_set_aside_and_the_studio_starts_with_an_empty_queue(tmp_path, monkeypatch):
    """A queue.json of 100,000 `[` used to stop the studio starting until the file was deleted by hand."""
    from desktop import app

    monkeypatch.setenv("ISTAR_HOME", str(tmp_path))
    (tmp_path / "queue.json").write_text("[" * 100_000)
    warnings = []
    monkeypatch.setattr(app.QMessageBox, "warning", lambda parent, title, text: warnings.append((title, text)))
    queue = app.open_queue()
    assert queue.records == [] and queue.path == tmp_path / "queue.json"
    assert (tmp_path / "queue.json.corrupt-1").read_text() == "[" * 100_000
    [(title, text)] = warnings
    assert title == "Job queue" and "cannot be read: it is nested deeper than 64 levels" in text
    assert f"It was renamed to {tmp_path / 'queue.json.corrupt-1'}; the queue starts empty." in text
