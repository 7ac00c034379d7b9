"""Collecting a project's media into its own `<name>.media/` folder, so the project can move as a folder.

Media made before a project's first save live in the studio's "unsaved media" folder and are stored with absolute
paths; a project saved as a copy elsewhere still uses its old media folder; imported files stay wherever the person
keeps them. `media_to_collect` names every file the project uses from outside its folder (`made_by_studio` tells the
studio's own from imported ones, which may be big and are copied only when asked); `plan_collect` gives each a free
name in the project's media folder; `collect_media` copies each with its companions (the bits beside a generated
video and its .clips folder, which continue and bridge read) by atomic copies, so a copy is whole or absent. A
collection is all or nothing: when one file fails, or Cancel is asked (even in the middle of a big file), every copy
made is removed and the project keeps all its originals. Nothing here touches the project; the caller points the
media at the copies, all at once. No Qt: it runs on a worker (desktop.workers).
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
    """What `collect_media` did: the new path of every media, or (nothing copied) why the one that failed did not
    copy, or that it was cancelled."""

    moved: dict[str, Path] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    cancelled: bool = False


class _Cancel(Exception):
    """Cancel was asked in the middle of a file: the copy stops there."""


def _inside(path: Path, folder: Path) -> bool:
    try:
        Path(os.path.abspath(path)).relative_to(os.path.abspath(folder))
    except ValueError:
        return False
    return True


def media_to_collect(project: Project, project_path: Path) -> list[MediaItem]:
    """The media files, present on disk, that a project saved to `project_path` would use from outside its folder
    (titles have no file)."""
    home = Path(project_path).parent
    return [item for item in project.media.values()
            if item.on_disk and item.path.is_file() and not _inside(item.path, home)]


def made_by_studio(item: MediaItem, folders: list[Path]) -> bool:
    """Whether `item` lies in one of `folders`, where the studio keeps what it made: the "unsaved media" folder, and
    for a project saved as a copy the old project's media folder (desktop.generate.outputs.media_folder)."""
    return any(_inside(item.path, folder) for folder in folders)


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
    """Copy every move's files (companions first, the video last, so a collected video always has its companions);
    `progress(fraction)` as bytes are copied, `cancelled()` asked after every chunk. All or nothing: where a file
    fails or Cancel is asked, every copy made so far is removed (a file being copied leaves no part of itself) and the
    result names the failure, or says it was cancelled, with nothing moved."""
    done, total = 0, max(1, sum(m.size for m in moves))

    def copied(n: int) -> None:
        nonlocal done
        done += n
        if progress is not None:
            progress(min(1.0, done / total))
        if cancelled is not None and cancelled():
            raise _Cancel

    made: list[Path] = []
    moved: dict[str, Path] = {}
    try:
        for move in moves:
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
                _remove(made, [clips_folder(m.target) for m in moves])
                return Collected(failed={move.media_id: f"not copied to {move.target.parent}: {err.strerror or err}"})
            moved[move.media_id] = move.target
    except _Cancel:
        _remove(made, [clips_folder(m.target) for m in moves])
        return Collected(cancelled=True)
    return Collected(moved)


def _remove(files: list[Path], clip_folders: list[Path]) -> None:
    """Undo a collection: the files it copied, then the clip folders it made (only those left empty)."""
    for path in files:
        with contextlib.suppress(OSError):
            path.unlink()
    for clips in (c for c in clip_folders if c.is_dir()):
        for root, _, _ in sorted(os.walk(clips), key=lambda entry: -len(entry[0])):
            with contextlib.suppress(OSError):
                os.rmdir(root)
