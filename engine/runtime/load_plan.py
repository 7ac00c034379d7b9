"""Choose how to load a model on a device: weight precision, where the text encoder runs, how the VAE decodes.

Choices are tried in the order their cost rises and the first whose plan fits is taken:
1. the text encoder beside the transformer (fastest prompt encoding);
2. the text encoder in host memory (a prompt encodes in seconds on the CPU; only features move);
3. also the kept K/V of each clip's final scale in host memory, streamed back layer by layer (a copy of it per
   pass over the bus: slower, the same video);
4. a lower weight precision (bf16 -> int8 -> nf4; on a CPU fp32 first), which costs fidelity.
Within each, the planner takes the first decode step of its ladder that fits. On a CPU device host
memory is the device memory, so the text encoder is counted as resident through every phase and the K/V stay.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.config import Preset
from engine.runtime.hardware import DeviceInfo
from engine.runtime.planner import DECODE_LADDER, GB, Plan, plan

PRECISION_ORDER = ("bf16", "int8", "nf4")
# CPUs compute float32 natively; most emulate bfloat16 matmuls, so there full precision is also the fastest.
CPU_PRECISION_ORDER = ("fp32", *PRECISION_ORDER)
# What the allocator, the CUDA context and fragmentation take on top of the planned tensors.
DEVICE_HEADROOM = 0.9
PRECISION_COST = {
    "fp32": "full precision",
    "bf16": "the reference's precision",
    "int8": "int8 block weights: logits within about 2% of full precision",
    "nf4": "nf4 block weights: logits within about 25% of full precision, visibly different samples",
}


@dataclass
class LoadPlan:
    device: DeviceInfo
    budget_bytes: int
    plan: Plan
    fits: bool
    tried: list[tuple[str, bool, str, int]]  # (precision, text encoder on CPU, K/V placement, peak) in the order tried

    @property
    def peak_bytes(self) -> int:
        """Peak device memory, with the text encoder's bytes when the device is the host itself."""
        return self.plan.peak_bytes

    def describe(self) -> list[str]:
        """The choice and its cost, in lines a person reads."""
        p = self.plan
        where = "on the CPU (host memory)" if p.text_encoder_on_cpu else f"on {self.device.device}"
        if not self.device.is_cuda:
            where = "on the CPU, kept in RAM (resident in every phase)"
        lines = [
            f"device {self.device.device}: {self.device.name}, {self.device.total_bytes / GB:.1f} GB "
            f"({self.budget_bytes / GB:.1f} GB usable)",
            f"precision {p.precision}: {PRECISION_COST[p.precision]}",
            f"text encoder {where}, {p.text_encoder_bytes / GB:.1f} GB" if p.text_encoder_bytes else "no text encoder",
            f"VAE decode per clip in {p.decode_dtype}, "
            + ("transformer offloaded meanwhile" if p.offload_transformer_for_decode else "transformer resident"),
            "K/V of the clip before: "
            + (f"in host memory ({p.host_kv_bytes / GB:.1f} GB), streamed to the device layer by layer"
               if p.kv_placement == "host" else f"on {self.device.device}"),
            *p.breakdown(),
        ]
        if not self.fits:
            lines[-1] += "  DOES NOT FIT: try a shorter duration, a smaller resolution or another device"
        return lines


def choose_load_plan(
    preset: Preset,
    device: DeviceInfo,
    seconds: int,
    aspect: str | float = "16:9",
    batch: int = 1,
    precision: str | None = None,
    budget_bytes: int | None = None,
) -> LoadPlan:
    """The least costly choice that fits `budget_bytes` (default: 90% of the device's memory).

    `precision` pins the precision; only the text encoder's place and the decode then adapt.
    """
    budget = int(device.total_bytes * DEVICE_HEADROOM) if budget_bytes is None else budget_bytes
    precisions = (precision,) if precision else PRECISION_ORDER if device.is_cuda else CPU_PRECISION_ORDER
    tried: list[tuple[str, bool, str, int]] = []
    candidate = None
    # (text encoder on CPU, K/V placement), cheapest first
    placements = ((False, "device"), (True, "device"), (True, "host")) if device.is_cuda else ((True, "device"),)
    # Offloading the transformer to host memory frees nothing when the device is the host.
    ladder = [d for d in DECODE_LADDER if device.is_cuda or not d.offload_transformer]
    for p in precisions:
        for on_cpu, kv in placements:
            candidate = plan(
                preset, seconds, aspect, p, batch, memory_budget=budget, text_encoder_on_cpu=on_cpu,
                decode_ladder=ladder, kv_placement=kv, text_encoder_resident=not device.is_cuda,
            )
            tried.append((p, on_cpu, kv, candidate.peak_bytes))
            if candidate.peak_bytes <= budget:
                return LoadPlan(device, budget, candidate, True, tried)
    return LoadPlan(device, budget, candidate, False, tried)
