"""The farm's head: `istar serve`'s protocol over TCP (engine.service.tcp), its jobs run on the farm's engine actors.

A studio or an `istar` command reaches it as it reaches a served engine: an address and a token file. The clients'
files live in the head's jobs folder as with `istar serve`; the actors get a job's input files as bytes and send its
outputs back the same way (engine.farm.dispatch), so they may be on other machines. Run by `istar farm start` as
`python -m engine.farm.head`, connected to the Ray cluster at `--ray`; it writes its status (engine.farm.status) to
`--status` at every change, and its actors die with it. Every WATCH_INTERVAL seconds it lets the actors that died
while idle go and, with an actor per GPU (no `--actors`), starts an actor on each GPU that none holds: a machine that
joins the cluster is used without a restart, and a GPU whose actor died gets a new one.
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


def watch(jobs: FarmJobs, threads: int | None, grow: bool) -> None:
    """Now and then, forever: let the actors that died while idle go, and with `grow` start an engine actor on every
    GPU of the cluster that none holds."""
    while True:
        time.sleep(WATCH_INTERVAL)
        try:
            _look(jobs, threads, grow)
        except Exception:  # a cluster that does not answer now may answer next time: the watch goes on
            log.exception("the farm's watch failed; it looks again in %g s", WATCH_INTERVAL)


def _look(jobs: FarmJobs, threads: int | None, grow: bool) -> None:
    jobs.check_idle()
    free = free_gpus() if grow else 0
    if not free:
        return
    try:
        slots = start_actors(free, threads, first=len(jobs.slots) + 1)
    except FarmError as err:
        log.warning("cannot start engine actors on %d free GPU(s): %s", free, err)
        return
    log.info("%d more engine actor(s) on GPUs that joined or were let go", len(slots))
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
        threading.Thread(target=watch, args=(jobs, args.threads, args.actors is None), name="farm-watch",
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
