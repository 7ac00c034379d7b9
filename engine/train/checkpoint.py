"""Resumable training state: model weights (safetensors) and optimizer + step (torch, weights only), atomically."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from engine.atomic import atomic_writer, write_text_atomic
from engine.tensors.safetensors_file import save_safetensors

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


class TrainingRun:
    """A training run with a time budget that resumes: step, seconds spent and log in its state, saved every
    `save_every` minutes and at the end. The clock counts time already spent by earlier runs. `clock` (seconds,
    time.perf_counter by default) is what the budget is measured on: a test gives one that ticks per read, so its
    runs take the same steps on any machine, however loaded."""

    def __init__(
        self, folder: Path, model: nn.Module, optimizer: torch.optim.Optimizer, minutes: float, save_every: float,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.folder, self.model, self.optimizer = folder, model, optimizer
        self.clock = clock
        self.state = load_training_state(folder, model, optimizer) or {"step": 0, "seconds": 0.0, "log": []}
        self.budget, self.save_every = minutes * 60, save_every * 60
        self.start_clock()

    def start_clock(self) -> None:
        """(Re)start counting from the seconds already spent, e.g. after set-up that should not count."""
        now = self.clock()
        self._start, self._last_save = now - self.state["seconds"], now

    @property
    def step(self) -> int:
        return self.state["step"]

    @property
    def elapsed(self) -> float:
        return self.clock() - self._start

    def running(self) -> bool:
        return self.elapsed < self.budget

    def set_learning_rate(self, peak: float, warmup_steps: int = 0) -> None:
        """Linear warm-up over `warmup_steps`, then cosine decay from `peak` to a tenth of it over the time budget."""
        warm = min(1.0, (self.step + 1) / warmup_steps) if warmup_steps else 1.0
        progress = min(1.0, self.elapsed / self.budget)
        for group in self.optimizer.param_groups:
            group["lr"] = peak * warm * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))

    def optimize(self, loss: torch.Tensor) -> None:
        """One optimizer step on `loss`, gradients clipped to norm 1."""
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.optimizer.step()
        self.state["step"] += 1

    def report(self, entry: dict, line: str) -> None:
        elapsed = self.elapsed
        self.state["log"].append({"step": self.step, "seconds": round(elapsed), **entry})
        print(f"step {self.step:5d}  {elapsed / 60:5.1f} min  {line}", flush=True)

    def save_if_due(self) -> None:
        if self.clock() - self._last_save > self.save_every:
            self.save()

    def save(self) -> None:
        self.state["seconds"] = self.elapsed
        save_training_state(self.folder, self.model, self.optimizer, self.state)
        self._last_save = self.clock()

    def finish(self) -> None:
        self.save()
        print(f"saved {self.folder} at step {self.step}")
