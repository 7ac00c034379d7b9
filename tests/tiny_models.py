"""Tiny models, schedules and bits shared by the engine tests (a plain module: conftest files are not importable
by name once several folders have one)."""

from __future__ import annotations

import dataclasses

import torch

from engine.config import get_preset
from engine.model.transformer import InfinityStarTransformer
from engine.schedule import build_schedule


def random_model(preset_name: str = "test-micro", seed: int = 0) -> InfinityStarTransformer:
    torch.manual_seed(seed)
    model = InfinityStarTransformer(get_preset(preset_name).transformer).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight") or "layernorm" in name or "norm_hidden" in name:
                p.uniform_(0.5, 1.5)  # not all ones, so a wrongly applied norm weight shows
    return model


def three_clip_schedule():
    """Image clip plus two 2-frame video clips: SSA reaches across two clip boundaries."""
    cfg = dataclasses.replace(get_preset("test-micro").schedule, clip_frames=2)
    return build_schedule(cfg, 1, "1:1")


def random_bits(model, schedule, batch: int = 1, seed: int = 1) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    out = []
    for p in schedule.passes:
        d = model.cfg.semantic_bits if p.semantic else model.cfg.detail_bits
        out.append(torch.randint(0, 2, (batch, p.t, p.h, p.w, d), generator=g, dtype=torch.uint8))
    return out
