"""Stage 2 of toyworld: train the InfinityStar transformer (the 8B's module at the toyworld preset) and its word
text encoder on toyworld videos tokenised by the stage-1 VAE.

    python -m engine.train.transformer_train --vae runs/toyworld/vae --out runs/toyworld/transformer --minutes 50

Each step: toyworld videos of 1 or 2 s (clip 0, the first frame, is always in: that is T2I) -> VAE latent ->
multi-scale residual bits along the preset's schedule, with bitwise self-correction (the running sum each pass
sees is built from randomly flipped earlier bits, and later targets are re-quantised against it) -> one
teacher-forced pass of the whole video with the SSA mask (engine/model/packed.py) -> bitwise cross-entropy.
Captions are dropped for 10% of the videos (the learned unconditional text), which guidance needs.
Resumable like stage 1.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from engine.config import get_preset
from engine.model.bsq import residual_passes
from engine.model.packed import teacher_forced_logits
from engine.model.transformer import InfinityStarTransformer
from engine.model.vae import VideoVAE
from engine.schedule import Schedule, build_schedule
from engine.text.words import WordTextEncoder
from engine.train.checkpoint import WEIGHTS, load_training_state, save_training_state
from engine.train.toyworld.captions import vocabulary
from engine.train.toyworld.world import EVAL_SEED_START, TRAIN_SEEDS, sample_batch
from engine.train.vae_train import to_video

TEXT_DROPOUT = 0.1
MAX_FLIP = 0.2  # per video, bits of the running sum are flipped with a probability drawn from [0, MAX_FLIP]
WARMUP_STEPS = 100


class Toyworld(nn.Module):
    """The trained pair, so one checkpoint holds both."""

    def __init__(self) -> None:
        super().__init__()
        preset = get_preset("toyworld")
        cfg = preset.transformer
        self.transformer = InfinityStarTransformer(cfg)
        self.text = WordTextEncoder(vocabulary(), cfg.text_channels, cfg.text_maxlen)


def load_vae(folder: Path) -> VideoVAE:
    from safetensors.torch import load_file

    return VideoVAE.from_state_dict(get_preset("toyworld").vae, load_file(folder / WEIGHTS), source=str(folder))


def video_captions(captions: list[list[str]]) -> list[str]:
    """One prompt per video: its first video clip's caption (clip 0 is the still first frame)."""
    return [per_clip[1] if len(per_clip) > 1 else per_clip[0] for per_clip in captions]


def training_bits(
    vae: VideoVAE, video: torch.Tensor, schedule: Schedule, generator: torch.Generator, max_flip: float
) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """(targets, inputs) per pass; inputs are the self-corrected bits the running sums are built from."""
    latent = vae.encode(video)
    flip = torch.rand(latent.shape[0], generator=generator) * max_flip

    def corrupt(bits: torch.Tensor) -> torch.Tensor:
        p = flip.view(-1, *([1] * (bits.dim() - 1)))
        return bits ^ (torch.rand(bits.shape, generator=generator) < p).to(bits.dtype)

    pairs = list(residual_passes(latent, schedule, vae.cfg.semantic_bits, vae.cfg.detail_bits, corrupt))
    return [t for t, _ in pairs], [i for _, i in pairs]


def bit_loss(logits: list[torch.Tensor], targets: list[torch.Tensor]) -> tuple[torch.Tensor, float]:
    """Mean cross-entropy over every bit of every pass, and the share of bits the argmax gets right."""
    flat_logits = torch.cat([lg.reshape(-1, 2) for lg in logits])
    flat_targets = torch.cat([t.reshape(-1) for t in targets]).long()
    accuracy = (flat_logits.argmax(-1) == flat_targets).float().mean().item()
    return F.cross_entropy(flat_logits, flat_targets), accuracy


def texts(model: Toyworld, prompts: list[str], generator: torch.Generator, dropout: float) -> torch.Tensor:
    features = model.text(model.text.batch_ids(prompts))
    drop = torch.rand(len(prompts), generator=generator) < dropout
    uncond = model.transformer.cfg_uncond[: features.shape[1]].expand_as(features)
    return torch.where(drop[:, None, None], uncond, features)


