"""Measure a generation's or a VAE decode's peak memory on the CPU and set it beside the planner's prediction (Linux).

Runs in its own process with glibc serving every allocation of 64 KiB or more through mmap, so
freed tensors leave the resident set at once and the kernel's high-water mark (VmHWM, reset
through /proc/self/clear_refs) is the peak of live memory.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

    from engine.model.vae import Tiling, VideoVAE

MMAP_ENV = {"MALLOC_MMAP_THRESHOLD_": "65536"}


def mid_preset():
    """A random model between the test sizes and the 8B for measuring the planner against: depth 4, width 384,
    one pass per scale but the finest, and 2 s clips (weights said to have seen two)."""
    import dataclasses

    from engine.config import TransformerConfig, get_preset

    micro = get_preset("test-micro")
    transformer = TransformerConfig(depth=4, width=384, heads=6, kv_heads=2, block_chunks=2, text_channels=32,
                                    text_maxlen=64)
    schedule = dataclasses.replace(micro.schedule, clip_frames=8, image_repetitions=(1,) * 11,
                                   video_repetitions=(1,) * 9 + (2, 1))
    return dataclasses.replace(micro, name="mid", transformer=transformer, schedule=schedule)


def status_bytes(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"/proc/self/status has no {key}")


def reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")


def _measured_build(build: Callable[[], object]) -> tuple[object, int]:
    """Build a model and return it with the resident bytes it added.

    A first build also pays one-off costs (lazy imports, allocator and thread-pool set-up), so a
    throwaway build runs first and only the second one is measured.
    """
    build()
    gc.collect()
    baseline = status_bytes("VmRSS")
    model = build()
    return model, status_bytes("VmRSS") - baseline


def _report(weights: int, run: int, planned_weights: int, planned_peak: int) -> dict:
    return {
        "measured_weights_bytes": weights,
        "measured_run_bytes": run,
        "measured_peak_bytes": weights + run,
        "planned_weights_bytes": planned_weights,
        "planned_run_bytes": planned_peak - planned_weights,
        "planned_peak_bytes": planned_peak,
    }


def probe(preset_json: str, seconds: int, aspect: str, batch: int, chunk_budget: int | None) -> dict:
    """Build the preset's model (random fp32 weights), run one generation, return measured and planned bytes."""
    import torch

    from engine.config import Preset
    from engine.model.transformer import InfinityStarTransformer
    from engine.runtime.planner import plan
    from engine.sampler import Guidance, generate, run_to_end
    from engine.schedule import build_schedule

    torch.manual_seed(0)
    preset = Preset.from_json(preset_json)
    model, weights = _measured_build(lambda: InfinityStarTransformer(preset.transformer).eval().fuse_projections())
    guidance = Guidance.from_schedule(preset.schedule)
    text = torch.randn(16, preset.transformer.text_channels)
    run_to_end(generate(model, build_schedule(preset.schedule, 0, aspect), text, guidance, batch=batch))
    before = status_bytes("VmRSS")
    reset_peak()
    schedule = build_schedule(preset.schedule, seconds, aspect)
    run_to_end(generate(model, schedule, text, guidance, batch=batch, chunk_budget=chunk_budget))
    peak = status_bytes("VmHWM")
    predicted = plan(preset, seconds, aspect, "fp32", batch, text.shape[0], chunk_budget)
    return _report(weights, peak - before, predicted.weight_bytes, predicted.phases["sampling"])


def probe_pipeline(model_id: str, seconds: int, aspect: str) -> dict:
    """Load an installed model, make one video of `seconds` through the pipeline (sampling and decoding clip by
    clip, frames dropped as a writer would), return the resident bytes the run added at its peak."""
    import torch

    from engine.loader import load_model
    from engine.pipeline import GenerationRequest, run_generation

    torch.manual_seed(0)
    model = load_model(model_id, "cpu", seconds=seconds, aspect=aspect, progress=lambda _: None)
    prompt = ("a red circle moves to the right",)
    for _ in run_generation(model, GenerationRequest(prompts=prompt, seconds=1, aspect=aspect)):
        pass  # one-off costs: lazy imports, thread pools, the allocator
    gc.collect()
    before = status_bytes("VmRSS")
    reset_peak()
    for _ in run_generation(model, GenerationRequest(prompts=prompt, seconds=seconds, aspect=aspect, seed=1)):
        pass
    return {"run": status_bytes("VmHWM") - before}


def _decode_pieces(
    vae: VideoVAE, z: torch.Tensor, chunk_latents: int | None, tiling: Tiling | None, pieces: tuple[int, ...]
) -> None:
    """Feed `z` to one decoder session in pieces of these many latent frames, dropping each chunk as it comes."""
    session = vae.decoder_session(chunk_latents, tiling)
    starts = [sum(pieces[:i]) for i in range(len(pieces))]
    for i, (start, frames) in enumerate(zip(starts, pieces, strict=True)):
        for _ in session.feed(z[:, :, start : start + frames], last=i == len(pieces) - 1):
            pass


