"""Kill things with SIGKILL in loops and count what was lost (the answer should be: nothing).

Usage (from the repository root; POSIX: it sends SIGKILL):
    PYTHONPATH=. OMP_NUM_THREADS=1 python bench/fault_loops.py [--saves 20] [--engines 20] [--clients 20] [--seed 0]

(a) saves: a child process saves a real-sized project (300 generated media with their provenance, ~1,500 clips,
    about 4 MB of JSON) over and over, each save a new version, the way the studio saves (save_project), and is
    killed at a random moment. Then: the project file is the last saved version or the one being saved, and whole;
    backups 1..5 are all there (no gap) and each loads; no version among the last five saved is lost; after the next
    start (what the studio does on open: clean_leftovers, then load) no temp file of ours is left, and look-alike
    files that are not ours are all still there.
(b) engines: a job runs in an engine process through the client the studio uses (EngineClient, LocalEngine) and the
    engine is killed at a random moment of it. Then: the job fails as "crashed"; the clips it had finished play, and
    its bits file reads with as many clips; its video, never finished, is not there; the next job gets a fresh
    engine and finishes; no temp file is left in the output folder; every video finished in earlier rounds plays.
(c) clients: `istar serve` runs, and a client (`istar generate --engine`) is killed at a random moment of its job,
    which may be while its files come over the connection. Then: the server still runs and serves the next client's
    job, whose video plays; no half-received file of the killed client is left once the next job in its folder is
    sent.

Each part prints one line per round and a summary; the exit status is 1 if anything was lost.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import queue
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROMPT = "a red circle moves to the right on a blue background"
BACKUPS = 5


# -- (a) saves -----------------------------------------------------------------------------------------------------


def big_project(folder: Path, version: int):
    """A project the size of a long edit: 300 generated clips' media, each with its provenance, on four tracks."""
    from desktop.project.model import Clip, MediaItem, Project, Track

    media_folder = folder / "film.media"
    project = Project(fps=16, width=1280, height=720)
    provenance = {"model": "toyworld", "seed": 0, "prompt": PROMPT * 8, "settings": {f"k{i}": i for i in range(200)},
                  "passes": [[i, i * 2, i * 3] for i in range(120)]}
    project.media = {
        f"m{i}": MediaItem(f"m{i}", media_folder / f"gen-{i:04d}.mp4", "video", 5.0, 16, 1280, 720, False,
                           {**provenance, "seed": i})
        for i in range(300)
    }
    project.tracks = [
        Track(f"v{t}", "video", f"Video {t}", clips=[Clip(f"c{t}-{i}", f"m{(i + t) % 300}", i * 80, 80)
                                                      for i in range(375)])
        for t in range(4)
    ]
    project.tracks[0].name = f"version {version}"
    return project


def version_of(path: Path) -> int:
    """The version a save wrote into the file (raises if the file is not a whole, valid project)."""
    from desktop.project.file import load_project

    return int(load_project(path).tracks[0].name.removeprefix("version "))


def save_child(path: Path, first: int, fsync_delay: float) -> None:
    """In the child: save versions first, first + 1, ... until killed, saying each one once saved. With
    `fsync_delay`, every fsync takes that much longer, as on a slow disk (a USB stick, a network share)."""
    from desktop.project.file import save_project

    if fsync_delay:
        real_fsync = os.fsync
        os.fsync = lambda fd: (time.sleep(fsync_delay), real_fsync(fd))[1]
    project = big_project(path.parent, first)
    print("ready", flush=True)
    version = first
    while True:
        project.tracks[0].name = f"version {version}"
        save_project(project, path)
        print(f"saved {version}", flush=True)
        version += 1


def ours(folder: Path) -> list[Path]:
    """Temp files named as engine.atomic names them, anywhere below `folder`."""
    from engine.atomic import _TEMP_NAME

    return [p for p in folder.rglob("*") if _TEMP_NAME.match(p.name)]


