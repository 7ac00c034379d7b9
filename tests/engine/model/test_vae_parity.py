"""Parity of the video VAE with the official code on the tiny-a fixture (decode its summed codes, encode its video)."""

from __future__ import annotations

import json

import pytest
from reference import FIXTURE

from engine.selftest.fixture import Fixture
from engine.selftest.vae import VAEFixtureError, check_vae, vae_config_from_fixture

pytestmark = pytest.mark.skipif(not FIXTURE.is_dir(), reason="tiny-a parity fixture not present")


def test_every_vae_part_is_within_the_fixture_tolerances() -> None:
    tolerances = json.loads((FIXTURE / "fixture.json").read_text())["tolerances_fp32"]
    errors = check_vae(Fixture.open(FIXTURE))
    assert set(errors) == {
        "vae.decoded",
        "vae.encoder_out",
        "vae.posterior_mean",
        "vae.raw_features",
        "vae.encode_decoded",
    }
    assert errors["vae.decoded"] < tolerances["decoded_max_abs"]
    assert errors["vae.encode_decoded"] < tolerances["decoded_max_abs"]
    for part in ("vae.encoder_out", "vae.posterior_mean", "vae.raw_features"):
        assert errors[part] < tolerances["vae_encode_raw_features_max_abs"], part


def test_a_fixture_describing_another_vae_is_refused() -> None:
    vae = json.loads((FIXTURE / "fixture.json").read_text())["vae"]
    assert vae_config_from_fixture(vae).block_out_channels == (8, 16, 32, 32, 32)
    with pytest.raises(VAEFixtureError, match="norm_type"):
        vae_config_from_fixture({**vae, "norm_type": "group"})
    del vae["latent_channels"]
    with pytest.raises(VAEFixtureError, match="latent_channels"):
        vae_config_from_fixture(vae)
