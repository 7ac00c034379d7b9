"""What the farm's head is doing, as `istar farm status` shows it: its actors, the models each holds, their jobs.

The head writes it to a file at every change (atomically), so the command reads it without speaking to the head.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

from engine.api.json_text import loads_limited
from engine.atomic import write_text_atomic


@dataclass(frozen=True)
class ActorStatus:
    name: str
    host: str
    device: str
    pid: int
    alive: bool
    models: tuple[str, ...]
    job: str | None  # the id of the job it runs


@dataclass(frozen=True)
class FarmStatus:
    address: str  # where the head serves, HOST:PORT
    actors: tuple[ActorStatus, ...]
    queued: int
    lost: str = ""  # how the last actor that died went

    def write(self, path: Path) -> None:
        write_text_atomic(path, json.dumps(dataclasses.asdict(self), indent=1))

    @classmethod
    def read(cls, path: Path) -> FarmStatus:
        """ValueError or OSError when the file cannot be read as a status."""
        body = loads_limited(path.read_bytes(), str(path))
        try:
            actors = tuple(ActorStatus(**{**a, "models": tuple(a["models"])}) for a in body.pop("actors"))
            return cls(actors=actors, **body)
        except (TypeError, KeyError, AttributeError) as err:
            raise ValueError(f"{path} is not a farm status: {err}") from None
