"""What a toy-world clip shows, as names: the structured description used as ground truth and as render input."""

from __future__ import annotations

from dataclasses import dataclass

from engine.train.toyworld.palette import BACKGROUND_CLASHES, BACKGROUND_COLOURS, OBJECT_COLOURS

FPS = 16
CLIP_FRAMES = 16

SHAPES = ("circle", "square", "triangle", "star")
# Half the side of the box an object fills, as a fraction of the frame side, so a scene looks alike at any size.
SIZES: dict[str, float] = {"small": 0.09, "big": 0.15}
DIRECTIONS: dict[str, tuple[int, int]] = {
    "left": (-1, 0),
    "right": (1, 0),
    "up": (0, -1),
    "down": (0, 1),
    "up-left": (-1, -1),
    "up-right": (1, -1),
    "down-left": (-1, 1),
    "down-right": (1, 1),
}
MOTIONS = (*DIRECTIONS, "growing", "shrinking", "bouncing", "still")
BACKGROUND_KINDS = ("plain", "vertical gradient", "horizontal gradient")


@dataclass(frozen=True)
class ObjectSpec:
    colour: str
    shape: str
    size: str
    motion: str


@dataclass(frozen=True)
class ClipSpec:
    """One clip: its objects (distinct colours, first drawn first) and its background."""

    objects: tuple[ObjectSpec, ...]
    background: str
    background_kind: str = "plain"

    def check(self) -> None:
        """Raise ValueError naming the first thing the world cannot draw."""
        if not 1 <= len(self.objects) <= 2:
            raise ValueError(f"a clip shows one or two objects, not {len(self.objects)}")
        for field, value, known in (
            ("background", self.background, BACKGROUND_COLOURS),
            ("background kind", self.background_kind, BACKGROUND_KINDS),
        ):
            if value not in known:
                raise ValueError(f"unknown {field} {value!r}; known: {', '.join(known)}")
        for obj in self.objects:
            for field, value, known in (
                ("colour", obj.colour, OBJECT_COLOURS),
                ("shape", obj.shape, SHAPES),
                ("size", obj.size, SIZES),
                ("motion", obj.motion, MOTIONS),
            ):
                if value not in known:
                    raise ValueError(f"unknown {field} {value!r}; known: {', '.join(known)}")
            if obj.colour in BACKGROUND_CLASHES[self.background]:
                raise ValueError(f"a {obj.colour} object is not drawn on {self.background}: the colours clash")
        colours = [obj.colour for obj in self.objects]
        if len(set(colours)) != len(colours):
            raise ValueError("two objects of one colour could not be told apart; give them different colours")
