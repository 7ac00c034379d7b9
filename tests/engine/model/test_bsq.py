"""Binary spherical quantisation: bits <-> codes, token quantisation, multi-scale residual quantisation."""

from __future__ import annotations

import math

import pytest
import torch
from reference import FIXTURE

from engine.config import get_preset
from engine.model.bsq import (
    TwoStageBSQ,
    area_downsample_channels,
    bits_to_codes,
    codes_to_bits,
    quantize_multiscale,
    quantize_tokens,
    upsample_codes,
)
from engine.model.running_sum import bits_to_latent
from engine.schedule import Schedule, build_schedule


def two_clip_schedule(aspect: str | float = 1.0) -> Schedule:
    schedule = build_schedule(get_preset("tiny-a").schedule, 1, aspect)
    assert schedule.clip_lengths == (1, 4)
    return schedule


def random_bits(schedule: Schedule, seed: int) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return [
        torch.randint(0, 2, (1, p.t, p.h, p.w, 16 if p.semantic else 64), generator=g, dtype=torch.uint8)
        for p in schedule.passes
    ]


@pytest.mark.parametrize("d", [16, 64])
def test_bits_codes_bits_is_identity(d: int) -> None:
    bits = torch.randint(0, 2, (2, 3, 4, 5, d), dtype=torch.uint8)
    codes = bits_to_codes(bits)
    assert codes.shape == (2, d, 3, 4, 5)
    assert torch.allclose(codes.norm(dim=1), torch.ones(2, 3, 4, 5))
    back = codes_to_bits(codes)
    assert back.dtype == torch.uint8 and torch.equal(back, bits)


def test_quantize_tokens_is_the_scaled_sign() -> None:
    x = torch.randn(1, 16, 2, 3, 3)
    x[0, 5, 1, 2, 2] = 0.0
    codes, bits = quantize_tokens(x)
    assert torch.equal(codes, torch.where(x > 0, 0.25, -0.25))
    assert bits[0, 1, 2, 2, 5] == 0  # zero counts as negative
    assert torch.equal(bits, codes_to_bits(codes))
    scaled, _ = quantize_tokens(x * torch.rand(1, 1, 2, 3, 3).add(0.1))  # positive per-token scale
    assert torch.equal(scaled, codes)


def test_channel_area_downsample_averages_adjacent_channels() -> None:
    x = torch.randn(1, 64, 2, 4, 6)
    want = x.reshape(1, 16, 4, 2, 2, 2, 3, 2).mean(dim=(2, 5, 7))  # (channel, row, column) groups
    assert torch.allclose(area_downsample_channels(x, 16, 2, 3), want, atol=1e-6)


def test_quantize_multiscale_format_follows_the_schedule() -> None:
    schedule = two_clip_schedule("16:9")
    t, h, w = schedule.latent_shape
    bits = quantize_multiscale(torch.randn(1, 64, t, h, w), schedule)
    assert len(bits) == len(schedule.passes)
    for p, b in zip(schedule.passes, bits, strict=True):
        assert b.dtype == torch.uint8
        assert b.shape == (1, p.t, p.h, p.w, 16 if p.semantic else 64)


def test_first_pass_of_each_clip_quantises_the_clip_mean() -> None:
    schedule = two_clip_schedule()
    t, h, w = schedule.latent_shape
    latent = torch.randn(1, 64, t, h, w)
    bits = quantize_multiscale(latent, schedule)
    for clip, (start, end) in enumerate([(0, 1), (1, 5)]):
        p = next(p for p in schedule.passes if p.clip == clip)
        assert (p.h, p.w, p.semantic) == (1, 1, True)
        per_frame = latent[:, :, start:end].mean(dim=(-2, -1))  # [1, 64, t]
        semantic = per_frame.reshape(1, 16, 4, end - start).mean(dim=2)
        want = (semantic > 0).to(torch.uint8).permute(0, 2, 1)[:, :, None, None, :]
        assert torch.equal(bits[p.index], want)


