"""docs/architecture.md describes the tree as it is: every path it names exists, and every package of the engine
and the studio is in it."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "architecture.md"


def named_paths() -> set[str]:
    return {m.rstrip("/") for m in re.findall(r"`((?:engine|desktop|tests|docs)/[\w./]*)`", DOC.read_text())}


def test_every_path_the_architecture_names_exists():
    missing = sorted(p for p in named_paths() if not (ROOT / p).exists())
    assert not missing, f"docs/architecture.md names paths that are not in the tree: {missing}"


def test_every_package_of_the_engine_and_the_studio_is_described():
    packages = {p.parent.relative_to(ROOT).as_posix() for top in ("engine", "desktop")
                for p in (ROOT / top).glob("*/__init__.py")}
    undescribed = sorted(packages - named_paths())
    assert not undescribed, f"docs/architecture.md does not describe {undescribed}"
