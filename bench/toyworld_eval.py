"""Toy-world model quality and speed: colour, motion and continuation read back from 2 s videos of held-out prompts.

Usage (from the repository root):
    PYTHONPATH=. python bench/toyworld_eval.py [--n 100] [--model toyworld] [--device auto] [--seed 0]
        [--json results.json] [--sheet sheet.png]

Scoring, seeds and timings: engine/train/toyworld/evaluate.py. --sheet saves the first 8 videos as a contact sheet,
each row labelled with its prompt and what the detector read.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

import torch

from engine.atomic import write_text_atomic
from engine.loader import load_model
from engine.media.image import write_png
from engine.train.toyworld.evaluate import GOALS, SECONDS, Evaluation, PromptScore, evaluate
from engine.train.toyworld.sheet import contact_sheet

SHEET_ROWS = 8


def _line(score: PromptScore) -> str:
    colours = ",".join(str(c) for c, _, _ in score.read[1:])
    motions = ",".join(str(m) for _, _, m in score.read[1:])
    return (
        f"{score.index:4d} {score.colour} {score.motion:10s} read {colours} {motions}  "
        f"{score.seconds:.2f} s  first pass {score.first_pass_seconds:.3f} s"
    )


def _label(score: PromptScore) -> str:
    colour, shape, _ = score.read[1]
    motions = ", ".join(str(m) for _, _, m in score.read[1:])
    return f"{score.index}: {score.caption}\nread: {colour} {shape}, {motions}"


def _verdict(value: float, goal: float, higher: bool) -> str:
    met = value >= goal if higher else value < goal
    return f"{'>=' if higher else '<'} {goal:<5g} {'met' if met else 'NOT met'}"


def report(evaluation: Evaluation) -> list[str]:
    s = evaluation.summary()
    rows = [f"{'':28s} {'value':>8s}   goal"]
    for key, name in (("colour", "colour accuracy"), ("motion", "motion accuracy"), ("consistency", "continuation")):
        rows.append(f"{name:28s} {s[key]:8.3f}   {_verdict(s[key], GOALS[key], True)}")
    for key, name in (("seconds", f"{SECONDS} s clip, s"), ("first_pass_seconds", "first pass event, s")):
        median, p90 = s[f"{key}_median"], s[f"{key}_p90"]
        rows.append(f"{name:28s} {median:8.3f}   {_verdict(median, GOALS[key], False)}  (median; p90 {p90:.3f})")
    previews = s["previews"]
    rows.append(
        f"first pass events with a preview image: {previews} of {s['n']}"
        + ("" if previews else " (the model has no preview map: the time is to the first pass event)")
    )
    rows.append(f"{'shape read as prompted':28s} {s['shape']:8.3f}   no goal; chance is 0.25 "
                "(bench/toyworld_tokenizer.py: the tokenizer's bound)")
    rows.append(f"n = {s['n']} prompts, {s['clips']} video clips")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100, help="held-out prompts")
    parser.add_argument("--model", default="toyworld")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--seed", type=int, default=0, help="evaluation set: its prompts and generation seeds")
    parser.add_argument("--json", type=Path, help="write the summary and per-prompt results here")
    parser.add_argument("--sheet", type=Path, help=f"save a contact sheet PNG of the first {SHEET_ROWS} videos here")
    args = parser.parse_args()
    command = shlex.join(["python", *sys.argv])
    model = load_model(args.model, args.device, seconds=SECONDS, aspect="1:1")
    evaluation = evaluate(model, args.n, args.seed, keep=SHEET_ROWS, progress=lambda s: print(_line(s), flush=True))
    print(command)
    print(f"{args.model} ({model.precision} on {model.device}), evaluation set {args.seed}, {SECONDS} s videos, "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print("\n".join(report(evaluation)))
    if args.json:
        write_text_atomic(args.json, json.dumps({"command": command, **evaluation.to_json()}, indent=1) + "\n")
        print(f"wrote {args.json}")
    if args.sheet:
        labels = [_label(score) for score in evaluation.scores[:SHEET_ROWS]]
        write_png(args.sheet, contact_sheet(evaluation.videos, labels))
        print(f"wrote {args.sheet}")


if __name__ == "__main__":
    main()
