"""Resumable training state: model weights (safetensors) and optimizer + step (torch, weights only), atomically."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn

from engine.atomic import atomic_writer, write_text_atomic
from engine.weights.safetensors_file import save_safetensors

WEIGHTS = "weights.safetensors"
OPTIMIZER = "optimizer.pt"
STATE = "state.json"


def save_training_state(folder: Path, model: nn.Module, optimizer: torch.optim.Optimizer, state: dict) -> None:
    """Weights, then optimizer, then state.json last: a state.json always describes files that are complete."""
    folder.mkdir(parents=True, exist_ok=True)
    save_safetensors(model.state_dict(), folder / WEIGHTS)
    with atomic_writer(folder / OPTIMIZER) as f:
        torch.save(optimizer.state_dict(), f)
    write_text_atomic(folder / STATE, json.dumps(state, indent=2))


def load_training_state(folder: Path, model: nn.Module, optimizer: torch.optim.Optimizer) -> dict | None:
    """The saved state (and weights/optimizer loaded in place), or None when there is nothing to resume."""
    if not (folder / STATE).is_file():
        return None
    from safetensors.torch import load_file

    model.load_state_dict(load_file(folder / WEIGHTS))
    optimizer.load_state_dict(torch.load(folder / OPTIMIZER, weights_only=True))
    return json.loads((folder / STATE).read_text())
