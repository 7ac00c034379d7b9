"""installer/install.sh in a temporary HOME and prefix: a fresh install ends with a working `istar-studio
--self-check`, a desktop entry and launchers; re-running skips pip; --uninstall removes exactly what it created and
keeps the user's projects and models. The full install is slow (pip): marked slow_install."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INSTALL = ROOT / "installer" / "install.sh"
STUDIO_HOME = Path(".local/share/InfinityStarStudio")  # engine.home.studio_home() under a HOME, on Linux
USER_FILES = {
    STUDIO_HOME / "models/my-model/manifest.json": "{}\n",
    STUDIO_HOME / "projects/film.istar": "{}\n",
    Path(".local/share/applications/other-app.desktop"): "[Desktop Entry]\n",
    Path(".local/bin/other-tool"): "#!/bin/sh\n",
}


def snapshot(*roots: Path) -> dict[str, str]:
    """Every path under those of `roots` that exist, and what it is: a folder, a link and its target, or a file and
    its sha256."""
    found = {}
    for root in (r for r in roots if r.exists()):
        for path in [root, *root.rglob("*")]:
            if path.is_symlink():
                found[str(path)] = "link " + os.readlink(path)
            elif path.is_dir():
                found[str(path)] = "dir"
            else:
                found[str(path)] = "file " + hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def environment(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDG_")}
    return {
        **env,
        "HOME": str(home),
        "PIP_CACHE_DIR": os.environ.get("PIP_CACHE_DIR", str(Path.home() / ".cache" / "pip")),
        # tools on the PATH keep their own state out of the HOME under test (pyenv's shims start rustup)
        "RUSTUP_HOME": os.environ.get("RUSTUP_HOME", str(Path.home() / ".rustup")),
        "QT_QPA_PLATFORM": "offscreen",
        "OMP_NUM_THREADS": "1",
    }


def run(args: list, home: Path, timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], env=environment(home), capture_output=True, text=True,
                          timeout=timeout, cwd=home)


def make_home(tmp: Path) -> Path:
    home = tmp / "home"
    for rel, text in USER_FILES.items():
        (home / rel).parent.mkdir(parents=True, exist_ok=True)
        (home / rel).write_text(text)
    return home


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed")
def test_the_installer_scripts_are_shellcheck_clean():
    scripts = sorted(str(p) for p in (ROOT / "installer").glob("*.sh"))
    result = subprocess.run(["shellcheck", "-x", *scripts], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout


def test_help_and_a_wrong_argument(tmp_path):
    home = make_home(tmp_path)
    assert "--uninstall" in run([INSTALL, "--help"], home, 30).stdout
    wrong = run([INSTALL, "--frobnicate"], home, 30)
    assert wrong.returncode != 0 and "unknown argument: --frobnicate" in wrong.stderr


def test_uninstall_with_nothing_installed_touches_nothing(tmp_path):
    home = make_home(tmp_path)
    before = snapshot(home)
    result = run([INSTALL, "--uninstall"], home, 30)
    assert result.returncode == 0 and "nothing installed" in result.stdout
    assert snapshot(home) == before


def test_a_prefix_a_desktop_entry_cannot_name_is_refused_before_anything_is_made(tmp_path):
    home = make_home(tmp_path)
    before = snapshot(home)
    result = run([INSTALL, "--prefix", tmp_path / 'say "cheese"'], home, 30)
    assert result.returncode != 0 and "may not hold" in result.stderr
    assert snapshot(home) == before and not (tmp_path / 'say "cheese"').exists()


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A fresh install into a temporary HOME, with its prefix elsewhere (a space in its path, as users have)."""
    tmp = tmp_path_factory.mktemp("install")
    home, prefix = make_home(tmp), tmp / "opt dir" / "istar"
    before = snapshot(home, tmp / "opt dir")
    start = time.monotonic()
    result = run([INSTALL, "--prefix", prefix], home, 3600)
    seconds = time.monotonic() - start
    assert result.returncode == 0, result.stdout + result.stderr
    print(f"\ninstall.sh took {seconds:.0f} s")
    return {"home": home, "prefix": prefix, "tmp": tmp, "before": before, "after": snapshot(home, tmp / "opt dir"),
            "log": result.stdout}


@pytest.mark.slow_install
def test_the_installed_studio_passes_its_self_check(installed):
    start = time.monotonic()
    check = run([installed["home"] / ".local/bin/istar-studio", "--self-check"], installed["home"], 900)
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.rstrip().endswith("passed")
    print(f"\nself-check took {time.monotonic() - start:.0f} s:\n{check.stdout}")


@pytest.mark.slow_install
def test_it_makes_a_desktop_entry_with_an_icon_and_launchers(installed):
    home, prefix = installed["home"], installed["prefix"]
    entry = home / ".local/share/applications/infinitystar-studio.desktop"
    fields = dict(line.split("=", 1) for line in entry.read_text().splitlines() if "=" in line)
    assert fields["Exec"] == f'"{prefix}/venv/bin/istar-studio"'
    assert os.access(fields["Exec"].strip('"'), os.X_OK)
    assert Path(fields["Icon"]).is_file() and fields["Icon"].endswith(".svg")
    if shutil.which("desktop-file-validate"):
        validated = subprocess.run(["desktop-file-validate", str(entry)], capture_output=True, text=True)
        assert validated.returncode == 0, validated.stdout
    for name in ("istar-studio", "istar"):
        assert os.readlink(home / ".local/bin" / name) == str(prefix / "venv/bin" / name)
    assert (home / ".local/bin/other-tool").read_text() == USER_FILES[Path(".local/bin/other-tool")]


@pytest.mark.slow_install
def test_running_it_again_is_quick_and_skips_pip(installed):
    again = run([INSTALL, "--prefix", installed["prefix"]], installed["home"], 300)
    assert again.returncode == 0, again.stdout + again.stderr
    # quick because it skips the work, which is what is checked (not the seconds, which a loaded machine stretches)
    assert "skipping pip" in again.stdout and "installing torch" not in again.stdout


@pytest.mark.slow_install
def test_uninstall_removes_exactly_what_install_created(installed):
    home, tmp, before, after = installed["home"], installed["tmp"], installed["before"], installed["after"]
    created = set(after) - set(before)
    assert created, "the install made nothing?"
    result = run([INSTALL, "--prefix", installed["prefix"], "--uninstall"], home, 300)
    assert result.returncode == 0, result.stdout + result.stderr
    now = snapshot(home, tmp / "opt dir")
    assert not created & set(now), f"left behind: {sorted(created & set(now))[:10]}"
    assert {p: now.get(p) for p in before} == before, "something the install did not make was changed or removed"
    for rel, text in USER_FILES.items():
        assert (home / rel).read_text() == text
    assert "your projects and models in" in result.stdout