def save_loops(rounds: int, rng: random.Random, work: Path, slow_fsync: float) -> bool:
    from desktop.generate.outputs import media_folder
    from desktop.project.file import backup_path, clean_leftovers, save_project
    from engine.atomic import host_tag

    folder = work / "saves"
    path = folder / "film.istar"
    media = media_folder(path)
    media.mkdir(parents=True)
    for version in range(BACKUPS + 1):  # a history to keep: the file and five backups
        save_project(big_project(folder, version), path)
    size = path.stat().st_size
    decoys = {folder / "notes.tmp": b"a user's file", folder / ".film.istar.1.abcdefgh.tmp": b"no host tag",
              media / f"film.istar.1@{host_tag()}.abcdefgh.tmp": b"not hidden", media / "gen-0001.mp4": b"video"}
    for decoy, data in decoys.items():
        decoy.write_bytes(data)
    last = BACKUPS
    print(f"(a) saves: a {size / 1e6:.1f} MB project saved over and over by a child process, killed at a random "
          f"moment of a save, {rounds} times; odd rounds on a slow disk (each fsync {slow_fsync * 1000:.0f} ms "
          f"longer), where a kill lands in the file writes more often", flush=True)
    losses, temps_found, temp_bytes = 0, 0, 0
    phases = {"encoding": 0, "writing": 0, "renamed": 0}
    for round in range(rounds):
        delay = slow_fsync if round % 2 else 0.0
        child = subprocess.Popen([sys.executable, __file__, "--save-child", str(path), str(last + 1), str(delay)],
                                 stdout=subprocess.PIPE, text=True, cwd=ROOT)
        assert child.stdout.readline() == "ready\n"
        lines: list[tuple[float, str]] = []

        def read(child=child, lines=lines) -> None:
            for line in child.stdout:
                lines.append((time.monotonic(), line))

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        while len(lines) < 2:  # two saves done: the time one takes here, this round
            time.sleep(0.01)
        (t1, _), (t2, _) = lines[:2]
        time.sleep(max(0.0, t2 + rng.uniform(0, t2 - t1) - time.monotonic()))  # a random moment of the next save
        child.send_signal(signal.SIGKILL)
        child.wait()
        reader.join()
        saved = [int(line.split()[1]) for _, line in lines if line.startswith("saved ")]
        last = max(saved)
        killed = last + 1  # the version being saved
        problems = []
        try:
            now = version_of(path)
            if now not in (last, last + 1):
                problems.append(f"the file holds version {now}, not {last} or {last + 1}")
        except Exception as err:  # noqa: BLE001 - any failure to load is a loss
            problems.append(f"the file does not load: {err}")
            now = None
        names = sorted(p.name for p in folder.iterdir() if p.name.startswith("film.istar.bak"))
        if names != [backup_path(path, n).name for n in range(1, BACKUPS + 1)]:
            problems.append(f"backups {names}")
        backups = []
        for n in range(1, BACKUPS + 1):
            try:
                backups.append(version_of(backup_path(path, n)))
            except Exception as err:  # noqa: BLE001
                problems.append(f"backup {n} does not load: {err}")
        missing = set(range(last - BACKUPS + 1, last + 1)) - {now, *backups}
        if missing:
            problems.append(f"versions {sorted(missing)} lost")
        left = ours(folder)
        left_bytes = sum(p.stat().st_size for p in left)
        temps_found += len(left)
        temp_bytes += left_bytes
        phase = "renamed" if now == last + 1 else "writing" if left else "encoding"
        phases[phase] += 1
        last = max(last, now or 0)  # renamed but not yet said: that version is saved, the next child goes on after it
        # the next start: what the studio does when it opens the project
        clean_leftovers(path, media)
        version_of(path)
        if ours(folder):
            problems.append(f"temp files left after the next start: {[p.name for p in ours(folder)]}")
        if any(not d.exists() or d.read_bytes() != data for d, data in decoys.items()):
            problems.append("a file that is not ours was touched")
        losses += bool(problems)
        print(f"  {round + 1:2d}: {'slow disk, ' if delay else ''}killed {phase} v{killed}: file v{now}, backups "
              f"v{backups}, {len(left)} temp files ({left_bytes / 1e6:.1f} MB) -> "
              f"removed on the next start" + ("; " + "; ".join(problems) if problems else ""), flush=True)
    print(f"(a) {rounds} kills: {losses} with a loss. Killed while encoding {phases['encoding']}, while writing the "
          f"file or turning the backups over {phases['writing']}, after the rename {phases['renamed']}; "
          f"{temps_found} temp files ({temp_bytes / 1e6:.1f} MB) left by the kills, all removed on the next start, "
          f"no other file touched", flush=True)
    return losses == 0


