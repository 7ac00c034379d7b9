"""A contact sheet: videos as rows of frames sampled evenly across each, every row under its label."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

GAP = 2  # pixels between frames
LINE = 20  # pixels per label line
PAD = 8
FONT = cv2.FONT_HERSHEY_SIMPLEX
FONT_SCALE = 0.5
INK = (235, 235, 235)
PAPER = 40


def contact_sheet(videos: Sequence[np.ndarray], labels: Sequence[str], columns: int = 9, scale: int = 3) -> np.ndarray:
    """uint8 RGB of `videos` ([T, H, W, 3] uint8, all of one frame size) as rows of `columns` frames, first and
    last included, each `scale` times larger (nearest neighbour, so the pixels are the generated ones); a label
    may have several lines (newlines)."""
    if not videos or len(videos) != len(labels):
        raise ValueError(f"a contact sheet needs one label per video; got {len(videos)} videos, {len(labels)} labels")
    h, w = videos[0].shape[1] * scale, videos[0].shape[2] * scale
    band = PAD + LINE * max(label.count("\n") + 1 for label in labels)
    width = columns * w + (columns - 1) * GAP
    sheet = np.full((len(videos) * (band + h), width, 3), PAPER, np.uint8)
    for row, (video, label) in enumerate(zip(videos, labels, strict=True)):
        top = row * (band + h)
        for i, line in enumerate(label.split("\n")):
            cv2.putText(sheet, line, (PAD, top + LINE * (i + 1) - 4), FONT, FONT_SCALE, INK, 1, cv2.LINE_AA)
        for column, t in enumerate(np.linspace(0, len(video) - 1, columns).round().astype(int)):
            tile = cv2.resize(video[t], (w, h), interpolation=cv2.INTER_NEAREST)
            left = column * (w + GAP)
            sheet[top + band : top + band + h, left : left + w] = tile
    return sheet
