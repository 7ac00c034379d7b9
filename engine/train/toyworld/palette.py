"""The named colours of the toy world: bright object colours and dark background colours that never clash.

The detector may read this table; nothing else of the world is shared with it.
"""

from __future__ import annotations

OBJECT_COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (230, 40, 40),
    "orange": (255, 130, 0),
    "yellow": (250, 230, 30),
    "green": (40, 200, 60),
    "cyan": (0, 220, 230),
    "blue": (40, 90, 255),
    "purple": (160, 60, 230),
    "white": (245, 245, 245),
}

BACKGROUND_COLOURS: dict[str, tuple[int, int, int]] = {
    "black": (10, 10, 10),
    "navy": (20, 30, 90),
    "grey": (100, 100, 105),
    "brown": (90, 55, 25),
    "maroon": (100, 15, 35),
    "teal": (0, 80, 90),
}

# Object colours a background never carries: the same hue family, which a caption could not tell apart
# and a blurry generator would smear into the background.
BACKGROUND_CLASHES: dict[str, frozenset[str]] = {
    "black": frozenset(),
    "navy": frozenset({"blue"}),
    "grey": frozenset({"white"}),
    "brown": frozenset({"orange", "red"}),
    "maroon": frozenset({"red"}),
    "teal": frozenset({"cyan", "green"}),
}

# A gradient runs from the background colour times GRADIENT_DARK to times GRADIENT_LIGHT plus GRADIENT_LIFT.
GRADIENT_DARK = 0.6
GRADIENT_LIGHT = 1.25
GRADIENT_LIFT = 20


def gradient_ends(name: str) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """The darkest and lightest colour of background `name`'s gradient."""
    rgb = BACKGROUND_COLOURS[name]
    dark = tuple(c * GRADIENT_DARK for c in rgb)
    light = tuple(min(255.0, c * GRADIENT_LIGHT + GRADIENT_LIFT) for c in rgb)
    return dark, light


def backgrounds_for(colours: set[str] | frozenset[str]) -> list[str]:
    """The backgrounds (in table order) that clash with none of `colours`."""
    return [name for name, clashes in BACKGROUND_CLASHES.items() if not clashes & colours]
