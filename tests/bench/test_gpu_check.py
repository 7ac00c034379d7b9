"""bench/gpu_check.py, the one-shot GPU check, run as its --dry-run on the CPU at the test size: every step runs
and lands in the JSON report, so the script a GPU session runs cannot rot unseen."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "gpu_check.py"
STEPS = ["build", "install", "quantize-nf4", "quantize-int8", "link-720p", "selftest", "480p-5s-nf4", "480p-5s-int8",
         "480p-5s-bf16", "720p-5s-nf4", "480p-15s-nf4-kv"]
JOBS = STEPS[6:10]


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> dict:
    tmp = tmp_path_factory.mktemp("gpu-check")
    out = tmp / "report.json"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, str(SCRIPT), "--dry-run", "--work", str(tmp / "work"), "--out", str(out)],
                          capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(out.read_text())


def _by_name(report: dict) -> dict[str, dict]:
    return {s["name"]: s for s in report["steps"]}


def test_the_dry_run_reports_every_step(report: dict) -> None:
    assert report["dry_run"] is True and [s["name"] for s in report["steps"]] == STEPS
    steps = _by_name(report)
    assert all(steps[name]["status"] == "ok" for name in STEPS if name not in ("link-720p", "selftest"))
    assert steps["link-720p"]["status"] == "skipped" and "one model" in steps["link-720p"]["reason"]
    assert steps["selftest"]["status"] in ("ok", "skipped")
    assert steps["quantize-nf4"]["bytes"] < steps["quantize-int8"]["bytes"]


def test_each_job_reports_its_passes_memory_plan_and_flops(report: dict) -> None:
    steps = _by_name(report)
    for name in JOBS:
        job = steps[name]
        assert job["passes_done"] == job["passes_planned"] > 0
        assert job["seconds_per_pass"] > 0 and job["achieved_tflops"] >= 0 and job["planned_peak_gb"] > 0
        assert job["precision"] == name.rsplit("-", 1)[1] and job["total_s"] > 0
        assert "max_allocated_gb" not in job  # a CUDA figure; the dry run is on the CPU
    assert report["device"] == {"name": "cpu", "bf16_peak_tflops": None}


def test_host_kv_placement_makes_the_same_bits_as_the_device(report: dict) -> None:
    kv = _by_name(report)["480p-15s-nf4-kv"]
    assert kv["bits_equal"] is True and kv["clips_compared"] >= 2
    assert set(kv["placements"]) == {"device", "host"}
    assert all(p["status"] == "ok" and p["passes_done"] > 0 for p in kv["placements"].values())


def _module():
    spec = importlib.util.spec_from_file_location("gpu_check", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("gpu_check", module)  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


def test_a_step_past_the_budget_is_skipped_and_says_so(tmp_path: Path) -> None:
    gpu_check = _module()
    report = gpu_check.Report(tmp_path / "r.json", budget_s=0, dry_run=True, size=gpu_check.DRY)
    step = gpu_check.run_step(report, "build", 100, [sys.executable, "-c", "raise SystemExit(3)"], dict(os.environ))
    assert step["status"] == "skipped" and step["reason"].startswith("no time left")
    assert json.loads((tmp_path / "r.json").read_text())["steps"] == [step]


def test_the_gpu_peaks_are_known_by_name_and_unknown_ones_say_none() -> None:
    gpu_check = _module()
    assert gpu_check.gpu_bf16_peak("NVIDIA H100 80GB HBM3") == 989.0
    assert gpu_check.gpu_bf16_peak("NVIDIA H100 PCIe") == 756.0
    assert gpu_check.gpu_bf16_peak("NVIDIA H200") == 989.0
    assert gpu_check.gpu_bf16_peak("NVIDIA GeForce RTX 4090") is None


def test_models_of_different_weights_are_not_linked(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="different weights"):
        _module().link_model(tmp_path, "test-micro-t5", "tiny-a")
