"""Where the shared reference material (key tables, parity fixtures) sits: the steering repo beside this one."""

from pathlib import Path

import pytest

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference"
FIXTURE = REFERENCE / "parity" / "tiny-a"
TRANSFORMER_KEYS = REFERENCE / "infinitystar_8b_transformer_keys.tsv"
VAE_KEYS = REFERENCE / "infinitystar_videovae_keys.tsv"

requires_reference = pytest.mark.skipif(not REFERENCE.is_dir(), reason=f"shared reference not found at {REFERENCE}")
