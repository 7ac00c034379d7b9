"""RoPE against explicit rotations and its relative-position property; APG/CFG against their formulas."""

import math

import torch

from engine.model.guidance import apg, cfg, sample_bits
from engine.model.rope import apply_rope, grid_positions, rope_rotations, visual_positions


def test_rope_equals_explicit_pair_rotations():
    torch.manual_seed(0)
    head_dim = 32
    pos = visual_positions(530, [3, 4], 3, 5, 16, 16)
    x = torch.randn(2, pos.shape[0], 4, head_dim)
    ours = apply_rope(x, rope_rotations(pos, head_dim, 10000.0)[:, None])
    n = head_dim // 8
    inv = [1.0 / 10000.0 ** (i / n) for i in range(n)]
    expected = torch.empty_like(x)
    for t in range(pos.shape[0]):
        angles = [float(pos[t, axis]) * f for axis in range(4) for f in inv]
        for m, a in enumerate(angles):
            c, s = math.cos(a), math.sin(a)
            x0, x1 = x[:, t, :, 2 * m], x[:, t, :, 2 * m + 1]
            expected[:, t, :, 2 * m] = c * x0 - s * x1
            expected[:, t, :, 2 * m + 1] = s * x0 + c * x1
    assert (ours - expected).abs().max() < 1e-4  # float32 angles of positions ~530


def test_rope_scores_depend_only_on_relative_positions():
    torch.manual_seed(1)
    q, k = torch.randn(1, 1, 1, 64), torch.randn(1, 1, 1, 64)

    def score(pq, pk):
        rq = apply_rope(q, rope_rotations(torch.tensor([pq], dtype=torch.float32), 64, 10000.0)[:, None])
        rk = apply_rope(k, rope_rotations(torch.tensor([pk], dtype=torch.float32), 64, 10000.0)[:, None])
        return (rq * rk).sum().item()

    a = score([3.0, 1.0, 2.0, 5.0], [1.0, 0.0, 0.0, 1.0])
    b = score([13.0, 4.0, 9.0, 7.0], [11.0, 3.0, 7.0, 3.0])
    assert abs(a - b) < 1e-4
    assert abs(apply_rope(q, rope_rotations(torch.tensor([[7.0, 2, 3, 4]]), 64, 1e4)[:, None]).norm() - q.norm()) < 1e-5


def test_grid_positions_round_half_to_even_on_the_final_grid():
    assert grid_positions(3, 16).tolist() == [0, 5, 11]
    assert grid_positions(18, 45).tolist()[:3] == [0, 2, 5]  # 2.5 rounds to 2


def _apg_transcribed(cond, uncond, scale, threshold):
    """APG written out in float64 from the spec's sentence, one pass of one video."""
    c, u = cond.double(), uncond.double()
    diff = c - u
    rms = math.sqrt((diff**2).sum().item() / diff.numel())
    if threshold > 0 and rms > threshold:
        diff = diff * (threshold / rms)
    c_hat = c / math.sqrt((c**2).sum().item())
    parallel = (diff * c_hat).sum() * c_hat
    return c + (scale - 1) * (diff - parallel)


def test_apg_against_its_formula_per_video():
    torch.manual_seed(2)
    cond, uncond = torch.randn(2, 30, 32), torch.randn(2, 30, 32)
    uncond[1] = cond[1] + 0.001 * torch.randn(30, 32)  # below the norm threshold: no rescaling
    ours = apg(cond, uncond, 34.0, 0.05)
    for v in range(2):
        assert (ours[v].double() - _apg_transcribed(cond[v], uncond[v], 34.0, 0.05)).abs().max() < 1e-4
    # the update is orthogonal to cond
    update = (ours - cond).double()
    assert abs((update[0] * cond[0].double()).sum().item()) < 1e-3


def test_cfg_and_scale_one():
    cond, uncond = torch.randn(1, 4, 8), torch.randn(1, 4, 8)
    assert torch.allclose(cfg(cond, uncond, 3.0), 3 * cond - 2 * uncond)
    assert torch.allclose(apg(cond, uncond, 1.0, 0.05), cond)


def test_bits_follow_the_two_way_softmax():
    logits = torch.zeros(1, 20000, 4)
    logits[..., 1] = 2.0  # bit 0: p(1) = sigmoid(2)
    logits[..., 2] = 1.0  # bit 1: p(1) = sigmoid(-1)
    bits = sample_bits(logits, [torch.Generator().manual_seed(0)]).float()
    assert abs(bits[0, :, 0].mean().item() - 1 / (1 + math.exp(-2))) < 0.01
    assert abs(bits[0, :, 1].mean().item() - 1 / (1 + math.exp(1))) < 0.01
