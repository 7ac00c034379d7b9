"""What an engine actor streams back for one job, besides the job's protocol events (engine.api.protocol)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OutputFile:
    """A file of the job, sent just before the event that names it: `name` is its path in the job's folder
    (`out.mp4`, `out.bits`, `out.clips/clip_01.mp4`), as the event names it; `data` its bytes, or None with `missing`
    saying why the actor could not read it."""

    name: str
    data: bytes | None
    missing: str = ""


@dataclass(frozen=True)
class Held:
    """The last item of a job's stream: the models the actor holds loaded after it."""

    models: tuple[str, ...]


@dataclass(frozen=True)
class ActorInfo:
    """An engine actor, once it is up: its name, machine, process and device."""

    name: str
    host: str
    pid: int
    device: str
