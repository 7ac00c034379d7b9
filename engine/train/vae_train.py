"""Stage 1 of toyworld: train the video VAE and its BSQ tokenizer (the 8B's code, at the toyworld preset's widths).

    python -m engine.train.vae_train --out runs/toyworld/vae --minutes 40 --object-weight 10 --cosine --bf16

Steps alternate between a batch of single frames (spatial structure is learnt far faster from many images
than from a few videos) and a batch of 1 s clips. Every step encodes, quantises the latent with the
multi-scale residual BSQ the transformer will predict (engine/model/bsq.py), and decodes the quantised
latent; the encoder gets the gradient straight through the quantiser plus a commitment term pulling its
latent onto what the codes can reach. The first part of the time trains it as a continuous autoencoder
(the release's knowledge inheritance). --object-weight adds loss weight where an object is drawn: objects are
6-9% of the pixels, and with every pixel weighed the same the decoder learnt the backgrounds and drew the objects
as blobs (bench/toyworld_tokenizer.py measures what the tokenizer keeps of them). The shipped VAE also used
--bf16 (about 1.5x the steps per minute on a CPU with bfloat16 support, bench/vae_step.py) and --cosine, and was then
fine-tuned for a few minutes with --start-from and --decoder-only:

    python -m engine.train.vae_train --out runs/toyworld/decoder --start-from runs/toyworld/vae --decoder-only \
        --minutes 7 --object-weight 10 --cosine --bf16

Only the decoder learns there: the encoder and the quantiser stay as they were, so the tokens, and a transformer
trained on them, are unchanged while the pictures decoded from them get sharper. Held-out PSNR is measured
through the inference path (encode -> bits -> latent -> decode). Resumable: state is saved every few minutes and at
the end; run the same command again to continue.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from engine.config import Preset, get_preset
from engine.model.bsq import quantize_multiscale
from engine.model.running_sum import bits_to_latent
from engine.model.vae import VideoVAE
from engine.model.vae_blocks import SpatialNorm
from engine.schedule import Schedule, build_schedule
from engine.train.checkpoint import WEIGHTS, TrainingRun
from engine.train.toyworld.world import EVAL_SEED_START, TRAIN_SEEDS, drawn, sample_batch

COMMITMENT = 0.25


def to_video(frames: np.ndarray) -> torch.Tensor:
    """uint8 [B, T, H, W, 3] -> float [B, 3, T, H, W] in [-1, 1]."""
    return torch.from_numpy(frames).permute(0, 4, 1, 2, 3).float().div(127.5).sub(1.0)


def quantised_latent(vae: VideoVAE, latent: torch.Tensor, schedule: Schedule) -> torch.Tensor:
    cfg = vae.cfg
    bits = quantize_multiscale(latent.detach(), schedule, cfg.semantic_bits, cfg.detail_bits)
    return bits_to_latent(bits, schedule, cfg.codebook_dim)


def reconstruct(
    vae: VideoVAE, video: torch.Tensor, schedule: Schedule, quantise: bool = True
) -> tuple[torch.Tensor, torch.Tensor]:
    """(decoded video, commitment loss). Quantised, the decoder sees exactly the quantised latent; before
    that (knowledge inheritance: a continuous autoencoder first) it sees the encoder's latent itself."""
    latent = vae.training_latent(video).float()  # quantised in float32 under a bf16 autocast too, as at inference
    target = quantised_latent(vae, latent, schedule)
    decoder_input = latent + (target - latent).detach() if quantise else latent
    return vae.training_decode(decoder_input), F.mse_loss(latent, target)


def load_vae(folder: Path) -> VideoVAE:
    """The VAE a run in `folder` trained (its latest saved weights)."""
    from safetensors.torch import load_file

    return VideoVAE.from_state_dict(get_preset("toyworld").vae, load_file(folder / WEIGHTS), source=str(folder))


def init_for_training(vae: VideoVAE) -> None:
    """Spatial norms start as plain norms (gain 1, shift 0): random latent-conditioned gains stall early training."""
    for module in vae.modules():
        if isinstance(module, SpatialNorm):
            nn.init.zeros_(module.conv_y.conv.weight)
            nn.init.ones_(module.conv_y.conv.bias)
            nn.init.zeros_(module.conv_b.conv.weight)
            nn.init.zeros_(module.conv_b.conv.bias)


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    """Both in [-1, 1]; PSNR over the [0, 1] range."""
    return psnr_of_mse(F.mse_loss(a.clamp(-1, 1), b).item())


