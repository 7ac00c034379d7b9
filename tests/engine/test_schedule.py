"""Scale schedules against the facts of MODEL_SPEC section 3, and their errors."""

import dataclasses
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from engine.config import ConfigError, get_preset
from engine.schedule import (
    aspect_templates,
    build_clips_schedule,
    build_interact_schedule,
    build_schedule,
    clip_lengths,
)

P720 = get_preset("infinitystar-8b-720p").schedule
P480 = get_preset("infinitystar-8b-480p").schedule
INTERACT = get_preset("infinitystar-interact-480p").schedule


def test_720p_5s_matches_the_release():
    s = build_schedule(P720, 5, "16:9")
    assert len(s.scales) == 30 and len(s.passes) == 85
    assert s.query_tokens == 244_197 and s.largest_pass == 72_000
    assert s.latent_shape == (21, 45, 80) and s.pixel_size == (720, 1280)
    assert [p.index for p in s.passes if p.clip == 1][0] == 45  # image clip 0..44, video clip 45..84


def test_480p_pass_counts_and_sizes():
    five = build_schedule(P480, 5, "16:9")
    assert len(five.passes) == 81 and five.largest_pass == 31_800 and five.pixel_size == (480, 848)
    assert 160_000 < five.query_tokens < 162_000
    assert len(build_schedule(P480, 10, "16:9").passes) == 120


def test_spatial_scale_list_at_9_16():
    sizes = [(s.h, s.w) for s in build_schedule(P720, 0, "16:9").scales]
    assert sizes == [(1, 1), (2, 3), (2, 4), (3, 5), (4, 7), (4, 8), (5, 9), (6, 11), (8, 13), (9, 16),
                     (12, 21), (18, 32), (24, 43), (30, 53), (45, 80)]


def test_aspect_templates_span_and_square_sizes():
    keys = list(aspect_templates())
    assert min(keys) == 0.336 and max(keys) == 2.971 and len(keys) == 15
    assert build_schedule(P480, 0, "1:1").latent_shape[1:] == (40, 40)
    assert build_schedule(P720, 0, "1:1").latent_shape[1:] == (60, 60)
    portrait = build_schedule(P720, 0, "9:16").latent_shape[1:]
    assert portrait == (80, 45)


def test_clips_hold_20_latent_frames_and_a_shorter_last_clip():
    assert clip_lengths(5, P480) == (1, 20)
    assert clip_lengths(7, P480) == (1, 20, 8)
    assert clip_lengths(10, P480) == (1, 20, 20)
    assert clip_lengths(0, P480) == (1,)
    s = build_schedule(P480, 7, "16:9")
    assert {sc.t for sc in s.scales if sc.clip == 2} == {8}
    assert [sc.frame_start for sc in s.scales if sc.index_in_clip == 0] == [0, 1, 21]


def test_semantic_split_and_repetitions():
    s = build_schedule(P720, 5, "16:9")
    video = [sc for sc in s.scales if sc.clip == 1]
    assert [sc.reps for sc in video] == [3] * 12 + [2, 1, 1]
    assert [sc.semantic for sc in video] == [True] * 12 + [False] * 3
    assert all(sc.h * sc.w < 750 for sc in video if sc.semantic)
    taus = {p.clip: p.tau for p in s.passes}
    assert taus == {0: 1.0, 1: 0.4}


def test_ssa_a_clip_sees_only_the_previous_clips_last_scale():
    s = build_schedule(P480, 10, "16:9")
    for p in s.passes:
        if p.clip == 0:
            assert p.sees == ()
        else:
            last_of_previous = max(sc.index for sc in s.scales if sc.clip == p.clip - 1)
            assert p.sees == (last_of_previous,)
            assert s.visible_passes(p.index) == (max(q.index for q in s.passes if q.clip == p.clip - 1),)


def test_kv_is_kept_only_for_last_repetitions_and_released_after_last_use():
    s = build_schedule(P480, 10, "16:9")
    kept = [p for p in s.passes if p.keeps]
    assert [(p.clip, p.scale_in_clip, p.last_rep) for p in kept] == [(0, 13, True), (1, 13, True)]
    released = {r: p.index for p in s.passes for r in p.releases}
    for scale, after in released.items():
        users = [p.index for p in s.passes if scale in p.sees]
        assert after == max(users)
    assert set(released) == {p.scale for p in kept}


def _slot(s, clip):
    """(RoPE scale position of the clip's first pass, its first RoPE frame), restated from the passes."""
    first = next(p for p in s.passes if p.clip == clip)
    return first.rope_scale, first.rope_frame


def test_within_the_trained_length_rope_positions_are_the_pass_index_and_the_latent_frame():
    for cfg, seconds in ((P480, 10), (P480, 7), (P720, 5)):
        s = build_schedule(cfg, seconds, "16:9")
        assert all(p.rope_scale == p.index and p.rope_frame == p.frame_start for p in s.passes)


