"""Installing or downloading a model, as typed events: what `istar models install|download --events` prints, one
JSON line each, and what the setup wizard reads. Standard library only.

- InstallStep: one step of the install, numbered over all of them (`index` of `total`, both known from the first
  step on); "kept" is a file an earlier, interrupted run already finished, so a resumed install still counts to
  its end.
- InstallDone: the model is in the store. InstallFailed: it is not, and why (running the same install again
  resumes).

`encode_event` writes one as a line; `read_install_event` reads one back, gives None for a line that is not an event
(a warning some library printed) and raises RecordError naming the field of an event line that is wrong.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

from engine.api.json_text import JSONTextError, loads_limited
from engine.api.records import RecordError, json_object, take

EVENT_FIELD = "event"  # the kind of an event line: "step", "done" or "failed"


def human_bytes(n: int) -> str:
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:.2f} {unit}"
    return f"{n} B"


@dataclass(frozen=True)
class InstallStep:
    """Step `index` (from 1) of `total`: `action` ("copying", "downloading", "converting", or "kept" for a file an
    earlier run finished) on the file `name`; `detail` says more ("to safetensors", "(resuming after 1,024 bytes)")."""

    kind: ClassVar[str] = "step"
    action: str
    name: str
    index: int
    total: int
    detail: str = ""

    def describe(self) -> str:
        """The line a person reads: "[2/4] copying transformer/model-00001-of-00002.safetensors"."""
        return f"[{self.index}/{self.total}] {self.action} {self.name}" + (f" {self.detail}" if self.detail else "")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, body: Any) -> InstallStep:
        where = "an install step"
        body = json_object(body, where)
        step = cls(take(body, "action", str, where), take(body, "name", str, where), take(body, "index", int, where),
                   take(body, "total", int, where), take(body, "detail", str, where, ""))
        if step.total < 1:
            raise RecordError(f"field 'total' of {where} should be at least 1, not {step.total}")
        if not 1 <= step.index <= step.total:
            raise RecordError(f"field 'index' of {where} should be 1 to {step.total}, not {step.index}")
        return step


@dataclass(frozen=True)
class InstallDone:
    """Model `model` is installed in `folder`: `files` files, `bytes` bytes."""

    kind: ClassVar[str] = "done"
    model: str
    files: int
    bytes: int
    folder: str

    def describe(self) -> str:
        return f"installed {self.model} in {self.folder}: {self.files} files, {human_bytes(self.bytes)}"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, body: Any) -> InstallDone:
        where = "an install's end"
        body = json_object(body, where)
        done = cls(take(body, "model", str, where), take(body, "files", int, where), take(body, "bytes", int, where),
                   take(body, "folder", str, where))
        for name in ("files", "bytes"):
            if getattr(done, name) < 0:
                raise RecordError(f"field {name!r} of {where} should not be negative")
        return done


@dataclass(frozen=True)
class InstallFailed:
    """The install stopped and nothing was installed; `message` says why and what to do."""

    kind: ClassVar[str] = "failed"
    message: str

    def describe(self) -> str:
        return f"failed: {self.message}"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, body: Any) -> InstallFailed:
        where = "an install's failure"
        return cls(take(json_object(body, where), "message", str, where))


InstallEvent = InstallStep | InstallDone | InstallFailed
EVENTS: dict[str, type[InstallStep] | type[InstallDone] | type[InstallFailed]] = {
    cls.kind: cls for cls in (InstallStep, InstallDone, InstallFailed)
}


def encode_event(event: InstallEvent) -> str:
    """The event as one line of JSON (no newline), its kind in the field "event"."""
    return json.dumps({EVENT_FIELD: event.kind, **event.to_json()})


def read_install_event(line: str) -> InstallEvent | None:
    """The event a line holds; None when the line is no event (not a JSON object with an "event" field)."""
    text = line.strip()
    if not text.startswith("{"):
        return None
    try:
        body = loads_limited(text, "an install event")
    except JSONTextError:  # not JSON this reads, so no event either: nested too deep, NaN, cut short
        return None
    if not isinstance(body, dict) or EVENT_FIELD not in body:
        return None
    kind = body[EVENT_FIELD]
    cls = EVENTS.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise RecordError(f"field {EVENT_FIELD!r} of an install event should be one of "
                                f"{', '.join(EVENTS)}, not {kind!r:.60}")
    return cls.from_json(body)

