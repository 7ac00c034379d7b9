"""The 8B at its real size on this CPU, random weights, through the studio's own commands and loaders.

    python bench/full_size_cpu.py [--work DIR] [--out full_size_cpu.json] [--steps a,b,...] [--budget-s 420]
    python bench/full_size_cpu.py --model test-micro-t5 --work /tmp/fsc --out /tmp/fsc.json   (a quick run)

Each step is a process of its own (glibc returning freed blocks at once, engine.memory_probe.MMAP_ENV), measured
for its seconds and peak resident memory; the report (JSON) is rewritten after every step and merged by step
name into the one already at --out, so the run can be done in parts with --steps. At full size it needs about
62 GB of disk at its fullest (the two releases are deleted once installed), about 24 GB of RAM and about 65 minutes
on a 2-core CPU (docs/benchmarks.md has a run).
1. build-safetensors, install-safetensors: the release as bf16 safetensors shards (engine.weights.random_release),
   then `istar models install`; the release is deleted.
2. build-torch, install-torch: the same weights as torch shards, installed into a second home (converted to
   safetensors shard by shard); formats-equal compares every tensor of the two installs, then the second
   home is deleted.
3. quantize-nf4, quantize-int8: `istar models quantize`, peak against the bf16 checkpoint's size.
4. load-nf4, load-int8: the quantised transformer alone (engine.weights.quantize.load_quantized), peak against
   the quantised files' bytes (goal: at most 1.3x).
5. gemm: this CPU's bf16 and fp32 matmul rate at torch's thread count, the baseline for the passes' FLOP/s.
6. text-encoder: the T5-XL loaded and one prompt encoded; what it holds against the plan's figure.
7. generate-nf4, generate-int8: a 480p 5 s `istar generate` job (the engine's JobRunner) stopped between passes
   after --budget-s: the load (transformer, VAE, T5), then each pass's seconds and FLOP/s (the planner's FLOPs; the
   first pass also encodes the prompt and runs its prefill), every phase's peak against `istar plan` for this CPU.
8. decode: the image clip, then the first --decode-latents latent frames of the video clip, through the full VAE's
   decoder session with the load plan's decode settings, peak against the planner's for that piece.
A forward hook on every module checks each floating output for NaN and inf in steps 6-8 (a sum per output,
no extra copy), and the decoded frames are checked before they become bytes.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.atomic import write_text_atomic  # noqa: E402
from engine.memory_probe import MMAP_ENV  # noqa: E402

PROMPT = "A red fox runs through tall grass at sunrise, the camera following low beside it"
SEED = 1
GB = 1e9
STEPS = ("build-safetensors", "install-safetensors", "build-torch", "install-torch", "formats-equal",
         "quantize-nf4", "quantize-int8", "load-nf4", "load-int8", "gemm", "text-encoder", "generate-nf4",
         "generate-int8", "decode")  # fmt: skip


class Report:
    """The JSON report: steps by name, each replaced when run again, rewritten after every step."""

    def __init__(self, path: Path, model: str) -> None:
        self.path = path
        old = json.loads(path.read_text()) if path.is_file() else {}
        self.data = {"script": "bench/full_size_cpu.py", "model": model, "cpu": _cpu(), "steps": {}}
        if old.get("model") == model:
            self.data["steps"] = old.get("steps", {})

    def add(self, name: str, step: dict) -> dict:
        self.data["steps"][name] = step
        write_text_atomic(self.path, json.dumps(self.data, indent=2) + "\n")
        print(f"{name}: " + json.dumps(step)[:400], flush=True)
        return step


def _json_object(stdout: str) -> dict:
    """The whole output, or its last line, when that is JSON (a child prints one line, random_release an indented
    summary); otherwise nothing."""
    for text in (stdout, (stdout.strip().splitlines() or [""])[-1]):
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            continue
    return {}


def _cpu() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def run_step(report: Report, name: str, command: list[str], env: dict[str, str]) -> dict:
    """Run `command` as a process: its seconds and peak resident memory (the kernel's, for it and what it waited
    for), merged with the last line of its stdout when that is a JSON object."""
    started = time.monotonic()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(command, stdout=out, stderr=err, text=True, env=env, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)  # reaped here, not by Popen, to read this child's own usage
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    result = _json_object(stdout)
    step = result if isinstance(result, dict) else {}
    if isinstance(step.get("seconds"), dict):  # random_release's seconds of each part
        step["part_seconds"] = step.pop("seconds")
    step |= {"seconds": round(time.monotonic() - started, 1), "peak_rss_gb": round(usage.ru_maxrss * 1024 / GB, 3),
             "threads": int(env.get("OMP_NUM_THREADS", os.cpu_count() or 1))}
    if proc.returncode:
        step["status"] = "failed"
        step.setdefault("error", "\n".join(stderr.strip().splitlines()[-6:])[:3000])
    else:
        step.setdefault("status", "ok")
    return report.add(name, step)


# --- the measured children: `--child JSON` ------------------------------------------------------------------------


def _store(root: Path):
    from engine.weights.store import ModelStore

    return ModelStore(root, builtin_root=root / "none")


def _plan(model: str, precision: str, seconds: int):
    from engine.config import get_preset
    from engine.runtime.hardware import detect_device
    from engine.runtime.load_plan import choose_load_plan
    from engine.weights.catalogue import CATALOGUE

    preset = get_preset(CATALOGUE[model].preset)
    return preset, choose_load_plan(preset, detect_device("cpu"), seconds, preset.default_aspect, precision=precision)


class NonFinite:
    """A global forward hook: counts module outputs holding NaN or inf (a float32 sum of each floating output,
    which is not finite when any element is not, without a copy) and names the first."""

    def __init__(self) -> None:
        import torch

        self.checked = 0
        self.bad = 0
        self.first: str | None = None
        self.handle = torch.nn.modules.module.register_module_forward_hook(self)

    def __call__(self, module, args, output) -> None:
        import torch

        for t in output if isinstance(output, (tuple, list)) else (output,):
            if isinstance(t, torch.Tensor) and t.is_floating_point() and t.numel():
                self.checked += 1
                if not torch.isfinite(t.sum(dtype=torch.float32)):
                    self.bad += 1
                    self.first = self.first or f"{type(module).__name__} output {tuple(t.shape)}"

    def report(self) -> dict:
        self.handle.remove()
        return {"outputs_checked": self.checked, "outputs_not_finite": self.bad, "first_not_finite": self.first}


def _gb(n: float) -> float:
    return round(n / GB, 3)


def child_load(root: Path, model: str, precision: str) -> dict:
    from engine.memory_probe import reset_peak, status_bytes
    from engine.weights.quantize import load_quantized

    store = _store(root)
    resolved = store.resolve(model, precision)
    files = sum(f.bytes for f in store.manifest(model).files if f.variant == precision)
    before = status_bytes("VmRSS")
    reset_peak()
    started = time.monotonic()
    transformer = load_quantized(resolved.transformer, resolved.preset.transformer)
    seconds = time.monotonic() - started
    peak = status_bytes("VmHWM") - before
    held = status_bytes("VmRSS") - before
    del transformer
    return {"load_s": round(seconds, 1), "quantized_gb": _gb(files), "load_peak_gb": _gb(peak),
            "held_after_load_gb": _gb(held), "peak_over_quantized": round(peak / files, 3)}


def child_gemm() -> dict:
    """GFLOP/s of a 2048-square nn.Linear product in bf16 and fp32 (the path the transformer's layers take) and of a
    bf16 torch.mm, which CPUs without bf16 instructions run on a far slower path."""
    import torch

    def rate(op, dtype: torch.dtype, n: int) -> float:
        a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
        op(a, b)
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            op(a, b)
            best = min(best, time.perf_counter() - started)
        return round(2 * n**3 / best / 1e9, 1)

    linear = torch.nn.functional.linear
    return {"torch_threads": torch.get_num_threads(), "bf16_linear_gflops": rate(linear, torch.bfloat16, 2048),
            "fp32_linear_gflops": rate(linear, torch.float32, 2048),
            "bf16_mm_gflops": rate(torch.mm, torch.bfloat16, 512)}


def child_text_encoder(root: Path, model: str) -> dict:
    """The T5 loaded, then one prompt encoded. What it holds after loading is set beside the plan: the high-water
    mark also counts the checkpoint's pages, which transformers maps while it loads (clean file pages)."""
    from engine.memory_probe import reset_peak, status_bytes
    from engine.text.t5 import T5TextEncoder

    resolved = _store(root).resolve(model)
    planned = _plan(model, "nf4", 5)[1].plan.text_encoder_bytes
    before = status_bytes("VmRSS")
    reset_peak()
    watch = NonFinite()
    started = time.monotonic()
    encoder = T5TextEncoder.from_folder(resolved.text_encoder, device="cpu",
                                        channels=resolved.preset.transformer.text_channels)
    loaded = time.monotonic()
    held = status_bytes("VmRSS") - before
    features = encoder.encode(PROMPT)
    encoded = time.monotonic()
    peak = status_bytes("VmHWM") - before
    return {"load_s": round(loaded - started, 2), "encode_s": round(encoded - loaded, 2),
            "features": list(features.shape), "features_finite": bool(features.isfinite().all()),
            "held_after_load_gb": _gb(held), "high_water_gb": _gb(peak), "planned_gb": _gb(planned),
            "held_over_planned": round(held / planned, 3), **watch.report()}


def child_generate(root: Path, model: str, precision: str, seconds: int, budget_s: float, out: Path) -> dict:
    """One job through the JobRunner, stopped between passes after `budget_s`. The resident memory's high-water mark
    is read and reset at every event: the stretch before Started is the load, one ending in a Progress is a pass
    (the first also encodes the prompt), one ending in ClipReady a clip's decode (and writing)."""
    from engine.api import protocol as p
    from engine.api.jobs import JobSpec
    from engine.memory_probe import reset_peak, status_bytes
    from engine.service.runner import JobRunner

    _, chosen = _plan(model, precision, seconds)
    planned = chosen.plan
    watch = NonFinite()
    base = status_bytes("VmRSS")
    phase_peak = {"load": 0, "sampling": 0, "decode": 0}
    passes: list[float] = []
    marks = {"start": time.monotonic()}
    last: list[p.Message] = []

    def on_event(m: p.Message) -> None:
        kind = {p.Started: "load", p.Progress: "sampling", p.ClipReady: "decode"}.get(type(m))
        if kind:
            phase_peak[kind] = max(phase_peak[kind], status_bytes("VmHWM"))
            reset_peak()
        if isinstance(m, p.Started):
            marks["started"] = time.monotonic()
        elif isinstance(m, p.Progress):
            passes.append(m.seconds)
        last[:] = [m]

    reset_peak()
    deadline = time.monotonic() + budget_s
    spec = JobSpec(kind="generate", model=model, output=str(out), prompts=(PROMPT,), seconds=seconds,
                   precision=precision, device="cpu", seed=SEED)
    JobRunner(_store(root), on_event).run(spec, lambda: time.monotonic() > deadline)
    end = last[0] if last else None
    flops = sum(planned.flops_per_pass[1:len(passes) + 1])
    result = {"precision": precision, "seconds_of_video": seconds, "budget_s": budget_s,
              "load_s": round(marks.get("started", marks["start"]) - marks["start"], 1),
              "passes_planned": len(planned.flops_per_pass) - 1, "passes_done": len(passes),
              "pass_seconds": [round(s, 2) for s in passes],
              "sampled_tflop": round(flops / 1e12, 2),
              "achieved_gflops": round(flops / sum(passes) / 1e9, 1) if passes else None,
              "baseline_rss_gb": _gb(base),
              "measured_phase_peaks_gb": {k: _gb(v) for k, v in phase_peak.items()},
              "planned_phases_gb": {k: _gb(v) for k, v in planned.phases.items()},
              "planned_peak_gb": _gb(planned.peak_bytes),
              "planned_resident_gb": {k: _gb(v) for k, v in planned.resident.items()},
              "end": type(end).__name__ if end else None, **watch.report()}
    if isinstance(end, p.Failed):
        result |= {"status": "failed", "error": end.message}
    return result


def child_decode(root: Path, model: str, seconds: int, latents: int) -> dict:
    """Clip 0 (the image clip's one latent frame), then the first `latents` latent frames of clip 1 as the next
    piece of the same decoder session, random codes; the peak of that piece against the planner's for it (VAE
    weights included). A streamed decode's memory is set by its chunk, so a piece of a few latent frames reaches
    a whole clip's peak at a fraction of its time."""
    import torch

    from engine.loader import VAE_DTYPES
    from engine.memory_probe import reset_peak, status_bytes
    from engine.model.vae import VideoVAE
    from engine.runtime.decode_plan import decode_peak_bytes
    from engine.runtime.precision import compute_bytes
    from engine.schedule import build_schedule

    preset, chosen = _plan(model, "nf4", seconds)
    plan = chosen.plan
    schedule = build_schedule(preset.schedule, seconds, preset.default_aspect)
    _, h, w = schedule.latent_shape
    latents = min(latents, schedule.clip_lengths[1])
    ends = latents == schedule.clip_lengths[1] and schedule.clips == 2
    planned = decode_peak_bytes(preset.vae, latents, h, w, compute_bytes(plan.decode_dtype), plan.decode_chunk_latents,
                                plan.decode_tiling, False, ends)
    dtype = VAE_DTYPES[plan.decode_dtype]
    resolved = _store(root).resolve(model)
    watch = NonFinite()
    before = status_bytes("VmRSS")
    reset_peak()
    started = time.monotonic()
    vae = VideoVAE.from_file(preset.vae, resolved.vae, torch.device("cpu")).to(dtype)
    loaded = time.monotonic()
    session = vae.decoder_session(plan.decode_chunk_latents, plan.decode_tiling)
    generator = torch.Generator().manual_seed(SEED)
    frames, finite, piece_s, weights_and_clip0 = 0, True, [], 0
    for t, last in ((1, False), (latents, ends)):
        codes = torch.randn(1, preset.vae.codebook_dim, t, h, w, generator=generator).sign_()
        codes = (codes * preset.vae.codebook_dim**-0.5).to(dtype)
        if piece_s:
            weights_and_clip0 = status_bytes("VmHWM") - before
            reset_peak()
        began = time.monotonic()
        for chunk in session.feed(codes, last=last):
            finite = finite and bool(chunk.isfinite().all())
            frames += chunk.shape[2] if piece_s else 0
        piece_s.append(round(time.monotonic() - began, 1))
    peak = status_bytes("VmHWM") - before
    return {"vae_load_s": round(loaded - started, 1), "clip0_s": piece_s[0], "piece_s": piece_s[1],
            "piece_latent": [latents, h, w], "piece_frames": frames, "pixels": list(schedule.pixel_size),
            "seconds_per_frame": round(piece_s[1] / max(frames, 1), 2), "frames_finite": finite,
            "decode_dtype": plan.decode_dtype, "chunk_latents": plan.decode_chunk_latents,
            "tiling": str(plan.decode_tiling), "weights_and_clip0_gb": _gb(weights_and_clip0),
            "piece_peak_gb": _gb(peak), "planned_piece_gb": _gb(planned),
            "measured_over_planned": round(peak / planned, 3), **watch.report()}


def child_formats_equal(a: Path, b: Path, model: str) -> dict:
    """Every transformer tensor of two installs, one tensor in memory at a time."""
    import torch
    from safetensors import safe_open

    def where(index: Path) -> dict[str, Path]:
        return {k: index.parent / v for k, v in json.loads(index.read_text())["weight_map"].items()}

    ia, ib = (_store(root).resolve(model).transformer for root in (a, b))  # the release's index, not a variant's
    wa, wb = where(ia), where(ib)
    if set(wa) != set(wb):
        return {"status": "failed", "error": f"tensor names differ: {sorted(set(wa) ^ set(wb))[:5]}"}
    unequal = []
    for name in sorted(wa):
        with safe_open(wa[name], "pt") as fa, safe_open(wb[name], "pt") as fb:
            x, y = fa.get_tensor(name), fb.get_tensor(name)
            if x.dtype != y.dtype or not torch.equal(x, y):
                unequal.append(name)
    result = {"tensors": len(wa), "unequal": unequal[:10]}
    if unequal:
        result["status"] = "failed"
    return result


def child(spec: dict) -> int:
    kind = spec.pop("kind")
    root = Path(spec.pop("root", "."))
    if kind == "load":
        result = child_load(root, spec["model"], spec["precision"])
    elif kind == "gemm":
        result = child_gemm()
    elif kind == "text":
        result = child_text_encoder(root, spec["model"])
    elif kind == "generate":
        result = child_generate(root, spec["model"], spec["precision"], spec["seconds"], spec["budget_s"],
                                Path(spec["out"]))
    elif kind == "decode":
        result = child_decode(root, spec["model"], spec["seconds"], spec["latents"])
    else:
        result = child_formats_equal(Path(spec["a"]), Path(spec["b"]), spec["model"])
    print(json.dumps(result))
    bad = result.get("status") == "failed" or result.get("outputs_not_finite") or result.get(
        "features_finite") is False or result.get("frames_finite") is False
    return 1 if bad else 0


# --- the run ------------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/istar-full-size"),
                        help="disk for the releases and the stores (about 62 GB at its fullest)")
    parser.add_argument("--out", type=Path, default=Path("full_size_cpu.json"))
    parser.add_argument("--model", default="infinitystar-8b-480p", help="a smaller catalogue model for a quick run")
    parser.add_argument("--steps", default=",".join(STEPS), help="which steps, comma-separated, in this order: "
                                                                 + ", ".join(STEPS))
    parser.add_argument("--budget-s", type=float, default=420.0, help="seconds of each generate job before it stops")
    parser.add_argument("--seconds", type=int, default=5, help="the generate jobs' video length")
    parser.add_argument("--decode-latents", type=int, default=2, help="latent frames of clip 1 the decode step runs")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(json.loads(args.child))
    steps = [s.strip() for s in args.steps.split(",") if s.strip()]
    unknown = [s for s in steps if s not in STEPS]
    if unknown:
        parser.error(f"unknown steps {unknown}; choose from {', '.join(STEPS)}")
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    report = Report(args.out.resolve(), args.model)
    homes = {"safetensors": work / "home", "torch": work / "home-torch"}
    root = homes["safetensors"] / "models"
    base_env = {**os.environ, **MMAP_ENV, "PYTHONPATH": str(ROOT)}
    env = {**base_env, "ISTAR_HOME": str(homes["safetensors"])}
    python = [sys.executable]

    def measured(name: str, **spec) -> dict:
        return run_step(report, name, [*python, __file__, "--child", json.dumps({"root": str(root),
                                                                                 "model": args.model, **spec})], env)

    for name in steps:
        kind, _, what = name.partition("-")
        if kind == "build":
            release = work / f"release-{what}"
            shutil.rmtree(release, ignore_errors=True)
            step = run_step(report, name, [*python, "-m", "engine.weights.random_release", str(release), "--model",
                                           args.model, "--format", what], env)
            if "files" in step:
                step["files"] = len(step["files"])
                step["gb"] = _gb(step.pop("bytes"))
            step["disk_free_gb"] = round(shutil.disk_usage(work).free / GB, 1)
            report.add(name, step)
        elif kind == "install":
            release = work / f"release-{what}"
            shutil.rmtree(homes[what], ignore_errors=True)
            run_step(report, name, [*python, "-m", "engine.cli.main", "models", "install", args.model, "--from",
                                    str(release)], {**base_env, "ISTAR_HOME": str(homes[what])})
            shutil.rmtree(release, ignore_errors=True)
        elif name == "formats-equal":
            run_step(report, name, [*python, __file__, "--child", json.dumps({
                "kind": "formats", "a": str(root), "b": str(homes["torch"] / "models"), "model": args.model})], env)
            shutil.rmtree(homes["torch"], ignore_errors=True)
        elif kind == "quantize":
            step = run_step(report, name, [*python, "-m", "engine.cli.main", "models", "quantize", args.model,
                                           "--precision", what], env)
            if step["status"] == "ok":
                bf16 = sum(f.bytes for f in _store(root).manifest(args.model).files if f.role == "transformer"
                           and f.variant not in ("nf4", "int8"))
                step["bf16_checkpoint_gb"] = _gb(bf16)
                step["peak_over_bf16_checkpoint"] = round(step["peak_rss_gb"] * GB / bf16, 3)
                report.add(name, step)
        elif kind == "load":
            measured(name, kind="load", precision=what)
        elif name == "gemm":
            measured(name, kind="gemm")
        elif name == "text-encoder":
            measured(name, kind="text")
        elif kind == "generate":
            measured(name, kind="generate", precision=what, seconds=args.seconds, budget_s=args.budget_s,
                     out=str(work / f"{name}.mp4"))
        else:
            measured(name, kind="decode", seconds=args.seconds, latents=args.decode_latents)
    failed = [n for n in steps if report.data["steps"][n]["status"] != "ok"]
    print(f"wrote {report.path}" + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
