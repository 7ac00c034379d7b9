"""A running job's progress as a person reads it: "clip 3 of 12 · pass 7/39 · 1:05 left", the time left being the
whole job's. Qt-free."""

from __future__ import annotations

from dataclasses import dataclass

from desktop.timecode import clock
from engine.api import protocol as p
from engine.api.jobs import JobSpec


@dataclass(frozen=True)
class JobProgress:
    """The clips of a job as its Started event counts them. `first_frame`: its clip 0 is a new video's first frame,
    which a person does not count as a clip of its own: it is made as the start of the first clip."""

    clips: int = 0
    first_frame: bool = False

    @classmethod
    def of(cls, spec: JobSpec, started: p.Started) -> JobProgress:
        return cls(started.clips, spec.continue_from is None and started.clips > 1)

    def clip_number(self, clip: int) -> tuple[int, int]:
        """(clip, of how many) counted from 1 over the clips a person sees."""
        if self.first_frame:
            return max(clip, 1), self.clips - 1
        return clip + 1, self.clips

    def text(self, index: int, total: int, clip: int, eta_seconds: float | None) -> str:
        """After pass `index` (0-based) of `total` in the job, in its clip `clip` (as the engine numbers them)."""
        number, count = self.clip_number(clip)
        parts = [f"clip {number} of {count}"] if count > 1 else []
        parts.append(f"pass {index + 1}/{total}")
        if eta_seconds is not None:
            parts.append(f"{clock(eta_seconds)} left")
        return " · ".join(parts)
