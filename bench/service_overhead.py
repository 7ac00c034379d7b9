"""What running jobs in the engine process costs: a toyworld job through the service vs the same job in process.

Usage (from the repository root):
    PYTHONPATH=. python bench/service_overhead.py [--jobs 10] [--seconds 2]

Three ways to make the same video, interleaved job by job so a busy machine slows all three alike, each with its
model already loaded (the first service job, with the engine's start and model load, is reported separately):
- in process: run_generation, writing the MP4 and its bits (what `istar generate` did before the service);
- runner in process: the engine's JobRunner, which also writes each clip as it is decoded, called directly;
- service: submit to the engine process through the client until Finished (pipes, JSON lines, another process).
Also the time from submit to the first preview event. Goal: service / in process <= 1.05.
"""

from __future__ import annotations

import argparse
import queue
import statistics
import tempfile
import time
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
from engine.pipeline.bits import BitsWriter
from engine.service.prepare import prepare
from engine.service.runner import JobRunner
from engine.weights.store import ModelStore

PROMPT = "a red circle moves to the right on a blue background"


def in_process(model, store: ModelStore, spec: JobSpec) -> float:
    start = time.perf_counter()
    job = prepare(spec, store)
    fps = model.preset.schedule.fps
    header = BitsHeader(spec.model, job.schedule.aspect, fps)
    with mp4_writer(spec.output, fps) as video, BitsWriter(bits_path(spec.output), header) as bits:
        for event in run_generation(model, job.request, model.preview):
            if isinstance(event, ClipFrames):
                video.write(event.frames)
                for record in event.records:
                    bits.append(record)
    return time.perf_counter() - start


def runner_in_process(runner: JobRunner, spec: JobSpec) -> float:
    start = time.perf_counter()
    runner.run(spec, lambda: False)
    return time.perf_counter() - start


def through_service(client: EngineClient, events: queue.Queue, spec: JobSpec) -> tuple[float, float]:
    """(seconds to Finished, seconds to the first preview)."""
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
            return time.perf_counter() - start, first_preview


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10)
    parser.add_argument("--seconds", type=int, default=2)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="istar-bench-"))

    def spec(name: str, seed: int) -> JobSpec:
        return JobSpec(kind="generate", model="toyworld", output=str(folder / f"{name}.mp4"), prompts=(PROMPT,),
                       seconds=args.seconds, seed=seed, device="cpu")

    store = ModelStore()
    model = load_model("toyworld", "cpu", store=store, progress=lambda _: None)
    runner = JobRunner(store, lambda message: None)
    events: queue.Queue = queue.Queue()
    client = EngineClient(lambda: LocalEngine(folder / "engine.log"), events.put)
    cold, cold_preview = through_service(client, events, spec("cold", 0))
    in_process(model, store, spec("warm", 0))  # warm both in-process paths the same way the engine was warmed
    runner_in_process(runner, spec("warm-runner", 0))
    times: dict[str, list[float]] = {"in process": [], "runner in process": [], "service": []}
    previews = []
    for i in range(args.jobs):
        times["in process"].append(in_process(model, store, spec(f"a{i}", i)))
        times["runner in process"].append(runner_in_process(runner, spec(f"b{i}", i)))
        seconds, preview = through_service(client, events, spec(f"c{i}", i))
        times["service"].append(seconds)
        previews.append(preview)
    client.close()

    base = statistics.median(times["in process"])
    print(f"toyworld, {args.seconds} s clips, {args.jobs} jobs each, medians:")
    for name, values in times.items():
        print(f"  {name:20s} {statistics.median(values):.3f} s   {statistics.median(values) / base:.3f}x")
    print(f"  submit -> first preview (warm engine): {statistics.median(previews):.3f} s median, "
          f"{max(previews):.3f} s max")
    print(f"  first job of a new engine (start, model load, job): {cold:.2f} s, "
          f"first preview after {cold_preview:.2f} s")
    ratio = statistics.median(times["service"]) / base
    print(f"service / in process = {ratio:.3f} (goal <= 1.05): {'met' if ratio <= 1.05 else 'NOT met'}")


if __name__ == "__main__":
    main()
