"""The `istar-studio` entry point: --screenshot writes the window as PNG, and desktop never imports torch."""

import os
import struct
import subprocess
import sys
from pathlib import Path

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


def test_desktop_modules_do_not_import_torch():
    code = (
        "import pkgutil, importlib, sys, desktop\n"
        "for m in pkgutil.walk_packages(desktop.__path__, 'desktop.'):\n"
        "    importlib.import_module(m.name)\n"
        "print(sorted(n for n in sys.modules if n == 'torch' or n.startswith('torch.')))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
