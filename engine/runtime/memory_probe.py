"""Measure a generation's peak memory on the CPU and set it beside the planner's prediction (Linux).

Runs in its own process with glibc serving every allocation of 64 KiB or more through mmap, so
freed tensors leave the resident set at once and the kernel's high-water mark (VmHWM, reset
through /proc/self/clear_refs) is the peak of live memory.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

MMAP_ENV = {"MALLOC_MMAP_THRESHOLD_": "65536"}


def _status_bytes(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"/proc/self/status has no {key}")


def _reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")


def probe(preset_json: str, seconds: int, aspect: str, batch: int, chunk_budget: int | None) -> dict:
    """Build the preset's model (random fp32 weights), run one generation, return measured and planned bytes."""
    import torch

    from engine.config import Preset
    from engine.model.transformer import InfinityStarTransformer
    from engine.runtime.planner import plan
    from engine.sampler import Guidance, generate, run_to_end
    from engine.schedule import build_schedule

    torch.manual_seed(0)
    preset = Preset.from_json(preset_json)
    baseline = _status_bytes("VmRSS")
    model = InfinityStarTransformer(preset.transformer).eval().fuse_projections()
    weights = _status_bytes("VmRSS") - baseline
    guidance = Guidance.from_schedule(preset.schedule)
    text = torch.randn(16, preset.transformer.text_channels)
    run_to_end(generate(model, build_schedule(preset.schedule, 0, aspect), text, guidance, batch=batch))
    before = _status_bytes("VmRSS")
    _reset_peak()
    schedule = build_schedule(preset.schedule, seconds, aspect)
    run_to_end(generate(model, schedule, text, guidance, batch=batch, chunk_budget=chunk_budget))
    peak = _status_bytes("VmHWM")
    predicted = plan(preset, seconds, aspect, "fp32", batch, text.shape[0], chunk_budget)
    sampling = predicted.phases["sampling"]
    return {
        "measured_weights_bytes": weights,
        "measured_run_bytes": peak - before,
        "measured_peak_bytes": weights + peak - before,
        "planned_weights_bytes": predicted.weight_bytes,
        "planned_run_bytes": sampling - predicted.weight_bytes,
        "planned_peak_bytes": sampling,
    }


def run_probe(
    preset_json: str, seconds: int, aspect: str = "1:1", batch: int = 1, chunk_budget: int | None = None
) -> dict:
    """Run `probe` in a fresh process with the allocator settings it needs."""
    cmd = [sys.executable, "-m", "engine.runtime.memory_probe", "--seconds", str(seconds)]
    cmd += ["--aspect", aspect, "--batch", str(batch)]
    if chunk_budget:
        cmd += ["--chunk-budget", str(chunk_budget)]
    env = {**os.environ, **MMAP_ENV, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "2")}
    done = subprocess.run(cmd, input=preset_json, capture_output=True, text=True, env=env, check=False)
    if done.returncode:
        raise RuntimeError(f"memory probe failed:\n{done.stderr}")
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, required=True)
    parser.add_argument("--aspect", default="1:1")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--chunk-budget", type=int, default=None)
    args = parser.parse_args()
    print(json.dumps(probe(sys.stdin.read(), args.seconds, args.aspect, args.batch, args.chunk_budget)))


if __name__ == "__main__":
    main()
