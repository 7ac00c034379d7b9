"""Decoding: the exact frame at any media time whatever the order of requests, stills, the byte-capped cache and
the worker pool that renders ahead of the play head."""

from __future__ import annotations

import random
import threading
import time

import numpy as np
import pytest
from media_samples import number_of, pattern

from desktop.media.frames import FrameCache, FramePool, MediaFrames, VideoDecoder, fit
from desktop.project.model import MediaItem

WAIT_S = 60  # a wait for an event: only a hang runs it out


def test_random_access_returns_exactly_the_frame_asked_for(numbers: MediaItem) -> None:
    media = MediaFrames(FrameCache(0))  # no cache: every request decodes
    order = list(range(32)) + random.Random(3).sample(range(32), 32) + [31, 0, 30, 1, 17, 16, 15]
    assert [number_of(media.fitted(numbers, k / 16, (64, 64))) for k in order] == order
    media.close()


def test_playback_decodes_on_without_seeking(numbers: MediaItem) -> None:
    decoder = VideoDecoder(numbers.path)
    seeks = []
    seek = decoder._seek
    decoder._seek = lambda target: (seeks.append(target), seek(target))  # type: ignore[method-assign]
    shown = [number_of(decoder.frame_at(k / 16).to_ndarray(format="rgb24")) for k in range(32)]
    assert shown == list(range(32)) and seeks == [0.0]
    decoder.close()


def test_other_rates_get_the_nearest_frame_and_the_last_frame_past_the_end(numbers: MediaItem) -> None:
    decoder = VideoDecoder(numbers.path)
    at = [number_of(decoder.frame_at(k / 24).to_ndarray(format="rgb24")) for k in (0, 1, 2, 3, 47, 10, 5)]
    assert at == [round(k * 16 / 24) for k in (0, 1, 2, 3, 47, 10, 5)]
    assert number_of(decoder.frame_at(9.0).to_ndarray(format="rgb24")) == 31
    decoder.close()


def test_frames_are_fitted_to_the_box_keeping_their_aspect(wide: MediaItem, still: MediaItem) -> None:
    media = MediaFrames(FrameCache())
    frame = media.fitted(wide, 0.25, (32, 32))
    assert frame.shape == (16, 32, 3) and frame.dtype == np.uint8 and number_of(frame) == 1004
    picture = media.fitted(still, 0.0, (96, 96))
    assert picture.shape == (64, 96, 3) and tuple(picture[10, 10]) == (230, 210, 30)
    assert tuple(picture[50, 80]) == (20, 40, 200)
    assert media.fitted(still, 5.0, (96, 96)) is picture  # a still is one picture at any time
    assert fit(1280, 720, (64, 64)) == (64, 36) and fit(9, 16, (1280, 720)) == (405, 720)


def test_the_cache_stays_under_its_byte_cap_dropping_the_least_recently_used() -> None:
    cache = FrameCache(max_bytes=3 * 64 * 64 * 3)
    for k in range(3):
        cache.put(("m", k, (64, 64)), pattern(k))
    assert cache.get(("m", 0, (64, 64))) is not None  # now the most recently used
    cache.put(("m", 3, (64, 64)), pattern(3))
    assert cache.get(("m", 1, (64, 64))) is None and cache.get(("m", 0, (64, 64))) is not None
    assert len(cache) == 3 and cache.bytes == 3 * 64 * 64 * 3
    cache.put(("m", 9, (128, 128)), pattern(9, 128, 128))  # bigger than the whole cache: not kept
    assert len(cache) == 3 and cache.get(("m", 9, (128, 128))) is None
    with pytest.raises(ValueError):
        cache.get(("m", 0, (64, 64)))[0, 0, 0] = 1  # type: ignore[index]


def test_the_media_frames_fill_the_cache_only_to_its_cap(numbers: MediaItem) -> None:
    cache = FrameCache(max_bytes=5 * 64 * 64 * 3 + 100)
    media = MediaFrames(cache)
    for k in range(32):
        media.fitted(numbers, k / 16, (64, 64))
    assert len(cache) == 5 and cache.bytes <= cache.max_bytes
    assert cache.get((numbers.id, 31, (64, 64))) is not None and cache.get((numbers.id, 26, (64, 64))) is None
    media.close()


def test_the_pool_renders_ahead_during_playback_and_drops_stale_frames_after_a_jump() -> None:
    rendered: list[int] = []
    gate = threading.Event()

    def render(index: int) -> np.ndarray:
        gate.wait(WAIT_S)
        rendered.append(index)
        return pattern(index)

    pool = FramePool(render, ahead=3)
    first = pool.request(10, prefetch=True)
    ahead = pool.request(11, prefetch=True)
    jump = pool.request(50)
    gate.set()
    assert number_of(jump.result(WAIT_S)) == 50
    assert ahead.cancelled() and rendered[-1] == 50 and len(rendered) <= 2  # 10 may have started already
    assert first.cancelled() or number_of(first.result()) == 10
    playing = pool.request(60, prefetch=True)
    assert number_of(playing.result(WAIT_S)) == 60
    deadline = time.monotonic() + WAIT_S  # only a hang runs it out
    while rendered[-1] != 63 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert rendered[-4:] == [60, 61, 62, 63]
    assert pool.request(62, prefetch=True).done()  # already rendered ahead
    pool.close()