# -- (b) engines ---------------------------------------------------------------------------------------------------


def toyworld_job(folder: Path, name: str, seconds: int, seed: int):
    from engine.api.jobs import JobSpec

    return JobSpec(kind="generate", model="toyworld", output=str(folder / f"{name}.mp4"), prompts=(PROMPT,),
                   seconds=seconds, seed=seed, device="cpu")


def plays(video: str | Path) -> bool:
    from engine.media.mp4 import read_frames

    try:
        return len(read_frames(video)[0]) > 0
    except Exception:  # noqa: BLE001 - any failure to play is a loss
        return False


def until(events: queue.Queue, job_id: str, timeout: float = 600) -> list:
    from engine.api import protocol as p

    seen, deadline = [], time.monotonic() + timeout
    while True:
        message = events.get(timeout=max(0.1, deadline - time.monotonic()))
        seen.append(message)
        if isinstance(message, p.TERMINAL) and getattr(message, "job_id", None) == job_id:
            return seen


def engine_loops(rounds: int, rng: random.Random, work: Path) -> bool:
    from engine.api import protocol as p
    from engine.api.client import EngineClient
    from engine.api.job_book import JobBook
    from engine.api.transport import LocalEngine
    from engine.media.layout import bits_path, clips_folder
    from engine.pipeline.bits import read_bits

    out = work / "engine"
    out.mkdir()
    events: queue.Queue = queue.Queue()
    book = work / "queue.json"
    client = EngineClient(lambda: LocalEngine(work / "engine.log"), events.put, JobBook(book))
    finished: list[Path] = []
    try:
        warm = toyworld_job(out, "warm", 6, 0)  # the engine's start and model load, not timed
        client.submit(warm)
        assert isinstance(until(events, warm.id)[-1], p.Finished)
        t0 = time.monotonic()
        probe = toyworld_job(out, "probe", 6, 1)
        client.submit(probe)
        assert isinstance(until(events, probe.id)[-1], p.Finished)
        job_s = time.monotonic() - t0
        finished += [Path(warm.output), Path(probe.output)]
        print(f"(b) engines: a 6 s toyworld job takes {job_s:.1f} s here; killing the engine at a random moment of "
              f"one, {rounds} times", flush=True)
        losses, clips_kept, missed, temps_found = 0, 0, 0, 0
        for round in range(rounds):
            doomed = toyworld_job(out, f"doomed{round}", 6, 10 + round)
            after = toyworld_job(out, f"after{round}", 1, 100 + round)
            client.submit(doomed)
            clips: list[str] = []
            while not isinstance(event := events.get(timeout=600), p.Started):
                pass
            at = rng.uniform(0, job_s * 0.9)  # seconds into the job (its engine was started for it: a model load)
            killed_at = time.monotonic() + at
            while time.monotonic() < killed_at:
                with contextlib.suppress(queue.Empty):
                    event = events.get(timeout=max(0.0, killed_at - time.monotonic()))
                    if isinstance(event, p.ClipReady) and event.job_id == doomed.id:
                        clips.append(event.video)
                    if isinstance(event, p.TERMINAL) and event.job_id == doomed.id:
                        break
            pid = client.transport.pid if client.transport is not None else None
            ended = isinstance(event, p.TERMINAL) and event.job_id == doomed.id
            if pid is not None and not ended:
                os.kill(pid, signal.SIGKILL)
                for event in until(events, doomed.id):
                    if isinstance(event, p.ClipReady):
                        clips.append(event.video)
            problems = []
            record = JobBook.open(book).get(doomed.id)
            missed += ended  # the job ended before the kill: not a test of a kill, but checked all the same
            if not ended and not (isinstance(event, p.Failed) and event.kind == "crashed" and record.state == "failed"):
                problems.append(f"ended as {event!r}, recorded {record.state}")
            # every clip it said was ready, and any it wrote after (the kill can come before the event is read)
            on_disk = sorted(clips_folder(doomed.output).glob("clip_*.mp4"))
            if not set(map(Path, clips)) <= set(on_disk) or not all(plays(c) for c in on_disk):
                problems.append("a finished clip does not play")
            if on_disk:
                try:
                    _, bits = read_bits(bits_path(doomed.output))  # continuable from its last finished clip
                    if len([b for b in bits if not b.context]) < len(clips):
                        problems.append(f"its bits hold {len(bits)} clips, {len(clips)} were finished")
                except Exception as err:  # noqa: BLE001
                    problems.append(f"its bits do not read: {err}")
            if Path(doomed.output).exists() != ended or (ended and not plays(doomed.output)):
                problems.append("a video appeared for a job that never finished, or a finished one's is bad")
            left = ours(out)  # the killed writers' temp files, for the next job into the folder to remove
            temps_found += len(left)
            client.submit(after)
            end = until(events, after.id)[-1]
            if not (isinstance(end, p.Finished) and plays(after.output)):
                problems.append(f"the next job ended as {end!r}")
            finished.append(Path(after.output))
            if ours(out):
                problems.append(f"temp files left after the next job: {[f.name for f in ours(out)]}")
            if not all(plays(f) for f in finished):
                problems.append("an earlier video no longer plays")
            clips_kept += len(on_disk)
            losses += bool(problems)
            print(f"  {round + 1:2d}: killed {at:.1f} s after it started, {len(on_disk)} clips finished, "
                  f"{len(left)} temp files -> {getattr(event, 'kind', event)}; next job on a fresh engine: "
                  f"{'finished' if isinstance(end, p.Finished) else end}"
                  + ("; " + "; ".join(problems) if problems else ""), flush=True)
        print(f"(b) {rounds} engine kills: {losses} with a loss ({missed} came after the job had ended); "
              f"{clips_kept} clips finished before the kills, all playable, their bits readable; {temps_found} temp "
              f"files left by the kills, all removed when the next job wrote to the folder", flush=True)
        return losses == 0
    finally:
        client.close()


