"""A client with its events in a queue, for tests that talk to a real engine, and an engine process spoken to in
raw lines, for tests that send it what no client would."""

from __future__ import annotations

import contextlib
import queue
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from engine.api import protocol as p
from engine.api.client import EngineClient
from engine.api.job_book import JobBook
from engine.api.jobs import JobSpec
from engine.api.transport import LocalEngine, Transport

PROMPT = "a red circle moves to the right on a blue background"


def toyworld_job(folder: Path, name: str, seconds: int = 1, **fields) -> JobSpec:
    fields.setdefault("prompts", (PROMPT,))
    return JobSpec(kind=fields.pop("kind", "generate"), model="toyworld", output=str(folder / f"{name}.mp4"),
                   seconds=seconds, seed=fields.pop("seed", 3), device="cpu", **fields)


@contextlib.contextmanager
def engine_lines(log: Path) -> Iterator[tuple[LocalEngine, Iterator[bytes], p.Message]]:
    """An engine process of its own, its lines and its first message (the Ready), read already. The process is
    closed on leaving, however the test ends."""
    engine = LocalEngine(log)
    try:
        lines = iter(engine.lines())
        yield engine, lines, p.decode(next(lines))
    finally:
        engine.close(10)


class Session:
    def __init__(self, log: Path, queue_file: JobBook | None = None,
                 connect: Callable[[], Transport] | None = None) -> None:
        self.events: queue.Queue[p.Message] = queue.Queue()
        self.client = EngineClient(connect or (lambda: LocalEngine(log)), self.events.put, queue_file)

    def next(self, timeout: float = 120) -> p.Message:
        return self.events.get(timeout=timeout)

    def until_end(self, job_id: str, timeout: float = 180) -> list[p.Message]:
        """Every event up to and including `job_id`'s last one."""
        seen, deadline = [], time.monotonic() + timeout
        while True:
            message = self.next(max(0.1, deadline - time.monotonic()))
            seen.append(message)
            if isinstance(message, p.TERMINAL) and message.job_id == job_id:
                return seen

    def close(self) -> None:
        self.client.close()
