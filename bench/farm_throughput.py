"""The render farm on this machine with toyworld: throughput on 2 engine actors against 1, the farm's overhead for one
job against the local engine process, and a kill -9 of an actor during a batch.

Usage (from the repository root, with the farm extra installed):
    OMP_NUM_THREADS=1 PYTHONPATH=. python bench/farm_throughput.py [--jobs 16] [--seconds 2] [--single 10]
        [--kill-batch 10]

A local Ray cluster runs in this process with CPU slots; each actor runs torch on one thread. Every farm is served
over TCP on this machine and used through the studio's client (engine.api.client with a RemoteEngine), as a studio
would use it, so the times include the protocol, the files sent back and Ray.
- throughput: `--jobs` independent jobs of `--seconds` submitted at once, until all finished, on a farm of 1 actor
  and then of 2 actors, each warmed first (every actor holds the model). Goal: 2 actors / 1 actor >= 1.7x.
- overhead: `--single` single jobs, one at a time, alternating between the local engine process (warm) and a farm
  of 1 actor (warm); the median of each and of their per-job ratio.
- kill: `--kill-batch` jobs on a farm of 2 actors; once the first has made a pass, its actor is killed with SIGKILL.
  Every job must still finish (the killed one on the other actor).
"""

from __future__ import annotations

import argparse
import os
import queue
import signal
import statistics
import tempfile
import threading
import time
from pathlib import Path

import ray

from engine.api import protocol as p
from engine.api.client import EngineClient
from engine.api.jobs import JobSpec
from engine.api.server_address import read_token
from engine.api.transport import LocalEngine, RemoteEngine
from engine.farm.dispatch import FarmJobs
from engine.farm.head import serve_farm
from engine.farm.pool import start_actors
from engine.service.served_files import JobsFolder

PROMPT = "a red circle moves to the right on a blue background"
GOAL = 1.7


class Bench:
    def __init__(self, folder: Path, seconds: int) -> None:
        self.folder = folder
        self.seconds = seconds
        self.token = read_token(folder / "token", create=True)
        self._count = 0

    def spec(self) -> JobSpec:
        self._count += 1
        return JobSpec(kind="generate", model="toyworld", output=str(self.folder / f"job{self._count}.mp4"),
                       prompts=(PROMPT,), seconds=self.seconds, seed=self._count, device="cpu")

    def farm(self, actors: int) -> tuple[FarmJobs, EngineClient, queue.Queue]:
        """A farm of `actors` fresh actors served on a free port, and a client of it."""
        jobs = FarmJobs(start_actors(actors, threads=1))
        ports: queue.Queue[int] = queue.Queue()
        head = JobsFolder(self.folder / f"head{self._count}", 3600)
        threading.Thread(target=serve_farm, args=("127.0.0.1", 0, self.token, jobs, head),
                         kwargs={"ready": ports.put}, daemon=True).start()
        port = ports.get(timeout=60)
        events: queue.Queue = queue.Queue()
        client = EngineClient(lambda: RemoteEngine("127.0.0.1", port, self.token), events.put)
        return jobs, client, events


def batch(client: EngineClient, events: queue.Queue, specs: list[JobSpec],
          on_event=lambda message: None) -> tuple[float, dict[str, p.Message]]:
    """Submit `specs` at once; (seconds until all ended, each job's last event)."""
    start = time.perf_counter()
    for spec in specs:
        client.submit(spec)
    ended: dict[str, p.Message] = {}
    while len(ended) < len(specs):
        message = events.get(timeout=600)
        on_event(message)
        if isinstance(message, p.TERMINAL) and message.job_id is not None:
            ended[message.job_id] = message
    return time.perf_counter() - start, ended


def finished(ended: dict[str, p.Message]) -> int:
    return sum(isinstance(m, p.Finished) for m in ended.values())


def stop(jobs: FarmJobs, client: EngineClient) -> None:
    client.close()
    for slot in jobs.slots:
        ray.kill(slot.handle)


def throughput(bench: Bench, actors: int, count: int) -> float:
    jobs, client, events = bench.farm(actors)
    batch(client, events, [bench.spec() for _ in range(actors)])  # warm: each actor loads the model
    seconds, ended = batch(client, events, [bench.spec() for _ in range(count)])
    stop(jobs, client)
    if finished(ended) != count:
        raise RuntimeError(f"only {finished(ended)} of {count} jobs finished on {actors} actor(s)")
    print(f"  {actors} actor(s): {count} jobs in {seconds:.2f} s ({count / seconds:.3f} jobs/s)")
    return seconds


