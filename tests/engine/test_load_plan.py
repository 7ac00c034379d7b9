"""Choosing precision, text-encoder place and decode for a device, from the planner's numbers."""

from __future__ import annotations

import psutil
import pytest
import torch

from engine.config import get_preset
from engine.runtime.device import DeviceError
from engine.runtime.hardware import DeviceInfo, detect_device
from engine.runtime.load_plan import DEVICE_HEADROOM, choose_load_plan
from engine.runtime.planner import DECODE_LADDER, plan

GB = 10**9
P480 = get_preset("infinitystar-8b-480p")


def gpu(gb: float) -> DeviceInfo:
    return DeviceInfo("cuda:0", "simulated GPU", int(gb * GB), int(gb * GB), 64 * GB, 60 * GB)


def test_a_large_gpu_keeps_the_reference_setup() -> None:
    choice = choose_load_plan(P480, gpu(80), 5)
    assert choice.fits and choice.plan.precision == "bf16" and not choice.plan.text_encoder_on_cpu
    assert choice.plan.decode_dtype == "fp32" and not choice.plan.offload_transformer_for_decode


@pytest.mark.parametrize(("gb", "precision"), [(24, "bf16"), (16, "int8"), (10, "nf4")])
def test_smaller_gpus_get_the_least_costly_setup_that_fits(gb: float, precision: str) -> None:
    choice = choose_load_plan(P480, gpu(gb), 5)
    assert choice.fits and choice.plan.precision == precision
    assert choice.peak_bytes <= gb * GB * DEVICE_HEADROOM
    # nothing cheaper would have fitted: every setup tried before the chosen one is over the budget
    assert all(peak > choice.budget_bytes for *_, peak in choice.tried[:-1])


def test_the_text_encoder_moves_to_the_cpu_before_the_precision_drops() -> None:
    lean = DECODE_LADDER[-1]
    encoder_on_cpu = plan(P480, 5, precision="bf16", decode=lean, text_encoder_on_cpu=True)
    encoder_on_gpu = plan(P480, 5, precision="bf16", decode=lean)
    assert encoder_on_gpu.peak_bytes > encoder_on_cpu.peak_bytes  # the encoder phase is what decides here
    choice = choose_load_plan(P480, gpu(80), 5, budget_bytes=encoder_on_cpu.peak_bytes)
    assert [(p, on_cpu, kv) for p, on_cpu, kv, _ in choice.tried] == [("bf16", False, "device"),
                                                                        ("bf16", True, "device")]
    assert choice.fits and choice.plan.precision == "bf16" and choice.plan.text_encoder_on_cpu


def test_a_long_video_keeps_its_kv_in_host_memory_before_the_precision_drops() -> None:
    """The released 480p 10 s mode holds 9.4 GB of K/V for its second clip: on a 16 GB card int8 fits once that
    waits in host memory, rather than dropping to nf4."""
    choice = choose_load_plan(P480, gpu(16), 60)
    assert choice.fits and choice.plan.precision == "int8" and choice.plan.kv_placement == "host"
    assert [(p, kv) for p, _, kv, _ in choice.tried][-2:] == [("int8", "device"), ("int8", "host")]
    assert any("K/V of the clip before: in host memory" in line for line in choice.describe())


def test_what_fits_nowhere_says_so_in_the_description() -> None:
    choice = choose_load_plan(get_preset("infinitystar-8b-720p"), gpu(6), 5)
    assert not choice.fits and choice.plan.precision == "nf4"
    assert "DOES NOT FIT" in choice.describe()[-1]


def test_a_pinned_precision_is_kept() -> None:
    choice = choose_load_plan(P480, gpu(16), 5, precision="bf16")
    assert choice.plan.precision == "bf16" and not choice.fits
    assert {p for p, *_ in choice.tried} == {"bf16"}


def test_on_the_cpu_the_text_encoder_counts_through_every_phase_and_nothing_is_offloaded() -> None:
    host = DeviceInfo("cpu", "simulated CPU", 64 * GB, 60 * GB, 64 * GB, 60 * GB)
    choice = choose_load_plan(P480, host, 5)
    assert choice.fits and not choice.plan.offload_transformer_for_decode
    assert choice.plan.resident == {"transformer": choice.plan.weight_bytes,
                                    "text encoder": choice.plan.text_encoder_bytes}
    assert choice.peak_bytes == sum(choice.plan.resident.values()) + max(choice.plan.added().values())
    assert all(on_cpu and kv == "device" for _, on_cpu, kv, _ in choice.tried)
    text = "\n".join(choice.describe())
    assert "text encoder on the CPU, kept in RAM" in text and "simulated CPU" in text


def test_this_machine_is_detected_as_it_is() -> None:
    info = detect_device("auto")
    if torch.cuda.is_available():
        assert info.is_cuda and info.total_bytes > 0
        return
    assert info.device == "cpu" and info.name
    assert info.total_bytes == psutil.virtual_memory().total
    with pytest.raises(DeviceError, match="not available"):
        detect_device("cuda")
