"""Pass-loop efficiency at a mid size: achieved FLOP/s against this machine's GEMM FLOP/s at the same width,
and the cached SSA inference against the naive full-sequence forward under the dense block mask.

    python bench/engine_passes.py [--threads N]

Ratios are measured in one run on this machine; the results go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import torch
import torch.nn.functional as F

from engine.config import TransformerConfig, get_preset
from engine.model.packed import teacher_forced_logits
from engine.model.transformer import InfinityStarTransformer
from engine.runtime.planner import plan_schedule
from engine.sampler import Guidance, PassEvent, generate, run_to_end
from engine.schedule import build_schedule

TEXT_TOKENS = 16


def mid_preset():
    base = get_preset("tiny-a")
    transformer = TransformerConfig(depth=8, width=512, heads=8, kv_heads=2, block_chunks=2, text_channels=64,
                                    text_maxlen=64)
    schedule = dataclasses.replace(base.schedule, clip_frames=4)
    return dataclasses.replace(base, name="bench-mid", transformer=transformer, schedule=schedule)


def gemm_flops_per_second(cfg: TransformerConfig, rows: int, repeats: int = 5) -> float:
    """FLOP/s of the block's four GEMM shapes (q/k/v, o, gate/up, down) over `rows` token rows."""
    q, kv, hidden = cfg.heads * cfg.head_dim, cfg.kv_heads * cfg.head_dim, cfg.mlp_hidden_size
    shapes = [(cfg.width, q + 2 * kv), (q, cfg.width), (cfg.width, 2 * hidden), (hidden, cfg.width)]
    inputs = [(torch.randn(rows, k), torch.randn(n, k)) for k, n in shapes]
    for x, w in inputs:
        F.linear(x, w)
    start = time.perf_counter()
    for _ in range(repeats):
        for x, w in inputs:
            F.linear(x, w)
    seconds = time.perf_counter() - start
    return repeats * sum(2 * rows * k * n for k, n in shapes) / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    preset = mid_preset()
    cfg = preset.transformer
    schedule = build_schedule(preset.schedule, 2, "1:1")
    model = InfinityStarTransformer(cfg).eval().fuse_projections()
    text = torch.randn(TEXT_TOKENS, cfg.text_channels)
    guidance = Guidance.from_schedule(preset.schedule)
    plan = plan_schedule(preset, schedule, "fp32", text_tokens=TEXT_TOKENS)
    print(f"mid size: depth {cfg.depth}, width {cfg.width}, {cfg.heads} heads / {cfg.kv_heads} kv, clips "
          f"{schedule.clip_lengths} latent frames of {schedule.latent_shape[1]}x{schedule.latent_shape[2]}, "
          f"{len(schedule.passes)} passes, {schedule.query_tokens} query tokens, {plan.flops / 1e9:.1f} GFLOP, "
          f"{args.threads} threads")

    run_to_end(generate(model, build_schedule(preset.schedule, 0, "1:1"), text, guidance))
    start = time.perf_counter()
    result = run_to_end(generate(model, schedule, text, guidance, seed=1))
    sampling = time.perf_counter() - start
    achieved = plan.flops / sampling
    gemm = gemm_flops_per_second(cfg, plan.rows * schedule.largest_pass)
    print(f"pass loop: {sampling:.2f} s, {achieved / 1e9:.1f} GFLOP/s; GEMM at width {cfg.width}: "
          f"{gemm / 1e9:.1f} GFLOP/s; ratio {achieved / gemm:.2f} (goal >= 0.6)")

    start = time.perf_counter()
    events = generate(model, schedule, text, guidance, forced=result.bits, return_logits=True)
    cached = [e.logits for e in events if isinstance(e, PassEvent)]
    cached_seconds = time.perf_counter() - start
    start = time.perf_counter()
    with torch.no_grad():
        naive = teacher_forced_logits(model, schedule, text, result.bits, dense=True)
    naive_seconds = time.perf_counter() - start
    worst = max((a - b).abs().max().item() for a, b in zip(cached, naive, strict=True))
    print(f"cached SSA inference {cached_seconds:.2f} s vs naive full-sequence forward with the dense block mask "
          f"{naive_seconds:.2f} s: {naive_seconds / cached_seconds:.1f}x (goal >= 3x); logits agree to {worst:.1e}")


if __name__ == "__main__":
    main()
