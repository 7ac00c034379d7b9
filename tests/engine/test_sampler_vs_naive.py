"""The cached SSA pass loop and the packed teacher-forced forward against an independent dense reference."""

import torch
from naive_reference import naive_logits
from tiny_models import random_bits, three_clip_schedule

from engine.model.packed import teacher_forced_logits
from engine.sampler import Guidance, PassEvent, generate

APG = Guidance("apg", 34.0, 0.05)


def _inference_logits(model, schedule, text, bits):
    events = generate(model, schedule, text, APG, forced=bits, return_logits=True)
    return [e.logits for e in events if isinstance(e, PassEvent)]


def test_cached_inference_equals_naive_dense_forward(micro_model, micro_text):
    schedule = three_clip_schedule()
    assert schedule.clips == 3 and any(p.sees for p in schedule.passes)
    bits = random_bits(micro_model, schedule)
    ours = _inference_logits(micro_model, schedule, micro_text, bits)
    with torch.no_grad():
        reference = naive_logits(micro_model, schedule, micro_text, bits)
    worst = max((a - b).abs().max().item() for a, b in zip(ours, reference, strict=True))
    assert worst < 1e-5


def test_fused_projections_change_nothing(micro_model, micro_text):
    schedule = three_clip_schedule()
    bits = random_bits(micro_model, schedule)
    before = _inference_logits(micro_model, schedule, micro_text, bits)
    micro_model.fuse_projections()
    assert micro_model.block_chunks[0].module[0].attn.qkv_weight is not None
    after = _inference_logits(micro_model, schedule, micro_text, bits)
    assert max((a - b).abs().max().item() for a, b in zip(before, after, strict=True)) < 1e-5


def test_teacher_forced_packed_forward_equals_pass_by_pass_inference(micro_model, micro_text):
    schedule = three_clip_schedule()
    bits = random_bits(micro_model, schedule)
    ours = _inference_logits(micro_model, schedule, micro_text, bits)
    with torch.no_grad():
        packed = teacher_forced_logits(micro_model, schedule, micro_text, bits)
    assert max((a - b).abs().max().item() for a, b in zip(ours, packed, strict=True)) < 1e-5


def test_packed_forward_with_a_text_per_clip_equals_the_storyboard_sampler(micro_model, micro_text):
    """Training on per-clip captions sees what storyboard sampling does: each clip's passes attend to that
    clip's own text, earlier clips keep what they computed with theirs. The texts differ in length too."""
    schedule = three_clip_schedule()
    bits = random_bits(micro_model, schedule)
    g = torch.Generator().manual_seed(11)
    channels = micro_text.shape[1]
    texts = [micro_text, torch.randn(3, channels, generator=g), torch.randn(7, channels, generator=g)]
    ours = _inference_logits(micro_model, schedule, texts, bits)
    with torch.no_grad():
        packed = teacher_forced_logits(micro_model, schedule, texts, bits)
        one_text = teacher_forced_logits(micro_model, schedule, micro_text, bits)
    assert max((a - b).abs().max().item() for a, b in zip(ours, packed, strict=True)) < 1e-5
    for p, a, b in zip(schedule.passes, packed, one_text, strict=True):
        assert torch.allclose(a, b, atol=1e-6) == (p.clip == 0)


def test_packed_forward_trains(micro_model, micro_text):
    """The teacher-forced forward is differentiable: a gradient reaches every block weight."""
    schedule = three_clip_schedule()
    bits = random_bits(micro_model, schedule)
    logits = teacher_forced_logits(micro_model, schedule, micro_text, bits, with_uncond=False)
    loss = sum(pass_logits.square().mean() for pass_logits in logits)
    loss.backward()
    grads = {n: p.grad for n, p in micro_model.named_parameters() if n.startswith("block_chunks")}
    assert all(g is not None and g.abs().sum() > 0 for g in grads.values())


def test_token_chunking_equals_whole_passes(micro_model, micro_text):
    schedule = three_clip_schedule()
    bits = random_bits(micro_model, schedule)
    whole = _inference_logits(micro_model, schedule, micro_text, bits)
    events = generate(micro_model, schedule, micro_text, APG, forced=bits, return_logits=True, chunk_budget=1)
    chunked = [e.logits for e in events if isinstance(e, PassEvent)]
    assert max((a - b).abs().max().item() for a, b in zip(whole, chunked, strict=True)) < 1e-5


def test_a_forward_of_some_passes_gives_them_their_full_forward_logits(micro_model, micro_text):
    """Training leaves out passes no other pass sees: the passes it keeps must come out exactly as in the full
    forward, and the passes they see (the previous clip's last pass) are run even when not asked for."""
    schedule = three_clip_schedule()
    bits = random_bits(micro_model, schedule)
    last_of_clip_1 = max(p.index for p in schedule.clip_passes(1))
    wanted = [schedule.clip_passes(2)[-1].index, schedule.clip_passes(1)[0].index, 0]
    assert last_of_clip_1 not in wanted and last_of_clip_1 in schedule.visible_passes(wanted[0])
    with torch.no_grad():
        full = teacher_forced_logits(micro_model, schedule, micro_text, bits)
        some = teacher_forced_logits(micro_model, schedule, micro_text, bits, passes=wanted)
    assert len(some) == len(wanted)
    for index, logits in zip(wanted, some, strict=True):
        assert torch.allclose(logits, full[index], atol=1e-5)


def test_the_dense_masked_packed_forward_gives_the_same_logits(micro_model, micro_text):
    """The benchmarks' baseline (attention over the whole packed sequence under the SSA mask) must compute what
    the block-by-block forward does, storyboard texts included."""
    schedule = three_clip_schedule()
    bits = random_bits(micro_model, schedule)
    g = torch.Generator().manual_seed(5)
    texts = [micro_text, torch.randn(3, micro_text.shape[1], generator=g), micro_text]
    with torch.no_grad():
        spans = teacher_forced_logits(micro_model, schedule, texts, bits)
        dense = teacher_forced_logits(micro_model, schedule, texts, bits, dense=True)
    assert max((a - b).abs().max().item() for a, b in zip(spans, dense, strict=True)) < 1e-5
