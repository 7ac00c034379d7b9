"""Stage 2 of toyworld: train the InfinityStar transformer (the 8B's module at the toyworld preset) and its word
text encoder on toyworld videos tokenised by the stage-1 VAE.

    python -m engine.train.transformer_train --vae runs/toyworld/vae --out runs/toyworld/transformer \
        --minutes 70 --pool 500 --object-weight 10 --bf16

Each step: toyworld videos of 1 or 2 s (clip 0, the first frame, is always in: that is T2I) -> VAE latent (a pool
encoded once at the start) ->
multi-scale residual bits along the preset's schedule, with bitwise self-correction (the running sum each pass
sees is built from randomly flipped earlier bits, and later targets are re-quantised against it) -> one
teacher-forced forward of the whole video (engine/model/packed.py; one of each clip's earlier finest-scale
repetitions stands in for them, see sampled_passes) -> bitwise cross-entropy.
Captions are dropped for 10% of the videos (the learned unconditional text), which guidance needs. A token's bits
weigh 1 + --object-weight x the share of it an object covers (objects are 6-9% of the pixels, and the loss over
every bit alike spent itself on the backgrounds); --bf16 runs the forward in bfloat16 autocast, about 1.4x the steps
per minute on a CPU with bf16 instructions. The shipped model was trained with both.
Three options change the recipe; the shipped weights were trained without them (docs/toyworld_experiments.md
has the measured comparison): --storyboards trains on the world's storyboards (each clip's passes see that clip's own
caption, as storyboard sampling does, and in half the 2 s videos the motion changes at the second clip),
--weigh-passes gives every pass the same weight in the loss, and --every-pass trains every pass in every step, as
the first release did.
Two options go past the trained length: --long N adds a pool of N-second storyboards, whose clips past the
preset's trained_video_clips sit in the last trained slot and see the clip before one slot back, as the sampler
places them (engine/model/packed.py); --init MODEL_DIR starts from a built-in model's weights (its VAE encodes the
pools) instead of from scratch, to fine-tune it.
Resumable like stage 1.
"""

from __future__ import annotations

import argparse
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from torch import nn

from engine.config import get_preset
from engine.model.bsq import area_downsample_channels, residual_passes
from engine.model.packed import teacher_forced_logits
from engine.model.transformer import InfinityStarTransformer
from engine.model.vae import VideoVAE
from engine.schedule import Schedule, build_schedule
from engine.text.words import WORDS_FILE, WordTextEncoder
from engine.train.builtin_files import TRANSFORMER_FILE, VAE_FILE
from engine.train.checkpoint import TrainingRun
from engine.train.toyworld.captions import vocabulary
from engine.train.toyworld.world import EVAL_SEED_START, TRAIN_SEEDS, drawn, sample_batch
from engine.train.vae_train import load_vae, to_video
from engine.weights.manifest import TEXT_ENCODER_DIR

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


def first_video_caption(per_clip: list[str]) -> str:
    """A video's one prompt outside storyboards: its first video clip's caption (clip 0 is the still first frame)."""
    return per_clip[1] if len(per_clip) > 1 else per_clip[0]


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


def object_shares(mask: np.ndarray, latent_frames: int, height: int, width: int) -> torch.Tensor:
    """[B, latent_frames, height, width]: per latent cell, the share of its pixels where `mask` ([B, T, H, W] bool,
    drawn()) has an object. Frame 0 is a latent frame of its own; the VAE folds each later run of (T - 1) /
    (latent_frames - 1) frames into one."""
    pixels = torch.from_numpy(mask).float()[:, None]
    first = F.adaptive_avg_pool3d(pixels[:, :, :1], (1, height, width))
    rest = F.adaptive_avg_pool3d(pixels[:, :, 1:], (latent_frames - 1, height, width))
    return torch.cat([first, rest], dim=2)[:, 0]


