"""How long the engine takes to answer `list_models`: the wait before a new window's model picker fills.

Usage (from the repository root):
    PYTHONPATH=. python bench/models_list.py [--repeats 3]

Times describe_models (every installed model and every catalogue model, each with its load plan for this device)
as a fresh engine process makes it, its caches empty: once with the VAE's weight bytes cached per config and
precision (what the planner does), once with the VAE built on the meta device at every call (what it did before),
alternating, median of the repeats. Prints ours / before.
"""

from __future__ import annotations

import argparse
import statistics
import time

import engine.runtime.decode_plan as decode_plan
from engine.service.models_info import describe_models
from engine.weights.store import ModelStore

CACHED = decode_plan.vae_weight_bytes


def cold_list(store: ModelStore, cached: bool) -> float:
    CACHED.cache_clear()
    decode_plan.vae_weight_bytes = CACHED if cached else CACHED.__wrapped__
    try:
        start = time.perf_counter()
        describe_models(store)
        return time.perf_counter() - start
    finally:
        decode_plan.vae_weight_bytes = CACHED


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    store = ModelStore()
    models = [m.id for m in describe_models(store)[1]]  # warm imports, so neither side pays them
    ours, before = [], []
    for _ in range(args.repeats):
        ours.append(cold_list(store, cached=True))
        before.append(cold_list(store, cached=False))
    print(f"models listed: {', '.join(models)}")
    print(f"VAE weight bytes cached:    {statistics.median(ours):.2f} s (median of {args.repeats})")
    print(f"VAE built at every call:    {statistics.median(before):.2f} s")
    print(f"ours / before: {statistics.median(ours) / statistics.median(before):.2f}")


if __name__ == "__main__":
    main()
