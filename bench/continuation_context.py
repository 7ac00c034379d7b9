"""How much of a video a continuation must run again: the first new clip's logits with the clips before it cut to
the last W, against the whole video before it.

A continuation cannot hold every earlier clip's K/V, so it runs the last few clips again (forced to their stored
bits) and the first of them sees no clip before it. The clip it hands on was computed seeing the one before, and
that one the one before it, so a short context changes what the new clip sees. This bench makes a video with the
shipped toyworld model, then scores its clip N's logits (its bits forced, as the video made them) after the last W
clips only, for several W. Printed per W: the largest and mean absolute logit difference, and the mean change of
the sampled probability of each bit (the guided, tau-scaled 2-way softmax the sampler draws from).

    python bench/continuation_context.py --prompts 10 --clips 12
"""

from __future__ import annotations

import argparse
import shlex
import sys

import torch

from engine.loader import load_model
from engine.model.guidance import cfg as guided
from engine.sampler import Guidance, PassEvent, generate, run_to_end
from engine.schedule import build_clips_schedule, build_schedule
from engine.train.toyworld.world import eval_prompts, eval_seed

CONTEXTS = (1, 2, 3, 4, 6)


def clip_logits(model, cfg, lengths, first_clip, text, bits, guidance) -> list[torch.Tensor]:
    """Logits of the last clip's passes, with `bits` forced for every pass of the clips `lengths`."""
    schedule = build_clips_schedule(cfg, lengths, "1:1", first_clip=first_clip)
    events = generate(model, schedule, text, guidance, forced=bits, return_logits=True)
    last = schedule.clips - 1
    return [e.logits for e in events if isinstance(e, PassEvent) and e.clip == last]


def probabilities(logits: torch.Tensor, scale: float, tau: float) -> torch.Tensor:
    """P(bit = 1) as the sampler draws it: guided rows, tau, 2-way softmax."""
    combined = guided(logits[:1], logits[1:], scale) / tau
    pairs = combined.unflatten(-1, (-1, 2))
    return pairs.softmax(-1)[..., 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=10)
    parser.add_argument("--clips", type=int, default=12, help="video clips made before the one scored")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print("command: python " + shlex.join(sys.argv), flush=True)
    model = load_model("toyworld", "cpu", aspect="1:1", progress=lambda _: None)
    cfg = model.preset.schedule
    guidance = Guidance.from_schedule(cfg)
    seconds = round((args.clips + 1) * cfg.clip_seconds)
    totals = {w: [0.0, 0.0, 0.0, 0] for w in CONTEXTS}
    for index, (caption, _) in enumerate(eval_prompts(args.prompts, 0, objects=1)):
        text = model.text_encoder.encode(caption)
        whole = build_schedule(cfg, seconds, "1:1")
        made = run_to_end(generate(model.transformer, whole, text, guidance, seed=eval_seed(0, index)))
        last = whole.clips - 1
        full = clip_logits(model.transformer, cfg, whole.clip_lengths, 0, text, made.bits, guidance)
        for w in CONTEXTS:
            first = last - w
            start = min(p.index for p in whole.passes if p.clip == first)
            cut = clip_logits(model.transformer, cfg, whole.clip_lengths[first:], first, text, made.bits[start:],
                              guidance)
            diff = [(a - b).abs() for a, b in zip(full, cut, strict=True)]
            taus = [p.tau for p in whole.passes if p.clip == last]
            moved = [(probabilities(a, cfg.guidance_scale, t) - probabilities(b, cfg.guidance_scale, t)).abs()
                     for a, b, t in zip(full, cut, taus, strict=True)]
            worst, mean = max(d.max().item() for d in diff), sum(d.mean().item() for d in diff) / len(diff)
            moved_mean = sum(m.mean().item() for m in moved) / len(moved)
            total = totals[w]
            total[0], total[1], total[2], total[3] = max(total[0], worst), total[1] + mean, total[2] + moved_mean, \
                total[3] + 1
        print(f"{index:3d} done", flush=True)
    print(f"clip {args.clips + 1} of toyworld videos ({args.prompts} held-out prompts), context W clips vs all "
          f"{args.clips + 1}:")
    print("   W  max |dlogit|  mean |dlogit|  mean |dP(bit)|")
    for w, (worst, mean, moved, n) in totals.items():
        print(f"  {w:2d}  {worst:11.4f}  {mean / n:13.5f}  {moved / n:14.5f}")


if __name__ == "__main__":
    main()
