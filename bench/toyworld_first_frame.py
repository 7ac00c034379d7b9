"""Where toyworld's motion misses come from: the same held-out prompts generated from the model's own first frame
(text-to-video, as bench/toyworld_eval.py does) and from two first frames the world renders (image-to-video):
- planned: the prompt's own first frame, its object placed where the prompted motion fits in the frame, as in
  every training video;
- anywhere: the same scene with its object placed as a still object would be, anywhere in the frame.
Planned against anywhere is what placement is worth; anywhere against the model's own is what a clean first frame
is worth; planned is what the video clips can do when the first frame is right.

Usage (from the repository root):
    PYTHONPATH=. python bench/toyworld_first_frame.py [--n 40] [--model toyworld] [--device auto]

Scoring as bench/toyworld_eval.py (engine/train/toyworld/evaluate.py), evaluation set 0. Results are in
docs/toyworld_experiments.md.
"""

from __future__ import annotations

import argparse
import shlex
import sys

import numpy as np
import torch

from engine.loader import load_model
from engine.train.toyworld.evaluate import SECONDS, Evaluation, score_prompt
from engine.train.toyworld.spec import ClipSpec
from engine.train.toyworld.world import eval_prompts, eval_seed, render, with_motions

SOURCES = ("model", "planned", "anywhere")


def first_frame(source: str, spec: ClipSpec, index: int) -> np.ndarray | None:
    """The first frame `source` gives held-out prompt `index` of set 0, or None for the model's own."""
    if source == "model":
        return None
    if source == "planned":
        return render(spec, SECONDS, 64, eval_seed(0, index)).frames[0]
    still = with_motions(spec, ["still"] * len(spec.objects))
    return render(still, SECONDS, 64, eval_seed(1, index)).frames[0]  # another held-out seed places it


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=40, help="held-out prompts")
    parser.add_argument("--model", default="toyworld")
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    model = load_model(args.model, args.device, seconds=SECONDS, aspect="1:1")
    print(shlex.join(["python", *sys.argv]))
    print(f"{args.model} ({model.precision} on {model.device}), {args.n} held-out prompts of set 0, "
          f"{SECONDS} s videos, torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"{'first frame':12s} {'colour':>7s} {'motion':>7s} {'continuation':>13s}")
    prompts = eval_prompts(args.n, 0, objects=1)
    for source in SOURCES:
        scores = [
            score_prompt(model, index, caption, spec, eval_seed(0, index), first_frame(source, spec, index))[0]
            for index, (caption, spec) in enumerate(prompts)
        ]
        s = Evaluation(scores, videos=[]).summary()
        print(f"{source:12s} {s['colour']:7.3f} {s['motion']:7.3f} {s['consistency']:13.3f}", flush=True)


if __name__ == "__main__":
    main()
