"""Memory of long videos: flat in the video's length, and as planned.

1. The shipped toyworld model through the whole pipeline (sampling, then decoding clip by clip), each length in a
   fresh process (engine.memory_probe): the resident memory a job adds at its peak, for --seconds lengths;
   goal: the longest within 5% of a 6 s job.
2. The planner against a measured run of a mid-size random model (depth 4, width 384, 2 s clips, weights that saw
   two video clips) making a long video: sampling's planned peak against the measured one; goal: within 15%.
3. The 8B plans at nf4 for 5, 10 and 60 s with the K/V on the device and in host memory.

    python bench/long_video_memory.py
"""

from __future__ import annotations

import argparse
import shlex
import sys

from engine.config import get_preset
from engine.memory_probe import mid_preset, run_pipeline_probe, run_probe
from engine.runtime.planner import plan

MB, GB = 2**20, 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, nargs="+", default=[6, 30, 60], help="toyworld video lengths")
    parser.add_argument("--mid-seconds", type=int, nargs="+", default=[2, 10, 20], help="mid-size video lengths")
    args = parser.parse_args()
    print("command: python " + shlex.join(sys.argv), flush=True)

    runs = {s: run_pipeline_probe("toyworld", s)["run"] for s in args.seconds}
    base = runs[args.seconds[0]]
    print("toyworld through the pipeline, resident memory a job adds at its peak:")
    for seconds, run in runs.items():
        print(f"  {seconds:4d} s  {run / MB:8.1f} MiB  {run / base:.3f} of {args.seconds[0]} s", flush=True)

    preset = mid_preset()
    print("mid-size random model (fp32, 2 s clips, trained on 2), sampling: planned against measured:")
    for seconds in args.mid_seconds:
        m = run_probe(preset.to_json(), seconds)
        print(f"  {seconds:4d} s  planned {m['planned_run_bytes'] / MB:8.1f} MiB  measured "
              f"{m['measured_run_bytes'] / MB:8.1f} MiB  measured/planned "
              f"{m['measured_run_bytes'] / m['planned_run_bytes']:.3f}", flush=True)

    print("8B at nf4: peak GB (K/V host memory GB)")
    for name in ("infinitystar-8b-480p", "infinitystar-8b-720p"):
        cells = []
        for seconds in (5, 10, 60):
            device = plan(get_preset(name), seconds, precision="nf4", kv_placement="device")
            host = plan(get_preset(name), seconds, precision="nf4", kv_placement="host")
            cells.append(f"{seconds} s: device {device.peak_bytes / GB:.2f}, host {host.peak_bytes / GB:.2f} "
                         f"({host.host_kv_bytes / GB:.2f})")
        print(f"  {name}: " + "; ".join(cells))


if __name__ == "__main__":
    main()
