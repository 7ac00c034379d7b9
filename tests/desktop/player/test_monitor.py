"""The monitor shows the frame under the playhead: fast when scrubbing cached media, never an older one last."""

from __future__ import annotations

import time

import numpy as np
from player_media import frame_of

from desktop.player.monitor import Monitor
from desktop.project.commands import SetTrackFlag
from desktop.timeline.edit_command import apply_edit


def shown_frame(monitor: Monitor) -> int:
    image = monitor.image
    pixels = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    return frame_of(float(pixels[:, : 3 * image.width()].mean()))


def test_scrubbing_shows_the_frame_under_the_playhead_within_50_ms(editor, qtbot):
    timeline, _, monitor = editor
    for frame in range(32):
        monitor.renderer.frame(frame)  # decoded once: the media is cached
    qtbot.waitUntil(lambda: monitor.image is not None, timeout=2000)  # frame 0, shown when connected
    shown: dict[int, float] = {}
    monitor.frame_shown.connect(lambda frame: shown.setdefault(frame, time.perf_counter()))
    delays = []
    for target in (20, 3, 27, 12, 31, 0, 16):
        shown.clear()
        asked = time.perf_counter()
        timeline.set_playhead(target)
        qtbot.waitUntil(lambda target=target: target in shown, timeout=1000)
        delays.append(shown[target] - asked)
        assert shown_frame(monitor) == target
    assert max(delays) < 0.050, delays


def test_a_fast_scrub_ends_on_its_last_frame(editor, qtbot):
    timeline, _, monitor = editor
    order: list[int] = []
    monitor.frame_shown.connect(order.append)
    for frame in range(1, 32):
        timeline.set_playhead(frame)
    qtbot.waitUntil(lambda: bool(order) and order[-1] == 31, timeout=3000)
    qtbot.wait(100)
    assert order[-1] == 31 and order == sorted(order)  # nothing older shown after something newer
    assert shown_frame(monitor) == 31


def test_an_edit_renders_the_frame_again(editor, qtbot):
    timeline, _, monitor = editor
    timeline.set_playhead(10)
    qtbot.waitUntil(lambda: monitor.image is not None and shown_frame(monitor) == 10, timeout=2000)
    with qtbot.waitSignal(monitor.frame_shown, timeout=2000):
        apply_edit(timeline.undo_stack, timeline.project, SetTrackFlag("v1", "muted", True))
    assert shown_frame(monitor) == frame_of(0)  # black: the only video track is muted
