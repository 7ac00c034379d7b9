"""Interact segments: condition blocks from the previous latents, the same pass loop, prompts in sequence."""

import dataclasses

import pytest
import torch
from naive_reference import naive_logits
from tiny_models import random_bits

from engine.config import get_preset
from engine.interact import SegmentEvent, condition_blocks, interact
from engine.sampler import FinishedEvent, Guidance, PassEvent, SamplerInputError, generate
from engine.schedule import build_interact_schedule

MICRO = get_preset("test-micro")
PRESET = dataclasses.replace(
    MICRO,
    mode="interact",
    schedule=dataclasses.replace(MICRO.schedule, interact_detail_frames=(2, 3), guidance="cfg", guidance_scale=3.0),
)
CFG3 = Guidance("cfg", 3.0)


def _context(seed=0):
    return torch.randn(1, 64, 5, 16, 16, generator=torch.Generator().manual_seed(seed))


def test_condition_blocks_come_from_the_previous_latents():
    schedule = build_interact_schedule(PRESET.schedule, "1:1")
    context = _context()
    first = torch.randn(1, 64, 1, 16, 16)
    blocks = condition_blocks(schedule, context, first, (2, 3))
    semantic = blocks["semantic_condition"]
    assert semantic.shape == (1, 64, 4, 8, 8)  # scale 7 of the template, all four clip latents
    assert torch.allclose(semantic[0, :, 0, 0, 0], context[0, :, 1, :2, :2].mean(dim=(1, 2)), atol=1e-6)
    detail = blocks["detail_condition"]
    assert torch.equal(detail[:, :, 0], first[:, :, 0]) and torch.equal(detail[:, :, 1:], context[:, :, 3:5])
    with pytest.raises(SamplerInputError, match=r"context latents have shape \(1, 64, 4, 16, 16\); expected"):
        condition_blocks(schedule, context[:, :, :4], first, (2, 3))


def test_interact_passes_equal_the_naive_reference(micro_model, micro_text):
    schedule = build_interact_schedule(PRESET.schedule, "1:1")
    conditions = condition_blocks(schedule, _context(), torch.randn(1, 64, 1, 16, 16), (2, 3))
    bits = random_bits(micro_model, schedule)
    ours = [e.logits for e in generate(micro_model, schedule, micro_text, CFG3, forced=bits, conditions=conditions,
                                       return_logits=True) if isinstance(e, PassEvent)]
    with torch.no_grad():
        reference = naive_logits(micro_model, schedule, micro_text, bits, conditions=conditions)
    assert max((a - b).abs().max().item() for a, b in zip(ours, reference, strict=True)) < 1e-5


def test_the_previous_video_steers_the_next_segment(micro_model, micro_text):
    schedule = build_interact_schedule(PRESET.schedule, "1:1")
    first = torch.zeros(1, 64, 1, 16, 16)
    bits = random_bits(micro_model, schedule)[:1]

    def first_logits(context):
        conditions = condition_blocks(schedule, context, first, (2, 3))
        events = generate(micro_model, schedule, micro_text, CFG3, forced=bits, conditions=conditions,
                          return_logits=True)
        return next(e.logits for e in events if isinstance(e, PassEvent))

    assert (first_logits(_context(1)) - first_logits(_context(2))).abs().max() > 1e-3


def test_segments_follow_each_prompt_and_carry_the_video_forward(micro_model):
    prompts = [torch.randn(3, 32), torch.randn(6, 32)]
    context = _context()
    events = list(interact(micro_model, PRESET, prompts, context, aspect="1:1", seed=4))
    assert {e.segment for e in events} == {0, 1} and all(isinstance(e, SegmentEvent) for e in events)
    done = [e for e in events if isinstance(e.event, FinishedEvent)]
    assert len(done) == 2
    seg0, seg1 = done[0], done[1]
    assert seg0.latent.shape == (1, 64, 4, 16, 16)
    assert torch.equal(seg0.context, torch.cat([context, seg0.latent], dim=2)[:, :, -5:])
    assert torch.equal(seg1.context[:, :, :1], seg0.latent[:, :, -1:])
