"""The detector reads colour, shape and motion back from toy-world videos, also blurred and noisy ones."""

from __future__ import annotations

import ast
from pathlib import Path

import cv2
import numpy as np
import pytest

from engine.train.toyworld import ClipSpec, ObjectSpec, boundary_consistency, read_video, render, sample_video
from engine.train.toyworld import detect as detect_module


def degraded(frames: np.ndarray, seed: int) -> np.ndarray:
    """A mild Gaussian blur, then Gaussian noise of sigma 10."""
    blurred = np.stack([cv2.GaussianBlur(frame, (0, 0), 1.0) for frame in frames]).astype(np.float32)
    noisy = blurred + np.random.default_rng(seed).normal(0, 10, blurred.shape)
    return np.clip(np.round(noisy), 0, 255).astype(np.uint8)


def accuracy(size: int, seconds: int, seeds: range, noisy: bool) -> dict[str, float]:
    hits = {"colour": 0, "shape": 0, "motion": 0}
    clips = 0
    for seed in seeds:
        video = sample_video(seed, seconds, size, objects=1)
        readings = read_video(degraded(video.frames, seed) if noisy else video.frames)
        for reading, truth in zip(readings[1:], video.truth[1:], strict=True):
            obj = truth.objects[0]
            clips += 1
            hits["colour"] += reading.colour == obj.colour
            hits["shape"] += reading.shape == obj.shape
            hits["motion"] += reading.motion == obj.motion
    return {name: count / clips for name, count in hits.items()}


@pytest.mark.parametrize("size", [64, 128])
def test_reads_single_object_videos(size):
    score = accuracy(size, 1, range(10**9, 10**9 + 100), noisy=False)
    assert score["colour"] >= 0.98 and score["motion"] >= 0.95 and score["shape"] >= 0.85, score


@pytest.mark.parametrize("size", [64, 128])
def test_reads_blurred_noisy_videos(size):
    score = accuracy(size, 1, range(10**9 + 500, 10**9 + 530), noisy=True)
    assert score["colour"] >= 0.98 and score["motion"] >= 0.95, score


def test_every_motion_is_told_apart():
    for i, motion in enumerate(["left", "up-right", "down", "growing", "shrinking", "bouncing", "still"]):
        spec = ClipSpec((ObjectSpec("green", "triangle", "big", motion),), "grey", "horizontal gradient")
        assert read_video(render(spec, 1, 64, seed=i).frames)[1].motion == motion


def test_shapes_are_told_apart_whatever_their_rotation():
    for i, shape in enumerate(["circle", "square", "triangle", "star"]):
        frame = render(ClipSpec((ObjectSpec("white", shape, "big", "still"),), "black"), 0, 128, seed=i).frames
        turned = cv2.warpAffine(frame[0], cv2.getRotationMatrix2D((64, 64), 20 + 10 * i, 1.0), (128, 128))
        assert read_video(turned[None])[0].shape == shape


def test_the_main_object_of_a_two_object_scene_is_one_of_its_objects():
    for seed in range(40):
        video = sample_video(seed, 1, 64, objects=2)
        reading = read_video(video.frames)[1]
        assert reading.colour in {o.colour for o in video.truth[1].objects}


def test_motion_changes_are_read_and_the_object_is_continuous_across_clip_boundaries():
    for seed in range(20):
        video = sample_video(seed, 3, 64, objects=1)
        readings = read_video(video.frames)
        assert all(boundary_consistency(readings)), seed
        assert [r.motion for r in readings[1:]] == [clip.objects[0].motion for clip in video.truth[1:]]
        for before, after in zip(readings[1:], readings[2:], strict=False):
            end, start = before.track[-1], after.track[0]
            assert end[0] == start[0]  # the boundary frame ends one clip and starts the next
            nxt = after.track[1]
            assert np.hypot(nxt[1] - end[1], nxt[2] - end[2]) < 0.12, seed


def test_empty_frames_have_no_object():
    blank = np.full((17, 64, 64, 3), 30, np.uint8)
    readings = read_video(blank)
    assert [(r.colour, r.shape, r.motion) for r in readings] == [(None, None, None)] * 2
    assert boundary_consistency(readings) == [False]


def test_the_detector_knows_only_the_palette_of_the_world():
    tree = ast.parse(Path(detect_module.__file__).read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert {m for m in imported if m and m.startswith("engine")} == {"engine.train.toyworld.palette"}
