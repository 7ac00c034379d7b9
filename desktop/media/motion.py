"""Frames made between two frames of a video by optical flow, for a clip slower than the project (a 16 fps generation
in a 24 or 30 fps project) that should move smoothly rather than hold each frame.

The flow both ways between the two frames (OpenCV's DIS, Kroeger et al. 2016, at its fast preset) gives, for a
time `t` between them, where each pixel of the new frame was in each neighbour (the linear model of Super SloMo,
Jiang et al. 2018: F_t0 = -(1-t)t F_01 + t² F_10, F_t1 = (1-t)² F_01 - t(1-t) F_10); the new frame is the two
neighbours so warped, blended by nearness. The flow is found on a copy at most FLOW_SIDE pixels a side, which keeps
its cost bounded for large frames: motion is smooth enough at that scale, and the warp itself is done at full size.
"""

from __future__ import annotations

import cv2
import numpy as np

FLOW_SIDE = 480
Flows = tuple[np.ndarray, np.ndarray]  # float32 [h, w, 2] each: first to second frame, second to first


def _grey(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    grey = cv2.cvtColor(np.ascontiguousarray(rgb[..., :3]), cv2.COLOR_RGB2GRAY)
    return grey if (grey.shape[1], grey.shape[0]) == size else cv2.resize(grey, size, interpolation=cv2.INTER_AREA)


def flows(first: np.ndarray, second: np.ndarray) -> Flows:
    """The optical flow from `first` to `second` and back, in `first`'s pixels (both pictures the same size)."""
    height, width = first.shape[:2]
    shrink = min(1.0, FLOW_SIDE / max(width, height))
    size = (max(1, round(width * shrink)), max(1, round(height * shrink)))
    a, b = _grey(first, size), _grey(second, size)
    found = []
    finder = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_FAST)  # one per call: it is not thread safe
    for one, other in ((a, b), (b, a)):
        flow = finder.calc(one, other, None)
        if size != (width, height):
            flow = cv2.resize(flow, (width, height), interpolation=cv2.INTER_LINEAR) * np.float32(1 / shrink)
        found.append(flow)
    return found[0], found[1]


def between(first: np.ndarray, second: np.ndarray, t: float, flow: Flows) -> np.ndarray:
    """The picture a fraction `t` (0..1) of the way from `first` to `second`, with `flow` = flows(first, second)."""
    forward, backward = flow
    height, width = first.shape[:2]
    grid = np.dstack(np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32)))
    # where each pixel of the new frame is read from in each neighbour: its place plus the flow to that neighbour
    in_first = cv2.add(grid, cv2.addWeighted(forward, -(1 - t) * t, backward, t * t, 0))
    in_second = cv2.add(grid, cv2.addWeighted(forward, (1 - t) ** 2, backward, -t * (1 - t), 0))
    from_first = cv2.remap(first, in_first, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    from_second = cv2.remap(second, in_second, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return cv2.addWeighted(from_first, 1 - t, from_second, t, 0)
