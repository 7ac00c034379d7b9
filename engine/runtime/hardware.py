"""What this machine offers a model: the device's name and memory, and the host's memory."""

from __future__ import annotations

import platform
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil
import torch

from engine.runtime.device import resolve_device


@dataclass(frozen=True)
class DeviceInfo:
    device: str  # "cpu", "cuda:0", ...
    name: str
    total_bytes: int  # memory the model's tensors live in: VRAM on a GPU, RAM on the CPU
    free_bytes: int
    host_total_bytes: int
    host_available_bytes: int

    @property
    def is_cuda(self) -> bool:
        return self.device.startswith("cuda")

    def to_dict(self) -> dict:
        return asdict(self)


def _cpu_name() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine() or "CPU"


def detect_device(name: str = "auto") -> DeviceInfo:
    """`auto` picks the first CUDA GPU when one is visible, the CPU otherwise."""
    if name == "auto":
        name = "cuda:0" if torch.cuda.is_available() else "cpu"
    device = resolve_device(name)
    host = psutil.virtual_memory()
    if device.type == "cuda":
        index = device.index or 0
        free, total = torch.cuda.mem_get_info(index)
        gpu = torch.cuda.get_device_properties(index).name
        return DeviceInfo(f"cuda:{index}", gpu, total, free, host.total, host.available)
    threads = torch.get_num_threads()
    return DeviceInfo("cpu", f"{_cpu_name()} ({threads} threads)", host.total, host.available, host.total,
                      host.available)
