"""A clip's grade (desktop.project.grade) applied to its picture: one affine map of the colour channels per pixel,
done by OpenCV in uint8 with rounding and saturation at 0 and 255."""

from __future__ import annotations

import cv2
import numpy as np

from desktop.project.grade import Grade

LUMA = np.array([0.2126, 0.7152, 0.0722])  # Rec. 709, the weights of HD video
MID_GREY = 128.0


def grade_matrix(grade: Grade) -> np.ndarray:
    """The [3, 4] float64 map of the grade: out = matrix[:, :3] @ rgb + matrix[:, 3], in 0..255 units."""
    s, c = grade.saturation, grade.contrast
    saturate = s * np.eye(3) + (1 - s) * np.tile(LUMA, (3, 1))
    offset = MID_GREY * (1 - c) + 255.0 * grade.brightness
    return np.concatenate([c * saturate, np.full((3, 1), offset)], axis=1)


def graded(picture: np.ndarray, grade: Grade) -> np.ndarray:
    """`picture` (uint8 RGB, or RGBA with premultiplied colour) with `grade` applied; the same array when the grade
    is neutral. On RGBA the offset scales with the alpha and the colour stays within it, so a transparent pixel
    stays transparent and the picture stays premultiplied."""
    if grade.neutral:
        return picture
    matrix = grade_matrix(grade)
    if picture.shape[2] == 3:
        return cv2.transform(picture, matrix)
    with_alpha = np.zeros((4, 5))
    with_alpha[:3, :3] = matrix[:, :3]
    with_alpha[:3, 3] = matrix[:, 3] / 255.0  # times the alpha channel, the fourth input
    with_alpha[3, 3] = 1.0
    out = cv2.transform(picture, with_alpha)
    np.minimum(out[..., :3], out[..., 3:], out=out[..., :3])
    return out
