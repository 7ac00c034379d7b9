"""VAE decode of a 2-clip video at a mid size: peak memory of clip-by-clip streamed decode against one-shot decode
(the whole latent in one call, unchunked), and decoded frames per second on this CPU.

    python bench/vae_decode.py [--latent 21,16,24] [--chunk-latents 2] [--threads 2]

Each peak is measured in a fresh process by engine/memory_probe.py; the results go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time
from collections.abc import Callable, Iterable

import torch

from engine.config import VAEConfig, get_preset
from engine.memory_probe import run_decode_probe
from engine.model.vae import VideoVAE

MID = VAEConfig(block_out_channels=(32, 64, 128, 128, 128))
MB = 1e6


def timed_frames(decode: Callable[[], Iterable[torch.Tensor]]) -> tuple[torch.Tensor, float]:
    """The frames a decode yields, joined, and the seconds it took."""
    start = time.perf_counter()
    frames = torch.cat(list(decode()), dim=2)
    return frames, time.perf_counter() - start


def clip_by_clip(vae: VideoVAE, z: torch.Tensor, chunk_latents: int) -> Iterable[torch.Tensor]:
    """Clip 0 (latent frame 0) then clip 1 (the rest), fed to one decoder session as the sampler emits them."""
    session = vae.decoder_session(chunk_latents)
    yield from session.feed(z[:, :, :1])
    yield from session.feed(z[:, :, 1:], last=True)


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(v) for v in text.split(","))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latent", type=_ints, default=(21, 16, 24), metavar="T,H,W", help="latent frames, tokens")
    parser.add_argument("--chunk-latents", type=int, default=2, help="latent frames per streamed chunk")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    t, h, w = args.latent
    px = MID.pixels_per_token
    print(f"VAE widths {MID.block_out_channels}, latent 1 + {t - 1} frames of {h}x{w} tokens -> "
          f"{1 + MID.time_factor * (t - 1)} frames of {h * px}x{w * px} px, fp32, {args.threads} threads, "
          f"torch {torch.__version__}")

    os.environ["OMP_NUM_THREADS"] = str(args.threads)  # for the probe processes
    preset = dataclasses.replace(get_preset("test-micro"), name="bench-vae-mid", vae=MID).to_json()
    one_shot = run_decode_probe(preset, (t, h, w), chunk_latents=None)
    streamed = run_decode_probe(preset, (t, h, w), args.chunk_latents, pieces=(1, t - 1))
    streamed_name = f"streamed clip by clip, chunks of {args.chunk_latents} latent frames"
    for name, m in (("one-shot", one_shot), (streamed_name, streamed)):
        print(f"peak {m['measured_peak_bytes'] / MB:8.0f} MB (weights {m['measured_weights_bytes'] / MB:.0f} MB, "
              f"planned {m['planned_peak_bytes'] / MB:.0f} MB)  {name}")
    ratio = streamed["measured_peak_bytes"] / one_shot["measured_peak_bytes"]
    run_ratio = streamed["measured_run_bytes"] / one_shot["measured_run_bytes"]
    print(f"streamed / one-shot peak: {ratio:.3f} (goal <= 0.35); without the weights: {run_ratio:.3f}")

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    vae = VideoVAE(MID).eval()
    z = torch.randn(1, MID.codebook_dim, t, h, w)
    vae.decode(z[:, :, :1])  # one-off start-up costs
    whole, whole_s = timed_frames(lambda: vae.decode_stream(z, chunk_latents=None))
    pieces, pieces_s = timed_frames(lambda: clip_by_clip(vae, z, args.chunk_latents))
    frames = whole.shape[2]
    print(f"one-shot: {frames / whole_s:.2f} frames/s ({whole_s:.1f} s); "
          f"streamed: {frames / pieces_s:.2f} frames/s ({pieces_s:.1f} s)")
    err = (pieces - whole).abs().max().item()
    print(f"streamed vs one-shot frames: max abs err {err:.2e} (output max abs {whole.abs().max().item():.2f})")


if __name__ == "__main__":
    main()
