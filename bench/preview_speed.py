"""Preview speed: milliseconds per preview frame at the 720p latent size (45x80 -> 720x1280), against baselines.

Usage (from the repository root): PYTHONPATH=. python bench/preview_speed.py [--repeats 50] [--threads 1] [--decode]
--decode also times a full VAE decode of one latent frame at the released widths (random weights; slow on CPU).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F

from engine.config import VAEConfig
from engine.model.preview import PreviewMap
from engine.model.vae import VideoVAE

LATENT = (64, 45, 80)
PIXELS = (720, 1280)


def per_call_ms(fn: Callable[[], object], repeats: int) -> float:
    fn()
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - start) / repeats * 1000


def float_preview(preview: PreviewMap, latent: torch.Tensor) -> torch.Tensor:
    """The same map done naively: float32 bilinear upsample, then conversion to uint8 HWC."""
    rgb = F.interpolate(preview.to_rgb(latent)[None], size=PIXELS, mode="bilinear", align_corners=False)
    return rgb[0].clamp(-1, 1).add(1).mul(127.5).round().to(torch.uint8).permute(1, 2, 0).contiguous()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--decode", action="store_true", help="also time a full VAE decode of one latent frame")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    latent = torch.randn(*LATENT)
    preview = PreviewMap(torch.randn(3, LATENT[0]) * 0.05, torch.zeros(3))

    rows = [
        ("preview map + uint8 bilinear (PreviewMap.frame)", per_call_ms(lambda: preview.frame(latent), args.repeats)),
        (
            "preview map + float32 bilinear, then uint8",
            per_call_ms(lambda: float_preview(preview, latent), args.repeats),
        ),
        (
            "baseline: float32 bilinear of the 64-ch latent alone",
            per_call_ms(lambda: F.interpolate(latent[None], size=PIXELS, mode="bilinear"), args.repeats),
        ),
    ]
    if args.decode:
        with torch.device("meta"):
            vae = VideoVAE(VAEConfig())
        vae = vae.to_empty(device="cpu")
        for p in vae.parameters():
            torch.nn.init.normal_(p, std=0.02)
        one_frame = latent[None, :, None]
        rows.append(("baseline: full VAE decode of one latent frame", per_call_ms(lambda: vae.decode(one_frame), 1)))

    size = f"latent {LATENT[1]}x{LATENT[2]} -> {PIXELS[0]}x{PIXELS[1]} px"
    print(f"{size}, {args.threads} threads, torch {torch.__version__}")
    for name, ms in rows:
        print(f"{ms:10.2f} ms  {name}")


if __name__ == "__main__":
    main()