def step_loss(model: Toyworld, vae: VideoVAE, seeds: list[int], seconds: int, generator: torch.Generator,
              max_flip: float, dropout: float) -> tuple[torch.Tensor, float]:
    preset = get_preset("toyworld")
    schedule = build_schedule(preset.schedule, seconds, "1:1")
    frames, captions = sample_batch(seeds, seconds, schedule.pixel_size[0], change_motion=False)
    with torch.no_grad():
        targets, inputs = training_bits(vae, to_video(frames), schedule, generator, max_flip)
    text = texts(model, video_captions(captions), generator, dropout)
    logits = teacher_forced_logits(model.transformer, schedule, text, inputs, with_uncond=False)
    return bit_loss(logits, targets)


def learning_rate(args: argparse.Namespace, step: int, elapsed: float) -> float:
    """Linear warm-up, then cosine decay to a tenth over the time budget."""
    warm = min(1.0, (step + 1) / WARMUP_STEPS)
    progress = min(1.0, elapsed / (args.minutes * 60))
    return args.lr * warm * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def train(args: argparse.Namespace) -> None:
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    vae = load_vae(args.vae)
    model = Toyworld()
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01, betas=(0.9, 0.98))
    state = load_training_state(args.out, model, optimizer) or {"step": 0, "seconds": 0.0, "log": []}
    print(f"reproduce: python -m engine.train.transformer_train --vae {args.vae} --out {args.out} "
          f"--minutes {args.minutes}")
    params = sum(p.numel() for p in model.parameters())
    print(f"transformer + text encoder {params / 1e6:.2f} M parameters; resuming at step {state['step']}")
    start, last_save = time.perf_counter() - state["seconds"], time.perf_counter()
    rng = np.random.default_rng(state["step"])
    generator = torch.Generator().manual_seed(state["step"])
    while time.perf_counter() - start < args.minutes * 60:
        seconds = int(rng.choice([1, 2]))
        seeds = rng.integers(0, len(TRAIN_SEEDS), args.batch).tolist()
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(args, state["step"], time.perf_counter() - start)
        loss, accuracy = step_loss(model, vae, seeds, seconds, generator, MAX_FLIP, TEXT_DROPOUT)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        state["step"] += 1
        elapsed = time.perf_counter() - start
        if state["step"] % args.report == 0:
            held_out = held_out_accuracy(model, vae, args.batch)
            state["log"].append({"step": state["step"], "seconds": round(elapsed), "loss": loss.item(),
                                 "bit_accuracy": accuracy, "held_out_bit_accuracy": held_out})
            print(f"step {state['step']:5d}  {elapsed / 60:5.1f} min  loss {loss.item():.4f}  bits {accuracy:.3f}  "
                  f"held-out bits {held_out:.3f}", flush=True)
        if time.perf_counter() - last_save > args.save_every * 60:
            state["seconds"] = elapsed
            save_training_state(args.out, model, optimizer, state)
            last_save = time.perf_counter()
    state["seconds"] = time.perf_counter() - start
    save_training_state(args.out, model, optimizer, state)
    print(f"saved {args.out} at step {state['step']}")


@torch.no_grad()
def held_out_accuracy(model: Toyworld, vae: VideoVAE, batch: int) -> float:
    """Teacher-forced bit accuracy on held-out 2 s videos, no self-correction, no text dropout."""
    model.eval()
    seeds = list(range(EVAL_SEED_START, EVAL_SEED_START + batch))
    _, accuracy = step_loss(model, vae, seeds, 2, torch.Generator().manual_seed(0), 0.0, 0.0)
    model.train()
    return accuracy


def main() -> None:
    parser = argparse.ArgumentParser(description="train the toyworld transformer and text encoder")
    parser.add_argument("--vae", type=Path, default=Path("runs/toyworld/vae"))
    parser.add_argument("--out", type=Path, default=Path("runs/toyworld/transformer"))
    parser.add_argument("--minutes", type=float, default=50.0, help="total training time, resumed runs included")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--report", type=int, default=25)
    parser.add_argument("--save-every", type=float, default=3.0, help="minutes between checkpoints")
    train(parser.parse_args())


if __name__ == "__main__":
    main()
