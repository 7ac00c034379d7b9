"""The one-command entry points: README's commands, CI's script, and a fast, idempotent setup.sh."""

import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ["installer/setup.sh", "installer/run.sh", "installer/test.sh", ".ci/run"]


def readme_first_code_block() -> list[str]:
    text = (ROOT / "README.md").read_text()
    assert text.startswith("```"), "README.md should open with its code block"
    block = re.search(r"^```[^\n]*\n(.*?)^```", text, re.S | re.M)
    assert block
    return block.group(1).splitlines()


def test_readme_opens_with_run_and_test_commands():
    lines = readme_first_code_block()
    commands = [line.split("#", 1)[0].strip() for line in lines]
    assert commands == ["./installer/run.sh", "./installer/test.sh"]
    assert all("#" in line for line in lines), "each command carries a short comment"


def test_ci_runs_the_readme_test_command():
    lines = (ROOT / ".ci/run").read_text().splitlines()
    commands = [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    assert commands[-1] in ("./installer/test.sh", "exec ./installer/test.sh")
    assert not any("pytest" in c or "ruff" in c for c in commands), ".ci/run should only call test.sh"


@pytest.mark.parametrize("script", SCRIPTS)
def test_scripts_are_executable_strict_bash(script):
    path = ROOT / script
    assert os.access(path, os.X_OK)
    assert "set -euo pipefail" in path.read_text()
    subprocess.run(["bash", "-n", str(path)], check=True)


def test_setup_rerun_is_fast_and_skips_pip():
    check = subprocess.run([ROOT / "installer/setup.sh", "--check"], capture_output=True, text=True, timeout=20)
    if check.returncode != 0:
        pytest.skip(f"setup.sh has not completed in this checkout: {check.stdout.strip()}")
    result = subprocess.run(
        [ROOT / "installer/setup.sh"], cwd="/", capture_output=True, text=True, timeout=300, check=True
    )
    # fast because it skips pip and installs nothing: that is checked, not the seconds a loaded machine stretches
    assert "skipping pip" in result.stdout
    assert "installing" not in result.stdout
