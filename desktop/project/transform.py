"""How a visual clip is placed into the project's frame.

`mode` picks the size: fit (the whole picture shows, with black bars where its shape differs from the frame's),
fill (the frame is covered, the picture's overhang cropped off evenly), stretch (the picture takes the frame's shape)
or custom, where the picture is the fit size times `scale`, centred at (`x`, `y`) and turned by `rotation`. The
centre is a fraction of the frame's width and height and the scale is relative to the fit size, so a custom placement
looks the same after the frame's format changes. In every mode `crop_*` first cuts that fraction of the source off
each side, and `opacity` (0..1) says how much of the clip covers what lies below it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, get_args

from desktop.project.field_checks import FieldProblem, number_problem

FitMode = Literal["fit", "fill", "stretch", "custom"]
MODES: tuple[str, ...] = get_args(FitMode)
Size = tuple[int, int]  # (width, height) in pixels

# Limits of each number: a centre up to 10 frames away and a scale up to 20x still reach the frame or leave it;
# a crop leaves at least MIN_KEPT of the source, so the picture keeps a size.
POSITION_RANGE = (-10.0, 10.0)
SCALE_RANGE = (0.01, 20.0)
ROTATION_RANGE = (-360.0, 360.0)
MIN_KEPT = 0.01
CROP_RANGE = (0.0, 1.0 - MIN_KEPT)
OPACITY_RANGE = (0.0, 1.0)
RANGES: dict[str, tuple[float, float]] = {
    "x": POSITION_RANGE, "y": POSITION_RANGE, "scale": SCALE_RANGE, "rotation": ROTATION_RANGE,
    "crop_left": CROP_RANGE, "crop_top": CROP_RANGE, "crop_right": CROP_RANGE, "crop_bottom": CROP_RANGE,
    "opacity": OPACITY_RANGE,
}


class TransformProblem(FieldProblem):
    """A transform that cannot be; `field` names the Transform attribute at fault. (The project's rules raise it
    again as a ProjectError naming the clip.)"""


@dataclass(frozen=True)
class Transform:
    mode: FitMode = "fit"
    x: float = 0.5
    y: float = 0.5
    scale: float = 1.0
    rotation: float = 0.0  # degrees, clockwise as seen
    crop_left: float = 0.0
    crop_top: float = 0.0
    crop_right: float = 0.0
    crop_bottom: float = 0.0
    opacity: float = 1.0

    def check(self) -> None:
        """Raise TransformProblem unless every field is within its limits."""
        if self.mode not in MODES:
            raise TransformProblem("mode", f"the placement should be one of {', '.join(MODES)}, not {self.mode!r}")
        problem = number_problem(self, RANGES)
        if problem:
            raise TransformProblem(*problem)
        for first, second in (("crop_left", "crop_right"), ("crop_top", "crop_bottom")):
            if getattr(self, first) + getattr(self, second) > 1 - MIN_KEPT:
                cropped = getattr(self, first) + getattr(self, second)
                raise TransformProblem(
                    second, f"the {first.replace('_', ' ')} and {second.replace('_', ' ')} together should crop at "
                    f"most {1 - MIN_KEPT:.0%} of the picture, not {cropped:.0%}",
                )

    def layout(self, source: Size, frame: Size) -> Layout:
        """Where the picture of a `source`-sized clip goes in a `frame`-sized picture."""
        width, height = source
        left, top = self.crop_left * width, self.crop_top * height
        right, bottom = width * (1 - self.crop_right), height * (1 - self.crop_bottom)
        kept_w, kept_h = right - left, bottom - top
        fit = min(frame[0] / kept_w, frame[1] / kept_h)
        if self.mode == "stretch":
            scale_x, scale_y = frame[0] / kept_w, frame[1] / kept_h
        else:
            scale_x = scale_y = {"fit": fit, "fill": max(frame[0] / kept_w, frame[1] / kept_h)}.get(
                self.mode, fit * self.scale)
        custom = self.mode == "custom"
        centre = (self.x * frame[0], self.y * frame[1]) if custom else (frame[0] / 2, frame[1] / 2)
        return Layout((left, top, right, bottom), scale_x, scale_y, centre, self.rotation if custom else 0.0)

    def as_custom(self, source: Size, frame: Size) -> Transform:
        """The custom transform that shows a `source`-sized clip as this one does (stretch, which a single scale
        cannot show, becomes its fit), so that editing the position, scale or rotation starts from what is seen."""
        if self.mode == "custom":
            return self
        layout = self.layout(source, frame)
        fit = Transform(crop_left=self.crop_left, crop_right=self.crop_right, crop_top=self.crop_top,
                        crop_bottom=self.crop_bottom).layout(source, frame).scale_x
        scale = layout.scale_x / fit if self.mode == "fill" else 1.0
        return Transform("custom", 0.5, 0.5, scale, 0.0, self.crop_left, self.crop_top, self.crop_right,
                         self.crop_bottom, self.opacity)


@dataclass(frozen=True)
class Layout:
    """A transform worked out for one source and frame size. `crop` is (left, top, right, bottom) in source pixels;
    the kept part is scaled by `scale_x`, `scale_y`, turned by `rotation` degrees clockwise and centred at `centre`
    in frame pixels (edges at whole numbers, so the frame spans 0..width)."""

    crop: tuple[float, float, float, float]
    scale_x: float
    scale_y: float
    centre: tuple[float, float]
    rotation: float

    @property
    def size(self) -> tuple[float, float]:
        """The kept part's size in the frame, before any rotation."""
        left, top, right, bottom = self.crop
        return (right - left) * self.scale_x, (bottom - top) * self.scale_y

    @property
    def turned(self) -> bool:
        return self.rotation % 360 != 0

    def corners(self) -> list[tuple[float, float]]:
        """The kept part's corners in the frame: top left, top right, bottom right, bottom left."""
        width, height = self.size
        turn = math.radians(self.rotation)
        cos, sin = math.cos(turn), math.sin(turn)
        return [(self.centre[0] + dx * cos - dy * sin, self.centre[1] + dx * sin + dy * cos)
                for dx, dy in ((-width / 2, -height / 2), (width / 2, -height / 2), (width / 2, height / 2),
                               (-width / 2, height / 2))]