def psnr_of_mse(mse: float) -> float:
    """PSNR over the [0, 1] range of a mean squared error measured in [-1, 1]."""
    return 10 * math.log10(4 / max(mse, 4e-12))


@torch.no_grad()
def through_tokenizer(vae: VideoVAE, video: torch.Tensor, schedule: Schedule) -> torch.Tensor:
    """`video` [B, 3, T, H, W] in [-1, 1] along the inference path: encode, quantise to bits, bits -> latent, decode."""
    return vae.decode(quantised_latent(vae, vae.encode(video), schedule)).clamp(-1, 1)


def held_out_errors(vae: VideoVAE, preset: Preset, clips: int, size: int, chunk: int = 8) -> np.ndarray:
    """[clips] mean squared error through the tokenizer of each of the first `clips` held-out 1 s clips (one or two
    objects, as training draws them), sent `chunk` at a time so a large sample fits in memory."""
    schedule = build_schedule(preset.schedule, 1, "1:1")
    errors = []
    for start in range(0, clips, chunk):
        seeds = range(EVAL_SEED_START + start, EVAL_SEED_START + min(start + chunk, clips))
        video = to_video(sample_batch(list(seeds), 1, size).frames)
        squared = (through_tokenizer(vae, video, schedule) - video).square()
        errors.append(squared.flatten(1).mean(1).numpy())
    return np.concatenate(errors)


def held_out_psnr(vae: VideoVAE, preset: Preset, clips: int, size: int, chunk: int = 8) -> float:
    """PSNR through the tokenizer of the squared error pooled over the first `clips` held-out 1 s clips."""
    return psnr_of_mse(float(held_out_errors(vae, preset, clips, size, chunk).mean()))


def psnr_summary(errors: np.ndarray) -> dict[str, float]:
    """Two ways to average per-clip squared errors into one PSNR: the pooled error's (the worst clips weigh most) and
    the mean of the clips' own PSNRs (what video tokenizer papers report; never lower than the pooled)."""
    return {"pooled": psnr_of_mse(float(errors.mean())), "mean": float(np.mean([psnr_of_mse(e) for e in errors]))}


