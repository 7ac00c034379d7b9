"""A farm served on the tests' Ray cluster as `istar farm start` serves one, and a studio session connected to it."""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass
from pathlib import Path

from engine_session import Session

from engine.api.server_address import read_token
from engine.api.transport import RemoteEngine
from engine.farm.dispatch import FarmJobs
from engine.farm.head import serve_farm
from engine.farm.pool import start_actors
from engine.farm.status import ActorStatus
from engine.service.served_files import JobsFolder


@dataclass
class Farm:
    port: int
    token: str
    jobs: FarmJobs
    folder: Path  # the client's own folder: its jobs' outputs land here

    def session(self) -> Session:
        return Session(self.folder / "unused.log", connect=lambda: RemoteEngine("127.0.0.1", self.port, self.token))

    def actor_of(self, job_id: str) -> ActorStatus:
        return next(a for a in self.jobs.status().actors if a.job == job_id)

    def stop_actors(self) -> None:
        """Kill its engine actors, giving their CPU slots back to the cluster for the tests after."""
        import ray

        for slot in self.jobs.slots:
            ray.kill(slot.handle)


def start_farm(tmp: Path, actors: int) -> Farm:
    """A farm of `actors` fresh engine actors, served on a free port of this machine; its files under `tmp`."""
    token = read_token(tmp / "token", create=True)
    jobs = FarmJobs(start_actors(actors, threads=1))
    ports: queue.Queue[int] = queue.Queue()
    threading.Thread(target=serve_farm, args=("127.0.0.1", 0, token, jobs, JobsFolder(tmp / "head", 3600)),
                     kwargs={"ready": ports.put}, daemon=True).start()
    port = ports.get(timeout=60)
    mine = tmp / "client"
    mine.mkdir()
    return Farm(port, token, jobs, mine)
