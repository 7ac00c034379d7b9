"""Peak memory of loading a transformer checkpoint of the release's layout, and the size of its quantised forms.

    python bench/load_memory.py [--depth 16] [--width 1024] [--dir /tmp/istar-load-bench]

Writes a float32 checkpoint (3 shards + index, >= 500 MB at the default size) and measures, each in a fresh
process, the resident memory a load adds (VmHWM after the load minus VmRSS before it, glibc returning freed
blocks at once):
- ours: meta-device build, tensors assigned as they are read (engine/weights/transformer_checkpoint.py);
- baseline: the common way, a materialised model plus safetensors.torch.load_file of every shard, then
  load_state_dict;
- quantising to nf4 / int8 and loading the quantised checkpoints.
Then quantised checkpoint size / bf16 size, here and (from the same per-layer layout) for the 8B.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import torch

from engine.config import TransformerConfig, get_preset
from engine.memory_probe import MMAP_ENV, reset_peak, status_bytes
from engine.runtime.planner import transformer_weights

MB = 1e6


def bench_config(depth: int, width: int) -> TransformerConfig:
    heads = width // 64
    return TransformerConfig(depth=depth, width=width, heads=heads, kv_heads=heads // 4, block_chunks=depth // 4)


def child(mode: str, folder: Path, cfg: TransformerConfig) -> dict:
    """One measured load in this (fresh) process."""
    from safetensors.torch import load_file

    from engine.model.transformer import InfinityStarTransformer
    from engine.weights.quantize import load_quantized, quantize_checkpoint
    from engine.weights.transformer_checkpoint import load_transformer

    index = folder / "fp32" / "model.safetensors.index.json"
    actions = {
        "ours-fp32": lambda: load_transformer(index, cfg, torch.float32),
        "ours-bf16": lambda: load_transformer(index, cfg, torch.bfloat16),
        "baseline-fp32": lambda: _baseline(InfinityStarTransformer, load_file, index, cfg),
        "quantize-nf4": lambda: quantize_checkpoint(index, cfg, "nf4", folder / "nf4"),
        "quantize-int8": lambda: quantize_checkpoint(index, cfg, "int8", folder / "int8"),
        "load-nf4": lambda: load_quantized(folder / "nf4", cfg),
        "load-int8": lambda: load_quantized(folder / "int8", cfg),
    }
    gc.collect()
    before = status_bytes("VmRSS")
    reset_peak()
    result = actions[mode]()
    peak = status_bytes("VmHWM")
    del result
    return {"before": before, "peak": peak, "added": peak - before}


def _baseline(model_cls, load_file, index: Path, cfg: TransformerConfig):
    model = model_cls(cfg)
    state = {}
    for shard in sorted(index.parent.glob("*.safetensors")):
        state.update(load_file(shard))
    model.load_state_dict(state)
    return model


def measure(mode: str, folder: Path, args: argparse.Namespace) -> dict:
    cmd = [sys.executable, __file__, "--child", mode, "--dir", str(folder), "--depth", str(args.depth),
           "--width", str(args.width)]
    out = subprocess.run(cmd, env={**os.environ, **MMAP_ENV}, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def write_checkpoint(folder: Path, cfg: TransformerConfig) -> int:
    from engine.model.transformer import InfinityStarTransformer
    from engine.weights.transformer_checkpoint import write_transformer_checkpoint

    torch.manual_seed(0)
    model = InfinityStarTransformer(cfg)
    write_transformer_checkpoint(model.state_dict(), folder / "fp32", shards=3)
    return sum(t.nbytes for t in model.state_dict().values())


def folder_bytes(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.iterdir())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depth", type=int, default=16)
    parser.add_argument("--width", type=int, default=1024)
    parser.add_argument("--dir", type=Path, default=None, help="where the checkpoints go (default: a temp dir)")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    cfg = bench_config(args.depth, args.width)
    if args.child:
        print(json.dumps(child(args.child, args.dir, cfg)))
        return
    folder = args.dir or Path(tempfile.mkdtemp(prefix="istar-load-bench-"))
    checkpoint = write_checkpoint(folder, cfg)
    params, bf16 = transformer_weights(cfg, "bf16")
    print(f"checkpoint: {params / 1e6:.0f} M parameters, {checkpoint / MB:.0f} MB float32 in 3 shards ({folder})")
    runs = {mode: measure(mode, folder, args) for mode in (
        "ours-fp32", "baseline-fp32", "ours-bf16", "quantize-nf4", "quantize-int8", "load-nf4", "load-int8")}
    sizes = {"nf4": folder_bytes(folder / "nf4"), "int8": folder_bytes(folder / "int8")}
    rows = [
        ("load fp32 -> fp32, ours", runs["ours-fp32"], checkpoint),
        ("load fp32 -> fp32, baseline", runs["baseline-fp32"], checkpoint),
        ("load fp32 -> bf16, ours", runs["ours-bf16"], bf16),
        ("quantise fp32 -> nf4", runs["quantize-nf4"], sizes["nf4"]),
        ("quantise fp32 -> int8", runs["quantize-int8"], sizes["int8"]),
        ("load nf4 checkpoint", runs["load-nf4"], sizes["nf4"]),
        ("load int8 checkpoint", runs["load-int8"], sizes["int8"]),
    ]
    print(f"{'':30s} {'added MB':>9s} {'result MB':>9s} {'ratio':>6s}   (process RSS before / peak, MB)")
    for label, run, size in rows:
        print(f"{label:30s} {run['added'] / MB:9.0f} {size / MB:9.0f} {run['added'] / size:6.2f}   "
              f"({run['before'] / MB:.0f} / {run['peak'] / MB:.0f})")
    print(f"peak added while loading / checkpoint bytes: ours {runs['ours-fp32']['added'] / checkpoint:.2f}, "
          f"baseline {runs['baseline-fp32']['added'] / checkpoint:.2f} (goal <= 1.3)")
    for precision, size in sizes.items():
        planned_8b = transformer_weights(get_preset("infinitystar-8b-720p").transformer, precision)[1]
        bf16_8b = transformer_weights(get_preset("infinitystar-8b-720p").transformer, "bf16")[1]
        print(f"{precision} size / bf16 size: here {size / bf16:.3f} (files), 8B {planned_8b / bf16_8b:.3f} "
              "(same per-layer layout)" + (" (goal <= 0.3)" if precision == "nf4" else ""))


if __name__ == "__main__":
    main()
