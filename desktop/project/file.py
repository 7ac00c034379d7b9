"""Project files (`.istar`, JSON inside): atomic saves with rotating backups, loads whose errors name the file and the
field, and autosave to a separate recovery file, which never touches the user's file."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

from desktop.project.model import MediaItem, Project, ProjectError
from desktop.project.schema import SCHEMA_VERSION as SCHEMA_VERSION
from desktop.project.schema import FieldError, project_from_json, project_to_json, upgrade
from engine.atomic import atomic_writer, clean_stale_temps, copy_atomic, write_bytes_atomic
from engine.home import studio_home
from engine.media.layout import clean_output_folder

PROJECT_SUFFIX = ".istar"
BACKUPS = 5


class ProjectFileError(ProjectError):
    """A project file that cannot be read; `path` is the file, `field` the place in it (None for the whole file)."""

    def __init__(self, path: Path, problem: str, field: str | None = None) -> None:
        super().__init__(f"{path}: {field}: {problem}" if field else f"{path}: {problem}")
        self.path = path
        self.field = field


def _encode(project: Project, folder: Path) -> bytes:
    data = project_to_json(project, folder)
    return (json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")


def backup_path(path: Path, n: int) -> Path:
    """The n-th newest backup of a project file: `name.istar.bak1` is the file as it was before the last save."""
    return path.with_name(f"{path.name}.bak{n}")


def _rotate_backups(path: Path) -> None:
    """Shift the backups up one (the last falls off) and copy `path` to backup 1, in steps that are each one rename
    (engine.atomic.copy_atomic): from the top down, n + 1 becomes a copy of n while n stays. A save killed at any
    moment leaves every backup that existed in place (at worst two neighbours alike) and loses no version but
    the oldest, which this save drops anyway."""
    for n in range(BACKUPS - 1, 0, -1):
        if backup_path(path, n).exists():
            copy_atomic(backup_path(path, n), backup_path(path, n + 1))
    write_bytes_atomic(backup_path(path, 1), path.read_bytes())  # a copy, not a link: the user's file may be edited


def save_project(project: Project, path: Path) -> None:
    """Write the project to `path` through a synced temp file renamed over it, so a failed save leaves the old file
    whole. The old file becomes backup 1 (1 becomes 2, ... up to BACKUPS), and the recovery file, now stale, goes."""
    path = Path(path)
    data = _encode(project, path.parent)
    with atomic_writer(path) as f:
        f.write(data)
        f.flush()
        # Backups turn over only once the new bytes are written, so a save that fails early (disk full) keeps them.
        if path.exists():
            _rotate_backups(path)
    discard_recovery(path)


def clean_leftovers(path: Path, media: Path | None = None) -> list[Path]:
    """Remove the temp files that killed saves left beside the project file `path`, and that killed jobs left in
    its media folder `media` and the clip folders there (engine.media.layout.clean_output_folder); the removed
    files. Only our own temp files whose writer is gone go (engine.atomic.is_stale_temp); call it when a project is
    opened or saved."""
    removed = clean_stale_temps(Path(path).parent)
    if media is not None:
        removed += clean_output_folder(media)
    return removed


def _json_problem(text: str, error: json.JSONDecodeError) -> str:
    where = f"line {error.lineno}, column {error.colno}"
    if error.pos >= len(text.rstrip()) or error.msg.startswith("Unterminated string"):
        return f"is cut short at {where}: the file is truncated"
    return f"is not valid JSON ({error.msg} at {where})"


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number a project can hold")


def load_project(path: Path) -> Project:
    """The project in `path`, migrated from older schema versions. Any problem, even in a mangled file, raises
    ProjectFileError naming the file and, where it can, the field."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise ProjectFileError(path, f"cannot be read ({e.strerror or e})") from e
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ProjectFileError(path, "is not a project file (it is not UTF-8 text)") from None
    if not text.strip():
        raise ProjectFileError(path, "is empty")
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as e:
        raise ProjectFileError(path, _json_problem(text, e)) from None
    except (ValueError, RecursionError) as e:
        raise ProjectFileError(path, f"is not valid JSON ({e})") from None
    try:
        return project_from_json(upgrade(data), path.parent)
    except FieldError as e:
        raise ProjectFileError(path, e.problem, e.field) from None


def recovery_path(project_path: Path | None) -> Path:
    """Where autosave writes: `.name.istar.recovery` beside a saved project, the studio's recovery folder for an
    unsaved one."""
    if project_path is None:
        return studio_home() / "recovery" / f"untitled{PROJECT_SUFFIX}.recovery"
    project_path = Path(project_path)
    return project_path.with_name(f".{project_path.name}.recovery")


def write_recovery(project: Project, project_path: Path | None) -> Path:
    """Autosave `project` to its recovery file (never to `project_path` itself) and return the recovery file."""
    recovery = recovery_path(project_path)
    recovery.parent.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(recovery, _encode(project, recovery.parent))
    return recovery


def find_recovery(project_path: Path | None) -> Path | None:
    """The recovery file to offer at start: one that exists and is newer than the project file (if that exists).
    Load it with load_project; if that fails, offer to discard it."""
    recovery = recovery_path(project_path)
    if not recovery.is_file():
        return None
    saved = Path(project_path) if project_path is not None else None
    with contextlib.suppress(OSError):  # no project file (yet, or any more): the recovery is all there is
        if saved is not None and recovery.stat().st_mtime_ns <= saved.stat().st_mtime_ns:
            return None
    return recovery


def discard_recovery(project_path: Path | None) -> None:
    with contextlib.suppress(FileNotFoundError):
        recovery_path(project_path).unlink()


def missing_media(project: Project) -> list[MediaItem]:
    """Media whose file is not where the project says, for the relink dialog."""
    return [item for item in project.media.values() if item.on_disk and not item.path.is_file()]
