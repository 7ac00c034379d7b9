"""How much each pass of toyworld uses the prompt: teacher-forced bit accuracy per pass on held-out 2 s videos, once
with each video's caption and once with the learned unconditional text. Where the two agree, that pass ignores the
prompt.

Usage (from the repository root):
    PYTHONPATH=. python bench/toyworld_text_gain.py [--run runs/toyworld/transformer] [--videos 32]

Without --run it scores the shipped model (resources/models/toyworld); with it, a stage-2 training run's weights.
The videos are the first held-out seeds, encoded by the shipped VAE. Results are in docs/toyworld_experiments.md.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from safetensors.torch import load_file

from engine.config import get_preset
from engine.model.vae import VideoVAE
from engine.schedule import build_schedule
from engine.text.words import WORDS_FILE, WordTextEncoder
from engine.train.checkpoint import WEIGHTS
from engine.train.export import TRANSFORMER_FILE, VAE_FILE
from engine.train.toyworld.world import EVAL_SEED_START
from engine.train.transformer_train import LatentPool, Toyworld, teacher_forced
from engine.weights.manifest import TEXT_ENCODER_DIR
from engine.weights.store import BUILTIN_ROOT

SHIPPED = BUILTIN_ROOT / "toyworld"


def load_pair(run: Path | None) -> Toyworld:
    pair = Toyworld()
    if run is not None:
        pair.load_state_dict(load_file(run / WEIGHTS))
    else:
        pair.transformer.load_state_dict(load_file(SHIPPED / TRANSFORMER_FILE))
        pair.text = WordTextEncoder.from_file(SHIPPED / TEXT_ENCODER_DIR / WORDS_FILE)
    return pair.eval()


@torch.no_grad()
def pass_accuracies(pair: Toyworld, pool: LatentPool, dropout: float) -> list[float]:
    """Per pass, the share of bits the argmax gets right; dropout 1 gives every video the unconditional text."""
    generator = torch.Generator().manual_seed(0)
    logits, targets, _, _ = teacher_forced(pair, pool.latents, pool.prompts, pool.seconds, generator, 0.0, dropout)
    return [
        (lg.reshape(-1, 2).argmax(-1) == t.reshape(-1).long()).float().mean().item()
        for lg, t in zip(logits, targets, strict=True)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, help="a stage-2 training run folder (default: the shipped model)")
    parser.add_argument("--videos", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    preset = get_preset("toyworld")
    vae = VideoVAE.from_file(preset.vae, SHIPPED / VAE_FILE, "cpu")
    pool = LatentPool.encode(vae, list(range(EVAL_SEED_START, EVAL_SEED_START + args.videos)), 2, 64)
    pair = load_pair(args.run)
    captioned, unconditional = pass_accuracies(pair, pool, 0.0), pass_accuracies(pair, pool, 1.0)
    print(f"{args.run or SHIPPED}: {args.videos} held-out 2 s videos, teacher forced, bit accuracy per pass")
    print("pass  clip  scale   rep  tokens      caption  unconditional  gain")
    schedule = build_schedule(preset.schedule, 2, "1:1")
    for p, with_text, without in zip(schedule.passes, captioned, unconditional, strict=True):
        print(f"{p.index:4d}  {p.clip:4d}  {p.h}x{p.w}    {p.rep + 1}/{p.reps}  {p.t}x{p.h}x{p.w}"
              f"  {with_text:11.3f}  {without:13.3f}  {with_text - without:+.3f}")


if __name__ == "__main__":
    main()
