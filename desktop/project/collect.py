"""Collecting a project's media into its own `<name>.media/` folder, so the project can move as a folder.

Media made before a project's first save live in the studio's "unsaved media" folder and are stored with absolute
paths; a project saved as a copy elsewhere still uses its old media folder. `media_to_collect` names those files;
`plan_collect` gives each a free name in the project's media folder; `collect_media` copies each with its companions
(the bits beside a generated video and its .clips folder, which continue and bridge read) by atomic copies, so a
copy is whole or absent. One file is collected or not as a whole: a file whose copy fails keeps its original path,
and the failure is named. Nothing here touches the project; the caller points the collected media at the copies.
No Qt: it runs on a worker (desktop.workers).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from desktop.project.model import MediaItem, Project
from engine.atomic import copy_atomic
from engine.media.layout import clips_folder, find_bits


@dataclass(frozen=True)
class Move:
    """One media file to copy to `target`, with its companions (`(source, target)` pairs)."""

    media_id: str
    source: Path
    target: Path
    companions: tuple[tuple[Path, Path], ...]

    @property
    def files(self) -> tuple[tuple[Path, Path], ...]:
        return ((self.source, self.target), *self.companions)

    @property
    def size(self) -> int:
        total = 0
        for source, _ in self.files:
            with contextlib.suppress(OSError):
                total += source.stat().st_size
        return total


@dataclass
class Collected:
    """What `collect_media` did: the new path of each collected media, and why each other one was not."""

    moved: dict[str, Path] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)


def _inside(path: Path, folder: Path) -> bool:
    try:
        Path(os.path.abspath(path)).relative_to(os.path.abspath(folder))
    except ValueError:
        return False
    return True


def media_to_collect(project: Project, project_path: Path, folders: list[Path]) -> list[MediaItem]:
    """The media files, present on disk, that a project saved to `project_path` would use from outside its folder
    and from one of `folders`, where the studio keeps what it made: the "unsaved media" folder, and for a project
    saved as a copy the old project's media folder (desktop.generate.outputs.media_folder). Imported files stay
    where the person keeps them; titles have no file."""
    home = Path(project_path).parent
    return [item for item in project.media.values()
            if item.on_disk and item.path.is_file() and not _inside(item.path, home)
            and any(_inside(item.path, folder) for folder in folders)]


def _companions(video: Path, target: Path) -> list[tuple[Path, Path]]:
    """The bits beside `video` and the files of its clips folder, each with where it goes beside `target`."""
    pairs: list[tuple[Path, Path]] = []
    bits = find_bits(video)
    if bits is not None:
        pairs.append((bits, target.with_name(target.stem + bits.name[len(video.stem):])))
    clips = clips_folder(video)
    if clips.is_dir():
        for root, _, names in os.walk(clips):
            for name in sorted(names):
                source = Path(root) / name
                pairs.append((source, clips_folder(target) / source.relative_to(clips)))
    return pairs


def _taken(target: Path) -> bool:
    return target.exists() or clips_folder(target).exists() or find_bits(target) is not None


def plan_collect(items: list[MediaItem], folder: Path) -> list[Move]:
    """Where each of `items` goes in `folder`: its own name, or `name-2`, `name-3`... when that is taken (by a file
    there or by another item of this plan), so nothing in the folder is ever overwritten."""
    moves: list[Move] = []
    chosen: set[str] = set()
    for item in items:
        stem, suffix = item.path.stem, item.path.suffix
        target, n = folder / item.path.name, 1
        while target.name in chosen or _taken(target):
            n += 1
            target = folder / f"{stem}-{n}{suffix}"
        chosen.add(target.name)
        moves.append(Move(item.id, item.path, target, tuple(_companions(item.path, target))))
    return moves


def collect_media(moves: list[Move], progress: Callable[[float], None] | None = None,
                  cancelled: Callable[[], bool] | None = None) -> Collected:
    """Copy each move's files (companions first, the video last, so a collected video always has its companions);
    `progress(fraction)` as bytes are copied. A move that fails (or is cancelled) has the copies it made removed and
    its reason kept; the others go on."""
    result = Collected()
    total = max(1, sum(m.size for m in moves))
    done = 0

    def copied(n: int) -> None:
        nonlocal done
        done += n
        if progress is not None:
            progress(min(1.0, done / total))

    for move in moves:
        if cancelled is not None and cancelled():
            result.failed[move.media_id] = "cancelled"
            continue
        made: list[Path] = []
        try:
            for source, target in (*move.companions, (move.source, move.target)):
                target.parent.mkdir(parents=True, exist_ok=True)
                size, reported = source.stat().st_size, 0

                def chunk(n: int) -> None:
                    nonlocal reported
                    reported += n
                    copied(n)

                copy_atomic(source, target, on_bytes=chunk)
                made.append(target)
                copied(size - reported)  # a hard link copies no bytes and reports none: the whole file counts now
        except OSError as err:
            _remove(made, clips_folder(move.target))
            result.failed[move.media_id] = f"not copied to {move.target.parent}: {err.strerror or err}"
            continue
        result.moved[move.media_id] = move.target
    return result


def _remove(files: list[Path], clips: Path) -> None:
    """Undo a failed move: its copied files, then the clip folders it made (only those left empty)."""
    for path in files:
        with contextlib.suppress(OSError):
            path.unlink()
    if clips.is_dir():
        for root, _, _ in sorted(os.walk(clips), key=lambda entry: -len(entry[0])):
            with contextlib.suppress(OSError):
                os.rmdir(root)
