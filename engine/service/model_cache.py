"""Loaded models kept between jobs, least recently used first out when a new one needs the memory."""

from __future__ import annotations

import dataclasses
import gc
from collections import OrderedDict
from collections.abc import Callable

import torch

from engine.config import get_preset
from engine.loader import LoadedModel, load_model
from engine.runtime.hardware import detect_device
from engine.runtime.load_plan import LoadPlan, choose_load_plan
from engine.weights.store import ModelStore

Key = tuple[str, str, str | None]  # (model id, device, precision asked for)


class ModelCache:
    def __init__(self, store: ModelStore) -> None:
        self.store = store
        self._models: OrderedDict[Key, LoadedModel] = OrderedDict()
        self._plans: dict[tuple[Key, int, str | float], LoadPlan] = {}  # planning takes ~0.3 s: once per video shape

    @property
    def loaded(self) -> list[Key]:
        """Oldest use first."""
        return list(self._models)

    def get(
        self, model_id: str, device: str, precision: str | None, seconds: int, aspect: str | float,
        progress: Callable[[str], None],
    ) -> LoadedModel:
        """The model ready for a `seconds` video: kept from an earlier job when its precision still fits that video
        (with the decode settings planned for it), else loaded after evicting what the new one needs room for."""
        info = detect_device(device)
        key = (model_id, info.device, precision)
        kept = self._models.get(key)
        if kept is not None:
            shape = (key, seconds, aspect)
            choice = self._plans.get(shape) or choose_load_plan(kept.preset, info, seconds, aspect,
                                                                precision=kept.precision)
            if choice.fits:
                self._plans[shape] = choice
                self._models.move_to_end(key)
                return dataclasses.replace(kept, plan=choice)
            self._evict(key)
        preset = get_preset(self.store.manifest(model_id).preset)
        need = choose_load_plan(preset, info, seconds, aspect, precision=precision)
        while self._models and self._resident_bytes(info.device) + need.peak_bytes > need.budget_bytes:
            self._evict(next(iter(self._models)))
        loaded = load_model(model_id, info, precision, seconds, aspect, self.store, progress)
        self._models[key] = loaded
        return loaded

    def _resident_bytes(self, device: str) -> int:
        return sum(m.plan.peak_bytes for (_, d, _), m in self._models.items() if d == device)

    def _evict(self, key: Key) -> None:
        del self._models[key]
        self._plans = {shape: plan for shape, plan in self._plans.items() if shape[0] != key}
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()

    def clear(self) -> None:
        for key in list(self._models):
            self._evict(key)
