"""Stage 2 of toyworld: train the InfinityStar transformer (the 8B's module at the toyworld preset) and its word
text encoder on toyworld videos tokenised by the stage-1 VAE.

    python -m engine.train.transformer_train --vae runs/toyworld/vae --out runs/toyworld/transformer --minutes 50

Each step: toyworld videos of 1 or 2 s (clip 0, the first frame, is always in: that is T2I) -> VAE latent (a pool
encoded once at the start) ->
multi-scale residual bits along the preset's schedule, with bitwise self-correction (the running sum each pass
sees is built from randomly flipped earlier bits, and later targets are re-quantised against it) -> one
teacher-forced pass of the whole video with the SSA mask (engine/model/packed.py) -> bitwise cross-entropy.
Captions are dropped for 10% of the videos (the learned unconditional text), which guidance needs.
Two options change the recipe; the shipped weights were trained without them (docs/toyworld.md has the
measured comparison): --storyboards trains on the world's storyboards (each clip's passes see that clip's own
caption, as storyboard sampling does, and in half the 2 s videos the motion changes at the second clip), and
--weigh-passes gives every pass the same weight in the loss.
Resumable like stage 1.
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import dataclass, replace
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
from engine.train.checkpoint import WEIGHTS, TrainingRun
from engine.train.toyworld.captions import caption_for, vocabulary
from engine.train.toyworld.spec import ClipSpec
from engine.train.toyworld.world import EVAL_SEED_START, TRAIN_SEEDS, sample_batch, with_other_motions
from engine.train.vae_train import to_video

TEXT_DROPOUT = 0.1
MAX_FLIP = 0.2  # per video, bits of the running sum are flipped with a probability drawn from [0, MAX_FLIP]
WARMUP_STEPS = 100
CONTRAST_VIDEOS = 4  # of a step's videos, those also scored under a caption with other motions (--contrast)


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


def caption_pair(spec: ClipSpec, seed: int) -> tuple[str, str]:
    """A caption of `spec` and one of the same scene with other motions (motion_contrast), in the same words but
    for the motion phrases: any other difference (a size word, a template) would change the likelihoods more than
    the motion does."""
    rng = np.random.default_rng(seed)
    other = with_other_motions(spec, rng)
    state = rng.bit_generator.state
    words = [np.random.default_rng(seed) for _ in range(2)]
    for generator in words:
        generator.bit_generator.state = state
    return caption_for(spec, words[0], motion_rng=rng), caption_for(other, words[1], motion_rng=rng)


def training_bits(
    latent: torch.Tensor, schedule: Schedule, bits: tuple[int, int], generator: torch.Generator, max_flip: float
) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """(targets, inputs) per pass; inputs are the self-corrected bits the running sums are built from."""
    flip = torch.rand(latent.shape[0], generator=generator) * max_flip

    def corrupt(pass_bits: torch.Tensor) -> torch.Tensor:
        p = flip.view(-1, *([1] * (pass_bits.dim() - 1)))
        return pass_bits ^ (torch.rand(pass_bits.shape, generator=generator) < p).to(pass_bits.dtype)

    pairs = list(residual_passes(latent, schedule, *bits, corrupt))
    return [t for t, _ in pairs], [i for _, i in pairs]


@dataclass
class LatentPool:
    """Videos of one duration encoded once by the VAE, reused across steps: the VAE costs as much as a
    transformer step, and self-correction and text dropout make every reuse a new sample."""

    seconds: int
    latents: torch.Tensor  # [N, C, T, H, W]
    prompts: list[list[str]]  # per video, its caption for every clip, or (storyboards) one per clip
    negatives: list[str]  # per video, a caption of its first video clip with other motions (motion_contrast)

    @classmethod
    def encode(cls, vae: VideoVAE, seeds: list[int], seconds: int, size: int, storyboards: bool = False,
               chunk: int = 16) -> LatentPool:
        """`storyboards`: later clips may change the motion, and every clip keeps its own caption (clip 0, the first
        frame, has clip 1's); otherwise the motion is kept and one caption of the first video clip serves them all,
        drawn together with its negative: the same words but for the motions."""
        latents, prompts, negatives = [], [], []
        for start in range(0, len(seeds), chunk):
            frames, captions, truth = sample_batch(seeds[start : start + chunk], seconds, size,
                                                   change_motion=storyboards)
            with torch.no_grad():
                latents.append(vae.encode(to_video(frames)))
            for seed, per_clip, clips in zip(seeds[start : start + chunk], captions, truth, strict=True):
                caption, negative = caption_pair(clips[1], seed)
                prompts.append(per_clip if storyboards else [caption])
                negatives.append(negative)
        return cls(seconds, torch.cat(latents), prompts, negatives)

    def sample(self, rng: np.random.Generator, batch: int) -> tuple[torch.Tensor, list[list[str]], list[str]]:
        index = rng.integers(0, len(self.prompts), batch)
        picked = torch.from_numpy(index)
        return self.latents[picked], [self.prompts[i] for i in index], [self.negatives[i] for i in index]


def bit_loss(logits: list[torch.Tensor], targets: list[torch.Tensor], weigh_passes: bool = False
             ) -> tuple[torch.Tensor, float]:
    """The bitwise cross-entropy, and the share of all bits the argmax gets right.

    The loss is the mean over every bit, or (weigh_passes) the mean over passes of each pass's mean, as the
    release's reweight_loss_by_scale: over bits, a clip's 4x4 passes carry three quarters of the loss and its
    1x1 and 2x2 passes 2%."""
    per_pass, bit_sums, right, count = [], [], 0.0, 0
    for pass_logits, pass_targets in zip(logits, targets, strict=True):
        flat_logits, flat_targets = pass_logits.reshape(-1, 2), pass_targets.reshape(-1).long()
        per_bit = F.cross_entropy(flat_logits, flat_targets, reduction="none")
        per_pass.append(per_bit.mean())
        bit_sums.append(per_bit.sum())
        right += (flat_logits.argmax(-1) == flat_targets).sum().item()
        count += flat_targets.numel()
    loss = torch.stack(per_pass).mean() if weigh_passes else torch.stack(bit_sums).sum() / count
    return loss, right / count


def texts(model: Toyworld, prompts: list[list[str]], drop: torch.Tensor) -> list[torch.Tensor]:
    """Per clip, the batch's caption features [batch, L, C]; a video in `drop` has the learned unconditional text
    in every clip."""
    per_clip = []
    for clip_prompts in zip(*prompts, strict=True):
        features = model.text(model.text.batch_ids(clip_prompts))
        uncond = model.transformer.cfg_uncond[: features.shape[1]].expand_as(features)
        per_clip.append(torch.where(drop[:, None, None], uncond, features))
    return per_clip


@dataclass
class Forced:
    """One teacher-forced forward: per pass, the logits, target bits and (self-corrected) input bits; and which
    videos had their caption dropped."""

    schedule: Schedule
    logits: list[torch.Tensor]
    targets: list[torch.Tensor]
    inputs: list[torch.Tensor]
    dropped: torch.Tensor


def teacher_forced(model: Toyworld, latents: torch.Tensor, prompts: list[list[str]], seconds: int,
                   generator: torch.Generator, max_flip: float, dropout: float) -> Forced:
    """Every pass of `latents` (videos of `seconds`), teacher forced."""
    preset = get_preset("toyworld")
    schedule = build_schedule(preset.schedule, seconds, "1:1")
    bits = (preset.vae.semantic_bits, preset.vae.detail_bits)
    targets, inputs = training_bits(latents, schedule, bits, generator, max_flip)
    dropped = torch.rand(len(prompts), generator=generator) < dropout
    logits = teacher_forced_logits(model.transformer, schedule, texts(model, prompts, dropped), inputs,
                                   with_uncond=False)
    return Forced(schedule, logits, targets, inputs, dropped)


def step_loss(model: Toyworld, latents: torch.Tensor, prompts: list[list[str]], seconds: int,
              generator: torch.Generator, max_flip: float, dropout: float, weigh_passes: bool = False
              ) -> tuple[torch.Tensor, float]:
    forced = teacher_forced(model, latents, prompts, seconds, generator, max_flip, dropout)
    return bit_loss(forced.logits, forced.targets, weigh_passes)


def motion_passes(schedule: Schedule) -> Schedule:
    """`schedule` cut after the passes where a video's motion is decided: all of the first frame's (where the
    object is placed, which must leave it room to move) and the first video clip's before its largest scale."""
    largest = max(p.scale_in_clip for p in schedule.clip_passes(1))
    end = next(p.index for p in schedule.passes if p.clip == 1 and p.scale_in_clip == largest)
    return replace(schedule, passes=schedule.passes[:end])


def clip_nll(logits: list[torch.Tensor], targets: list[torch.Tensor], schedule: Schedule) -> torch.Tensor:
    """[batch, clips]: each video's bitwise negative log-likelihood summed over each clip's passes in
    `schedule`."""
    sums = [torch.zeros(targets[0].shape[0]) for _ in range(schedule.clips)]
    for p in schedule.passes:
        per_bit = F.cross_entropy(logits[p.index].reshape(-1, 2), targets[p.index].flatten().long(), reduction="none")
        sums[p.clip] = sums[p.clip] + per_bit.view(len(sums[p.clip]), -1).sum(1)
    return torch.stack(sums, 1)


def motion_contrast(model: Toyworld, forced: Forced, negatives: list[str]) -> torch.Tensor:
    """How poorly the model tells the first videos' captions from `negatives`, captions of the same scenes with
    other motions, judged by the likelihood of the motion passes: per clip, -log p(true caption | the clip's
    bits) between the two captions, summed over the first frame and the first video clip and averaged over the
    videos whose caption was not dropped.

    Plain cross-entropy hardly rewards reading the motion words in these passes (a start is random within what
    fits, and teacher forced, a clip's motion shows in its own coarse inputs); this term does, and it stops
    pushing once the two captions are told apart."""
    short = motion_passes(forced.schedule)
    count, videos = len(short.passes), len(negatives)
    targets = [t[:videos] for t in forced.targets[:count]]
    wrong_text = model.text(model.text.batch_ids(negatives))
    inputs = [b[:videos] for b in forced.inputs[:count]]
    wrong = teacher_forced_logits(model.transformer, short, wrong_text, inputs, with_uncond=False)
    right = clip_nll([lg[:videos] for lg in forced.logits[:count]], targets, short)
    per_video = F.softplus(right - clip_nll(wrong, targets, short)).sum(1)
    kept = (~forced.dropped[:videos]).float()
    return (per_video * kept).sum() / kept.sum().clamp(min=1)


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
    run = TrainingRun(args.out, model, optimizer, args.minutes, args.save_every)
    print(f"reproduce: python -m engine.train.transformer_train --vae {args.vae} --out {args.out} "
          f"--minutes {args.minutes} --pool {args.pool} --batch {args.batch} --lr {args.lr}"
          + " --storyboards" * args.storyboards + " --weigh-passes" * args.weigh_passes
          + (f" --contrast {args.contrast}" if args.contrast else ""))
    params = sum(p.numel() for p in model.parameters())
    print(f"transformer + text encoder {params / 1e6:.2f} M parameters; resuming at step {run.step}")
    rng = np.random.default_rng(run.step)
    generator = torch.Generator().manual_seed(run.step)
    size = build_schedule(get_preset("toyworld").schedule, 1, "1:1").pixel_size[0]
    encoding = time.perf_counter()
    pools = [LatentPool.encode(vae, rng.integers(0, len(TRAIN_SEEDS), args.pool).tolist(), s, size, args.storyboards)
             for s in (1, 2)]
    print(f"encoded {2 * args.pool} training videos in {time.perf_counter() - encoding:.0f} s", flush=True)
    run.start_clock()
    held_out = LatentPool.encode(vae, list(range(EVAL_SEED_START, EVAL_SEED_START + args.batch)), 2, size)
    while run.running():
        pool = pools[int(rng.integers(0, 2))]
        latents, prompts, negatives = pool.sample(rng, args.batch)
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(args, run.step, run.elapsed)
        forced = teacher_forced(model, latents, prompts, pool.seconds, generator, MAX_FLIP, TEXT_DROPOUT)
        loss, accuracy = bit_loss(forced.logits, forced.targets, args.weigh_passes)
        metrics = {"loss": loss.item(), "bit_accuracy": accuracy}
        if args.contrast:
            contrast = motion_contrast(model, forced, negatives[:CONTRAST_VIDEOS])
            loss = loss + args.contrast * contrast
            metrics["motion_contrast"] = contrast.item()
        run.optimize(loss)
        if run.step % args.report == 0:
            metrics["held_out_bit_accuracy"] = held_out_accuracy(model, held_out)
            run.report(metrics, "  ".join(f"{k} {v:.4f}" for k, v in metrics.items()))
        run.save_if_due()
    run.finish()


@torch.no_grad()
def held_out_accuracy(model: Toyworld, held_out: LatentPool) -> float:
    """Teacher-forced bit accuracy on held-out 2 s videos, no self-correction, no text dropout."""
    model.eval()
    generator = torch.Generator().manual_seed(0)
    _, accuracy = step_loss(model, held_out.latents, held_out.prompts, 2, generator, 0.0, 0.0)
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
    parser.add_argument("--pool", type=int, default=1000, help="training videos encoded per duration (1 s, 2 s)")
    parser.add_argument("--save-every", type=float, default=3.0, help="minutes between checkpoints")
    parser.add_argument("--storyboards", action="store_true",
                        help="per-clip captions, and the motion changes at the second clip of half the 2 s videos")
    parser.add_argument("--weigh-passes", action="store_true", help="every pass weighs the same in the loss")
    parser.add_argument("--contrast", type=float, default=0.0,
                        help="weight of the motion contrast (motion_contrast) added to the bit loss; 0: off")
    args = parser.parse_args()
    if args.contrast and args.storyboards:
        parser.error("--contrast needs one caption per video: it cannot be combined with --storyboards")
    train(args)


if __name__ == "__main__":
    main()