def probe_decode(
    preset_json: str,
    latent: tuple[int, int, int],
    chunk_latents: int | None,
    tiling: tuple[int, int] | None,
    pieces: tuple[int, ...] | None = None,
) -> dict:
    """Build the preset's VAE (random fp32 weights), decode a random [1, 64, t, h, w] latent as a caller writing
    out each chunk would, fed to one decoder session in `pieces` (None: whole); return the measured weight
    and run bytes."""
    import torch

    from engine.config import Preset
    from engine.model.vae import Tiling, VideoVAE

    torch.manual_seed(0)
    cfg = Preset.from_json(preset_json).vae
    tiles = Tiling(*tiling) if tiling else None
    vae, weights = _measured_build(lambda: VideoVAE(cfg).eval())
    z = torch.randn(1, cfg.codebook_dim, *latent)
    _decode_pieces(vae, z[:, :, :1], chunk_latents, tiles, (1,))
    before = status_bytes("VmRSS")
    reset_peak()
    _decode_pieces(vae, z, chunk_latents, tiles, pieces or (latent[0],))
    return {"weights": weights, "run": status_bytes("VmHWM") - before}


def _run(args: list[str], preset_json: str) -> dict:
    """Run this module in a fresh process with the allocator settings it needs."""
    cmd = [sys.executable, "-m", "engine.memory_probe", *args]
    env = {**os.environ, **MMAP_ENV, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "2")}
    done = subprocess.run(cmd, input=preset_json, capture_output=True, text=True, env=env, check=False)
    if done.returncode:
        raise RuntimeError(f"memory probe failed:\n{done.stderr}")
    return json.loads(done.stdout)


def run_probe(
    preset_json: str, seconds: int, aspect: str = "1:1", batch: int = 1, chunk_budget: int | None = None
) -> dict:
    """`probe` in a fresh process."""
    args = ["--seconds", str(seconds), "--aspect", aspect, "--batch", str(batch)]
    if chunk_budget:
        args += ["--chunk-budget", str(chunk_budget)]
    return _run(args, preset_json)


def run_pipeline_probe(model_id: str, seconds: int, aspect: str = "1:1") -> dict:
    """`probe_pipeline` in a fresh process."""
    return _run(["--pipeline", model_id, "--seconds", str(seconds), "--aspect", aspect], "")


def run_decode_probe(
    preset_json: str,
    latent: tuple[int, int, int],
    chunk_latents: int | None = 2,
    tiling: tuple[int, int] | None = None,
    pieces: tuple[int, ...] | None = None,
) -> dict:
    """`probe_decode` of a latent (t, h, w) in a fresh process, beside the plan; `tiling` is (tile, overlap),
    `pieces` the latent frames of each piece fed to one decoder session (None: the whole latent at once).

    The plan is made here: building the VAE on the meta device costs the child seconds of one-off imports."""
    from engine.config import Preset
    from engine.model.vae import Tiling
    from engine.runtime.decode_plan import decode_peak_bytes, vae_weight_bytes

    pieces = pieces or (latent[0],)
    if sum(pieces) != latent[0]:
        raise ValueError(f"pieces {pieces} do not add up to the latent's {latent[0]} frames")
    args = ["--decode", ",".join(map(str, latent)), "--chunk-latents", str(chunk_latents)]
    args += ["--pieces", ",".join(map(str, pieces))]
    if tiling:
        args += ["--tiling", ",".join(map(str, tiling))]
    measured = _run(args, preset_json)
    cfg = Preset.from_json(preset_json).vae
    tiles = Tiling(*tiling) if tiling else None
    last = len(pieces) - 1
    planned = max(
        decode_peak_bytes(cfg, t, *latent[1:], 4, chunk_latents, tiles, i == 0, i == last)
        for i, t in enumerate(pieces)
    )
    return _report(measured["weights"], measured["run"], vae_weight_bytes(cfg, 4), planned)


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(v) for v in text.split(","))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    task = parser.add_mutually_exclusive_group(required=True)
    task.add_argument("--seconds", type=int, help="generate a video this long")
    task.add_argument("--decode", type=_ints, metavar="T,H,W", help="decode a latent of this shape instead")
    parser.add_argument("--aspect", default="1:1")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--chunk-budget", type=int, default=None)
    parser.add_argument("--chunk-latents", type=lambda v: None if v == "None" else int(v), default=2)
    parser.add_argument("--tiling", type=_ints, metavar="TILE,OVERLAP", default=None)
    parser.add_argument("--pieces", type=_ints, metavar="T1,T2,...", default=None, help="latent frames per piece")
    parser.add_argument("--pipeline", metavar="MODEL", default=None, help="with --seconds: an installed model, "
                                                                            "through the whole pipeline")
    args = parser.parse_args()
    preset_json = sys.stdin.read()
    if args.pipeline:
        result = probe_pipeline(args.pipeline, args.seconds, args.aspect)
    elif args.decode:
        result = probe_decode(preset_json, args.decode, args.chunk_latents, args.tiling, args.pieces)
    else:
        result = probe(preset_json, args.seconds, args.aspect, args.batch, args.chunk_budget)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
