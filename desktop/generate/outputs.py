"""Where generated videos go: beside the project, in `<name>.media/`, so a project folder carries its media; an
unsaved project's go to the studio's own folder until it is saved."""

from __future__ import annotations

import secrets
import time
from pathlib import Path

from engine.home import studio_home


def media_folder(project_path: Path | None) -> Path:
    if project_path is None:
        return studio_home() / "unsaved media"
    return project_path.with_name(project_path.stem + ".media")


def file_stem(prompt: str, words: int = 6, limit: int = 48) -> str:
    """A file name's start from a prompt: its first words, lower case, letters and digits only, joined by hyphens
    ("A red circle, moving!" -> "a-red-circle-moving"); empty when the prompt has none."""
    kept = ["".join(c for c in word if c.isascii() and c.isalnum()) for word in prompt.lower().split()]
    return "-".join([w for w in kept if w][:words])[:limit].rstrip("-")


def new_output(project_path: Path | None, kind: str, seed: int, prompt: str = "") -> Path:
    """A fresh MP4 path for a job, named from its prompt, e.g. `a-red-circle-moves-to-the-s42-9f3a.mp4` (a
    continuation or another kind of job says so: `...-continue-s42-9f3a.mp4`; no prompt: `gen-20261124-124501-...`).
    The random tail keeps two jobs queued in the same second apart (their files appear only when they finish)."""
    folder = media_folder(project_path)
    folder.mkdir(parents=True, exist_ok=True)
    stem = file_stem(prompt) or f"gen-{time.strftime('%Y%m%d-%H%M%S')}"
    kind_part = "" if kind == "generate" else f"-{kind}"
    return folder / f"{stem}{kind_part}-s{seed}-{secrets.token_hex(2)}.mp4"
