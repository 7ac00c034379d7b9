"""The pass loop as callers use it: events, seeds, cancel, forced codes (I2V, continuation), batches, errors."""

import dataclasses

import pytest
import torch
import torch.nn.functional as F
from tiny_models import random_bits, three_clip_schedule

from engine.config import get_preset
from engine.model.running_sum import RunningSums
from engine.sampler import (
    ClipEvent,
    FinishedEvent,
    GenerationCancelled,
    Guidance,
    PassEvent,
    SamplerInputError,
    generate,
    run_to_end,
)
from engine.schedule import build_interact_schedule, build_schedule

MICRO = get_preset("test-micro").schedule
APG = Guidance.from_schedule(MICRO)


def test_events_arrive_after_every_pass_and_every_clip(micro_model, micro_text):
    schedule = three_clip_schedule()
    events = list(generate(micro_model, schedule, micro_text, APG, seed=3))
    passes = [e for e in events if isinstance(e, PassEvent)]
    clips = [e for e in events if isinstance(e, ClipEvent)]
    assert [e.index for e in passes] == list(range(len(schedule.passes)))
    assert all(e.total == len(schedule.passes) and e.seconds >= 0 for e in passes)
    assert [(c.clip, c.frame_start, c.latent.shape[2]) for c in clips] == [(0, 0, 1), (1, 1, 2), (2, 3, 2)]
    assert isinstance(events[-1], FinishedEvent)
    assert run_to_end(iter(events)).latent.shape == (1, 64, 5, 16, 16)
    # each clip event carries that clip's bits, the same tensors its pass events did
    assert [b for c in clips for b in c.bits] == [e.bits for e in passes]
    # a clip event comes right after that clip's last pass, so it can be decoded while the next one runs
    first_clip = events.index(clips[0])
    assert events[first_clip - 1].index == max(p.index for p in schedule.passes if p.clip == 0)
    # the running sum of an event is that clip's latent so far: at its last pass, the clip's final latent
    assert torch.equal(events[first_clip - 1].running_sum, clips[0].latent)


def test_running_sum_sharpens_coarse_to_fine(micro_model, micro_text):
    schedule = build_schedule(get_preset("test-micro").schedule, 0, "1:1")
    sums = [e.running_sum.clone() for e in generate(micro_model, schedule, micro_text, APG) if isinstance(e, PassEvent)]
    coarse, fine = sums[1], sums[-1]
    # early passes only hold the low frequencies: the sum is smooth over h and w
    assert (coarse[..., 1:] - coarse[..., :-1]).abs().mean() < (fine[..., 1:] - fine[..., :-1]).abs().mean()


def test_same_seed_same_bits_other_seed_other_bits(micro_model, micro_text):
    schedule = three_clip_schedule()
    a = run_to_end(generate(micro_model, schedule, micro_text, APG, seed=5))
    b = run_to_end(generate(micro_model, schedule, micro_text, APG, seed=5))
    c = run_to_end(generate(micro_model, schedule, micro_text, APG, seed=6))
    assert all(torch.equal(x, y) for x, y in zip(a.bits, b.bits, strict=True))
    assert torch.equal(a.latent, b.latent)
    assert not all(torch.equal(x, y) for x, y in zip(a.bits, c.bits, strict=True))


def test_cancel_stops_between_passes(micro_model, micro_text):
    schedule = three_clip_schedule()
    seen = []
    events = generate(micro_model, schedule, micro_text, APG, cancel=lambda: len(seen) >= 4)
    with pytest.raises(GenerationCancelled, match="before pass 4"):
        for e in events:
            if isinstance(e, PassEvent):
                seen.append(e.index)
    assert seen == [0, 1, 2, 3]


def test_image_to_video_keeps_the_forced_first_frame(micro_model, micro_text):
    schedule = three_clip_schedule()
    image_passes = [p for p in schedule.passes if p.clip == 0]
    forced = random_bits(micro_model, schedule)[: len(image_passes)]
    result = run_to_end(generate(micro_model, schedule, micro_text, APG, seed=1, forced=forced))
    assert all(torch.equal(a, b) for a, b in zip(result.bits, forced, strict=False))
    sums = RunningSums(schedule, 64, "cpu")
    for p, bits in zip(image_passes, forced, strict=True):
        sums.add(p, bits)
    assert torch.equal(result.latent[:, :, :1], sums.clip_latent(0))


def test_continuation_skips_forced_passes_without_changing_what_follows(micro_model, micro_text):
    """Forced passes nobody attends to are not run; the first sampled pass sees exactly what a full run sees."""
    schedule = three_clip_schedule()
    bits = random_bits(micro_model, schedule)
    first_free = min(p.index for p in schedule.passes if p.clip == 2)
    full = [e.logits for e in generate(micro_model, schedule, micro_text, APG, forced=bits, return_logits=True)
            if isinstance(e, PassEvent)]
    calls = []
    handle = micro_model.block_chunks[0].module[0].register_forward_hook(lambda *a: calls.append(1))
    events = generate(micro_model, schedule, micro_text, APG, forced=bits[:first_free])
    run = [e for e in events if isinstance(e, PassEvent)]
    handle.remove()
    ran_forced = sum(1 for p in schedule.passes[:first_free] if p.keeps)
    assert len(calls) == 1 + ran_forced + (len(schedule.passes) - first_free)  # text prefill, kept, free
    continued = [e.logits for e in generate(micro_model, schedule, micro_text, APG, forced=bits[: first_free + 1],
                                             return_logits=True) if isinstance(e, PassEvent)]
    assert (continued[first_free] - full[first_free]).abs().max() < 1e-6
    assert len(run) == len(schedule.passes)


