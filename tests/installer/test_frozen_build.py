"""installer/build.sh makes a one-folder app that starts, opens its window, generates with toyworld and exports:
its `--self-check` exits 0; the frozen executable is its own engine and `istar`. Slow: marked frozen_build."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.frozen_build
def test_the_built_app_passes_its_self_check(tmp_path):
    dist = tmp_path / "dist"
    start = time.monotonic()
    build = subprocess.run([ROOT / "installer/build.sh"], env={**os.environ, "ISTAR_DIST_DIR": str(dist)},
                           capture_output=True, text=True, timeout=3600)
    assert build.returncode == 0, build.stdout[-4000:] + build.stderr[-4000:]
    built = time.monotonic()
    app = dist / "istar-studio" / "istar-studio"
    # no Python and no checkout on the way: a throwaway HOME and a working folder of its own
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "QT_QPA_PLATFORM": "offscreen", "OMP_NUM_THREADS": "1"}
    check = subprocess.run([app, "--self-check"], env=env, cwd=tmp_path, capture_output=True, text=True,
                           timeout=900)
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.rstrip().endswith("passed")
    models = subprocess.run([app, "--istar", "models", "list"], env=env, cwd=tmp_path, capture_output=True,
                            text=True, timeout=300)
    assert models.returncode == 0 and "toyworld" in models.stdout and "verified" in models.stdout, models.stderr
    print(f"\nbuild {built - start:.0f} s, self-check {time.monotonic() - built:.0f} s:\n{check.stdout}")