def training_clips(
    rng: np.random.Generator, batch: int, size: int, images: bool, object_weight: float = 0.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """1 s toyworld clips, or (images) one random frame of each: objects anywhere in the frame, cheap to learn from;
    and per pixel loss weights [B, 1, T, H, W]: 1 + `object_weight` where an object is drawn, else 1."""
    seeds = rng.integers(0, len(TRAIN_SEEDS), batch).tolist()
    frames = sample_batch(seeds, 1, size)[0]
    if images:
        frames = frames[np.arange(batch), rng.integers(0, frames.shape[1], batch)][:, None]
    weights = 1.0 + object_weight * torch.from_numpy(drawn(seeds, frames)).float()[:, None]
    return to_video(frames), weights


def reconstruction_loss(decoded: torch.Tensor, video: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """L1 + L2 per pixel, a weighted mean: with all weights 1, exactly l1_loss + mse_loss."""
    error = decoded - video
    return ((error.abs() + error.square()) * weights).mean() / weights.mean()


def step_loss(
    vae: VideoVAE, video: torch.Tensor, weights: torch.Tensor, schedule: Schedule, quantise: bool, bf16: bool
) -> tuple[torch.Tensor, torch.Tensor]:
    """One step's training loss and its commitment term; `bf16` runs encoder and decoder in bfloat16 autocast."""
    with torch.autocast("cpu", torch.bfloat16) if bf16 else contextlib.nullcontext():
        decoded, commitment = reconstruct(vae, video, schedule, quantise)
    return reconstruction_loss(decoded.float(), video, weights) + COMMITMENT * commitment, commitment


def trainable(vae: VideoVAE, decoder_only: bool) -> list[nn.Parameter]:
    """The parameters a run trains; with `decoder_only` every other one is frozen, so what the VAE encodes, and the
    bits the transformer predicts, stay exactly as they were."""
    if not decoder_only:
        return list(vae.parameters())
    vae.requires_grad_(False)
    vae.decoder.requires_grad_(True)
    return list(vae.decoder.parameters())


def train(args: argparse.Namespace, clock: Callable[[], float] = time.perf_counter) -> None:
    """`clock` measures the time budget (engine.train.checkpoint.TrainingRun)."""
    preset = get_preset("toyworld")
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    if args.start_from:
        vae = load_vae(args.start_from)
    else:
        vae = VideoVAE(preset.vae)
        init_for_training(vae)
    optimizer = torch.optim.AdamW(trainable(vae, args.decoder_only), lr=args.lr, weight_decay=0.0)
    run = TrainingRun(args.out, vae, optimizer, args.minutes, args.save_every, clock=clock)
    schedule = build_schedule(preset.schedule, 1, "1:1")
    start = f" --start-from {args.start_from}" if args.start_from else ""
    print(f"reproduce: python -m engine.train.vae_train --out {args.out}{start}" + " --decoder-only" * args.decoder_only
          + f" --minutes {args.minutes} --lr {args.lr:g} --object-weight {args.object_weight:g}"
          + " --cosine" * args.cosine + " --bf16" * args.bf16)
    print(f"VAE {sum(p.numel() for p in vae.parameters()) / 1e6:.2f} M parameters; resuming at step {run.step}")
    rng = np.random.default_rng(run.step)
    image_schedule = build_schedule(preset.schedule, 0, "1:1")
    while run.running():
        if args.cosine:
            run.set_learning_rate(args.lr)
        images = run.step % 2 == 0
        quantise = args.start_from is not None or run.elapsed >= args.continuous_share * args.minutes * 60
        video, weights = training_clips(rng, args.image_batch if images else args.batch, args.size, images,
                                        args.object_weight)
        loss, commitment = step_loss(vae, video, weights, image_schedule if images else schedule, quantise, args.bf16)
        run.optimize(loss)
        if run.step % args.report == 0:
            vae.eval()
            score = held_out_psnr(vae, preset, args.eval_clips, args.size)
            vae.train()
            run.report({"loss": loss.item(), "psnr": score},
                       f"loss {loss.item():.4f}  commit {commitment.item():.4f}  held-out PSNR {score:.2f} dB")
        run.save_if_due()
    if args.final_clips:
        vae.eval()
        final = psnr_summary(held_out_errors(vae, preset, args.final_clips, args.size))
        run.report({"final_clips": args.final_clips, "final_psnr_pooled": final["pooled"],
                    "final_psnr_mean": final["mean"]},
                   f"{args.final_clips} held-out clips: PSNR {final['pooled']:.2f} dB of the pooled error, "
                   f"{final['mean']:.2f} dB the mean over clips")
    run.finish()


def main(argv: list[str] | None = None, clock: Callable[[], float] = time.perf_counter) -> None:
    """The command line (`argv`, else sys.argv); `clock` measures the time budget, for tests."""
    parser = argparse.ArgumentParser(description="train the toyworld VAE + BSQ tokenizer")
    parser.add_argument("--out", type=Path, default=Path("runs/toyworld/vae"))
    parser.add_argument("--minutes", type=float, default=40.0, help="total training time, resumed runs included")
    parser.add_argument("--batch", type=int, default=2, help="videos per video step")
    parser.add_argument("--image-batch", type=int, default=16, help="frames per image step (steps alternate)")
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--continuous-share", type=float, default=0.4,
                        help="share of the time trained without quantisation before BSQ is inserted")
    parser.add_argument("--object-weight", type=float, default=10.0,
                        help="extra loss weight on the pixels where an object is drawn (0: every pixel the same, "
                        "as the first release trained)")
    parser.add_argument("--cosine", action="store_true",
                        help="decay the learning rate to a tenth over the budget (cosine) instead of keeping it")
    parser.add_argument("--bf16", action="store_true",
                        help="encoder and decoder in bfloat16 autocast (weights, quantiser and loss stay float32)")
    parser.add_argument("--start-from", type=Path,
                        help="a trained VAE run to start from, quantised from its first step, instead of a new VAE")
    parser.add_argument("--decoder-only", action="store_true",
                        help="train only the decoder: the tokens, and a transformer trained on them, stay valid")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--report", type=int, default=50, help="steps between held-out PSNR reports")
    parser.add_argument("--eval-clips", type=int, default=8, help="held-out clips of each report")
    parser.add_argument("--final-clips", type=int, default=100,
                        help="held-out clips of the report at the end of the run (0: none)")
    parser.add_argument("--save-every", type=float, default=3.0, help="minutes between checkpoints")
    args = parser.parse_args(argv)
    if args.decoder_only and args.start_from is None:
        parser.error("--decoder-only tunes a trained VAE's decoder: give the run with --start-from")
    train(args, clock)


if __name__ == "__main__":
    main()
