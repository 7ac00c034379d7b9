"""A visual clip's colour adjustment, its grade: brightness, contrast and saturation, applied to its picture before
it is placed in the frame (desktop.media.grading).

Each is an affine map of the RGB values, so together they are one: saturation moves each pixel away from or toward
its luma (Rec. 709 weights: 0 is grey, 1 unchanged, 2 twice as vivid), contrast scales the result about mid-grey (128
of 255: 0 is flat grey, 1 unchanged), and brightness adds a share of full scale (-1 black, 0 unchanged, 1 white).
The neutral grade (0, 1, 1) changes nothing, and is skipped.
"""

from __future__ import annotations

from dataclasses import dataclass

from desktop.project.field_checks import FieldProblem, number_problem

RANGES: dict[str, tuple[float, float]] = {"brightness": (-1.0, 1.0), "contrast": (0.0, 3.0), "saturation": (0.0, 3.0)}


class GradeProblem(FieldProblem):
    """A grade that cannot be; `field` names the Grade attribute at fault."""


@dataclass(frozen=True)
class Grade:
    brightness: float = 0.0
    contrast: float = 1.0
    saturation: float = 1.0

    @property
    def neutral(self) -> bool:
        return self == Grade()

    def check(self) -> None:
        """Raise GradeProblem unless every field is within its limits."""
        problem = number_problem(self, RANGES)
        if problem is not None:
            raise GradeProblem(*problem)