def test_a_batch_runs_each_video_as_alone(micro_model, micro_text):
    schedule = three_clip_schedule()
    bits = [torch.cat([a, b]) for a, b in zip(random_bits(micro_model, schedule, seed=1),
                                               random_bits(micro_model, schedule, seed=2), strict=True)]
    batched = [e.logits for e in generate(micro_model, schedule, micro_text, APG, batch=2, forced=bits,
                                          return_logits=True) if isinstance(e, PassEvent)]
    for video in range(2):
        alone = [e.logits for e in generate(micro_model, schedule, micro_text, APG, forced=[b[video:video + 1]
                 for b in bits], return_logits=True) if isinstance(e, PassEvent)]
        for rows, single in zip(batched, alone, strict=True):
            assert (rows[[video, 2 + video]] - single).abs().max() < 1e-5
    out = run_to_end(generate(micro_model, schedule, micro_text, APG, batch=2, seed=9))
    assert out.latent.shape[0] == 2 and not torch.equal(out.latent[0], out.latent[1])


def test_guidance_scale_one_runs_without_the_uncond_row(micro_model, micro_text):
    schedule = build_schedule(get_preset("test-micro").schedule, 0, "1:1")
    events = generate(micro_model, schedule, micro_text, Guidance("cfg", 1.0), return_logits=True)
    assert all(e.logits.shape[0] == 1 for e in events if isinstance(e, PassEvent))


def test_sampling_follows_the_guided_logits(micro_model, micro_text):
    """A pass's bits are drawn from softmax((guided logits) / tau): strong logits decide the bits."""
    schedule = build_schedule(get_preset("test-micro").schedule, 0, "1:1")
    with torch.no_grad():
        micro_model.semantic_head2.weight.zero_()
        micro_model.semantic_head2.bias.copy_(torch.tensor([0.0, 20.0] * 8 + [20.0, 0.0] * 8))
    out = run_to_end(generate(micro_model, schedule, micro_text, Guidance("cfg", 3.0)))
    semantic = [b for b, p in zip(out.bits, schedule.passes, strict=True) if p.semantic]
    assert all(b[..., :8].all() and not b[..., 8:].any() for b in semantic)


def test_bad_inputs_get_clear_errors(micro_model, micro_text):
    schedule = three_clip_schedule()
    with pytest.raises(SamplerInputError, match="text embedding has 0 tokens; a prompt must encode to 1..16"):
        next(generate(micro_model, schedule, micro_text[:0], APG))
    with pytest.raises(SamplerInputError, match=r"shape \(5, 7\); expected \[tokens, 32\]"):
        next(generate(micro_model, schedule, torch.randn(5, 7), APG))
    bits = random_bits(micro_model, schedule)
    detail = next(p for p in schedule.passes if not p.semantic)
    bits[detail.index] = bits[detail.index][..., :16]
    want = rf"forced bits of pass {detail.index} \(clip 0, scale 8, repetition 0\) have shape \(1, 1, 10, 10, 16\); "
    with pytest.raises(SamplerInputError, match=want + r"expected \(1, 1, 10, 10, 64\)"):
        next(generate(micro_model, schedule, micro_text, APG, forced=bits))
    bits = random_bits(micro_model, schedule)
    bits[0] = bits[0] * 2
    with pytest.raises(SamplerInputError, match="must be integers 0 or 1"):
        next(generate(micro_model, schedule, micro_text, APG, forced=bits))
    with pytest.raises(SamplerInputError, match="forced passes given; the schedule has"):
        next(generate(micro_model, schedule, micro_text, APG, forced=random_bits(micro_model, schedule) * 2))
    interact = build_interact_schedule(dataclasses.replace(MICRO, interact_detail_frames=(2, 3)), "1:1")
    with pytest.raises(SamplerInputError, match=r"prefilled condition blocks \(Interact\); this sampler runs none"):
        next(generate(micro_model, interact, micro_text, APG))


def test_attention_never_expands_grouped_kv_and_large_passes_run_in_chunks(micro_model, micro_text):
    schedule = three_clip_schedule()
    micro_model.fuse_projections()
    prefixes = ("block_chunks", "head", "semantic_head2")
    per_token = {id(p) for n, p in micro_model.named_parameters() if n.startswith(prefixes)}
    for block in micro_model.blocks():
        per_token |= {id(block.attn.qkv_weight), id(block.mlp.gate_up_weight)}
    seen_kv_heads, linear_rows = set(), []

    class Spy(torch.overrides.TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            if func is F.scaled_dot_product_attention:
                seen_kv_heads.add(args[1].shape[1])
            if func is F.linear and id(args[1]) in per_token:
                linear_rows.append(args[0].shape[-2])
            return func(*args, **(kwargs or {}))

    with Spy():
        run_to_end(generate(micro_model, schedule, micro_text, APG, chunk_budget=1))
    assert seen_kv_heads == {micro_model.cfg.kv_heads}
    assert max(linear_rows) <= 256  # the minimum chunk: no linear ever saw a whole 1024-token pass
