"""`istar`: the engine's command line (presets, key tables, memory plans, self-test, the model store, generation)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from engine.cli import REPORTED_ERRORS, describe_error, farm, jobs, models
from engine.config import PRESETS, get_preset
from engine.runtime.precision import KV_PLACEMENTS, PRECISIONS

if TYPE_CHECKING:
    from engine.runtime.planner import Plan

GB = 1e9


def _cmd_presets(args: argparse.Namespace) -> int:
    if args.json:
        print(json.dumps({name: p.to_dict() for name, p in PRESETS.items()}, indent=2))
        return 0
    for name, p in PRESETS.items():
        print(f"{name:28s} {p.description}")
    return 0


def _cmd_keys(args: argparse.Namespace) -> int:
    import torch

    from engine.model.transformer import InfinityStarTransformer
    from engine.model.vae import vae_key_shapes

    preset = get_preset(args.model)
    if args.part == "vae":
        rows = vae_key_shapes(preset.vae)
    else:
        with torch.device("meta"):
            model = InfinityStarTransformer(preset.transformer)
        rows = [(name, tuple(t.shape)) for name, t in model.state_dict().items()]
    for name, shape in rows:
        print(f"{name}\t{format_shape(shape)}")
    return 0


def format_shape(shape: tuple[int, ...]) -> str:
    """Like the released key tables: '512,2048', and '4096,' for one dimension."""
    text = ",".join(str(s) for s in shape)
    return text + "," if len(shape) == 1 else text


def _cmd_plan(args: argparse.Namespace) -> int:
    from engine.runtime.planner import plan

    if args.device:
        return _choose_for_device(args)
    args.precision = args.precision or "bf16"
    budget = args.memory_gb * GB if args.memory_gb else None
    result = plan(
        get_preset(args.model), args.duration, args.aspect, args.precision, args.batch, args.text_tokens,
        memory_budget=budget, kv_placement=args.kv,
    )
    data = result.to_dict()
    if args.json:
        data.pop("flops_per_pass")
        print(json.dumps(data))
        return 0
    print(f"{result.preset}: {result.seconds} s, aspect h/w {result.aspect}, {result.precision}, batch {result.batch}")
    print(f"  passes {result.passes}, query tokens {result.tokens:,}, largest pass {result.largest_pass:,}")
    print(f"  parameters {result.params:,}, {result.flops / 1e12:,.1f} TFLOP")
    print(f"  weights {result.weight_bytes / GB:.2f} GB, K/V cache peak {result.kv_peak_bytes / GB:.2f} GB, "
          f"activations peak {result.activation_peak_bytes / GB:.2f} GB")
    print(f"  decode: {_decode_settings(result)}")
    print(f"  between clips the decode session holds {result.decode_session_bytes / GB:.2f} GB of conv caches "
          "(kept in host memory while the next clip samples)")
    if result.kv_placement == "host":
        print(f"  K/V of the clip before in host memory, streamed to the device layer by layer: needs "
              f"{result.host_kv_bytes / GB:.2f} GB of host memory")
    else:
        print("  K/V of the clip before on the device")
    *phases, peak = result.breakdown()
    for line in phases:
        print(f"  {line}")
    fits = "" if budget is None else f" ({'fits' if result.peak_bytes <= budget else 'over'} {args.memory_gb:g} GB)"
    print(f"  {peak}{fits}")
    return 0


def _choose_for_device(args: argparse.Namespace) -> int:
    """The load plan for a device: what precision, text-encoder place and decode fit it, and their cost."""
    from engine.runtime.hardware import detect_device
    from engine.runtime.load_plan import choose_load_plan

    info = detect_device(args.device)
    budget = int(args.memory_gb * GB) if args.memory_gb else None
    choice = choose_load_plan(
        get_preset(args.model), info, args.duration, args.aspect, args.batch, args.precision, budget
    )
    if args.json:
        plan = choice.plan.to_dict()
        plan.pop("flops_per_pass")
        print(json.dumps({"device": info.to_json(), "fits": choice.fits, "peak_bytes": choice.peak_bytes,
                          "budget_bytes": choice.budget_bytes, "plan": plan}))
    else:
        print(f"{args.model}: {args.duration} s, aspect {args.aspect}, batch {args.batch}")
        for line in choice.describe():
            print(f"  {line}")
    return 0 if choice.fits else 1


def _decode_settings(result: Plan) -> str:
    n = result.decode_chunk_latents
    chunk = "all latent frames at once" if n is None else f"{n} latent frame{'s' if n > 1 else ''} a chunk"
    tiling = result.decode_tiling
    tiles = f"tiles of {tiling.tile} tokens overlapping {tiling.overlap}" if tiling else "no tiling"
    where = "offloaded to CPU" if result.offload_transformer_for_decode else "resident"
    return f"VAE in {result.decode_dtype}, {chunk}, {tiles}; transformer {where} meanwhile"


def _cmd_selftest(args: argparse.Namespace) -> int:
    from engine.runtime.device import resolve_device
    from engine.selftest import run_selftest

    report = run_selftest(args.fixture, str(resolve_device(args.device)), args.time)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
        return 0 if report.ok else 1
    print(f"self-test against {report.fixture} on {report.device}")
    for part, err in report.errors.items():
        tol = report.tolerances[part]
        print(f"  {part:28s} max abs err {err:.3e}  (tolerance {tol:.0e})  {'ok' if err <= tol else 'FAIL'}")
    for problem in report.schedule_problems:
        print(f"  schedule: {problem}")
    if report.cropped_passes:
        print(f"  logits of {len(report.cropped_passes)} of {report.passes} passes compared on the latent frames "
              "the fixture kept")
    for part, why in report.not_checked.items():
        print(f"  {part}: NOT CHECKED ({why})")
    if report.sampling_seconds is not None:
        print(f"  one full guided sampling run: {report.sampling_seconds:.3f} s")
    print("PASS" if report.ok else "FAIL")
    return 0 if report.ok else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="istar", description="InfinityStar Studio engine")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("presets", help="list the model presets")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=_cmd_presets)

    p = sub.add_parser("keys", help="print every checkpoint tensor: name<TAB>shape")
    p.add_argument("--model", required=True, help="preset name")
    p.add_argument("--part", choices=("transformer", "vae"), default="transformer")
    p.set_defaults(run=_cmd_keys)

    p = sub.add_parser("plan", help="memory and compute plan of one generation")
    p.add_argument("--model", required=True, help="preset name")
    p.add_argument("--duration", type=int, default=5, help="seconds, 0 for an image")
    p.add_argument("--aspect", default="16:9", help="W:H such as 16:9, or h/w as a number")
    p.add_argument("--precision", choices=PRECISIONS, default=None,
                   help="weight precision (default bf16; with --device: chosen to fit unless given)")
    p.add_argument("--device", default=None,
                   help="auto, cpu or cuda[:N]: detect it and choose precision, text-encoder place and decode")
    p.add_argument("--batch", type=int, default=1, help="videos per run")
    p.add_argument("--text-tokens", type=int, default=None, help="prompt length (default: the maximum)")
    p.add_argument("--memory-gb", type=float, default=None,
                   help="memory to fit (default with --device: 90%% of the device's); picks decode settings and "
                        "where the K/V live")
    p.add_argument("--kv", choices=KV_PLACEMENTS, default=None,
                   help="where each clip's kept K/V live: on the device, or in host memory streamed back per layer "
                        "(default: the device, unless --memory-gb needs host memory)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=_cmd_plan)

    p = sub.add_parser("selftest", help="compare this engine with a recorded run of the official code")
    p.add_argument("--fixture", required=True, help="parity fixture folder (fixture.json + safetensors)")
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--time", action="store_true", help="also time one full guided sampling run")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=_cmd_selftest)

    models.register(sub)
    jobs.register(sub)
    farm.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except REPORTED_ERRORS as err:
        print(f"istar {args.command}: {describe_error(err)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
