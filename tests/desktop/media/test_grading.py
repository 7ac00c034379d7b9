"""A clip's colour grade on its picture: brightness, contrast and saturation against the per-pixel formula computed
directly, transparency kept, and the grade seen in the timeline's frames."""

from __future__ import annotations

import numpy as np
import pytest

from desktop.media.grading import graded
from desktop.media.render import TimelineRenderer
from desktop.project.grade import Grade
from desktop.project.model import Clip, MediaItem, Project, Track, new_id


def by_formula(rgb: np.ndarray, grade: Grade) -> np.ndarray:
    """Saturation toward the Rec. 709 luma, contrast about 128, brightness added: pixel by pixel, in float."""
    x = rgb.astype(np.float64)
    luma = x[..., 0] * 0.2126 + x[..., 1] * 0.7152 + x[..., 2] * 0.0722
    x = luma[..., None] + grade.saturation * (x - luma[..., None])
    x = (x - 128) * grade.contrast + 128 + 255 * grade.brightness
    return np.clip(np.round(x), 0, 255)


@pytest.mark.parametrize("grade", [Grade(brightness=0.2), Grade(brightness=-0.5), Grade(contrast=1.8),
                                   Grade(contrast=0.3), Grade(saturation=0.0), Grade(saturation=2.5),
                                   Grade(0.1, 1.3, 0.6)])
def test_each_grade_is_its_formula_pixel_for_pixel(grade: Grade) -> None:
    rgb = np.random.default_rng(3).integers(0, 256, (24, 40, 3), dtype=np.uint8)
    out = graded(rgb, grade)
    assert out.dtype == np.uint8 and out.shape == rgb.shape
    assert np.abs(out.astype(int) - by_formula(rgb, grade)).max() <= 1


def test_no_saturation_is_grey_and_a_neutral_grade_is_the_picture_itself() -> None:
    rgb = np.random.default_rng(4).integers(0, 256, (8, 8, 3), dtype=np.uint8)
    grey = graded(rgb, Grade(saturation=0.0))
    assert (grey[..., 0] == grey[..., 1]).all() and (grey[..., 1] == grey[..., 2]).all()
    assert graded(rgb, Grade()) is rgb


def test_a_transparent_picture_stays_transparent_and_premultiplied() -> None:
    rgba = np.zeros((1, 3, 4), np.uint8)
    rgba[0, 1] = (200, 100, 50, 255)  # opaque
    rgba[0, 2] = (100, 50, 25, 128)  # half covered, premultiplied
    out = graded(rgba, Grade(brightness=0.3, contrast=1.5))
    assert (out[0, 0] == 0).all(), "a clear pixel gains no colour"
    assert (out[..., 3] == rgba[..., 3]).all()
    assert np.abs(out[0, 1, :3].astype(int) - by_formula(rgba[0, 1, :3], Grade(0.3, 1.5))).max() <= 1
    assert (out[0, 2, :3] <= 128).all(), "colour within its alpha"
    unpremultiplied = out[0, 2, :3].astype(float) * 255 / 128
    assert np.abs(unpremultiplied - by_formula(np.array([200, 100, 50]), Grade(0.3, 1.5))).max() <= 3


def test_the_timeline_shows_a_graded_picture(still: MediaItem) -> None:
    project = Project(fps=16, width=96, height=96)
    project.media = {still.id: still}
    track = Track(new_id(), "video", "Video 1")
    track.place(Clip("c", still.id, 0, 4, grade=Grade(saturation=0.0)))
    project.tracks = [track]
    pixel = TimelineRenderer(project).frame(1)[20, 10]  # the still's (230, 210, 30) there
    luma = round(230 * 0.2126 + 210 * 0.7152 + 30 * 0.0722)
    assert tuple(pixel) == (luma, luma, luma)
