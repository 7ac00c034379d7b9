"""What this machine offers a model: the device's name and memory, and the host's memory."""

from __future__ import annotations

import platform
from pathlib import Path

import psutil
import torch

from engine.api.records import DeviceSummary as DeviceInfo  # the engine's view of a device is the API's record
from engine.runtime.device import resolve_device


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
