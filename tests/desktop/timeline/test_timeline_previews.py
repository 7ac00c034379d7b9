"""Filmstrips and waveforms load off the GUI thread, once, and are painted when they arrive; paint stays cheap."""

from __future__ import annotations

import threading

import numpy as np
from PySide6.QtGui import QColor

from desktop.timeline.waveform import column_peaks, waveform_image


def test_previews_load_on_a_worker_and_are_painted_when_ready(view, synthetic, qtbot):
    previews = view.previews
    media = view.project.media["v"]
    assert previews.thumbnail(media, 1.0, 48) is None  # asked for, not there yet
    qtbot.waitUntil(lambda: previews.thumbnail(media, 1.0, 48) is not None, timeout=20_000)  # only a hang runs it out
    assert previews.thumbnail(media, 1.0, 48).height() == 48
    view.viewport().repaint()  # the clips ask for what they show
    qtbot.waitUntil(lambda: previews.waveform_tile(view.project.media["a"], 64.0, 32, 0, QColor("white")) is not None,
                    timeout=20_000)  # only a hang runs it out
    assert synthetic.threads and threading.main_thread().name not in synthetic.threads


def test_waveform_columns_take_the_extremes_under_each_pixel():
    peaks = np.array([[-0.1, 0.1], [-0.5, 0.2], [-0.2, 0.9], [0.0, 0.0]], np.float32)
    low, high = column_peaks(peaks, 4, 0, 0.5, 4)  # two buckets a pixel, the last two pixels past the end
    assert low.tolist() == [-0.5, np.float32(-0.2), 0, 0] and high.tolist() == [np.float32(0.2), np.float32(0.9), 0, 0]
    low, high = column_peaks(peaks, 4, 0, 0.125, 4)  # half a bucket a pixel
    assert high.tolist() == [np.float32(v) for v in (0.1, 0.1, 0.2, 0.2)]
    image = waveform_image(np.array([-1.0, 0.0], np.float32), np.array([1.0, 0.0], np.float32), 9, QColor("white"))
    column = [image.pixelColor(0, y).alpha() for y in range(9)], [image.pixelColor(1, y).alpha() for y in range(9)]
    assert column[0] == [255] * 9 and column[1] == [0, 0, 0, 0, 255, 0, 0, 0, 0]
