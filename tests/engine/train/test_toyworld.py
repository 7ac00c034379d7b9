"""The toy world: seeded, in frame, continuous across clips, captioned with words the vocabulary knows."""

from __future__ import annotations

import numpy as np
import pytest

from engine.train.toyworld import (
    CLIP_FRAMES,
    EVAL_SEED_START,
    TRAIN_SEEDS,
    ClipSpec,
    ObjectSpec,
    eval_prompts,
    render,
    render_clips,
    sample_batch,
    sample_video,
    tokenize,
    vocabulary,
)
from engine.train.toyworld.captions import words_of
from engine.train.toyworld.palette import BACKGROUND_COLOURS, OBJECT_COLOURS, backgrounds_for, gradient_ends
from engine.train.toyworld.spec import DIRECTIONS
from engine.train.toyworld.tracks import BOUNCE_SPEED, SPEED, TOLERANCE
from engine.train.toyworld.world import eval_seed


def test_same_seed_same_video_at_any_size():
    a, b = sample_video(7, 2, 64), sample_video(7, 2, 64)
    assert np.array_equal(a.frames, b.frames) and a.captions == b.captions and a.truth == b.truth
    big = sample_video(7, 2, 128)
    assert big.captions == a.captions and big.truth == a.truth and np.array_equal(big.tracks, a.tracks)
    assert not np.array_equal(sample_video(8, 2, 64).frames, a.frames)


def test_layout_image_clip_then_one_clip_per_second():
    video = sample_video(3, 3, 96)
    assert video.frames.shape == (1 + 3 * CLIP_FRAMES, 96, 96, 3) and video.frames.dtype == np.uint8
    assert len(video.captions) == len(video.truth) == 4
    assert video.captions[0] == video.captions[1] and video.truth[0] == video.truth[1]
    image = sample_video(3, 0, 64)
    assert image.frames.shape == (1, 64, 64, 3) and len(image.captions) == 1
    assert all(o.motion == "still" for o in image.truth[0].objects)
    assert not any(w in words_of(image.captions[0]) for w in ("moves", "still", "grows", "bounces"))


def test_scenes_are_drawable_and_never_clash():
    for seed in range(200):
        for clip in sample_video(seed, 1, 64).truth:
            clip.check()


def test_every_allowed_object_colour_stands_out_from_every_background_pixel():
    for name in BACKGROUND_COLOURS:
        dark, light = (np.array(end) for end in gradient_ends(name))
        shades = np.vstack([dark + np.linspace(0, 1, 50)[:, None] * (light - dark), BACKGROUND_COLOURS[name]])
        for colour in OBJECT_COLOURS:
            if name in backgrounds_for({colour}):
                assert np.linalg.norm(shades - OBJECT_COLOURS[colour], axis=1).min() > 100, (colour, name)


def test_objects_stay_in_frame_and_move_at_the_stated_speed():
    for seed in range(150):
        video = sample_video(seed, 3, 64)
        for obj, track in enumerate(video.tracks):
            x, y, half = track.T
            for pos in (x, y):
                assert (pos >= half - TOLERANCE - 1e-9).all() and (pos <= 1 - half + TOLERANCE + 1e-9).all()
            for k in range(1, 4):
                motion = video.truth[k].objects[obj].motion
                start, end = (k - 1) * CLIP_FRAMES, k * CLIP_FRAMES
                step = np.hypot(*(track[start + 1 : end + 1, :2] - track[start:end, :2]).T)
                if motion in DIRECTIONS:
                    travel = np.hypot(*(track[end, :2] - track[start, :2]))
                    assert SPEED[0] - 1e-9 <= travel <= SPEED[1] + 1e-9, (seed, k, motion, travel)
                elif motion == "bouncing":
                    assert step.max() <= BOUNCE_SPEED[1] * np.sqrt(2) / CLIP_FRAMES + 1e-9
                else:
                    assert step.max() == 0, (seed, k, motion)