@dataclass
class LatentPool:
    """Videos of one duration encoded once by the VAE, reused across steps: the VAE costs as much as a
    transformer step, and self-correction and text dropout make every reuse a new sample."""

    seconds: int
    latents: torch.Tensor  # [N, C, T, H, W]
    prompts: list[list[str]]  # per video, its caption for every clip, or (storyboards) one per clip
    objects: torch.Tensor  # [N, T, H, W] object_shares of each latent cell

    @classmethod
    def encode(cls, vae: VideoVAE, seeds: list[int], seconds: int, size: int, storyboards: bool = False,
               chunk: int = 16) -> LatentPool:
        """`storyboards`: later clips may change the motion, and every clip keeps its own caption (clip 0, the first
        frame, has clip 1's); otherwise the motion is kept and the first video clip's caption serves them all."""
        latents, prompts, objects = [], [], []
        for start in range(0, len(seeds), chunk):
            chunk_seeds = seeds[start : start + chunk]
            frames, captions = sample_batch(chunk_seeds, seconds, size, change_motion=storyboards)
            with torch.no_grad():
                latents.append(vae.encode(to_video(frames)))
            objects.append(object_shares(drawn(chunk_seeds, frames), *latents[-1].shape[2:]))
            prompts += [per_clip if storyboards else [first_video_caption(per_clip)] for per_clip in captions]
        return cls(seconds, torch.cat(latents), prompts, torch.cat(objects))

    def sample(self, rng: np.random.Generator, batch: int) -> tuple[torch.Tensor, list[list[str]], torch.Tensor]:
        """`batch` videos drawn with replacement: latents, captions, object shares."""
        index = rng.integers(0, len(self.prompts), batch)
        picked = torch.from_numpy(index)
        return self.latents[picked], [self.prompts[i] for i in index], self.objects[picked]


def token_shares(objects: torch.Tensor, schedule: Schedule, passes: list[int]) -> list[torch.Tensor]:
    """Per pass in `passes`, the share of each of its tokens [B, t, h, w] an object covers: `objects` ([B, T, H, W],
    object_shares) area-averaged to the pass's scale, as its residual is."""
    shares = []
    for index in passes:
        p = schedule.passes[index]
        start, end = schedule.clip_spans[p.clip]
        clip = objects[:, None, start:end]
        shares.append(area_downsample_channels(clip, 1, p.h, p.w)[:, 0])
    return shares


def object_bit_accuracy(logits: list[torch.Tensor], targets: list[torch.Tensor], shares: list[torch.Tensor]) -> float:
    """The share of bits the argmax gets right, each bit counted by the share of its token an object covers."""
    right = total = 0.0
    for pass_logits, pass_targets, share in zip(logits, targets, shares, strict=True):
        correct = pass_logits.reshape(*pass_targets.shape, 2).argmax(-1) == pass_targets
        right += (correct * share[..., None]).sum().item()
        total += share.sum().item() * pass_targets.shape[-1]
    return right / max(total, 1e-12)


def bit_loss(logits: list[torch.Tensor], targets: list[torch.Tensor], weigh_passes: bool = False,
             weights: list[float] | None = None, tokens: list[torch.Tensor] | None = None
             ) -> tuple[torch.Tensor, float]:
    """The bitwise cross-entropy, and the share of all bits the argmax gets right.

    The loss is the mean over every bit, or (weigh_passes) the mean over passes of each pass's mean, as the
    release's reweight_loss_by_scale: over bits, a clip's 4x4 passes carry three quarters of the loss and its
    1x1 and 2x2 passes 2%. `weights` (per pass) count a pass that many times in either mean: a pass standing in
    for skipped ones carries their share. `tokens` (per pass, [B, t, h, w] over its targets' tokens)
    count each bit of a token that many times; the accuracy counts every bit once."""
    weights = weights or [1.0] * len(logits)
    tokens = tokens or [torch.ones(t.shape[:-1]) for t in targets]
    per_pass, bit_sums, bits, right, count = [], [], 0.0, 0.0, 0
    for pass_logits, pass_targets, weight, token in zip(logits, targets, weights, tokens, strict=True):
        flat_logits, flat_targets = pass_logits.reshape(-1, 2), pass_targets.reshape(-1).long()
        per_bit_weight = token[..., None].expand(pass_targets.shape).reshape(-1)
        per_bit = F.cross_entropy(flat_logits.float(), flat_targets, reduction="none") * per_bit_weight
        per_pass.append(weight * per_bit.sum() / per_bit_weight.sum())
        bit_sums.append(weight * per_bit.sum())
        bits += weight * per_bit_weight.sum()
        right += (flat_logits.argmax(-1) == flat_targets).sum().item()
        count += flat_targets.numel()
    loss = torch.stack(per_pass).sum() / sum(weights) if weigh_passes else torch.stack(bit_sums).sum() / bits
    return loss, right / count


