"""What running jobs in the engine process costs: a toyworld job through the service vs the same job in process.

Usage (from the repository root):
    OMP_NUM_THREADS=1 PYTHONPATH=. python bench/service_overhead.py [--jobs 20] [--engines 2] [--seconds 2]

Three ways to make the same video, each with its model already loaded and warmed by two jobs (the first service job,
with the engine's start and model load, is reported separately):
- in process: run_generation, writing the MP4 and its bits (what `istar generate` did before the service);
- runner in process: the engine's JobRunner, which also writes each clip as it is decoded, called directly;
- service: submit to the engine process through the client until Finished (pipes, JSON lines, another process).
Each round runs one job of each way with the same seed, in an order that rotates from round to round, so a busy
machine and whatever one job leaves behind fall on every way alike. A job's time on this machine varies by about
+-5 % from one job to the next, so the ratios are the median over the rounds of each round's ratio (with their
quartiles), not one run's. Each job's time is split into the pipeline's own compute (sampling + decode seconds, as
its Finished event counts them) and the rest (prepare, writing the files, and for the service the protocol and
the other process). The compute is the same code on every side, yet one process may run it a few per cent faster
than another for the whole of its life, so more jobs do not average that away: the rounds are shared among
`--engines` engine processes, each started afresh, and the service's overhead is also given without it, as its
extra rest per round over the in-process job's. Goal: service / in process <= 1.05 (median of the rounds).
"""

from __future__ import annotations

import argparse
import os
import queue
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from engine.api import protocol as p
from engine.api.client import EngineClient
from engine.api.jobs import JobSpec
from engine.api.records import BitsHeader
from engine.api.transport import LocalEngine
from engine.loader import load_model
from engine.media.layout import bits_path
from engine.media.mp4 import mp4_writer
from engine.pipeline import ClipFrames, run_generation
from engine.pipeline import Finished as PipelineFinished
from engine.pipeline.bits import BitsWriter
from engine.service.prepare import prepare
from engine.service.runner import JobRunner
from engine.weights.store import ModelStore

PROMPT = "a red circle moves to the right on a blue background"
WAYS = ("in process", "runner in process", "service")
WARM_JOBS = 2

Timed = tuple[float, float]  # (wall seconds, the pipeline's sampling + decode seconds)


def in_process(model, store: ModelStore, spec: JobSpec) -> Timed:
    start = time.perf_counter()
    job = prepare(spec, store)
    fps = model.preset.schedule.fps
    header = BitsHeader(spec.model, job.schedule.aspect, fps)
    compute = 0.0
    with mp4_writer(spec.output, fps) as video, BitsWriter(bits_path(spec.output), header) as bits:
        for event in run_generation(model, job.request, model.preview):
            if isinstance(event, ClipFrames):
                video.write(event.frames)
                for record in event.records:
                    bits.append(record)
            elif isinstance(event, PipelineFinished):
                compute = event.sampling_seconds + event.decode_seconds
    return time.perf_counter() - start, compute


def runner_in_process(runner: JobRunner, finished: list[p.Finished], spec: JobSpec) -> Timed:
    start = time.perf_counter()
    runner.run(spec, lambda: False)
    seconds = time.perf_counter() - start
    if not finished or finished[-1].job_id != spec.id:
        raise RuntimeError(f"the runner's job {spec.id} did not finish")
    return seconds, finished[-1].sampling_seconds + finished[-1].decode_seconds


def through_service(client: EngineClient, events: queue.Queue, spec: JobSpec) -> tuple[float, float, float | None]:
    """(seconds to Finished, the pipeline's sampling + decode seconds, seconds to the first preview)."""
    start = time.perf_counter()
    client.submit(spec)
    first_preview = None
    while True:
        event = events.get(timeout=300)
        if isinstance(event, p.Preview) and first_preview is None:
            first_preview = time.perf_counter() - start
        if isinstance(event, p.TERMINAL) and event.job_id == spec.id:
            if not isinstance(event, p.Finished):
                raise RuntimeError(f"the service job failed: {event}")
            return time.perf_counter() - start, event.sampling_seconds + event.decode_seconds, first_preview


