"""`istar selftest`: check this engine's numbers against a recorded run of the official code."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from engine.selftest.fixture import Fixture
from engine.selftest.transformer import (
    check_transformer,
    fixture_schedule,
    load_fixture_model,
    schedule_mismatches,
    time_sampling,
)
from engine.selftest.vae import check_vae

TOLERANCE_KEYS = {
    "transformer.logits_cond": "logits_max_abs",
    "transformer.logits_uncond": "logits_max_abs",
    "transformer.summed_codes": "summed_codes_max_abs",
    "vae.raw_features": "vae_encode_raw_features_max_abs",
}
DEFAULT_TOLERANCE_KEY = "decoded_max_abs"


@dataclass
class SelftestReport:
    fixture: str
    device: str
    errors: dict[str, float] = field(default_factory=dict)
    tolerances: dict[str, float] = field(default_factory=dict)
    schedule_problems: list[str] = field(default_factory=list)
    # part -> why it was not checked: a fixture need not record everything
    not_checked: dict[str, str] = field(default_factory=dict)
    passes: int = 0
    cropped_passes: list[int] = field(default_factory=list)  # their logits were compared on the kept frames only
    sampling_seconds: float | None = None

    @property
    def failures(self) -> list[str]:
        return [part for part, err in self.errors.items() if not err <= self.tolerances[part]]

    @property
    def ok(self) -> bool:
        return not self.failures and not self.schedule_problems

    def to_dict(self) -> dict:
        parts = {
            part: {"max_abs_err": err, "tolerance": self.tolerances[part], "ok": err <= self.tolerances[part]}
            for part, err in self.errors.items()
        }
        out = {"fixture": self.fixture, "device": self.device, "ok": self.ok, "parts": parts}
        out["schedule_problems"] = self.schedule_problems
        out["not_checked"] = self.not_checked
        out["passes"] = self.passes
        out["logits_cropped_passes"] = self.cropped_passes
        if self.sampling_seconds is not None:
            out["sampling_seconds"] = self.sampling_seconds
        return out


def run_selftest(fixture_dir: str | Path, device: str = "cpu", time_it: bool = False) -> SelftestReport:
    fixture = Fixture.open(fixture_dir)
    tolerances = fixture.field("tolerances_fp32")
    report = SelftestReport(fixture=str(fixture.root), device=device)
    schedule = fixture_schedule(fixture)
    report.schedule_problems = schedule_mismatches(fixture, schedule)
    model = load_fixture_model(fixture, device)
    report.errors.update(check_transformer(fixture, model, schedule))
    report.passes = len(schedule.passes)
    report.cropped_passes = [p.index for p in schedule.passes if fixture.logits_frames(p.index) is not None]
    if (fixture.root / "vae.safetensors").is_file():
        report.errors.update(check_vae(fixture, device))
    else:
        report.not_checked["vae"] = "the fixture has no vae.safetensors"
    report.tolerances = {
        part: tolerances[TOLERANCE_KEYS.get(part, DEFAULT_TOLERANCE_KEY)] for part in report.errors
    }
    if time_it:
        report.sampling_seconds = time_sampling(fixture, model.fuse_projections(), schedule)
    return report