@pytest.mark.parametrize("aspect", [1.0, "16:9"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_residual_error_never_grows_from_scale_to_scale(aspect: str | float, seed: int) -> None:
    # A latent the transformer could produce: a running sum of codes over the same schedule.
    schedule = two_clip_schedule(aspect)
    t, h, w = schedule.latent_shape
    latent = bits_to_latent(random_bits(schedule, seed), schedule)
    bits = quantize_multiscale(latent, schedule)
    sums = [torch.zeros(1, 64, n, h, w) for n in schedule.clip_lengths]
    starts = (0, schedule.clip_lengths[0])
    errors: dict[int, list[float]] = {0: [], 1: []}
    for p, b in zip(schedule.passes, bits, strict=True):
        sums[p.clip] += upsample_codes(bits_to_codes(b), 64, h, w)
        if p.last_rep:
            target = latent[:, :, starts[p.clip] : starts[p.clip] + p.t]
            errors[p.clip].append(float((target - sums[p.clip]).norm()))
    for clip, errs in errors.items():
        assert len(errs) == 11
        assert all(b <= a for a, b in zip(errs, errs[1:], strict=False)), (clip, errs)
        norm = float(latent[:, :, starts[clip] : starts[clip] + schedule.clip_lengths[clip]].norm())
        assert errs[-1] < 0.5 * norm
    assert torch.allclose(bits_to_latent(bits, schedule), torch.cat(sums, dim=2), atol=1e-5)


def test_leading_clips_alone_give_the_same_bits() -> None:
    # I2V encodes only the first frame: its bits must be those clip 0 gets in a whole-video run.
    schedule = two_clip_schedule()
    t, h, w = schedule.latent_shape
    latent = torch.randn(1, 64, t, h, w)
    whole = quantize_multiscale(latent, schedule)
    image = quantize_multiscale(latent[:, :, :1], schedule)
    assert len(image) == len(schedule.clip_passes(0))
    assert all(torch.equal(a, b) for a, b in zip(image, whole, strict=False))
    assert torch.equal(bits_to_latent(image, schedule), bits_to_latent(whole, schedule)[:, :, :1])


def test_quantize_multiscale_rejects_a_latent_of_another_size() -> None:
    with pytest.raises(ValueError, match=r"the schedule needs \[B, C, T, 16, 16\]"):
        quantize_multiscale(torch.zeros(1, 64, 5, 8, 8), two_clip_schedule())
    with pytest.raises(ValueError, match=r"allowed lengths \(whole leading clips\): \[1, 5\]"):
        quantize_multiscale(torch.zeros(1, 64, 3, 16, 16), two_clip_schedule())


def test_bits_to_latent_rejects_misshapen_bits() -> None:
    schedule = two_clip_schedule()
    bits = random_bits(schedule, 0)
    with pytest.raises(ValueError, match="whole leading clips"):
        bits_to_latent(bits[:-1], schedule)
    bits[3] = bits[3][:, :, :1]
    with pytest.raises(ValueError, match="bits of pass 3"):
        bits_to_latent(bits, schedule)


@pytest.mark.skipif(not FIXTURE.is_dir(), reason="tiny-a parity fixture not present")
def test_bits_to_latent_reproduces_the_recorded_summed_codes() -> None:
    from safetensors.torch import load_file

    io = load_file(str(FIXTURE / "io.safetensors"))
    schedule = two_clip_schedule()
    bits = [io[f"pass{p.index:03d}.bits"] for p in schedule.passes]
    assert (bits_to_latent(bits, schedule) - io["summed_codes"]).abs().max() < 1e-5


def test_index_weight_buffers_match_the_checkpoint() -> None:
    q = TwoStageBSQ(16, 64)
    assert q.lfq_semantic.mask.tolist() == [2**i for i in range(15, -1, -1)]
    detail = q.lfq_detail.mask
    assert detail.dtype == torch.int64 and detail[0] == -(2**63) and detail[1] == 2**62 and detail[-1] == 1
    assert math.prod(detail.shape) == 64
