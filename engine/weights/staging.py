"""A model being installed: built in `<root>/.installing-<id>/`, renamed to `<root>/<id>/` only once complete.

A journal records every finished file with a stamp of what it was made from, so a run that was interrupted
resumes where it stopped, and a file whose source changed since is made again.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from engine.atomic import fsync_dir, write_text_atomic
from engine.weights.manifest import FileEntry, Manifest

JOURNAL = "journal.json"
STAGING_PREFIX = ".installing-"


class Staging:
    def __init__(self, root: Path, model_id: str, origin: dict[str, str]) -> None:
        """Resume the staging folder of `model_id` if an earlier run was building it from the same `origin`."""
        self.folder = root / f"{STAGING_PREFIX}{model_id}"
        self.final = root / model_id
        self._journal = self._read_journal()
        if self._journal.get("origin") != origin:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder.mkdir(parents=True, exist_ok=True)
            self._journal = {"origin": origin, "files": {}}
            self._write_journal()

    def _read_journal(self) -> dict[str, Any]:
        try:
            return json.loads((self.folder / JOURNAL).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def path(self, rel: str) -> Path:
        """Where the file `rel` of the model is built (its parent folder exists)."""
        path = self.folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def finished(self, rel: str, stamp: dict[str, Any]) -> FileEntry | None:
        """The entry of `rel` if an earlier run finished it from the same input and it is still whole."""
        record = self._journal["files"].get(rel)
        if record is None or record["stamp"] != stamp:
            return None
        entry = FileEntry(**record["entry"])
        path = self.folder / rel
        return entry if path.is_file() and path.stat().st_size == entry.bytes else None

    def record(self, entry: FileEntry, stamp: dict[str, Any]) -> None:
        self._journal["files"][entry.path] = {"entry": entry.to_dict(), "stamp": stamp}
        self._write_journal()

    def _write_journal(self) -> None:
        write_text_atomic(self.folder / JOURNAL, json.dumps(self._journal))

    def commit(self, manifest: Manifest) -> Path:
        """Drop what the manifest does not list, record each file's mtime, and move the model into place."""
        listed = {f.path for f in manifest.files}
        for path in sorted(self.folder.rglob("*"), reverse=True):
            rel = path.relative_to(self.folder).as_posix()
            if path.is_dir():
                if not any(path.iterdir()):
                    path.rmdir()
            elif rel not in listed:
                path.unlink()
        for f in manifest.files:
            f.mtime_ns = (self.folder / f.path).stat().st_mtime_ns
        manifest.save(self.folder)
        os.replace(self.folder, self.final)
        fsync_dir(self.final.parent)
        return self.final

