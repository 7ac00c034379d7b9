"""One toyworld stage-1 step (encode, quantise, decode, backward, optimizer step), float32 against bfloat16
autocast (vae_train --bf16), timed in one run.

Usage (from the repository root):
    PYTHONPATH=. python bench/vae_step.py [--steps 8] [--threads 2]

Training alternates image steps (16 single frames) and clip steps (two 1 s clips), so both are timed and their
mean is what a run sees. The two precisions take turns, twice each, so a change in machine load hits both; each
figure is the median of --steps steps after one warm-up. Results are in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from engine.config import get_preset
from engine.model.vae import VideoVAE
from engine.schedule import build_schedule
from engine.train.vae_train import init_for_training, step_loss, training_clips


def step_seconds(vae: VideoVAE, optimizer: torch.optim.Optimizer, images: bool, bf16: bool, steps: int) -> list[float]:
    preset = get_preset("toyworld")
    schedule = build_schedule(preset.schedule, 0 if images else 1, "1:1")
    rng = np.random.default_rng(0)
    seconds = []
    for _ in range(steps + 1):
        video, weights = training_clips(rng, 16 if images else 2, 64, images, 10.0)
        start = time.perf_counter()
        loss, _ = step_loss(vae, video, weights, schedule, True, bf16)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        seconds.append(time.perf_counter() - start)
    return seconds[1:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    vae = VideoVAE(get_preset("toyworld").vae)
    init_for_training(vae)
    optimizer = torch.optim.AdamW(vae.parameters(), lr=1e-4)
    times: dict[tuple[bool, bool], list[float]] = {}
    for _ in range(2):
        for bf16 in (False, True):
            for images in (True, False):
                times.setdefault((bf16, images), []).extend(step_seconds(vae, optimizer, images, bf16, args.steps))
    print(f"toyworld VAE step, torch {torch.__version__}, {args.threads} threads, median of {2 * args.steps} steps")
    mean = {}
    for bf16 in (False, True):
        image, clip = (statistics.median(times[bf16, images]) for images in (True, False))
        mean[bf16] = (image + clip) / 2
        name = "bf16" if bf16 else "fp32"
        print(f"{name}  image step {image:.3f} s  clip step {clip:.3f} s  mean {mean[bf16]:.3f} s")
    print(f"bf16 steps per minute / fp32: {mean[False] / mean[True]:.2f}x")


if __name__ == "__main__":
    main()
