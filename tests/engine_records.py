"""Records the engine would send, for tests of the studio without an engine: a toyworld model info, a CPU, and
generation records as the engine writes them."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from engine.api.records import (
    DeviceSummary,
    GenerationInputs,
    GenerationRecord,
    GenerationSettings,
    ModelInfo,
    PlanSummary,
)

GB = 10**9
CPU = DeviceSummary("cpu", "Test CPU (2 threads)", 24 * GB, 20 * GB, 24 * GB, 20 * GB)
TOYWORLD = ModelInfo(
    id="toyworld", preset="toyworld", description="demo", builtin=True, installed=True, verified=True,
    needs_text_features=False, fps=16, frames_per_latent=4, clip_latents=4, trained_seconds=2.0, max_seconds=600,
    aspects={"1:1": 1.0}, default_aspect="1:1", guidance_scale=3.0, tau_video=0.5,
    plan=PlanSummary(True, "fp32", 0.04, ("device cpu", "peak 0.04 GB")), precisions=("fp32", "bf16", "int8", "nf4"),
    variants=("fp32",),
)


def model_info(model_id: str, **changes: Any) -> ModelInfo:
    """TOYWORLD under another id, with `changes`."""
    return replace(TOYWORLD, id=model_id, preset=model_id, **changes)


def generation(prompts: list[str], seconds: int = 3, kind: str = "storyboard", seed: int = 1234) -> dict[str, Any]:
    """The provenance JSON a toyworld job of `kind` writes into its video."""
    settings = GenerationSettings(seconds=seconds, seed=seed, prompts=tuple(prompts[:1] + prompts),
                                  aspect_h_over_w=1.0)
    inputs = GenerationInputs(kind=kind, prompts=tuple(prompts))
    return GenerationRecord("toyworld", "toyworld", "fp32", settings, inputs).to_json()
