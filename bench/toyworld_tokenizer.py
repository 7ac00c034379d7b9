"""What the toyworld tokenizer keeps: the held-out prompts' own videos, rendered by the world, sent through the VAE +
BSQ (encode, quantise along the schedule, decode) and read by the evaluation's detector.

Usage (from the repository root):
    PYTHONPATH=. python bench/toyworld_tokenizer.py [--n 100] [--seed 0] [--vae FILE_OR_RUN] [--sheet sheet.png]
        [--clips 100]

A transformer that predicted the world's own bits exactly would score these numbers on bench/toyworld_eval.py's
prompts, so they bound what any transformer on this tokenizer can reach. --vae takes an exported VAE file or a
training run folder (default: the shipped model's). --sheet saves the first 8 prompts, each the world's render
above its round trip. --clips also measures PSNR on held-out 1 s clips of the training distribution (one or two
objects), the clips stage 1 checks itself on (its reports use the first 8, its last report 100), two ways: the PSNR
of the pooled squared error and the mean of per-clip PSNRs, split by whether a clip has a bouncing object (the
fastest motion, and the tokenizer's worst clips). Results are in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

import numpy as np
import torch

from engine.config import get_preset
from engine.media.image import write_png
from engine.model.pixels import pixels_to_uint8
from engine.model.vae import VideoVAE
from engine.schedule import build_schedule
from engine.train.toyworld.evaluate import SECONDS, accuracy, judge
from engine.train.toyworld.sheet import contact_sheet
from engine.train.toyworld.world import EVAL_SEED_START, eval_prompts, eval_seed, render, scene_of
from engine.train.vae_train import held_out_errors, load_vae, psnr, psnr_summary, through_tokenizer, to_video

SHIPPED_VAE = Path("resources/models/toyworld/vae/toyworld_vae.safetensors")
SIZE = 64
SHEET_ROWS = 8


def _load(path: Path) -> VideoVAE:
    if path.is_dir():
        return load_vae(path)
    return VideoVAE.from_file(get_preset("toyworld").vae, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0, help="evaluation set")
    parser.add_argument("--vae", type=Path, default=SHIPPED_VAE)
    parser.add_argument("--sheet", type=Path)
    parser.add_argument("--clips", type=int, default=100,
                        help="held-out 1 s clips of the training distribution (one or two objects) for a second PSNR; "
                        "the first 8 are stage 1's own check")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print("command: python " + shlex.join(sys.argv), flush=True)
    vae = _load(args.vae).eval()
    schedule = build_schedule(get_preset("toyworld").schedule, SECONDS, "1:1")
    world, tokenized, shapes, psnrs, rows, labels = [], [], [], [], [], []
    for index, (caption, spec) in enumerate(eval_prompts(args.n, args.seed, objects=1)):
        frames = render(spec, SECONDS, SIZE, eval_seed(args.seed, index)).frames
        video = to_video(frames[None])
        decoded = through_tokenizer(vae, video, schedule)
        psnrs.append(psnr(decoded, video))
        back = pixels_to_uint8(decoded[0]).permute(1, 2, 3, 0).numpy()
        world.append(judge(frames, spec))
        tokenized.append(judge(back, spec))
        shapes.append(spec.objects[0].shape)
        if index < SHEET_ROWS:
            rows += [frames, back]
            read = tokenized[-1]["read"]
            labels += [f"{index}: {caption}",
                       f"{index} through the tokenizer, read: " + ", ".join(f"{c} {s} {m}" for c, s, m in read[1:])]
    print(f"{args.n} prompts, {args.n * SECONDS} clips; PSNR through the tokenizer {np.mean(psnrs):.2f} dB")
    if args.clips:
        errors = held_out_errors(vae, get_preset("toyworld"), args.clips, SIZE)
        print(f"{args.clips} held-out 1 s training clips (one or two objects), PSNR through the tokenizer:")
        bouncing = np.array([any(o.motion == "bouncing" for o in scene_of(EVAL_SEED_START + i).objects)
                             for i in range(args.clips)])
        for name, chosen in (("all", np.ones_like(bouncing)), ("with a bouncing object", bouncing),
                             ("without", ~bouncing)):
            if chosen.any():
                both = psnr_summary(errors[chosen])
                print(f"  {name:24s} {chosen.sum():4d} clips  {both['pooled']:.2f} dB of the pooled error, "
                      f"{both['mean']:.2f} dB the mean over clips")
    print(f"{'':24s} {'colour':>7s} {'motion':>7s} {'shape':>7s} {'continuation':>13s}")
    for name, judged in (("the world's renders", world), ("through the tokenizer", tokenized)):
        s = accuracy(judged, shapes)
        print(f"{name:24s} {s['colour']:7.3f} {s['motion']:7.3f} {s['shape']:7.3f} {s['consistency']:13.3f}")
    if args.sheet:
        write_png(args.sheet, contact_sheet(rows, labels, columns=7))
        print(f"sheet: {args.sheet}")


if __name__ == "__main__":
    main()
