"""The memory and compute plan: the release's goals, its FLOP count and its honesty against a real run."""


import dataclasses

import pytest
import torch
import torch.nn.functional as F
from tiny_models import three_clip_schedule
from torch.utils.flop_counter import FlopCounterMode

from engine.config import get_preset
from engine.memory_probe import mid_preset, run_probe
from engine.runtime.planner import plan, plan_schedule
from engine.sampler import Guidance, generate, run_to_end
from engine.schedule import build_interact_schedule

GB = 10**9


def test_8b_fits_consumer_cards_at_nf4():
    p720 = plan(get_preset("infinitystar-8b-720p"), 5, "16:9", "nf4")
    p480 = plan(get_preset("infinitystar-8b-480p"), 5, "16:9", "nf4")
    assert p720.peak_bytes < 12 * GB and p480.peak_bytes < 8 * GB
    assert (p720.passes, p720.tokens, p720.largest_pass) == (85, 244_197, 72_000)
    assert p720.params == 8_768_382_112
    # the text encoder is never resident while sampling
    assert p720.phases["sampling"] < p720.weight_bytes + p720.kv_peak_bytes + p720.activation_peak_bytes + 1
    assert p720.phases["text_encoder"] - p720.weight_bytes > 2 * GB


def test_weight_bytes_per_precision():
    preset = get_preset("infinitystar-8b-480p")
    sizes = {prec: plan(preset, 1, precision=prec).weight_bytes for prec in ("fp32", "bf16", "int8", "nf4")}
    params = 8_768_382_112
    assert sizes["fp32"] == 4 * params and sizes["bf16"] == 2 * params
    assert 0.5 * sizes["bf16"] < sizes["int8"] < 0.52 * sizes["bf16"]
    assert 0.25 * sizes["bf16"] < sizes["nf4"] < 0.27 * sizes["bf16"]


def test_a_second_clip_keeps_the_first_clips_final_scale_and_then_memory_stays_flat():
    preset = get_preset("infinitystar-8b-720p")
    five, ten, minute = (plan(preset, s, precision="nf4", kv_placement="device") for s in (5, 10, 60))
    assert ten.kv_peak_bytes > 10 * five.kv_peak_bytes  # clip 1's full 72,000-token scale is kept for clip 2
    assert ten.peak_bytes > five.peak_bytes
    # the longest job holds what a minute does
    longest = plan(preset, 600, precision="nf4", kv_placement="device")
    assert longest.peak_bytes == minute.peak_bytes and longest.passes == 45 + 120 * 40


def test_an_interact_plan_is_one_5_s_segment_whose_kv_holds_the_two_condition_blocks():
    preset = get_preset("infinitystar-interact-480p")
    segment = plan(preset, 10)  # any duration plans one segment
    assert (segment.seconds, segment.passes, segment.tokens) == (5, 39, 149_700)
    schedule = build_interact_schedule(preset.schedule)
    without = plan_schedule(preset, dataclasses.replace(schedule, conditions=()))
    t = preset.transformer
    per_token = t.depth * 2 * t.kv_heads * t.head_dim * 2 * 2  # K and V, bf16, cond and uncond rows
    assert segment.kv_peak_bytes - without.kv_peak_bytes == (20 * 6 * 11 + 3 * 30 * 53) * per_token


def test_long_8b_videos_fit_consumer_cards_with_the_kv_in_host_memory():
    """At nf4 the 8B's released 10 s mode and anything longer fit 12 GB (720p) and 8 GB (480p) once the K/V of
    the clip before waits in host memory; the plan says how much host memory that takes."""
    for name, budget, host in (("infinitystar-8b-720p", 12, (21, 23)), ("infinitystar-8b-480p", 8, (9, 10.5))):
        preset = get_preset(name)
        on_device = plan(preset, 60, precision="nf4", kv_placement="device")
        assert on_device.peak_bytes > budget * GB
        chosen = plan(preset, 60, precision="nf4", memory_budget=budget * GB)
        assert chosen.kv_placement == "host" and chosen.peak_bytes < budget * GB
        assert host[0] * GB < chosen.host_kv_bytes < host[1] * GB
        assert plan(preset, 5, precision="nf4", memory_budget=budget * GB).kv_placement == "device"


def test_flops_match_a_count_of_the_real_run(micro_model, micro_text):
    """Matrix products counted by torch, attention from the shapes SDPA is really called with."""
    schedule = three_clip_schedule()
    guidance = Guidance.from_schedule(get_preset("test-micro").schedule)
    attention = []

    class AttentionSpy(torch.overrides.TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            if func is F.scaled_dot_product_attention:
                q, k = args[0], args[1]
                attention.append(4 * q.shape[0] * q.shape[1] * q.shape[2] * k.shape[2] * q.shape[3])
            return func(*args, **(kwargs or {}))

    counter = FlopCounterMode(display=False)
    with counter, AttentionSpy():
        run_to_end(generate(micro_model, schedule, micro_text, guidance))
    counted = sum(counter.get_flop_counts()["Global"].values()) + sum(attention)
    planned = plan_schedule(get_preset("test-micro"), schedule, "fp32", text_tokens=micro_text.shape[0])
    assert abs(planned.flops / counted - 1) < 0.03


@pytest.mark.parametrize("chunk_budget", [None, 4_000_000])
def test_planned_peak_is_within_15_percent_of_the_measured_peak(chunk_budget):
    torch.set_num_threads(1)
    measured = run_probe(mid_preset().to_json(), 2, "1:1", chunk_budget=chunk_budget)
    assert measured["planned_weights_bytes"] > 30e6 and measured["planned_run_bytes"] > 20e6
    assert abs(measured["measured_run_bytes"] / measured["planned_run_bytes"] - 1) < 0.15
    assert abs(measured["measured_peak_bytes"] / measured["planned_peak_bytes"] - 1) < 0.15