def quartiles(values: list[float]) -> tuple[float, float, float]:
    if len(values) < 2:
        return values[0], values[0], values[0]
    q1, q2, q3 = statistics.quantiles(values, n=4)
    return q1, q2, q3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=20, help="rounds: jobs of each way (default 20)")
    parser.add_argument("--engines", type=int, default=2, help="engine processes the rounds are shared among")
    parser.add_argument("--seconds", type=int, default=2)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="istar-bench-"))

    def spec(name: str, seed: int) -> JobSpec:
        return JobSpec(kind="generate", model="toyworld", output=str(folder / f"{name}.mp4"), prompts=(PROMPT,),
                       seconds=args.seconds, seed=seed, device="cpu")

    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    store = ModelStore()
    model = load_model("toyworld", "cpu", store=store, progress=lambda _: None)
    finished: list[p.Finished] = []
    runner = JobRunner(store, lambda message: finished.append(message) if isinstance(message, p.Finished) else None)
    events: queue.Queue = queue.Queue()
    client = EngineClient(lambda: LocalEngine(folder / "engine.log"), events.put)
    previews: list[float] = []
    colds: list[tuple[float, float]] = []

    def new_engine(n: int) -> None:
        """Start engine `n` (the first job of a new one starts it and loads the model) and warm it."""
        nonlocal client
        if n:
            client.close()
            client = EngineClient(lambda: LocalEngine(folder / "engine.log"), events.put)
        seconds, _, preview = through_service(client, events, spec(f"cold{n}", 0))
        colds.append((seconds, preview))
        for w in range(WARM_JOBS):
            through_service(client, events, spec(f"warm{n}-{w}", 0))

    def service(s: JobSpec) -> Timed:
        seconds, compute, preview = through_service(client, events, s)
        previews.append(preview)
        return seconds, compute

    run: dict[str, Callable[[JobSpec], Timed]] = {
        "in process": lambda s: in_process(model, store, s),
        "runner in process": lambda s: runner_in_process(runner, finished, s),
        "service": service,
    }
    for w in range(WARM_JOBS):  # warm the in-process ways as each engine is warmed
        for i, way in enumerate(WAYS[:2]):
            run[way](spec(f"warm{w}-{i}", 0))
    wall: dict[str, list[float]] = {way: [] for way in WAYS}
    compute: dict[str, list[float]] = {way: [] for way in WAYS}
    engines = max(1, min(args.engines, args.jobs))
    engine_of = [r * engines // args.jobs for r in range(args.jobs)]
    for r in range(args.jobs):
        if r == 0 or engine_of[r] != engine_of[r - 1]:
            new_engine(engine_of[r])
        turn = r % len(WAYS)
        for way in WAYS[turn:] + WAYS[:turn]:
            seconds, pipeline = run[way](spec(f"r{r}-{WAYS.index(way)}", r + 1))
            wall[way].append(seconds)
            compute[way].append(pipeline)
    client.close()
    load_after = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")

    def paired(way: str, base: str = "in process") -> tuple[float, float, float]:
        return quartiles([a / b for a, b in zip(wall[way], wall[base], strict=True)])

    def rest(way: str) -> list[float]:
        return [a - b for a, b in zip(wall[way], compute[way], strict=True)]

    base = statistics.median(wall["in process"])
    print(f"toyworld, {args.seconds} s clips, {args.jobs} rounds (one job of each way, order rotating), "
          f"load average {load_before:.1f} before, {load_after:.1f} after")
    print(f"  {'way':18s} {'median':>8s} {'/ in process':>12s} {'per round: median [quartiles]':>30s}"
          f" {'compute':>8s} {'rest':>8s}")
    for way in WAYS:
        q1, q2, q3 = paired(way)
        print(f"  {way:18s} {statistics.median(wall[way]):7.3f}s {statistics.median(wall[way]) / base:11.3f}x"
              f" {q2:18.3f} [{q1:.3f}-{q3:.3f}] {statistics.median(compute[way]):7.3f}s"
              f" {statistics.median(rest(way)):7.3f}s")
    q1, q2, q3 = paired("service", "runner in process")
    print(f"  service / runner in process, per round: {q2:.3f} [{q1:.3f}-{q3:.3f}]")
    for way in WAYS[1:]:
        q1, q2, q3 = quartiles([(a - b) / c for a, b, c in zip(rest(way), rest("in process"), wall["in process"],
                                                                  strict=True)])
        print(f"  {way}: its rest over the in-process job's, per round: {q2:+.1%} [{q1:+.1%} to {q3:+.1%}]"
              f" of an in-process job")
    for n in range(engines):
        rounds = [r for r in range(args.jobs) if engine_of[r] == n]
        q1, q2, q3 = quartiles([compute["service"][r] / compute["in process"][r] for r in rounds])
        print(f"  engine {n} ({len(rounds)} rounds): compute / in process per round {q2:.3f} [{q1:.3f}-{q3:.3f}]")
    print(f"  submit -> first preview (warm engine): {statistics.median(previews):.3f} s median, "
          f"{max(previews):.3f} s max")
    print("  first job of a new engine (start, model load, job): "
          + ", ".join(f"{seconds:.2f} s (first preview after {preview:.2f} s)" for seconds, preview in colds))
    ratio = paired("service")[1]
    print(f"service / in process = {ratio:.3f} (median of the rounds; goal <= 1.05): "
          f"{'met' if ratio <= 1.05 else 'NOT met'}")


if __name__ == "__main__":
    main()
