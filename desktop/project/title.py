"""What a title shows: text in a font, size and colour, with an outline or a box behind it.

A title is a media item of kind "title" (desktop.project.model) whose Title is kept in the project itself, so it has
no file. Its picture is the whole frame, transparent but for the text block centred in it, so the clip's transform
places the text as it places any picture: the centre (`x`, `y`) is where the text block's centre goes. Sizes are
fractions of the frame's height, so a title looks the same after the project's format changes. A line wider than
`wrap_width` (a fraction of the frame's width) wraps between words onto the next; a new line in the text always
starts one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, get_args

from desktop.project.field_checks import FieldProblem, number_problem
from desktop.project.transform import Transform

Alignment = Literal["left", "center", "right"]
ALIGNMENTS: tuple[str, ...] = get_args(Alignment)
TITLE_SECONDS = 3.0  # how long a new title lasts
MAX_TEXT = 2000  # characters: a title, not a page
SIZE_RANGE = (0.01, 1.0)  # of the frame height: the text's em
OUTLINE_RANGE = (0.0, 0.05)  # of the frame height
OPACITY_RANGE = (0.0, 1.0)
WRAP_RANGE = (0.05, 1.0)  # of the frame width
SAFE_WIDTH = 0.8  # the title-safe area's share of the frame width: text inside it shows on any screen
NUMBERS: dict[str, tuple[float, float]] = {"size": SIZE_RANGE, "outline_width": OUTLINE_RANGE,
                                           "box_opacity": OPACITY_RANGE, "wrap_width": WRAP_RANGE}
COLOURS = ("colour", "outline_colour", "box_colour")
_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
LOWER_THIRD = Transform("custom", 0.5, 0.8)  # where a new title goes: centred, in the lower third


class TitleProblem(FieldProblem):
    """A title that cannot be; `field` names the Title attribute at fault."""


@dataclass(frozen=True)
class Title:
    text: str = "Title"
    font: str = "Sans Serif"  # a family name; a font this computer lacks is replaced by the nearest it has
    size: float = 0.08
    bold: bool = True
    colour: str = "#ffffff"  # #rrggbb
    outline_colour: str = "#000000"
    outline_width: float = 0.004  # 0: no outline
    box: bool = False
    box_colour: str = "#000000"
    box_opacity: float = 0.6
    align: Alignment = "center"
    wrap_width: float = SAFE_WIDTH  # lines wrap at this share of the frame's width

    def check(self) -> None:
        """Raise TitleProblem unless every field is within its limits."""
        if not isinstance(self.text, str) or not self.text.strip() or len(self.text) > MAX_TEXT:
            raise TitleProblem("text", f"the text should have from 1 to {MAX_TEXT} characters, not "
                                       f"{self.text!r:.40}")
        if not isinstance(self.font, str) or not self.font.strip():
            raise TitleProblem("font", f"the font should be a family name, not {self.font!r}")
        problem = number_problem(self, NUMBERS)
        if problem:
            raise TitleProblem(*problem)
        for name in COLOURS:
            value = getattr(self, name)
            if not isinstance(value, str) or not _COLOUR.fullmatch(value):
                raise TitleProblem(name, f"the {name.replace('_', ' ')} should be #rrggbb, not {value!r}")
        for name in ("bold", "box"):
            if not isinstance(getattr(self, name), bool):
                raise TitleProblem(name, f"{name} should be true or false, not {getattr(self, name)!r}")
        if self.align not in ALIGNMENTS:
            raise TitleProblem("align", f"the alignment should be one of {', '.join(ALIGNMENTS)}, not "
                                        f"{self.align!r}")

    @property
    def name(self) -> str:
        """How the title is named in lists: its first line."""
        first = self.text.strip().splitlines()[0] if self.text.strip() else ""
        return first if len(first) <= 40 else first[:39] + "…"