def overhead(bench: Bench, count: int) -> None:
    jobs, farm_client, farm_events = bench.farm(1)
    local_events: queue.Queue = queue.Queue()
    local = EngineClient(lambda: LocalEngine(bench.folder / "engine.log"), local_events.put)
    ways = {"local engine": (local, local_events), "farm, 1 actor": (farm_client, farm_events)}
    for client, events in ways.values():  # warm
        batch(client, events, [bench.spec()])
    times: dict[str, list[float]] = {way: [] for way in ways}
    for r in range(count):
        order = list(ways) if r % 2 == 0 else list(reversed(ways))
        for way in order:
            seconds, ended = batch(*ways[way], [bench.spec()])
            if finished(ended) != 1:
                raise RuntimeError(f"a job on the {way} did not finish: {ended}")
            times[way].append(seconds)
    local.close()
    stop(jobs, farm_client)
    for way, values in times.items():
        print(f"  {way}: {statistics.median(values):.3f} s median per job ({count} jobs)")
    ratios = [f / e for f, e in zip(times["farm, 1 actor"], times["local engine"], strict=True)]
    extra = [f - e for f, e in zip(times["farm, 1 actor"], times["local engine"], strict=True)]
    print(f"  farm / local engine, per job: {statistics.median(ratios):.3f} median "
          f"({statistics.median(extra) * 1000:+.0f} ms)")


def kill_during_batch(bench: Bench, count: int) -> bool:
    jobs, client, events = bench.farm(2)
    batch(client, events, [bench.spec() for _ in range(2)])  # warm
    killed: list[int] = []

    def kill_once(message: p.Message) -> None:
        if killed or not isinstance(message, p.Progress):
            return
        actor = next((a for a in jobs.status().actors if a.job == message.job_id), None)
        if actor is None:  # that job ended meanwhile: the next one's pass
            return
        os.kill(actor.pid, signal.SIGKILL)
        killed.append(actor.pid)

    seconds, ended = batch(client, events, [bench.spec() for _ in range(count)], kill_once)
    lost = [a.name for a in jobs.status().actors if not a.alive]
    stop(jobs, client)
    failures = [f"{m.kind}: {m.message}" for m in ended.values() if isinstance(m, p.Failed)]
    print(f"  killed actor pid {killed[0] if killed else '-'} ({', '.join(lost) or 'none lost'}); "
          f"{finished(ended)} of {count} finished in {seconds:.2f} s" + "".join(f"\n    {f}" for f in failures))
    return finished(ended) == count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=16, help="independent jobs per throughput run (default 16)")
    parser.add_argument("--seconds", type=int, default=2, help="each job's video length (default 2)")
    parser.add_argument("--single", type=int, default=10, help="single jobs per way for the overhead (default 10)")
    parser.add_argument("--kill-batch", type=int, default=10, help="jobs in the batch an actor dies in (default 10)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="istar-farm-bench-"))
    os.environ["ISTAR_HOME"] = str(folder / "home")  # the actors' and the local engine's work folders
    load_before = os.getloadavg()[0]
    ray.init(num_cpus=4, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"ISTAR_HOME": os.environ["ISTAR_HOME"], "OMP_NUM_THREADS": "1"}})
    bench = Bench(folder, args.seconds)
    try:
        print(f"toyworld, {args.seconds} s jobs, one torch thread per actor, {os.cpu_count()} CPUs, "
              f"load average {load_before:.1f} before")
        print("throughput:")
        one = throughput(bench, 1, args.jobs)
        two = throughput(bench, 2, args.jobs)
        print(f"  2 actors / 1 actor = {one / two:.2f}x (goal >= {GOAL}x): {'met' if one / two >= GOAL else 'NOT met'}")
        print("overhead of the farm for one job:")
        overhead(bench, args.single)
        print(f"kill -9 of an actor during a batch of {args.kill_batch}:")
        survived = kill_during_batch(bench, args.kill_batch)
        print(f"  all {args.kill_batch} finished: {'yes' if survived else 'NO'}")
        print(f"load average {os.getloadavg()[0]:.1f} after")
    finally:
        ray.shutdown()


if __name__ == "__main__":
    main()
