"""Moving the previous clip's cached keys to their new RoPE slot: turning the rotated keys against keeping them
unrotated and rotating them afresh.

Turning (what the sampler does, engine.model.rope.rope_turn) multiplies the cached, rotated keys in place by the
rotation between the two places. The alternative keeps every kept scale's keys also unrotated and rotates them for
the new place. One layer of the 8B's 480p final scale with guidance: 2 rows x 8 K/V heads x 31,800 tokens x 128,
slot 2 -> slot 1 (scale position -39, frames -20). Printed: seconds per layer (median of --repeat), the extra memory
each needs over the whole model (36 layers), and each one's largest difference from keys rotated for the new place
directly, in fp32.

    python bench/kv_turn.py
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import sys
import time

import torch

from engine.config import get_preset
from engine.model.rope import apply_rope, rope_rotations, rope_turn, visual_positions

GB = 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print("command: python " + shlex.join(sys.argv), flush=True)
    preset = get_preset("infinitystar-8b-480p")
    c = preset.transformer
    t, h, w = 20, 30, 53
    old = visual_positions(c.text_maxlen + 80 + 39, range(21, 21 + t), h, w, h, w)
    new = visual_positions(c.text_maxlen + 80, range(1, 1 + t), h, w, h, w)
    g = torch.Generator().manual_seed(0)
    unrotated = torch.randn(2, c.kv_heads, t * h * w, c.head_dim, generator=g)
    cached = apply_rope(unrotated, rope_rotations(old, c.head_dim, c.rope_base))
    fresh = apply_rope(unrotated, rope_rotations(new, c.head_dim, c.rope_base))

    def timed(step) -> tuple[float, torch.Tensor]:
        seconds = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            out = step()
            seconds.append(time.perf_counter() - start)
        return statistics.median(seconds), out

    turn_s, turned = timed(lambda: apply_rope(cached, rope_turn(old, new, c.head_dim, c.rope_base)))
    again_s, again = timed(lambda: apply_rope(unrotated, rope_rotations(new, c.head_dim, c.rope_base)))
    keys_bf16 = unrotated.numel() * 2 * c.depth
    print(f"one layer, {tuple(unrotated.shape)} keys, fp32 on this CPU ({args.threads} threads):")
    print(f"  turn the cached keys:      {turn_s:.3f} s/layer, extra memory 0 GB, "
          f"max |diff| from fresh {(turned - fresh).abs().max().item():.2e}")
    print(f"  rotate unrotated copies:   {again_s:.3f} s/layer, extra memory {keys_bf16 / GB:.2f} GB (bf16, "
          f"36 layers), max |diff| from fresh {(again - fresh).abs().max().item():.2e}")
    naive = apply_rope(cached, rope_rotations(new - old, c.head_dim, c.rope_base))
    print(f"  (turning by the rotation of the position difference instead: max |diff| "
          f"{(naive - fresh).abs().max().item():.2e})")


if __name__ == "__main__":
    main()
