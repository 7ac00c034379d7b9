"""The client's record of its jobs, kept in one JSON file written atomically, so the queue outlives the app.

A job is queued, running, done, failed or cancelled. After a restart, jobs left queued or running are offered back
(`unfinished`): nothing the engine was asked to make is forgotten because the app or the engine stopped. A queue file
that cannot be read (damaged, hand-edited, nested too deep) is set aside beside it by `open_or_set_aside`, so the app
starts with an empty queue and says where the old file went.
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from engine.api.jobs import JobInputError, JobSpec
from engine.api.json_text import JSONTextError, loads_limited
from engine.atomic import write_text_atomic

QUEUE_VERSION = 1
MAX_QUEUE_BYTES = 64 * 2**20
STATES = ("queued", "running", "done", "failed", "cancelled")


class JobBookError(ValueError):
    """The queue file cannot be read; the message names it and what is wrong."""


@dataclass
class JobRecord:
    spec: JobSpec
    state: str = "queued"
    failure: str = ""  # a failure kind (engine.api.protocol.FAILURE_KINDS)
    message: str = ""
    hint: str = ""
    video: str = ""
    bits: str = ""
    provenance: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "spec": self.spec.to_json()}

    @classmethod
    def from_json(cls, body: Any) -> JobRecord:
        if not isinstance(body, dict) or "spec" not in body:
            raise ValueError("a job record is an object with a 'spec'")
        record = cls(**{**body, "spec": JobSpec.from_json(body["spec"])})
        if record.state not in STATES:
            raise ValueError(f"job state must be one of {', '.join(STATES)}, got {record.state!r}")
        return record


class JobBook:
    """Jobs in the order they were added. Changes of state are saved at once (to `path`; None keeps them in memory
    only, as a one-off command does); progress is not saved."""

    def __init__(self, path: Path | None = None, records: list[JobRecord] | None = None) -> None:
        self.path = path
        self._records = {r.spec.id: r for r in records or []}
        self._lock = threading.Lock()

    @classmethod
    def open(cls, path: Path) -> JobBook:
        """The queue saved at `path`, or an empty one if there is no file yet."""
        if not path.exists():
            return cls(path)
        try:
            if (size := path.stat().st_size) > MAX_QUEUE_BYTES:
                raise JobBookError(f"the job queue {path} cannot be read: it is {size:,} bytes, over the limit of "
                                   f"{MAX_QUEUE_BYTES:,}")
            body = loads_limited(path.read_bytes(), "it", max_bytes=MAX_QUEUE_BYTES)
        except JSONTextError as err:
            raise JobBookError(f"the job queue {path} cannot be read: {err}") from None
        except OSError as err:
            raise JobBookError(f"the job queue {path} cannot be read: {err}") from None
        if not isinstance(body, dict) or body.get("version") != QUEUE_VERSION or not isinstance(body.get("jobs"), list):
            raise JobBookError(f"the job queue {path} is not a version {QUEUE_VERSION} queue file")
        try:
            return cls(path, [JobRecord.from_json(job) for job in body["jobs"]])
        except (JobInputError, TypeError, ValueError) as err:
            raise JobBookError(f"the job queue {path} holds a broken job: {err}") from None

    @classmethod
    def open_or_set_aside(cls, path: Path) -> tuple[JobBook, str]:
        """The queue saved at `path` and "". When that file cannot be read: an empty queue and what was wrong, the
        file renamed to `<name>.corrupt-N` beside it (the first N free), so nothing is lost and the next save starts
        a fresh file; if even the rename fails, the queue is kept in memory only."""
        try:
            return cls.open(path), ""
        except JobBookError as err:
            problem = str(err)
        for n in range(1, 1000):
            aside = path.with_name(f"{path.name}.corrupt-{n}")
            if not aside.exists():
                break
        try:
            path.rename(aside)
        except OSError as err:
            return cls(None), f"{problem}\n\nIt could not be set aside ({err}); this session's queue is not saved."
        return cls(path), f"{problem}\n\nIt was renamed to {aside}; the queue starts empty."

    @property
    def records(self) -> list[JobRecord]:
        with self._lock:
            return list(self._records.values())

    def get(self, job_id: str) -> JobRecord | None:
        with self._lock:
            return self._records.get(job_id)

    def unfinished(self) -> list[JobRecord]:
        """Jobs that were queued or running when the queue was last saved."""
        return [r for r in self.records if r.state in ("queued", "running")]

    def add(self, spec: JobSpec) -> JobRecord:
        with self._lock:
            record = self._records[spec.id] = JobRecord(spec)
            self._save()
        return record

    def update(self, job_id: str, **changes: Any) -> None:
        with self._lock:
            record = self._records.get(job_id)
            if record is None:
                return
            for name, value in changes.items():
                setattr(record, name, value)
            self._save()

    def move(self, job_id: str, before: str | None) -> None:
        """Put the job just before job `before` (None: last)."""
        with self._lock:
            record = self._records.pop(job_id)
            order = list(self._records.values())
            at = next((i for i, r in enumerate(order) if r.spec.id == before), len(order))
            order.insert(at, record)
            self._records = {r.spec.id: r for r in order}
            self._save()

    def remove(self, job_id: str) -> None:
        with self._lock:
            if self._records.pop(job_id, None) is not None:
                self._save()

    def _save(self) -> None:
        if self.path is None:
            return
        body = {"version": QUEUE_VERSION, "jobs": [r.to_json() for r in self._records.values()]}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(self.path, json.dumps(body, indent=1))
