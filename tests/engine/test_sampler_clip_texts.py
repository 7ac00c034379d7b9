"""A text per clip (storyboards, continuing with a new prompt): each clip attends to its own text, earlier clips'
kept K/V stay as computed with theirs, and a prefix is built only when the text changes."""

import pytest
import torch
from naive_reference import naive_logits
from tiny_models import three_clip_schedule

from engine.config import get_preset
from engine.sampler import Guidance, PassEvent, SamplerInputError, generate, run_to_end

APG = Guidance.from_schedule(get_preset("test-micro").schedule)


@pytest.fixture
def other_text() -> torch.Tensor:
    """A second prompt, longer than micro_text's 5 tokens."""
    return torch.randn(8, 32, generator=torch.Generator().manual_seed(11))


def _logits(events) -> list[torch.Tensor]:
    return [e.logits for e in events if isinstance(e, PassEvent)]


def _count_block_runs(model) -> list[int]:
    """One entry per forward of the first block: a text prefill or a pass that ran."""
    calls: list[int] = []
    model.block_chunks[0].module[0].register_forward_hook(lambda *_: calls.append(1))
    return calls


def _clip_passes(schedule, clip: int) -> list[int]:
    return [p.index for p in schedule.passes if p.clip == clip]


def test_equal_texts_per_clip_are_the_single_text_and_prefill_once(micro_model, micro_text):
    schedule = three_clip_schedule()
    calls = _count_block_runs(micro_model)
    single = run_to_end(generate(micro_model, schedule, micro_text, APG, seed=5))
    single_runs = len(calls)
    per_clip = [micro_text.clone() for _ in range(schedule.clips)]  # equal, not the same tensor
    clips = run_to_end(generate(micro_model, schedule, per_clip, APG, seed=5))
    assert all(torch.equal(a, b) for a, b in zip(single.bits, clips.bits, strict=True))
    assert len(calls) - single_runs == single_runs == 1 + len(schedule.passes)


def test_a_storyboard_keeps_the_clips_before_the_new_text_and_changes_those_after(
    micro_model, micro_text, other_text
):
    schedule = three_clip_schedule()
    single = run_to_end(generate(micro_model, schedule, micro_text, APG, seed=5))
    story = run_to_end(generate(micro_model, schedule, [micro_text, micro_text, other_text], APG, seed=5))
    before = _clip_passes(schedule, 0) + _clip_passes(schedule, 1)
    after = _clip_passes(schedule, 2)
    assert all(torch.equal(single.bits[i], story.bits[i]) for i in before)
    assert not all(torch.equal(single.bits[i], story.bits[i]) for i in after)


def test_storyboard_passes_equal_the_dense_reference_where_each_clip_sees_its_own_text(
    micro_model, micro_text, other_text
):
    schedule = three_clip_schedule()
    texts = [micro_text, micro_text, other_text]
    events = list(generate(micro_model, schedule, texts, APG, seed=5, return_logits=True))
    story, bits = _logits(events), run_to_end(iter(events)).bits
    with torch.no_grad():
        reference = naive_logits(micro_model, schedule, texts, bits)
    assert max((a - b).abs().max().item() for a, b in zip(story, reference, strict=True)) < 1e-5
    # the check is sharp: had clip 1's kept K/V been computed with the new text (one text for the whole
    # video, the earlier clips forced), clip 2 would see something else
    first_new = _clip_passes(schedule, 2)[0]
    all_new = _logits(generate(micro_model, schedule, other_text, APG, forced=bits[:first_new], return_logits=True))
    assert (all_new[first_new] - story[first_new]).abs().max() > 1e-3


def test_continuing_a_video_with_a_new_text_sees_what_the_storyboard_saw(
    micro_model, micro_text, other_text, monkeypatch
):
    """Only the kept forced passes run (with their clip's text), one prefill per text: the first sampled pass's
    logits are the storyboard's exactly."""
    schedule = three_clip_schedule()
    texts = [micro_text, micro_text, other_text]
    first_new = _clip_passes(schedule, 2)[0]
    earlier = run_to_end(generate(micro_model, schedule, micro_text, APG, seed=5)).bits[:first_new]
    story = _logits(generate(micro_model, schedule, texts, APG, seed=5, return_logits=True))
    sampled: list[torch.Tensor] = []
    bit_logits = micro_model.bit_logits
    monkeypatch.setattr(micro_model, "bit_logits", lambda *a: sampled.append(bit_logits(*a)) or sampled[-1])
    calls = _count_block_runs(micro_model)
    run_to_end(generate(micro_model, schedule, texts, APG, seed=9, forced=earlier))
    kept_forced = sum(1 for p in schedule.passes[:first_new] if p.keeps)
    assert len(calls) == 2 + kept_forced + len(_clip_passes(schedule, 2))  # prefills of both texts, passes
    assert torch.equal(sampled[0], story[first_new])


def test_per_clip_texts_are_checked(micro_model, micro_text):
    schedule = three_clip_schedule()
    with pytest.raises(SamplerInputError, match="2 per-clip texts given; the schedule has 3 clips: give one text or 3"):
        next(generate(micro_model, schedule, [micro_text] * 2, APG))
    with pytest.raises(SamplerInputError, match=r"shape \(5, 7\); expected \[tokens, 32\]"):
        next(generate(micro_model, schedule, [micro_text, micro_text, torch.randn(5, 7)], APG))
