"""What the project's small frozen records (desktop.project.transform, desktop.project.title) share in checking
their fields: the problem that names its field, and the check of the number fields against their limits."""

from __future__ import annotations

import math


class FieldProblem(ValueError):
    """A field that cannot be; `field` names the attribute at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def number_problem(record: object, limits: dict[str, tuple[float, float]]) -> tuple[str, str] | None:
    """The first field named in `limits` whose value in `record` is not a finite number within its limits, and why;
    None when every one is."""
    for name, (low, high) in limits.items():
        value = getattr(record, name)
        if type(value) not in (int, float) or not math.isfinite(value) or not low <= value <= high:
            return name, f"the {name.replace('_', ' ')} should be a number from {low:g} to {high:g}, not {value!r}"
    return None
