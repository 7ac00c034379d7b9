"""What the studio shows in its model picker and first-run wizard: each installed model, what it can make and its plan
on this device, then the catalogue's models not installed yet ("installed": false) with the plan they would have.

Computed in the engine (the desktop never imports torch, and planning builds models on the meta device).
"""

from __future__ import annotations

from typing import Any

from engine.api.jobs import MAX_VIDEO_SECONDS
from engine.config import ConfigError, Preset, get_preset
from engine.runtime.hardware import DeviceInfo, detect_device
from engine.runtime.load_plan import choose_load_plan
from engine.schedule import parse_aspect, select_template
from engine.weights.catalogue import CATALOGUE
from engine.weights.store import ModelStore

GB = 1e9
ASPECT_CHOICES = ("16:9", "9:16", "1:1", "4:3", "3:4", "3:2", "2:3", "2:1", "1:2")


def supported_aspects(preset: Preset) -> list[str]:
    """The W:H ratios the model was trained on, or else the usual ones its resolution has a scale template for."""
    if preset.aspects:
        return list(preset.aspects)
    found = []
    for aspect in ASPECT_CHOICES:
        try:
            key, _ = select_template(aspect, preset.schedule.resolution)
        except ConfigError:
            continue
        if abs(key - parse_aspect(aspect)) / key < 0.06:
            found.append(aspect)
    return found


def clip_seconds(preset: Preset) -> int:
    """Seconds of one full video clip: where a storyboard's prompts change."""
    return round(preset.schedule.clip_seconds)


def _plan(preset: Preset, device: DeviceInfo, seconds: int) -> dict[str, Any]:
    choice = choose_load_plan(preset, device, seconds, preset.default_aspect)
    return {"fits": choice.fits, "precision": choice.plan.precision, "peak_gb": round(choice.peak_bytes / GB, 2),
            "lines": choice.describe()}


def _describe(model_id: str, preset: Preset, device: DeviceInfo, seconds: int) -> dict[str, Any]:
    return {
        "id": model_id,
        "preset": preset.name,
        "description": preset.description,
        "builtin": CATALOGUE[model_id].builtin,
        "installed": False,
        "precisions": [],
        "verified": False,
        "needs_text_features": preset.text_encoder == "none",
        "fps": preset.schedule.fps,
        "max_seconds": MAX_VIDEO_SECONDS,
        "trained_seconds": preset.schedule.trained_seconds,
        "clip_seconds": clip_seconds(preset),
        "aspects": supported_aspects(preset),
        "default_aspect": preset.default_aspect,
        "guidance_scale": preset.schedule.guidance_scale,
        "tau_video": preset.schedule.tau_video,
        "plan": _plan(preset, device, seconds),
    }


def describe_models(store: ModelStore, device: str = "auto", seconds: int = 5) -> dict[str, Any]:
    info = detect_device(device)
    models = []
    for installed in store.installed():
        model = _describe(installed.model_id, get_preset(installed.preset), info, seconds)
        model.update(installed=True, precisions=installed.variants, verified=installed.verified)
        models.append(model)
    listed = {m["id"] for m in models}
    for entry in CATALOGUE.values():
        if entry.model_id not in listed and not entry.for_tests:
            models.append(_describe(entry.model_id, get_preset(entry.preset), info, seconds))
    return {"device": info.to_dict(), "models": models}
