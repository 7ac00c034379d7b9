"""The generation record written into every video: the engine version and the digest of the model's exact files,
with the settings and inputs of the run (engine.api.records.GenerationRecord)."""

from __future__ import annotations

import hashlib
from importlib.metadata import PackageNotFoundError, version

from engine.api.records import GenerationInputs, GenerationRecord, GenerationSettings
from engine.weights.manifest import Manifest

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


def generation_record(
    manifest: Manifest, precision: str, settings: GenerationSettings, inputs: GenerationInputs
) -> GenerationRecord:
    return GenerationRecord(
        model=manifest.model_id, preset=manifest.preset, precision=precision, settings=settings, inputs=inputs,
        weights_sha256=weights_sha256(manifest, precision), engine_version=engine_version(),
    )