# -- (c) clients of istar serve --------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def istar(*args: str) -> list[str]:
    return [sys.executable, "-m", "engine.cli.main", *args]


def client_loops(rounds: int, rng: random.Random, work: Path) -> bool:
    out = work / "serve"
    out.mkdir()
    token, port = work / "token", free_port()
    log = (work / "serve.log").open("w")
    server = subprocess.Popen(istar("serve", "--listen", f"127.0.0.1:{port}", "--token-file", str(token),
                                    "--jobs-folder", str(work / "served")),
                              stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    engine = ["--engine", f"127.0.0.1:{port}", "--token-file", str(token), "--model", "toyworld", "--device", "cpu",
              "--prompt", PROMPT]
    try:
        deadline = time.monotonic() + 120
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"istar serve did not start: see {log.name}")
            time.sleep(0.2)
        t0 = time.monotonic()
        warm = subprocess.run(istar("generate", *engine, "--duration", "6", "--seed", "1", "-o", str(out / "warm.mp4")),
                              capture_output=True, text=True, cwd=ROOT, timeout=600)
        job_s = time.monotonic() - t0
        if warm.returncode != 0:
            raise RuntimeError(f"a client's job failed: {warm.stderr[-2000:]}")
        print(f"(c) clients: a 6 s job through `istar serve` takes {job_s:.1f} s; killing its client at a random "
              f"moment, {rounds} times", flush=True)
        losses, missed, made = 0, 0, 0
        for round in range(rounds):
            doomed = out / f"doomed{round}.mp4"
            client = subprocess.Popen(istar("generate", *engine, "--duration", "6", "--seed", str(10 + round),
                                            "-o", str(doomed)),
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
            time.sleep(rng.uniform(0.5, job_s * 0.7))
            missed += client.poll() is not None  # it had ended: not a test of a kill, but checked all the same
            client.send_signal(signal.SIGKILL)
            client.wait()
            problems = []
            after = out / f"after{round}.mp4"
            try:
                next_job = subprocess.run(istar("generate", *engine, "--duration", "1", "--seed", str(100 + round),
                                                "-o", str(after)), capture_output=True, text=True, cwd=ROOT,
                                          timeout=600)
                if next_job.returncode != 0 or not plays(after):
                    problems.append(f"the next client's job failed: {next_job.stderr.strip()[-300:]}")
            except subprocess.TimeoutExpired:
                problems.append("the next client's job did not end in 10 minutes")
            if server.poll() is not None:
                problems.append(f"the server died (exit {server.returncode})")
            if doomed.exists():
                made += 1
                if not plays(doomed):
                    problems.append("the killed client's video was made but does not play")
            if ours(out):
                problems.append(f"temp files left after the next job: {[f.name for f in ours(out)]}")
            losses += bool(problems)
            print(f"  {round + 1:2d}: client killed; server {'running' if server.poll() is None else 'DEAD'}, "
                  f"the killed client's video {'made' if doomed.exists() else 'not made'}"
                  + ("; " + "; ".join(problems) if problems else "; the next client's job finished"), flush=True)
            if server.poll() is not None:
                break
        print(f"(c) {rounds} client kills: {losses} with a loss ({missed} came after the client had ended); the "
              f"server ran on and served every next client; {made} of the killed clients' videos were made anyway",
              flush=True)
        return losses == 0
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        log.close()


def main() -> int:
    if len(sys.argv) == 5 and sys.argv[1] == "--save-child":
        save_child(Path(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saves", type=int, default=20, help="kills of a saving process (0: skip)")
    parser.add_argument("--engines", type=int, default=20, help="kills of an engine mid-job (0: skip)")
    parser.add_argument("--clients", type=int, default=20, help="kills of a client of istar serve mid-job (0: skip)")
    parser.add_argument("--slow-fsync", type=float, default=0.1,
                        help="seconds each fsync takes longer in the odd save rounds (a slow disk)")
    parser.add_argument("--seed", type=int, default=0, help="for the random moments")
    parser.add_argument("--keep", type=Path, default=None, help="work in this folder and keep it (default: a temp)")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with contextlib.ExitStack() as stack:
        work = args.keep or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="fault-loops-")))
        work.mkdir(parents=True, exist_ok=True)
        os.environ["ISTAR_HOME"] = str(work / "home")
        logging.basicConfig(level=logging.ERROR)  # the client's warning of each crash, with the engine's log tail
        os.environ.setdefault("OMP_NUM_THREADS", "1")
        results = {}
        start = time.monotonic()
        if args.saves:
            results["saves"] = save_loops(args.saves, rng, work, args.slow_fsync)
        if args.engines:
            results["engines"] = engine_loops(args.engines, rng, work)
        if args.clients:
            results["clients"] = client_loops(args.clients, rng, work)
        print(json.dumps({"nothing_lost": results, "minutes": round((time.monotonic() - start) / 60, 1)}))
        return 0 if all(results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
