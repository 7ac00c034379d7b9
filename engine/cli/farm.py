"""`istar farm start | status | stop`: a render farm on this machine's Ray cluster, served to the studio.

`start` starts a Ray head here (`ray start --head`), then the farm's head process (engine.farm.head) in the
background with its engine actors: one per GPU of the cluster, or `--actors N` CPU slots. The studio reaches it as a
served engine, by its address and token file. Other GPU machines join the cluster with `ray start --address=...`
(printed by `start`). What runs is kept in `farm/` of the studio folder: the head's process id and addresses
(state.json), its status (status.json, engine.farm.status), its log and, by default, its token.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from engine.api.json_text import loads_limited
from engine.atomic import pid_alive, write_text_atomic
from engine.farm import FarmError, import_ray
from engine.farm.status import FarmStatus
from engine.home import studio_home
from engine.service.served_files import DEFAULT_KEEP_HOURS

DEFAULT_LISTEN = "127.0.0.1:7870"
DEFAULT_RAY_PORT = 6379
START_TIMEOUT = 600.0  # seconds for the head to start every actor (each imports torch and the engine)
STOP_TIMEOUT = 20.0
LOG_TAIL = 12


def farm_folder() -> Path:
    return studio_home() / "farm"


@dataclass(frozen=True)
class _State:
    """The farm `start` started: the head's process, where it serves, its token, Ray's port."""

    pid: int
    listen: str
    token_file: str
    ray_port: int

    @classmethod
    def read(cls) -> _State | None:
        path = farm_folder() / "state.json"
        try:
            return cls(**loads_limited(path.read_bytes(), str(path)))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, TypeError) as err:
            raise FarmError(f"cannot read {path} ({err}): remove it if no farm runs") from None


def _ray_env() -> dict[str, str]:
    """Ray's processes and the head check every connection with Ray's token (~/.ray/auth_token, made by `start`)."""
    return {**os.environ, "RAY_AUTH_MODE": "token"}


def _ray(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ray.scripts.scripts", *args], capture_output=True, text=True,
                          check=False, env=_ray_env())


def _tail(path: Path) -> str:
    try:
        return "\n  ".join(path.read_text(errors="replace").splitlines()[-LOG_TAIL:])
    except OSError:
        return "(no log)"


def _start(args: argparse.Namespace) -> int:
    import_ray()
    state = _State.read()
    if state is not None and pid_alive(state.pid):
        raise FarmError(f"a farm already runs here (at {state.listen}): see `istar farm status`")
    if args.actors is not None and args.actors < 1:
        raise FarmError(f"--actors must be at least 1, got {args.actors}")
    folder = farm_folder()
    folder.mkdir(parents=True, exist_ok=True)
    status = folder / "status.json"
    status.unlink(missing_ok=True)
    head = ["--head", f"--port={args.ray_port}", "--include-dashboard=false", "--disable-usage-stats"]
    if args.actors is not None:  # an actor holds a CPU: make room for as many as asked
        head.append(f"--num-cpus={max(args.actors, os.cpu_count() or 1)}")
    token = _ray("get-auth-token", "--generate")
    if token.returncode != 0:
        raise FarmError(f"cannot make Ray's token:\n  {(token.stderr or token.stdout).strip()[-2000:]}")
    started = _ray("start", *head)
    if started.returncode != 0:
        raise FarmError(f"`ray start --head` failed:\n  {(started.stderr or started.stdout).strip()[-2000:]}")
    log = folder / "head.log"
    token_file = args.token_file or folder / "token"
    command = [sys.executable, "-m", "engine.farm.head", f"--ray=127.0.0.1:{args.ray_port}", f"--listen={args.listen}",
               f"--token-file={token_file}", f"--jobs-folder={args.jobs_folder or folder / 'served'}",
               f"--keep-hours={args.keep_hours}", f"--status={status}"]
    command += [f"--actors={args.actors}"] if args.actors is not None else []
    command += [f"--threads={args.threads}"] if args.threads is not None else []
    with log.open("ab") as out:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True,
                                   cwd=Path(__file__).resolve().parents[2], env=_ray_env())
    write_text_atomic(folder / "state.json",
                      json.dumps(asdict(_State(process.pid, args.listen, str(token_file), args.ray_port))))
    deadline = time.monotonic() + START_TIMEOUT
    while not status.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            _stop_all()
            raise FarmError(f"the farm's head did not start; its log ({log}) ends:\n  {_tail(log)}")
        time.sleep(0.5)
    farm = FarmStatus.read(status)
    print(f"the farm serves {len(farm.actors)} engine actor(s) at {farm.address}; token in {token_file}")
    print(f"studio: Edit > Engine... > On a server, address {farm.address}, that token file")
    print(f"to add a GPU machine: copy ~/.ray/auth_token to it, then run there: RAY_AUTH_MODE=token ray start "
          f"--address={socket.gethostname()}:{args.ray_port} (see the README)")
    return 0


def _status(args: argparse.Namespace) -> int:
    state = _State.read()
    if state is None:
        print("no farm runs here (istar farm start)")
        return 1
    if not pid_alive(state.pid):
        print(f"the farm's head stopped (its log: {farm_folder() / 'head.log'}); `istar farm stop` stops the rest, "
              "then `istar farm start` starts it again")
        return 1
    try:
        farm = FarmStatus.read(farm_folder() / "status.json")
    except (OSError, ValueError):
        print(f"the farm is starting (head process {state.pid}); its log: {farm_folder() / 'head.log'}")
        return 0
    print(f"farm at {farm.address} (token in {state.token_file}), Ray on port {state.ray_port}")
    for actor in farm.actors:
        held = ", ".join(actor.models) or "no model"
        doing = "lost" if not actor.alive else f"running job {actor.job}" if actor.job else "free"
        print(f"  {actor.name}  {actor.host}  {actor.device}  pid {actor.pid}  holds {held}  {doing}")
    print(f"  {farm.queued} job(s) waiting")
    if farm.lost:
        print(f"  last actor lost: {farm.lost}")
    return 0


def _stop(args: argparse.Namespace) -> int:
    state = _State.read()
    if state is None:
        print("no farm runs here")
        return 0
    _stop_all()
    print("the farm is stopped")
    return 0


def _stop_all() -> None:
    """Stop the head (its actors die with it), then this machine's Ray processes, and forget the farm."""
    state = _State.read()
    if state is not None and pid_alive(state.pid):
        os.kill(state.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        while pid_alive(state.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        if pid_alive(state.pid):
            os.kill(state.pid, getattr(signal, "SIGKILL", signal.SIGTERM))  # Windows has no SIGKILL; SIGTERM kills
    _ray("stop")
    for name in ("state.json", "status.json"):
        (farm_folder() / name).unlink(missing_ok=True)


def register(sub: argparse._SubParsersAction) -> None:
    farm = sub.add_parser("farm", help="a render farm of engines on every GPU of a Ray cluster (pip install .[farm])")
    commands = farm.add_subparsers(dest="farm_command", required=True)
    start = commands.add_parser("start", help="start a Ray head and the farm here; other machines join it")
    start.add_argument("--actors", type=int, default=None,
                       help="engine actors on CPU slots (default: one per GPU of the cluster)")
    start.add_argument("--threads", type=int, default=None, help="torch CPU threads per actor (default: torch's)")
    start.add_argument("--listen", default=DEFAULT_LISTEN, help=f"HOST:PORT the studio connects to (default "
                                                                 f"{DEFAULT_LISTEN}, this machine only)")
    start.add_argument("--token-file", type=Path, default=None,
                       help="clients must send the token in this file; a new one is written if it does not exist "
                            "(default: farm/token in the studio folder)")
    start.add_argument("--ray-port", type=int, default=DEFAULT_RAY_PORT, help="the Ray head's port (default 6379)")
    start.add_argument("--jobs-folder", type=Path, default=None,
                       help="where the clients' files and their jobs' outputs are kept (default: farm/served)")
    start.add_argument("--keep-hours", type=float, default=DEFAULT_KEEP_HOURS,
                       help=f"remove the files of jobs not used for this long (default {DEFAULT_KEEP_HOURS:g})")
    start.set_defaults(run=_start)
    commands.add_parser("status", help="the farm's actors, the models they hold and their jobs").set_defaults(
        run=_status)
    commands.add_parser("stop", help="stop the farm and this machine's Ray processes").set_defaults(run=_stop)
