"""Rasterising the toy world: backgrounds and anti-aliased shapes, with sub-pixel positions."""

from __future__ import annotations

import cv2
import numpy as np

from engine.train.toyworld.palette import BACKGROUND_COLOURS, gradient_ends

SUBPIXEL_BITS = 4
_ONE = 1 << SUBPIXEL_BITS


def _star(points: int = 5, inner: float = 0.5) -> np.ndarray:
    angles = -np.pi / 2 + np.arange(2 * points) * np.pi / points
    radii = np.where(np.arange(2 * points) % 2 == 0, 1.0, inner)
    return np.stack([radii * np.cos(angles), radii * np.sin(angles)], axis=1)


def _fit_box(polygon: np.ndarray, half: float = 1.0) -> np.ndarray:
    """`polygon` moved so its bounding box is centred, and scaled so the box's longer half-side is `half`."""
    lo, hi = polygon.min(axis=0), polygon.max(axis=0)
    return (polygon - (lo + hi) / 2) * (2 * half / (hi - lo).max())


# Every shape lies in the box [-1, 1]^2 around its centre; the square is smaller so it does not look bigger than
# the circle of the same size.
POLYGONS: dict[str, np.ndarray] = {
    "square": _fit_box(np.array([[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]]), 0.85),
    "triangle": _fit_box(np.array([[0.0, -1.0], [np.sqrt(3) / 2, 0.5], [-np.sqrt(3) / 2, 0.5]])),
    "star": _fit_box(_star()),
}


def background(name: str, kind: str, size: int) -> np.ndarray:
    """[size, size, 3] uint8: plain, or a linear gradient from light (top or left) to dark."""
    if kind == "plain":
        return np.broadcast_to(np.array(BACKGROUND_COLOURS[name], np.uint8), (size, size, 3)).copy()
    dark, light = (np.array(end, np.float32) for end in gradient_ends(name))
    ramp = light + np.linspace(0, 1, size, dtype=np.float32)[:, None] * (dark - light)
    ramp = np.round(ramp).astype(np.uint8)
    return np.broadcast_to(ramp[:, None] if kind == "vertical gradient" else ramp[None], (size, size, 3)).copy()


def draw(image: np.ndarray, shape: str, x: float, y: float, half: float, rgb: tuple[int, int, int]) -> None:
    """Draw `shape` in place, centred at (x, y) with half-size `half`, all as fractions of the frame side."""
    size = image.shape[0]
    # pixel i spans [i, i + 1) of the frame; OpenCV puts its centre at coordinate i
    centre = np.array([x, y]) * size - 0.5
    if shape == "circle":
        cx, cy = np.round(centre * _ONE).astype(int)
        cv2.circle(image, (cx, cy), round(half * size * _ONE), rgb, -1, cv2.LINE_AA, SUBPIXEL_BITS)
        return
    points = np.round((POLYGONS[shape] * half * size + centre) * _ONE).astype(np.int32)
    cv2.fillPoly(image, [points], rgb, cv2.LINE_AA, SUBPIXEL_BITS)