def test_clips_continue_where_the_last_ended_and_keep_their_objects():
    changed = 0
    for seed in range(60):
        video = sample_video(seed, 4, 64)
        steps = np.abs(np.diff(video.tracks[:, :, :2], axis=1)).max()
        assert steps <= BOUNCE_SPEED[1] / CLIP_FRAMES + 1e-9  # no frame jumps further than the fastest motion
        first = video.truth[1]
        for clip in video.truth[2:]:
            assert [(o.colour, o.shape, o.size) for o in clip.objects] == [
                (o.colour, o.shape, o.size) for o in first.objects
            ]
            assert (clip.background, clip.background_kind) == (first.background, first.background_kind)
        motions = [[o.motion for o in clip.objects] for clip in video.truth[1:]]
        changed += sum(a != b for a, b in zip(motions, motions[1:], strict=False))
    assert changed > 50
    held = sample_video(5, 4, 64, change_motion=False)
    assert len({tuple(o.motion for o in clip.objects) for clip in held.truth}) == 1


def test_captions_use_only_vocabulary_words():
    known = set(vocabulary())
    assert list(vocabulary()) == sorted(known)
    for seed in range(300):
        for caption in sample_video(seed, 2 if seed % 3 else 0, 64).captions:
            words = words_of(caption)
            assert caption == caption.lower() and set(words) <= known, caption
            assert tokenize(caption) == ([vocabulary().index(w) for w in words], [])


def test_tokenize_reports_unknown_words():
    ids, unknown = tokenize("A RED ball, zooming left on a plaid backdrop! zooming")
    assert [vocabulary()[i] for i in ids] == ["a", "red", "ball", "left", "on", "a", "backdrop"]
    assert unknown == ["zooming", "plaid"]


def test_captions_paraphrase_and_name_what_is_shown():
    spec = ClipSpec((ObjectSpec("red", "circle", "big", "left"),), "navy")
    captions = {render(spec, 1, 64, seed).captions[1] for seed in range(40)}
    assert len(captions) > 20
    for caption in captions:
        words = words_of(caption)
        assert "red" in words and "navy" in words and {"circle", "ball", "disc"} & set(words)
        assert {"left", "leftward"} & set(words)


def test_render_shows_the_spec_and_refuses_what_it_cannot_draw():
    spec = ClipSpec(
        (ObjectSpec("yellow", "star", "small", "growing"), ObjectSpec("cyan", "square", "big", "down")),
        "maroon",
        "vertical gradient",
    )
    video = render(spec, 2, 64, seed=3)
    assert video.truth == [spec] * 3 and video.frames.shape == (33, 64, 64, 3)
    assert video.tracks[0, -1, 2] > video.tracks[0, 0, 2]  # grew, slowed to stay within its size range
    turned = ClipSpec((ObjectSpec("yellow", "star", "small", "still"), spec.objects[1]), "maroon", spec.background_kind)
    assert render_clips([spec, turned], 64, seed=3).truth[1:] == [spec, turned]
    with pytest.raises(ValueError, match="same objects"):
        render_clips([spec, ClipSpec(spec.objects, "black", spec.background_kind)])
    for bad, message in (
        (ClipSpec((ObjectSpec("red", "circle", "big", "left"),), "maroon"), "clash"),
        (ClipSpec((ObjectSpec("pink", "circle", "big", "left"),), "black"), "colour 'pink'"),
        (ClipSpec((ObjectSpec("red", "circle", "big", "spin"),), "black"), "motion 'spin'"),
        (ClipSpec((spec.objects[0], spec.objects[0]), "black"), "different colours"),
    ):
        with pytest.raises(ValueError, match=message):
            render(bad, 1, 64)
    for call in (lambda: render(spec, -1), lambda: sample_video(0, 1, size=8), lambda: sample_video(0, 1, objects=3)):
        with pytest.raises(ValueError):
            call()


def test_batch_is_the_videos_of_its_seeds():
    frames, captions = sample_batch([4, 9, 11], 2, 64)
    assert frames.shape == (3, 33, 64, 64, 3)
    for i, seed in enumerate([4, 9, 11]):
        video = sample_video(seed, 2, 64)
        assert np.array_equal(frames[i], video.frames) and captions[i] == video.captions


def test_eval_prompts_are_held_out_and_reproducible():
    prompts = eval_prompts(20, seed=1)
    assert prompts == eval_prompts(20, seed=1) and prompts != eval_prompts(20, seed=2)
    assert eval_seed(0, 0) == EVAL_SEED_START >= 10**9 > TRAIN_SEEDS.stop
    for caption, truth in prompts:
        truth.check()
        assert len(truth.objects) == 1 and set(words_of(caption)) <= set(vocabulary())
