"""Presets, their JSON round trip and the 8B key table."""

import dataclasses
import json

import pytest
import torch
from reference import TRANSFORMER_KEYS, requires_reference

from engine.config import PRESETS, ConfigError, Preset, TransformerConfig, get_preset
from engine.model.transformer import InfinityStarTransformer


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_presets_round_trip_through_json(name):
    preset = get_preset(name)
    assert Preset.from_json(preset.to_json()) == preset


def test_8b_presets_share_the_released_architecture():
    for name in ("infinitystar-8b-720p", "infinitystar-8b-480p", "infinitystar-interact-480p"):
        t = get_preset(name).transformer
        assert (t.depth, t.width, t.heads, t.kv_heads, t.head_dim, t.mlp_hidden_size) == (36, 4096, 32, 8, 128, 16384)


@requires_reference
def test_8b_state_dict_equals_the_released_key_table():
    with torch.device("meta"):
        model = InfinityStarTransformer(get_preset("infinitystar-8b-720p").transformer)
    ours = [(k, tuple(v.shape)) for k, v in model.state_dict().items()]
    rows = [line.split("\t") for line in TRANSFORMER_KEYS.read_text().splitlines()[1:]]
    reference = [(name, tuple(int(s) for s in shape.split(",") if s)) for name, shape in rows]
    assert sorted(ours) == sorted(reference)
    assert len(ours) == 407
    assert sum(v.numel() for v in model.state_dict().values()) == 8_768_382_112


def test_unknown_preset_lists_the_known_ones():
    with pytest.raises(ConfigError, match="unknown preset 'sdxl'; available: infinitystar-8b-480p"):
        get_preset("sdxl")


def test_bad_config_fields_are_named():
    data = json.loads(get_preset("tiny-a").to_json())
    data["transformer"]["wdith"] = 3
    with pytest.raises(ConfigError, match=r"transformer has unknown fields \['wdith'\]"):
        Preset.from_dict(data)
    del data["transformer"]
    with pytest.raises(ConfigError, match="missing the field 'transformer'"):
        Preset.from_dict(data)
    with pytest.raises(ConfigError, match="head_dim 12 must be a multiple of 8"):
        TransformerConfig(depth=2, width=48, heads=4, kv_heads=2, block_chunks=1)
    with pytest.raises(ConfigError, match="heads 4 is not a multiple of kv_heads 3"):
        TransformerConfig(depth=2, width=64, heads=4, kv_heads=3, block_chunks=1)
    with pytest.raises(ConfigError, match="guidance must be 'apg' or 'cfg'"):
        dataclasses.replace(get_preset("tiny-a").schedule, guidance="pag")


def test_a_vae_whose_tokens_differ_from_the_resolution_is_refused():
    toy = get_preset("toyworld")
    eight = dataclasses.replace(toy.vae, spatial_compression=(2, 2), block_out_channels=(16, 32, 64, 64))
    with pytest.raises(ConfigError, match=r"8 px per token .* resolution '64px' has 16"):
        dataclasses.replace(toy, vae=eight)