def sampled_passes(schedule: Schedule, generator: torch.Generator) -> tuple[list[int], list[float]]:
    """The passes one step trains, and their loss weights.

    The earlier repetitions of a clip's finest scale are seen by no other pass, yet hold 45% of a clip's tokens
    (two 64-token passes of 284 at the toyworld preset). One of them, drawn at random, stands in for all of
    them with their weight, so the expected loss is the full schedule's and a step costs a sixth less or so
    (bench/train_step.py)."""
    passes, weights = [], []
    for clip in range(schedule.clips):
        own = schedule.clip_passes(clip)
        finest = max(p.scale_in_clip for p in own)
        earlier = [p.index for p in own if p.scale_in_clip == finest and not p.last_rep]
        for p in own:
            if p.index not in earlier:
                passes.append(p.index)
                weights.append(1.0)
        if earlier:
            passes.append(earlier[int(torch.randint(len(earlier), (1,), generator=generator))])
            weights.append(float(len(earlier)))
    return passes, weights


def texts(model: Toyworld, prompts: list[list[str]], generator: torch.Generator, dropout: float) -> list[torch.Tensor]:
    """Per clip, the batch's caption features [batch, L, C]; a dropped video has the learned unconditional text
    in every clip."""
    drop = torch.rand(len(prompts), generator=generator) < dropout
    per_clip = []
    for clip_prompts in zip(*prompts, strict=True):
        features = model.text(model.text.batch_ids(clip_prompts))
        uncond = model.transformer.cfg_uncond[: features.shape[1]].expand_as(features)
        per_clip.append(torch.where(drop[:, None, None], uncond, features))
    return per_clip


def teacher_forced(model: Toyworld, latents: torch.Tensor, prompts: list[list[str]], seconds: int,
                   generator: torch.Generator, max_flip: float, dropout: float, sample: bool = False
                   ) -> tuple[list[torch.Tensor], list[torch.Tensor], list[float] | None, list[int]]:
    """The logits, target bits and loss weights of the passes of `latents` (videos of `seconds`) one step trains,
    teacher forced, and those passes: every pass, or (sample) sampled_passes'."""
    preset = get_preset("toyworld")
    schedule = build_schedule(preset.schedule, seconds, "1:1")
    bits = (preset.vae.semantic_bits, preset.vae.detail_bits)
    targets, inputs = training_bits(latents, schedule, bits, generator, max_flip)
    text = texts(model, prompts, generator, dropout)
    passes, weights = sampled_passes(schedule, generator) if sample else (list(range(len(targets))), None)
    logits = teacher_forced_logits(model.transformer, schedule, text, inputs, with_uncond=False, passes=passes)
    return logits, [targets[i] for i in passes], weights, passes


def step_loss(model: Toyworld, latents: torch.Tensor, prompts: list[list[str]], seconds: int,
              generator: torch.Generator, max_flip: float, dropout: float, weigh_passes: bool = False,
              sample: bool = False, objects: torch.Tensor | None = None, object_weight: float = 0.0
              ) -> tuple[torch.Tensor, float]:
    """The bit loss of one teacher-forced step and its bit accuracy; with `objects` (object_shares of the videos)
    each token weighs 1 + `object_weight` x the share of it an object covers."""
    logits, targets, weights, passes = teacher_forced(model, latents, prompts, seconds, generator, max_flip, dropout,
                                                      sample)
    tokens = None
    if objects is not None and object_weight:
        schedule = build_schedule(get_preset("toyworld").schedule, seconds, "1:1")
        tokens = [1.0 + object_weight * share for share in token_shares(objects, schedule, passes)]
    return bit_loss(logits, targets, weigh_passes, weights, tokens)


