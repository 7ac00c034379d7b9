"""The decode phase of the plan: its settings per memory budget, and its honesty against a real decode."""

import dataclasses

import pytest

from engine.config import VAEConfig, get_preset
from engine.memory_probe import run_decode_probe
from engine.model.vae import Tiling
from engine.runtime.decode_plan import DecodeSettings, decode_peak_bytes
from engine.runtime.planner import DECODE_LADDER, plan

GB = 10**9


def test_8b_decode_settings_by_default_and_per_budget():
    preset = get_preset("infinitystar-8b-720p")
    default = plan(preset, 5, precision="nf4")
    assert (default.decode_dtype, default.decode_chunk_latents, default.decode_tiling) == ("bf16", 1, None)
    assert not default.offload_transformer_for_decode
    assert default.peak_bytes == default.phases["decode"] < 12 * GB
    roomy = plan(preset, 5, precision="nf4", memory_budget=40 * GB)
    assert (roomy.decode_dtype, roomy.decode_chunk_latents) == ("fp32", 2)  # the reference's decode
    tight = plan(preset, 5, precision="nf4", memory_budget=9 * GB)
    assert tight.offload_transformer_for_decode and tight.peak_bytes < 9 * GB
    hopeless = plan(preset, 5, precision="nf4", memory_budget=1 * GB)
    assert hopeless.offload_transformer_for_decode and hopeless.decode_dtype == DECODE_LADDER[-1].dtype


def test_offloading_frees_the_transformer_weights_during_decode():
    preset = get_preset("infinitystar-8b-480p")
    resident = plan(preset, 5, precision="nf4", decode=DecodeSettings("bf16", 1))
    offloaded = plan(preset, 5, precision="nf4", decode=DecodeSettings("bf16", 1, offload_transformer=True))
    assert resident.phases["decode"] - offloaded.phases["decode"] == resident.weight_bytes


def test_smaller_chunks_and_bf16_need_less_and_tiles_keep_their_own_caches():
    cfg, h, w = VAEConfig(), 45, 80
    fp32_two, fp32_one = (decode_peak_bytes(cfg, 20, h, w, 4, c) for c in (2, 1))
    assert fp32_one < fp32_two and decode_peak_bytes(cfg, 20, h, w, 2, 1) < 0.51 * fp32_one
    # one chunk keeps no caches; a single frame is far cheaper than a chunk of 4 frames with caches
    assert decode_peak_bytes(cfg, 1, h, w, 4) < 0.25 * fp32_two
    # at 1 latent frame a chunk, overlapping tiles' caches outweigh what the smaller tiles save at 480p
    assert decode_peak_bytes(cfg, 20, 30, 53, 4, 1, Tiling()) > decode_peak_bytes(cfg, 20, 30, 53, 4, 1)


# Tall narrow frames keep every large conv on the CPU's oneDNN kernels, as at real sizes: with
# batch x channels x frames x height <= 20480 PyTorch falls back to an im2col conv3d whose 27x-input
# buffer no GPU run allocates. t = 4 latents gives a first, a middle and a last chunk; one resnet a
# block has every kind of layer at a fraction of the time. Pieces (1, 2, 1) feed one decoder session a
# first piece that keeps its caches, a middle piece and a last one, as clip-by-clip decoding does.
@pytest.mark.parametrize(
    ("latent", "tiling", "pieces"),
    [((4, 56, 2), None, None), ((4, 100, 2), (56, 12), None), ((4, 56, 2), None, (1, 2, 1))],
)
def test_planned_decode_peak_is_within_15_percent_of_the_measured_peak(latent, tiling, pieces):
    vae = VAEConfig(block_out_channels=(16, 32, 64, 64, 64), decoder_layers_per_block=1, mid_layers=1)
    preset = dataclasses.replace(get_preset("test-micro"), vae=vae)
    measured = run_decode_probe(preset.to_json(), latent, 2, tiling, pieces)
    assert measured["planned_run_bytes"] > 50e6
    assert abs(measured["measured_run_bytes"] / measured["planned_run_bytes"] - 1) < 0.15
    assert abs(measured["measured_peak_bytes"] / measured["planned_peak_bytes"] - 1) < 0.15
