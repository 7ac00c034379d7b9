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


def new_output(project_path: Path | None, kind: str, seed: int) -> Path:
    """A fresh MP4 path for a job, e.g. `gen-20261124-124501-generate-s42-9f3a.mp4`. The random tail keeps two
    jobs queued in the same second apart (their files appear only when they finish)."""
    folder = media_folder(project_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"gen-{time.strftime('%Y%m%d-%H%M%S')}-{kind}-s{seed}-{secrets.token_hex(2)}.mp4"