def train(args: argparse.Namespace, clock: Callable[[], float] = time.perf_counter) -> None:
    """`clock` measures the time budget (engine.train.checkpoint.TrainingRun)."""
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    vae = load_vae(args.vae) if args.init is None else builtin_vae(args.init)
    model = Toyworld()
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01, betas=(0.9, 0.98))
    run = TrainingRun(args.out, model, optimizer, args.minutes, args.save_every, clock=clock)
    if args.init is not None and run.step == 0:
        load_builtin(model, args.init)
    print(f"reproduce: python -m engine.train.transformer_train --vae {args.vae} --out {args.out} "
          f"--minutes {args.minutes} --pool {args.pool} --batch {args.batch} --lr {args.lr}"
          + " --storyboards" * args.storyboards + " --weigh-passes" * args.weigh_passes
          + " --every-pass" * args.every_pass + f" --object-weight {args.object_weight:g}" + " --bf16" * args.bf16
          + f" --long {args.long}" * bool(args.long) + f" --init {args.init}" * (args.init is not None))
    params = sum(p.numel() for p in model.parameters())
    print(f"transformer + text encoder {params / 1e6:.2f} M parameters; resuming at step {run.step}")
    rng = np.random.default_rng(run.step)
    generator = torch.Generator().manual_seed(run.step)
    size = build_schedule(get_preset("toyworld").schedule, 1, "1:1").pixel_size[0]
    encoding = time.perf_counter()
    pools = [LatentPool.encode(vae, rng.integers(0, len(TRAIN_SEEDS), args.pool).tolist(), s, size, args.storyboards)
             for s in (1, 2)]
    if args.long:
        pools.append(LatentPool.encode(vae, rng.integers(0, len(TRAIN_SEEDS), args.pool).tolist(), args.long, size,
                                       storyboards=True))
    print(f"encoded {len(pools) * args.pool} training videos in {time.perf_counter() - encoding:.0f} s", flush=True)
    autocast = torch.autocast("cpu", torch.bfloat16) if args.bf16 else contextlib.nullcontext()
    held_out = LatentPool.encode(vae, list(range(EVAL_SEED_START, EVAL_SEED_START + args.batch)), 2, size)
    run.start_clock()  # encoding is set-up: the budget counts training from here
    while run.running():
        pool = pools[int(rng.integers(0, len(pools)))]
        latents, prompts, objects = pool.sample(rng, args.batch)
        run.set_learning_rate(args.lr, WARMUP_STEPS)
        with autocast:
            loss, accuracy = step_loss(model, latents, prompts, pool.seconds, generator, MAX_FLIP, TEXT_DROPOUT,
                                       args.weigh_passes, not args.every_pass, objects, args.object_weight)
        run.optimize(loss)
        if run.step % args.report == 0:
            held, held_objects = held_out_accuracy(model, held_out)
            run.report({"loss": loss.item(), "bit_accuracy": accuracy, "held_out_bit_accuracy": held,
                        "held_out_object_bit_accuracy": held_objects},
                       f"loss {loss.item():.4f}  bits {accuracy:.3f}  held-out bits {held:.3f}  "
                       f"object bits {held_objects:.3f}")
        run.save_if_due()
    run.finish()


def builtin_vae(folder: Path) -> VideoVAE:
    """The VAE of the built-in model in `folder` (engine.train.export's layout)."""
    return VideoVAE.from_state_dict(get_preset("toyworld").vae, load_file(folder / VAE_FILE), source=str(folder))


def load_builtin(model: Toyworld, folder: Path) -> None:
    """Load the transformer and word encoder of the built-in model in `folder` into `model`, to fine-tune it."""
    model.transformer.load_state_dict(load_file(folder / TRANSFORMER_FILE))
    model.text.load_state_dict(WordTextEncoder.from_file(folder / TEXT_ENCODER_DIR / WORDS_FILE).state_dict())


@torch.no_grad()
def held_out_accuracy(model: Toyworld, held_out: LatentPool) -> tuple[float, float]:
    """Teacher-forced bit accuracy on held-out 2 s videos, no self-correction, no text dropout: over every bit, and
    over the bits where objects are (object_bit_accuracy)."""
    model.eval()
    generator = torch.Generator().manual_seed(0)
    logits, targets, _, passes = teacher_forced(model, held_out.latents, held_out.prompts, 2, generator, 0.0, 0.0)
    _, accuracy = bit_loss(logits, targets)
    schedule = build_schedule(get_preset("toyworld").schedule, 2, "1:1")
    objects = object_bit_accuracy(logits, targets, token_shares(held_out.objects, schedule, passes))
    model.train()
    return accuracy, objects


def main(argv: list[str] | None = None, clock: Callable[[], float] = time.perf_counter) -> None:
    """The command line (`argv`, else sys.argv); `clock` measures the time budget, for tests."""
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
    parser.add_argument("--every-pass", action="store_true",
                        help="train every pass in every step (1.3-1.5x slower, the same expected loss) instead of "
                        "one of each clip's earlier finest-scale repetitions standing in for them")
    parser.add_argument("--object-weight", type=float, default=10.0,
                        help="extra loss weight on the tokens objects cover, by the share of each token they cover "
                        "(0: every bit the same)")
    parser.add_argument("--long", type=int, default=0,
                        help="also train on storyboards of this many seconds, clips past the trained ones in the "
                        "trained slots as the sampler places them (0: none)")
    parser.add_argument("--init", type=Path, default=None,
                        help="fine-tune a built-in model folder (e.g. resources/models/toyworld): its weights start "
                        "the run and its VAE encodes the videos; --vae is then not read")
    parser.add_argument("--bf16", action="store_true",
                        help="forward in bfloat16 autocast (weights and optimizer stay float32): faster on CPUs with "
                        "bf16 instructions, slower without them (AVX2 only: about 2x, measured)")
    train(parser.parse_args(argv), clock)


if __name__ == "__main__":
    main()
