"""Videos longer than the weights were trained on: later clips in the trained slots, the clip before turned there,
flat memory, and no change within the trained length."""

import dataclasses

import torch
from naive_reference import naive_long_logits
from tiny_models import random_bits

from engine.config import get_preset
from engine.model.packed import teacher_forced_logits
from engine.model.rope import apply_rope, rope_rotations, rope_turn, visual_positions
from engine.sampler import ClipEvent, Guidance, PassEvent, generate, run_to_end
from engine.schedule import build_clips_schedule, build_schedule

CFG = dataclasses.replace(get_preset("test-micro").schedule, clip_frames=2)
APG = Guidance.from_schedule(CFG)


def _logits(model, schedule, text, bits):
    events = generate(model, schedule, text, APG, forced=bits, return_logits=True)
    return [e.logits for e in events if isinstance(e, PassEvent)]


def test_a_long_video_equals_a_clip_by_clip_recompute_in_the_trained_slots(micro_model, micro_text):
    """Six video clips from weights that saw two: clips 3..6 run in clip 2's slot and see the clip before where
    clip 2 saw clip 1. The cached keys are turned there; the reference rotates unrotated keys afresh."""
    schedule = build_schedule(CFG, 3, "1:1")
    assert schedule.clips == 7 and CFG.trained_video_clips == 2
    bits = random_bits(micro_model, schedule)
    g = torch.Generator().manual_seed(4)
    texts = [micro_text] * 3 + [torch.randn(3 + i, micro_text.shape[1], generator=g) for i in range(4)]
    ours = _logits(micro_model, schedule, texts, bits)
    with torch.no_grad():
        reference = naive_long_logits(micro_model, CFG, schedule, texts, bits)
    assert max((a - b).abs().max().item() for a, b in zip(ours, reference, strict=True)) < 1e-5


def test_the_teacher_forced_forward_of_a_long_video_equals_the_clip_by_clip_recompute(micro_model, micro_text):
    """Training sees long videos as the sampler makes them: one packed forward, later clips in the trained slot,
    the clip before seen through turned key views; also when only some passes run, and under a dense mask."""
    schedule = build_schedule(CFG, 2, "1:1")
    assert schedule.clips == 5 and CFG.trained_video_clips == 2
    bits = random_bits(micro_model, schedule)
    g = torch.Generator().manual_seed(5)
    texts = [micro_text] * 2 + [torch.randn(2 + i, micro_text.shape[1], generator=g) for i in range(3)]
    wanted = [p.index for p in schedule.passes if p.clip >= 3 and p.last_rep]
    with torch.no_grad():
        reference = naive_long_logits(micro_model, CFG, schedule, texts, bits)
        packed = teacher_forced_logits(micro_model, schedule, texts, bits)
        some = teacher_forced_logits(micro_model, schedule, texts, bits, passes=wanted)
        dense = teacher_forced_logits(micro_model, schedule, texts, bits, dense=True)
    for logits in (packed, dense):
        assert max((a - b).abs().max().item() for a, b in zip(logits, reference, strict=True)) < 1e-5
    assert max((a - reference[i]).abs().max().item() for a, i in zip(some, wanted, strict=True)) < 1e-5


def test_a_continuation_from_mid_video_equals_the_recompute(micro_model, micro_text):
    schedule = build_clips_schedule(CFG, (2, 2, 2, 1), "1:1", first_clip=5)
    bits = random_bits(micro_model, schedule)
    ours = _logits(micro_model, schedule, micro_text, bits)
    with torch.no_grad():
        reference = naive_long_logits(micro_model, CFG, schedule, [micro_text] * 4, bits)
        packed = teacher_forced_logits(micro_model, schedule, micro_text, bits)
    assert max((a - b).abs().max().item() for a, b in zip(ours, reference, strict=True)) < 1e-5
    assert max((a - b).abs().max().item() for a, b in zip(packed, reference, strict=True)) < 1e-5


def test_within_the_trained_length_the_video_is_bit_identical(micro_model, micro_text):
    """Slots change nothing while the video is no longer than what the weights saw: the same seed gives the
    same bits whether the weights are said to have seen these clips or many more."""
    for seconds in (0, 1):
        schedule = build_schedule(CFG, seconds, "1:1")
        unlimited = build_schedule(dataclasses.replace(CFG, trained_video_clips=50), seconds, "1:1")
        a = run_to_end(generate(micro_model, schedule, micro_text, APG, seed=7))
        b = run_to_end(generate(micro_model, unlimited, micro_text, APG, seed=7))
        assert all(torch.equal(x, y) for x, y in zip(a.bits, b.bits, strict=True))
    longer = build_schedule(CFG, 2, "1:1")
    moved = run_to_end(generate(micro_model, longer, micro_text, APG, seed=7))
    unmoved = run_to_end(generate(micro_model, build_schedule(dataclasses.replace(CFG, trained_video_clips=50), 2,
                                                              "1:1"), micro_text, APG, seed=7))
    first_moved = min(p.index for p in longer.passes if p.clip == 3)
    assert all(torch.equal(x, y) for x, y in zip(moved.bits[:first_moved], unmoved.bits, strict=False))
    assert not all(torch.equal(x, y) for x, y in zip(moved.bits, unmoved.bits, strict=True))


def test_turned_keys_equal_keys_rotated_for_the_new_place_at_8b_positions():
    """At the 8B's head size and positions (scale ~600, frames up to 40) float32 rounds each angle to ~6e-5; the
    turn is taken between the rounded angles, so a turned key equals a freshly rotated one to 1e-5."""
    g = torch.Generator().manual_seed(0)
    keys = torch.randn(2, 8, 3 * 5 * 9, 128, generator=g)
    old = visual_positions(512 + 120, range(21, 24), 5, 9, 30, 53)
    new = visual_positions(512 + 80, range(1, 4), 5, 9, 30, 53)
    rotated_old = apply_rope(keys, rope_rotations(old, 128, 10000.0))
    turned = apply_rope(rotated_old, rope_turn(old, new, 128, 10000.0))
    fresh = apply_rope(keys, rope_rotations(new, 128, 10000.0))
    assert (turned - fresh).abs().max() < 1e-5


def test_memory_does_not_grow_with_clips(micro_model, micro_text):
    """Between clips the sampler holds the text prefix and one clip's final scale; clip events give their latent
    and bits away. Counted as the tensors the sampler's cache holds at every clip boundary."""
    schedule = build_schedule(CFG, 6, "1:1")
    held = []
    events = generate(micro_model, schedule, micro_text, APG, seed=1)
    for event in events:
        if isinstance(event, ClipEvent):
            state = events.gi_frame.f_locals  # the generator's variables as they are now
            held.append([k for k in state["cache"] if k != "text"])
            assert list(state["sums"].sums) == []  # no clip's running sum stays behind its event
    assert held[:-1] == [[p.scale] for p in schedule.passes if p.keeps]
    assert held[-1] == []
