"""The farm's head: `istar serve`'s protocol over TCP (engine.service.tcp), its jobs run on the farm's engine actors.

A studio or an `istar` command reaches it as it reaches a served engine: an address and a token file. The clients'
files live in the head's jobs folder as with `istar serve`; the actors get a job's input files as bytes and send its
outputs back the same way (engine.farm.dispatch), so they may be on other machines. Run by `istar farm start` as
`python -m engine.farm.head`, connected to the Ray cluster at `--ray`; it writes its status (engine.farm.status) to
`--status` at every change, and its actors die with it. Every WATCH_INTERVAL seconds it lets the actors that died
while idle go and, with an actor per GPU (no `--actors`), starts an actor on each GPU that none holds: a machine that
joins the cluster is used without a restart, and a GPU whose actor died gets a new one. With `--actors N` it starts
new actors until N are alive again.
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from engine.api.server_address import parse_address, read_token
from engine.farm import FarmError, import_ray
from engine.farm.dispatch import FarmJobs
from engine.farm.pool import free_gpus, start_actors
from engine.service.engine_main import LOG_FORMAT
from engine.service.served_files import JobsFolder
from engine.service.tcp import serve_jobs

log = logging.getLogger("istar.farm")
WATCH_INTERVAL = 10.0  # seconds between looks at the actors and at GPUs that none holds


def serve_farm(host: str, port: int, token: str, jobs: FarmJobs, folder: JobsFolder,
               ready: Callable[[int], None] | None = None) -> None:
    """Serve the farm's `jobs` at `host:port` (0: any free port; `ready(port)` once listening) until interrupted."""

    def listening(bound: int) -> None:
        jobs.address = f"{host}:{bound}"
        jobs.publish()
        log.info("the farm serves %d engine actor(s) at %s", len(jobs.slots), jobs.address)
        if ready is not None:
            ready(bound)

    serve_jobs(host, port, token, jobs, listening, jobs_folder=folder)


def watch(jobs: FarmJobs, threads: int | None, actors: int | None) -> None:
    """Now and then, forever: `look_after` the farm."""
    while True:
        time.sleep(WATCH_INTERVAL)
        try:
            look_after(jobs, threads, actors)
        except Exception:  # a cluster that does not answer now may answer next time: the watch goes on
            log.exception("the farm's watch failed; it looks again in %g s", WATCH_INTERVAL)


def look_after(jobs: FarmJobs, threads: int | None, actors: int | None) -> None:
    """Let the actors that died while idle go, then start new ones: on every GPU of the cluster that none holds
    (`actors` None), or as many as bring the live actors back to `actors`."""
    jobs.check_idle()
    missing = free_gpus() if actors is None else actors - sum(s.alive for s in jobs.slots)
    if missing <= 0:
        return
    try:
        slots = start_actors(missing, threads, first=len(jobs.slots) + 1)
    except FarmError as err:
        log.warning("cannot start %d more engine actor(s): %s", missing, err)
        return
    log.info("%d more engine actor(s), for GPUs that joined or actors that died", len(slots))
    jobs.add(slots)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m engine.farm.head")
    parser.add_argument("--ray", default="auto", help="the Ray cluster's address (default: the one on this machine)")
    parser.add_argument("--listen", required=True, help="HOST:PORT to serve the studio at")
    parser.add_argument("--token-file", type=Path, required=True)
    parser.add_argument("--jobs-folder", type=Path, required=True)
    parser.add_argument("--keep-hours", type=float, required=True)
    parser.add_argument("--status", type=Path, required=True)
    parser.add_argument("--actors", type=int, default=None, help="CPU engine actors (default: one per GPU)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads per actor")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT, stream=sys.stderr)
    try:
        host, port = parse_address(args.listen)
        token = read_token(args.token_file, create=True)
        ray = import_ray()
        try:
            ray.init(address=args.ray, include_dashboard=False, log_to_driver=False)
        except (ConnectionError, RuntimeError) as err:
            raise FarmError(f"cannot reach the Ray cluster at {args.ray}: {err}") from None
        jobs = FarmJobs(start_actors(args.actors, args.threads), on_change=lambda status: status.write(args.status))
        threading.Thread(target=watch, args=(jobs, args.threads, args.actors), name="farm-watch",
                         daemon=True).start()
        serve_farm(host, port, token, jobs, JobsFolder(args.jobs_folder, args.keep_hours * 3600))
    except (FarmError, ValueError, OSError) as err:
        log.error("the farm cannot start: %s", err)
        return 2
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
