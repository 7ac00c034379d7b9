"""Timeline repaint time with 500 clips: the median of N full-viewport repaints of TimelineView, offscreen.

Two zooms: the whole timeline in view (all 500 clips painted, each a few pixels wide) and a close zoom (a few
dozen clips with filmstrips and waveforms). Thumbnails and peaks are synthetic and loaded before timing, as when
scrolling over media already seen; the goal is one 60 Hz frame, 16 ms.

    QT_QPA_PLATFORM=offscreen python bench/timeline_paint.py [--repaints 200] [--width 1600] [--height 420]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PySide6.QtGui import QUndoStack  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from desktop.project.model import Clip, MediaItem, Project, Track  # noqa: E402
from desktop.timeline.previews import MediaPreviews  # noqa: E402
from desktop.timeline.view import TimelineView  # noqa: E402

GOAL_MS = 16.0
CLIPS = 500


def thumbnail(media: MediaItem, time_s: float, height: int) -> np.ndarray:
    picture = np.empty((height, height * 16 // 9, 3), np.uint8)
    picture[:] = (int(time_s * 37) % 256, 90, 160)
    return picture


def peaks(media: MediaItem, buckets_per_second: float) -> np.ndarray:
    level = np.abs(np.sin(np.arange(int(media.duration * buckets_per_second)) / 40)).astype(np.float32)
    return np.stack([-level, level], axis=1)


def project_with_clips(count: int) -> Project:
    """Two video and two audio tracks sharing `count` clips of 1.5-5 s with small gaps, eight media files."""
    rng = np.random.default_rng(0)
    project = Project(fps=16)
    for i in range(4):
        project.media[f"v{i}"] = MediaItem(f"v{i}", Path(f"/bench/video{i}.mp4"), "video", 6.0, 16, 1280, 720, True)
        project.media[f"a{i}"] = MediaItem(f"a{i}", Path(f"/bench/sound{i}.wav"), "audio", 6.0)
    kinds = ["video", "video", "audio", "audio"]
    project.tracks = [Track(f"t{i}", kind, f"{kind} {i}") for i, kind in enumerate(kinds)]
    ends = [0] * len(kinds)
    for n in range(count):
        row = n % len(kinds)
        length = int(rng.integers(24, 80))
        start = ends[row] + int(rng.integers(0, 8))
        prefix = "v" if kinds[row] == "video" else "a"
        clip = Clip(f"c{n}", f"{prefix}{n % 4}", start, length, source_in=int(rng.integers(0, 96 - length + 1)))
        project.tracks[row].clips.append(clip)
        ends[row] = start + length
    return project


def median_repaint_ms(app: QApplication, view: TimelineView, repaints: int) -> float:
    for _ in range(20):  # paint once so every visible picture is asked for, then let them arrive
        view.viewport().repaint()
        app.processEvents()
        time.sleep(0.01)
    times = []
    for _ in range(repaints):
        started = time.perf_counter()
        view.viewport().repaint()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repaints", type=int, default=200)
    parser.add_argument("--width", type=int, default=1600)
    parser.add_argument("--height", type=int, default=420)
    args = parser.parse_args()

    app = QApplication([])
    project = project_with_clips(CLIPS)
    previews = MediaPreviews(thumbnail, peaks)
    view = TimelineView(project, QUndoStack(), previews)
    view.resize(args.width, args.height)
    view.show()
    app.processEvents()

    view.zoom(view.viewport().width() / view.scale.x(project.duration))
    visible = view.viewport().rect()
    fit = median_repaint_ms(app, view, args.repaints)
    fit_clips = len(view.items(visible))

    view.zoom(6.0 / view.scale.pixels_per_frame)
    view.horizontalScrollBar().setValue(view.horizontalScrollBar().maximum() // 2)
    close = median_repaint_ms(app, view, args.repaints)
    close_clips = len(view.items(visible))

    print(f"{CLIPS} clips on 4 tracks, {project.seconds(project.duration):.0f} s, viewport "
          f"{view.viewport().width()}x{view.viewport().height()}, median of {args.repaints} full repaints:")
    print(f"  whole timeline in view ({fit_clips} clips painted): {fit:.2f} ms")
    print(f"  close zoom, 6 px/frame ({close_clips} clips painted, filmstrips and waveforms): {close:.2f} ms")
    print(f"  goal < {GOAL_MS:.0f} ms: {'met' if max(fit, close) < GOAL_MS else 'NOT met'}")
    previews.close()


if __name__ == "__main__":
    main()