def test_clips_past_the_trained_ones_take_the_last_trained_slot():
    """480p weights saw two video clips: clip 3 on sits where clip 2 sat (scale positions from 81 = 42 image
    passes + 39, frames from 21), and sees the clip before it where clip 2 saw clip 1."""
    s = build_schedule(P480, 30, "16:9")
    assert s.clips == 7 and len(s.passes) == 42 + 6 * 39
    assert [_slot(s, c) for c in range(7)] == [(0, 0), (42, 1)] + [(81, 21)] * 5
    assert all(s.seen_position(c) == (80, 1) for c in range(2, 7))
    last = s.clip_passes(3)[-1]  # where clip 3's kept K/V are computed, before clip 4 turns them to (80, 1)
    assert (last.rope_scale, last.rope_frame) == (119, 21)
    # positions never leave the trained range
    trained = build_schedule(P480, 10, "16:9")
    assert max(p.rope_scale for p in s.passes) == max(p.rope_scale for p in trained.passes)


def test_with_one_trained_video_clip_the_clip_before_takes_the_first_frames_place():
    """720p weights saw one video clip after the first frame: every later clip sits in that clip's slot, and
    the clip before it is seen at the first frame's last scale position, its frames ending at frame 0."""
    s = build_schedule(P720, 15, "16:9")
    assert [_slot(s, c) for c in range(4)] == [(0, 0), (45, 1), (45, 1), (45, 1)]
    assert s.seen_position(1) == (44, 0)  # the first frame, where it was computed
    assert all(s.seen_position(c) == (44, -19) for c in (2, 3))


def test_a_continuation_schedule_starts_mid_video_without_a_clip_to_see():
    s = build_clips_schedule(P480, (20, 20, 20), "16:9", first_clip=4)
    assert s.first_clip == 4 and not s.starts_video(0) and s.seconds == 15
    assert s.clip_passes(0)[0].sees == () and s.clip_passes(1)[0].sees == (13,)
    assert {p.tau for p in s.passes} == {P480.tau_video} and len(s.passes) == 3 * 39
    assert [_slot(s, c) for c in range(3)] == [(81, 21)] * 3
    with pytest.raises(ConfigError, match="a video's clip 0 is one latent frame"):
        build_clips_schedule(P480, (20,), "16:9", first_clip=0)
    with pytest.raises(ConfigError, match="video clips hold 1..20 latent frames"):
        build_clips_schedule(P480, (21,), "16:9", first_clip=2)


def test_the_duration_tag_stops_at_the_trained_length():
    assert [P480.tag_seconds(s) for s in (5, 10, 60)] == [5, 10, 10]
    assert P720.trained_seconds == 5 and get_preset("toyworld").schedule.trained_seconds == 2


def test_interact_segment_schedule():
    s = build_interact_schedule(INTERACT, "16:9")
    assert len(s.scales) == 14 and len(s.passes) == 39 and s.clip_lengths == (20,)
    semantic, detail = s.conditions
    assert (semantic.t, semantic.h, semantic.w, semantic.scale_id) == (20, 6, 11, 800)
    assert semantic.frames == tuple(range(1, 21))
    assert (detail.t, detail.h, detail.w, detail.frames, detail.scale_id) == (3, 30, 53, (0, 19, 20), 801)
    assert all(p.sees == () and p.tau == 0.5 for p in s.passes)


@pytest.mark.parametrize(
    ("seconds", "aspect", "message"),
    [
        (2.5, "16:9", "not on the 1 s grid"),
        (601, "16:9", "longer than one job makes; allowed: 0 (image) or 1..600"),
        (-1, "16:9", "longer than one job makes"),
        (5, "21:9", "has no template"),
        (5, "wide", "is not 'W:H'"),
        (5, "0:9", "is not 'W:H'"),
    ],
)
def test_bad_requests_name_the_value_and_what_is_allowed(seconds, aspect, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        build_schedule(P480, seconds, aspect)


def test_no_template_error_lists_the_sizes():
    with pytest.raises(ConfigError) as err:
        build_schedule(P720, 5, "21:9")
    assert "1280x720" in str(err.value) and "960x960" in str(err.value)


def test_near_aspects_snap_to_their_template():
    assert build_schedule(P720, 0, "1920:1080").latent_shape[1:] == (45, 80)
    assert build_schedule(P720, 0, 0.57).latent_shape[1:] == (45, 80)


def test_semantic_split_that_disagrees_with_the_tokenizer_is_refused():
    import dataclasses

    bad = dataclasses.replace(P480, semantic_scales=12)
    with pytest.raises(ConfigError, match="disagree at scale 11"):
        build_schedule(bad, 1, "16:9")


def test_eight_pixel_tokens_make_64_px_from_an_8x8_grid():
    cfg = dataclasses.replace(get_preset("toyworld").schedule, resolution="64px-8",
                              image_repetitions=(1,) * 6, video_repetitions=(1,) * 6)
    s = build_schedule(cfg, 1, "1:1")
    assert [(sc.h, sc.w) for sc in s.scales if sc.clip == 0] == [(1, 1), (2, 2), (3, 3), (4, 4), (6, 6), (8, 8)]
    assert s.latent_shape == (5, 8, 8) and s.pixel_size == (64, 64)


@pytest.mark.parametrize("module", ["engine.schedule", "engine.model.bsq", "engine.config"])
def test_each_module_imports_first_in_a_fresh_interpreter(module: str):
    """A script's first import may be any engine module: the presets check their resolutions while engine.config
    loads, so the resolution table must not live in a module that imports engine.config."""
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", f"import {module}"], cwd=root, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(root)})
    assert done.returncode == 0, done.stderr
