"""The one-shot check of the 8B at its real size on one GPU, with random weights, in under 9 minutes.

    python bench/gpu_check.py [--work DIR] [--out gpu_check.json] [--budget-s 510] [--fixture DIR]
    python bench/gpu_check.py --dry-run --work DIR --out FILE    (CPU, test size: tests/bench/test_gpu_check.py)

For a machine with one H100 or H200 (16 cores, 128 GB RAM, 64 GB disk, no network). In order, each step with its
own time cap inside the whole run's budget (a step that no longer fits is skipped and says so):
1. build the random release (engine.weights.random_release, drawn on the GPU) on local disk;
2. `istar models install infinitystar-8b-480p --from` it, then delete the release's shards (disk);
3. quantise to nf4 and int8 on the GPU (ModelStore.quantize); the 720p model is the same files hard-linked
   under its id (same transformer, VAE and T5 tensors; only the preset differs), so nothing is copied twice;
4. `istar selftest` on cuda against the parity fixture (../shared/reference/parity/tiny-a, or --fixture);
5. 480p 5 s at nf4, int8 and bf16 and 720p 5 s at nf4: each one `istar generate` job (the engine's JobRunner, in
   a process of its own so torch.cuda.max_memory_allocated is that job's), cancelled at its time cap;
6. 480p 15 s at nf4 with the kept K/V in host memory (`istar plan --kv host`) and on the device: the bits of
   every clip both finished must be equal.
Each job reports its peak allocated memory against the load plan's peak, seconds per pass, total seconds and
achieved TFLOP/s (the planner's FLOPs of the passes done over their seconds) against the GPU's dense bf16 peak.
The JSON file is rewritten after every step, so a run cut short still leaves what it measured.
The dry run gives each step the same command but runs it in this process (run_here): torch and the engine load
once, not once a step, and on the CPU there is no per-job CUDA peak that needs a process of its own.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.atomic import write_text_atomic  # noqa: E402

FIXTURE = ROOT.parent / "shared" / "reference" / "parity" / "tiny-a"
PROMPT = "A red fox runs through tall grass at sunrise, the camera following low beside it"
SEED = 1
GB = 1e9
GRACE_S = 30  # past a step's cap before its process is killed (a job stops only between passes and after decode)
RESERVE_S = 10  # kept back from the budget to write the report
# Dense bf16 tensor-core peaks from NVIDIA's data sheets (without sparsity), by a name's distinguishing part.
BF16_PEAK_TFLOPS = (("H200", 989.0), ("H100 NVL", 835.0), ("H100 PCIe", 756.0), ("H100", 989.0), ("A100", 312.0))


@dataclass(frozen=True)
class Size:
    """What the run does at its size: models, device, step caps (seconds) and job durations."""

    model_480: str
    model_720: str
    device: str
    draw_device: str
    caps: dict[str, float]
    short: int  # seconds of the 5 s jobs
    long: int  # seconds of the K/V placement job


FULL = Size(
    "infinitystar-8b-480p", "infinitystar-8b-720p", "cuda", "cuda",
    {"build": 120, "install": 90, "quantize-nf4": 60, "quantize-int8": 60, "link-720p": 10, "selftest": 45,
     "480p-5s-nf4": 75, "480p-5s-int8": 90, "480p-5s-bf16": 60, "720p-5s-nf4": 100, "480p-15s-nf4-kv": 150},
    short=5, long=15,
)  # fmt: skip
# The test size on the CPU: one small model stands for both resolutions, and caps leave a slow CPU room.
# Its "5 s" jobs make one frame (little to decode on a CPU); its K/V job two clips, so one sees the other's K/V.
DRY = Size("test-micro-t5", "test-micro-t5", "cpu", "cpu", dict.fromkeys(FULL.caps, 600.0), short=0, long=1)


def gpu_bf16_peak(name: str) -> float | None:
    return next((peak for part, peak in BF16_PEAK_TFLOPS if part in name), None)


class Report:
    """The JSON report, rewritten after each step."""

    def __init__(self, path: Path, budget_s: float, dry_run: bool, size: Size) -> None:
        self.path = path
        self.started = time.monotonic()
        self.budget_s = budget_s
        self.data = {"script": "bench/gpu_check.py", "dry_run": dry_run, "budget_s": budget_s,
                     "models": [size.model_480, size.model_720], "device": None, "steps": []}

    def left(self) -> float:
        return self.budget_s - RESERVE_S - (time.monotonic() - self.started)

    def add(self, step: dict) -> dict:
        self.data["steps"].append(step)
        if step.get("device") and not self.data["device"]:
            self.data["device"] = step["device"]
        self.data["total_seconds"] = round(time.monotonic() - self.started, 2)
        write_text_atomic(self.path, json.dumps(self.data, indent=2) + "\n")
        return step


def run_step(report: Report, name: str, cap: float, command: list[str], env: dict[str, str], flat: bool = False
             ) -> dict:
    """Run one step's process within min(cap, what is left). Its stdout, if JSON, is its result: merged into the
    step (`flat`: a child of this script's) or kept as its "output"."""
    allowed = min(cap, report.left())
    if allowed < min(cap, 15):
        return report.add({"name": name, "status": "skipped",
                           "reason": f"no time left: {max(allowed, 0):.0f} s of the {report.budget_s:.0f} s budget"})
    started = time.monotonic()
    env = {**env, "GPU_CHECK_DEADLINE_S": str(allowed)}
    try:
        done = (run_here(command, env) if report.data["dry_run"] else
                subprocess.run(command, capture_output=True, text=True, timeout=allowed + GRACE_S, env=env, cwd=ROOT))
    except subprocess.TimeoutExpired:
        return report.add({"name": name, "status": "killed", "seconds": round(time.monotonic() - started, 2),
                           "reason": f"still running {allowed + GRACE_S:.0f} s after it started"})
    step = {"name": name, "seconds": round(time.monotonic() - started, 2)}
    try:
        result = json.loads(done.stdout)
    except json.JSONDecodeError:
        result = {}
    result = result if flat else {"output": result} if result else {}
    step.update(result)
    if done.returncode != 0:
        step["status"] = result.get("status") if result.get("status") in ("failed", "cancelled") else "failed"
        step.setdefault("error", (done.stderr.strip().splitlines() or ["(no message)"])[-1][:2000])
    else:
        step.setdefault("status", "ok")
    return report.add(step)


def run_here(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    """A step's command in this process, as the dry run runs it: the same entry point with the same arguments
    (`python -m MODULE ARGS` is MODULE.main(ARGS), `python THIS_SCRIPT ARGS` this script's main(ARGS)), with the
    step's environment while it runs and its stdout and stderr captured as a process's would be."""
    module = command[1] == "-m"
    entry, argv = (importlib.import_module(command[2]).main, command[3:]) if module else (main, command[2:])
    saved = dict(os.environ)
    os.environ.update(env)
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = entry(argv)
    except SystemExit as exit:  # the process would have ended with its code (argparse's 2 for bad arguments)
        code = exit.code if isinstance(exit.code, int) else int(exit.code is not None)
        if code:
            err.write(traceback.format_exc())
    except Exception:
        err.write(traceback.format_exc())
        code = 1
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return subprocess.CompletedProcess(command, code, out.getvalue(), err.getvalue())


def link_model(root: Path, source: str, target: str) -> dict:
    """The installed model `source` under the id `target` too, every file hard-linked: for two presets with the
    same transformer and VAE (the 8B's 480p and 720p), which differ only in what they generate."""
    from engine.config import get_preset
    from engine.weights.catalogue import CATALOGUE
    from engine.weights.manifest import load_manifest

    a, b = get_preset(CATALOGUE[source].preset), get_preset(CATALOGUE[target].preset)
    if (a.transformer, a.vae, a.text_encoder) != (b.transformer, b.vae, b.text_encoder):
        raise ValueError(f"{source} and {target} hold different weights; install {target} from its release")
    src, dst = root / source, root / target
    shutil.rmtree(dst, ignore_errors=True)
    for path in sorted(src.rglob("*")):
        out = dst / path.relative_to(src)
        if path.is_dir():
            out.mkdir(parents=True, exist_ok=True)
        else:
            out.parent.mkdir(parents=True, exist_ok=True)
            os.link(path, out)
    manifest = load_manifest(src)
    manifest.model_id, manifest.preset = target, CATALOGUE[target].preset
    (dst / "manifest.json").unlink()  # a link to the source's: the new one must not overwrite it
    manifest.save(dst)
    return {"status": "ok", "files": len(manifest.files)}


# --- the steps run as `--child` of this script: a process each, but in this one in the dry run -----------------


def _deadline() -> float:
    return time.monotonic() + float(os.environ.get("GPU_CHECK_DEADLINE_S", "1e9"))


def _device_info(device: str) -> dict:
    import torch

    if not device.startswith("cuda"):
        return {"name": "cpu", "bf16_peak_tflops": None}
    props = torch.cuda.get_device_properties(0)
    return {"name": props.name, "memory_gb": round(props.total_memory / GB, 2),
            "bf16_peak_tflops": gpu_bf16_peak(props.name)}


def _reset_peak(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def _peak(device: str) -> int | None:
    import torch

    return torch.cuda.max_memory_allocated() if device.startswith("cuda") else None


def child_quantize(root: Path, model: str, precision: str, device: str) -> dict:
    from engine.weights.store import ModelStore

    manifest = ModelStore(root, builtin_root=root / "none").quantize(model, precision, device=device)
    size = sum(f.bytes for f in manifest.files if f.variant == precision)
    return {"status": "ok", "bytes": size}


def _plan(model: str, root: Path, device: str, seconds: int, precision: str, kv: str | None = None):
    from engine.config import get_preset
    from engine.runtime.hardware import detect_device
    from engine.runtime.load_plan import choose_load_plan
    from engine.runtime.planner import plan
    from engine.weights.store import ModelStore

    preset = get_preset(ModelStore(root, builtin_root=root / "none").manifest(model).preset)
    chosen = choose_load_plan(preset, detect_device(device), seconds, preset.default_aspect, precision=precision)
    if kv is None:
        return chosen.plan
    p = chosen.plan
    return plan(preset, seconds, preset.default_aspect, precision, text_encoder_on_cpu=p.text_encoder_on_cpu,
                memory_budget=chosen.budget_bytes, kv_placement=kv)


def _pass_figures(flops_per_pass: list[int], seconds: list[float], peak_tflops: float | None) -> dict:
    """Seconds per pass and achieved TFLOP/s over the passes done (the planner's first entry is the text
    prefill, which no progress event reports)."""
    if not seconds:
        return {"passes_done": 0}
    flops = sum(flops_per_pass[1:len(seconds) + 1])
    tflops = flops / sum(seconds) / 1e12
    figures = {"passes_done": len(seconds), "first_pass_s": round(seconds[0], 3),
               "seconds_per_pass": round(sum(seconds) / len(seconds), 3), "slowest_pass_s": round(max(seconds), 3),
               "sampled_tflop": round(flops / 1e12, 2), "achieved_tflops": round(tflops, 2)}
    if peak_tflops:
        figures["of_bf16_peak"] = round(tflops / peak_tflops, 3)
    return figures


def _memory(device: str, planned: int) -> dict:
    peak = _peak(device)
    out = {"planned_peak_gb": round(planned / GB, 3)}
    if peak is not None:
        out |= {"max_allocated_gb": round(peak / GB, 3), "allocated_over_planned": round(peak / planned, 3)}
    return out


def child_generate(root: Path, model: str, seconds: int, precision: str, device: str, out: Path) -> dict:
    """One `istar generate` job through the engine's JobRunner, cancelled between passes at the deadline."""
    from engine.api import protocol as p
    from engine.api.jobs import JobSpec
    from engine.service.runner import JobRunner
    from engine.weights.store import ModelStore

    deadline = _deadline()
    info = _device_info(device)
    planned = _plan(model, root, device, seconds, precision)
    events: list[p.Message] = []
    spec = JobSpec(kind="generate", model=model, output=str(out), prompts=(PROMPT,), seconds=seconds,
                   precision=precision, device=device, seed=SEED)
    _reset_peak(device)
    started = time.monotonic()
    JobRunner(ModelStore(root, builtin_root=root / "none"), events.append).run(
        spec, lambda: time.monotonic() > deadline)
    total = time.monotonic() - started
    end = events[-1]
    result = {"device": info, "model": model, "seconds_of_video": seconds, "precision": precision,
              "total_s": round(total, 2), "passes_planned": len(planned.flops_per_pass) - 1,
              **_memory(device, planned.peak_bytes), "planned_phases_gb": {
                  k: round(v / GB, 3) for k, v in planned.phases.items()}}
    passes = [e.seconds for e in events if isinstance(e, p.Progress)]
    result |= _pass_figures(planned.flops_per_pass, passes, info["bf16_peak_tflops"])
    if isinstance(end, p.Finished):
        result |= {"status": "ok", "sampling_s": round(end.sampling_seconds, 2),
                   "decode_s": round(end.decode_seconds, 2)}
    elif isinstance(end, p.Cancelled):
        result |= {"status": "cancelled", "reason": "its time cap ended it between passes"}
    else:
        result |= {"status": "failed", "error": getattr(end, "message", repr(end))}
    return result


def child_kv(root: Path, model: str, seconds: int, device: str) -> dict:
    """The same nf4 job with the kept K/V on the device, then in host memory: equal bits in every clip both
    finished, each placement's peak against its plan."""
    import torch

    from engine.api.jobs import JobSpec
    from engine.loader import load_model
    from engine.pipeline import ClipFrames, PassProgress, run_generation
    from engine.pipeline import Finished as PipelineFinished
    from engine.sampler import GenerationCancelled
    from engine.service.prepare import prepare
    from engine.weights.store import ModelStore

    deadline = _deadline()
    info = _device_info(device)
    store = ModelStore(root, builtin_root=root / "none")
    spec = JobSpec(kind="generate", model=model, output=str(root / "kv.mp4"), prompts=(PROMPT,), seconds=seconds,
                   precision="nf4", device=device, seed=SEED)
    job = prepare(spec, store)
    loaded = load_model(model, device, "nf4", seconds, job.request.aspect, store, lambda _: None)
    chosen = loaded.plan.plan
    result: dict = {"device": info, "model": model, "seconds_of_video": seconds, "precision": "nf4"}
    bits: dict[str, list] = {}
    for kv in ("device", "host"):
        stop = time.monotonic() + (deadline - time.monotonic()) / (2 if kv == "device" else 1)
        planned = _plan(model, root, device, seconds, "nf4", kv)
        _reset_peak(device)
        started, passes, clips, status = time.monotonic(), [], [], "ok"
        try:
            for event in run_generation(loaded, job.request, None, chosen.decode_chunk_latents, chosen.decode_tiling,
                                        cancel=lambda s=stop: time.monotonic() > s, kv_on_host=kv == "host"):
                if isinstance(event, ClipFrames):
                    clips += event.records
                elif isinstance(event, PassProgress):
                    passes.append(event.seconds)
                elif isinstance(event, PipelineFinished):
                    break
        except GenerationCancelled:
            status = "cancelled"
        bits[kv] = clips
        result.setdefault("placements", {})[kv] = {
            "status": status, "total_s": round(time.monotonic() - started, 2), "clips_done": len(clips),
            **_memory(device, planned.peak_bytes), **_pass_figures(planned.flops_per_pass, passes,
                                                                   info["bf16_peak_tflops"]),
        }
    both = min(len(bits["device"]), len(bits["host"]))
    same = all(len(a.bits) == len(b.bits) and all(torch.equal(x, y) for x, y in zip(a.bits, b.bits, strict=True))
               for a, b in zip(bits["device"][:both], bits["host"][:both], strict=True))
    result |= {"clips_compared": both, "bits_equal": same}
    result["status"] = "ok" if both and same else "failed" if both else "cancelled"
    if not both:
        result["reason"] = "no clip finished in both placements within the time cap"
    return result


def child(args: argparse.Namespace) -> int:
    spec = json.loads(args.child)
    root = Path(spec["root"])
    kind = spec.pop("kind")
    if kind == "quantize":
        result = child_quantize(root, spec["model"], spec["precision"], spec["device"])
    elif kind == "generate":
        result = child_generate(root, spec["model"], spec["seconds"], spec["precision"], spec["device"],
                                Path(spec["out"]))
    else:
        result = child_kv(root, spec["model"], spec["seconds"], spec["device"])
    print(json.dumps(result))
    return 0 if result["status"] in ("ok", "cancelled") else 1


# --- the run ------------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "istar-gpu-check",
                        help="local disk for the release and the store (about 45 GB at full size)")
    parser.add_argument("--out", type=Path, default=Path("gpu_check.json"))
    parser.add_argument("--budget-s", type=float, default=None, help="the whole run (default 510; dry run 3600)")
    parser.add_argument("--fixture", type=Path, default=FIXTURE, help="parity fixture for `istar selftest`")
    parser.add_argument("--dry-run", action="store_true", help="the test size on the CPU")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args)
    size = DRY if args.dry_run else FULL
    budget = args.budget_s or (3600.0 if args.dry_run else 510.0)
    report = Report(args.out.resolve(), budget, args.dry_run, size)
    work = args.work.resolve()
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    release, home = work / "release", work / "home"
    root = home / "models"
    report.data["disk_free_gb"] = round(shutil.disk_usage(work).free / GB, 1)
    env = {**os.environ, "ISTAR_HOME": str(home), "PYTHONPATH": str(ROOT)}
    python = [sys.executable]
    caps = size.caps

    def in_child(name: str, **spec) -> dict:
        return run_step(report, name, caps[name], [*python, __file__, "--child", json.dumps({"root": str(root),
                                                                                            **spec})], env, True)

    run_step(report, "build", caps["build"], [*python, "-m", "engine.weights.random_release", str(release),
                                                      "--model", size.model_480, "--device", size.draw_device], env)
    install = run_step(report, "install", caps["install"], [*python, "-m", "engine.cli.main", "models", "install",
                                                            size.model_480, "--from", str(release)], env)
    shutil.rmtree(release, ignore_errors=True)
    ready = install["status"] == "ok"
    for precision in ("nf4", "int8"):
        if ready:
            in_child(f"quantize-{precision}", kind="quantize", model=size.model_480, precision=precision,
                     device=size.device)
        else:
            report.add({"name": f"quantize-{precision}", "status": "skipped", "reason": "the install failed"})
    _link(report, root, size, ready)
    fixture = args.fixture
    if fixture.is_dir():
        run_step(report, "selftest", caps["selftest"], [*python, "-m", "engine.cli.main", "selftest", "--fixture",
                                                        str(fixture), "--device", size.device, "--json"], env)
    else:
        report.add({"name": "selftest", "status": "skipped", "reason": f"no parity fixture at {fixture}"})
    jobs = [("480p-5s-nf4", size.model_480, "nf4"), ("480p-5s-int8", size.model_480, "int8"),
            ("480p-5s-bf16", size.model_480, "bf16"), ("720p-5s-nf4", size.model_720, "nf4")]
    for name, model, precision in jobs:
        if ready:
            in_child(name, kind="generate", model=model, seconds=size.short, precision=precision,
                     device=size.device, out=str(work / f"{name}.mp4"))
        else:
            report.add({"name": name, "status": "skipped", "reason": "the install failed"})
    if ready:
        in_child("480p-15s-nf4-kv", kind="kv", model=size.model_480, seconds=size.long, device=size.device)
    else:
        report.add({"name": "480p-15s-nf4-kv", "status": "skipped", "reason": "the install failed"})
    report.data["total_seconds"] = round(time.monotonic() - report.started, 2)
    write_text_atomic(report.path, json.dumps(report.data, indent=2) + "\n")
    print(f"wrote {report.path}: " + ", ".join(f"{s['name']} {s['status']}" for s in report.data["steps"]))
    return 0 if all(s["status"] in ("ok", "skipped") for s in report.data["steps"]) else 1


def _link(report: Report, root: Path, size: Size, ready: bool) -> None:
    if size.model_720 == size.model_480:
        report.add({"name": "link-720p", "status": "skipped", "reason": "one model stands for both at this size"})
    elif not ready:
        report.add({"name": "link-720p", "status": "skipped", "reason": "the install failed"})
    else:
        started = time.monotonic()
        try:
            step = link_model(root, size.model_480, size.model_720)
        except (OSError, ValueError) as err:
            step = {"status": "failed", "error": str(err)}
        report.add({"name": "link-720p", "seconds": round(time.monotonic() - started, 2), **step})


if __name__ == "__main__":
    sys.exit(main())
