"""What made a video, stored inside it: the app and engine version, the model's exact files, the settings and inputs."""

from __future__ import annotations

import hashlib
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from engine.weights.manifest import Manifest

APP = "InfinityStar Studio"
PACKAGE = "infinitystar-studio"


def engine_version() -> str:
    try:
        return version(PACKAGE)
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown"


def weights_sha256(manifest: Manifest, precision: str) -> str:
    """One digest of every file a load at `precision` reads (their paths and sha256s): equal digests, equal weights."""
    lines = sorted(f"{f.path}\t{f.sha256}\n" for f in manifest.variant_files(precision))
    return hashlib.sha256("".join(lines).encode()).hexdigest()


def provenance(
    manifest: Manifest, precision: str, settings: dict[str, Any], inputs: dict[str, Any]
) -> dict[str, Any]:
    """`settings`: what the sampler ran with (seed, guidance, ...); `inputs`: prompt(s) and files given."""
    return {
        "app": APP,
        "engine_version": engine_version(),
        "model": manifest.model_id,
        "preset": manifest.preset,
        "precision": precision,
        "weights_sha256": weights_sha256(manifest, precision),
        "settings": settings,
        "inputs": inputs,
    }
