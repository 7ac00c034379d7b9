"""Which scales decide a toyworld model's motion: held-out prompts generated with the first frame and the first video
clip's passes up to a scale side forced to the world's own bits (the prompt's planned video through the VAE and
the quantiser), everything after them sampled as usual; the first video clip's motion read by the evaluation's
detector, per largest forced side (0: only the first frame forced, which is image-to-video from the world's frame).

Usage (from the repository root):
    PYTHONPATH=. python bench/toyworld_forced_scales.py [--n 30] [--seed 0] [--model toyworld]

Where the share jumps is where the model samples the motion wrong; if forcing only the first frame already reads
right, the video clips follow the prompt and what is missing is the first frame's placement. Results are in
docs/toyworld.md and docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import shlex
import sys

import torch

from engine.loader import load_model
from engine.model.bsq import quantize_multiscale
from engine.schedule import Schedule, build_schedule
from engine.train.toyworld.evaluate import SECONDS, score_prompt
from engine.train.toyworld.world import eval_prompts, eval_seed, render
from engine.train.vae_train import to_video


def forced_prefixes(schedule: Schedule, sides: list[int]) -> dict[int, int]:
    """Per largest forced side, how many leading passes that forces: clip 0's, then clip 1's up to that side."""
    clip0 = len(schedule.clip_passes(0))
    clip1 = schedule.clip_passes(1)
    return {side: clip0 + sum(p.h <= side for p in clip1) for side in sides}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=30, help="held-out prompts")
    parser.add_argument("--seed", type=int, default=0, help="evaluation set")
    parser.add_argument("--model", default="toyworld")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print("command: python " + shlex.join(sys.argv), flush=True)
    model = load_model(args.model, "cpu", seconds=SECONDS, aspect="1:1", progress=lambda _: None)
    preset = model.preset
    schedule = build_schedule(preset.schedule, SECONDS, "1:1")
    sides = [0, *sorted({p.h for p in schedule.clip_passes(1)})]
    prefixes = forced_prefixes(schedule, sides)
    hits = dict.fromkeys(sides, 0)
    for index, (caption, spec) in enumerate(eval_prompts(args.n, args.seed, objects=1)):
        seed = eval_seed(args.seed, index)
        frames = render(spec, SECONDS, schedule.pixel_size[0], seed).frames
        with torch.no_grad():
            latent = model.vae.encode(to_video(frames[None]))
        bits = quantize_multiscale(latent, schedule, preset.vae.semantic_bits, preset.vae.detail_bits)
        row = []
        for side in sides:
            score, _ = score_prompt(model, index, caption, spec, seed, forced=tuple(bits[: prefixes[side]]))
            motion = score.read[1][2]
            hits[side] += motion == spec.objects[0].motion
            row.append(str(motion))
        print(f"{index:3d} {spec.objects[0].motion:10s} read by forced side: {' '.join(row)}", flush=True)
    print(f"first video clip's motion read as prompted, {args.n} prompts, by the largest forced scale side:")
    print("  " + "  ".join(f"{side}: {hits[side] / args.n:.3f}" for side in sides))


if __name__ == "__main__":
    main()
