"""One toyworld training step (forward + backward, a batch of 8 videos) three ways, timed in one run:
- dense: every pass, attention over the whole packed sequence under the SSA mask (how the shipped model trained);
- spans: every pass, each block attending only to the keys SSA lets it see (the same logits);
- sampled: spans, and one of each clip's earlier finest-scale repetitions stands in for them (the default now);
- bf16: sampled, with the forward in bfloat16 autocast (transformer_train --bf16).

Usage (from the repository root):
    PYTHONPATH=. python bench/train_step.py [--steps 6] [--threads 2]

Random weights and random latents of the toyworld preset's shape: the time of a step does not depend on their
values. Each figure is the median over --steps steps after one warm-up; training draws 1 s and 2 s batches
equally often, so their mean is what a run sees. Results are in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from engine.config import get_preset
from engine.model.packed import teacher_forced_logits
from engine.schedule import build_schedule
from engine.train.transformer_train import (
    MAX_FLIP,
    TEXT_DROPOUT,
    Toyworld,
    bit_loss,
    sampled_passes,
    texts,
    training_bits,
)

BATCH = 8
PROMPT = "a red circle moves to the left on a navy background"


def step_seconds(model: Toyworld, seconds: int, how: str, steps: int) -> float:
    preset = get_preset("toyworld")
    schedule = build_schedule(preset.schedule, seconds, "1:1")
    generator = torch.Generator().manual_seed(0)
    latents = torch.randn(BATCH, preset.vae.codebook_dim, *schedule.latent_shape, generator=generator) * 0.3
    times = []
    for _ in range(steps + 1):
        start = time.perf_counter()
        targets, inputs = training_bits(latents, schedule, (preset.vae.semantic_bits, preset.vae.detail_bits),
                                        generator, MAX_FLIP)
        text = texts(model, [[PROMPT]] * BATCH, generator, TEXT_DROPOUT)
        sampled = how in ("sampled", "bf16")
        passes, weights = sampled_passes(schedule, generator) if sampled else (range(len(targets)), None)
        with torch.autocast("cpu", torch.bfloat16, enabled=how == "bf16"):
            logits = teacher_forced_logits(model.transformer, schedule, text, inputs, with_uncond=False,
                                           passes=list(passes), dense=how == "dense")
            loss, _ = bit_loss(logits, [targets[i] for i in passes], weights=weights)
        model.zero_grad()
        loss.backward()
        times.append(time.perf_counter() - start)
    return statistics.median(times[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = Toyworld()
    mean = {}
    for how in ("dense", "spans", "sampled", "bf16"):
        one, two = (step_seconds(model, seconds, how, args.steps) for seconds in (1, 2))
        mean[how] = (one + two) / 2
        print(f"{how:8s} 1 s batch {one:.3f} s, 2 s batch {two:.3f} s, mean {mean[how]:.3f} s "
              f"= {mean['dense'] / mean[how]:.2f}x the steps per minute of dense", flush=True)


if __name__ == "__main__":
    main()
