"""The monitor shows the frame under the playhead: from the cache when scrubbing cached media, never an older one
last. Waits are for an event and run out only on a hang (WAIT_MS): nothing here depends on the machine's speed."""

from __future__ import annotations

import numpy as np
from player_media import frame_of

from desktop.media.frames import VideoDecoder
from desktop.player.monitor import Monitor
from desktop.project.commands import SetTrackFlag
from desktop.timeline.edit_command import apply_edit

WAIT_MS = 20_000


def shown_frame(monitor: Monitor) -> int:
    image = monitor.image
    pixels = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    return frame_of(float(pixels[:, : 3 * image.width()].mean()))


def test_scrubbing_cached_media_shows_the_frame_under_the_playhead_without_decoding(editor, qtbot, monkeypatch):
    """What made scrubbing fast (within 50 ms, as measured once): a cached frame is not decoded again, and each
    jump renders that one frame. Counted, not timed, so a loaded machine cannot fail it."""
    timeline, _, monitor = editor
    for frame in range(32):
        monitor.renderer.frame(frame)  # decoded once: the media is cached
    qtbot.waitUntil(lambda: monitor.image is not None, timeout=WAIT_MS)  # frame 0, shown when connected
    decoded, rendered = [], []
    real_frame_at, real_render = VideoDecoder.frame_at, monitor.renderer.frame
    monkeypatch.setattr(VideoDecoder, "frame_at", lambda self, t: decoded.append(t) or real_frame_at(self, t))
    monkeypatch.setattr(monitor.renderer, "frame", lambda frame: rendered.append(frame) or real_render(frame))
    shown: list[int] = []
    monitor.frame_shown.connect(shown.append)
    for target in (20, 3, 27, 12, 31, 0, 16):
        shown.clear()
        rendered.clear()
        timeline.set_playhead(target)
        qtbot.waitUntil(lambda target=target: target in shown, timeout=WAIT_MS)
        assert shown_frame(monitor) == target and rendered == [target]
    assert decoded == []


def test_a_fast_scrub_ends_on_its_last_frame(editor, qtbot):
    timeline, _, monitor = editor
    order: list[int] = []
    monitor.frame_shown.connect(order.append)
    for frame in range(1, 32):
        timeline.set_playhead(frame)
    qtbot.waitUntil(lambda: bool(order) and order[-1] == 31, timeout=WAIT_MS)
    qtbot.wait(100)
    assert order[-1] == 31 and order == sorted(order)  # nothing older shown after something newer
    assert shown_frame(monitor) == 31


def test_an_edit_renders_the_frame_again(editor, qtbot):
    timeline, _, monitor = editor
    timeline.set_playhead(10)
    qtbot.waitUntil(lambda: monitor.image is not None and shown_frame(monitor) == 10, timeout=WAIT_MS)
    with qtbot.waitSignal(monitor.frame_shown, timeout=WAIT_MS):
        apply_edit(timeline.undo_stack, timeline.project, SetTrackFlag("v1", "muted", True))
    assert shown_frame(monitor) == frame_of(0)  # black: the only video track is muted
