"""A slow, independent InfinityStar forward written from MODEL_SPEC, for checking the engine.

Everything runs over the whole packed sequence at once: explicit per-head softmax attention
under a dense mask built from the SSA rule, K/V heads looked up per query head, RoPE as explicit
2x2 rotations, the running sums rebuilt from bits with plain F.interpolate. It reads the weights
from the engine model's state dict by their checkpoint names.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def _rms(x: torch.Tensor, weight: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    return x / torch.sqrt((x * x).mean(-1, keepdim=True) + eps) * weight


def _angles(positions: list[tuple[float, float, float, float]], head_dim: int, base: float) -> torch.Tensor:
    """Rotation angle of every pair: axis-major groups of head_dim/8 frequencies, float32 as the spec says."""
    n = head_dim // 8
    inv_freq = 1.0 / (base ** (torch.arange(n).to(torch.float32) / n))
    pos = torch.tensor(positions, dtype=torch.float32)
    return torch.cat([pos[:, a : a + 1] * inv_freq for a in range(4)], dim=1)


def _rotate(x: torch.Tensor, angles: torch.Tensor) -> torch.Tensor:
    """x [rows, S, heads, D]; pair m of token i turns by angles[i, m] (2x2 rotation matrix)."""
    cos, sin = torch.cos(angles), torch.sin(angles)
    rot = torch.stack([torch.stack([cos, -sin], -1), torch.stack([sin, cos], -1)], -2)  # [S, D/2, 2, 2]
    pairs = x.unflatten(-1, (-1, 2))  # [rows, S, heads, D/2, 2]
    turned = torch.einsum("smij,rshmj->rshmi", rot, pairs)
    return turned.flatten(-2)


def _grid(size: int, full: int) -> list[int]:
    return [int(torch.tensor(i * (full / size), dtype=torch.float32).round().item()) for i in range(size)]


def _block_positions(scale_pos: int, frames: list[int], h: int, w: int, full_h: int, full_w: int) -> list:
    hs, ws = _grid(h, full_h), _grid(w, full_w)
    return [(scale_pos, f, hs[i], ws[j]) for f in frames for i in range(h) for j in range(w)]


def _attend_and_mlp(sd: dict, pre: str, x, q, k, v, mask, heads: int, group: int, head_dim: int) -> torch.Tensor:
    """x after block `pre`'s masked attention of rotated q over k/v (K/V heads looked up per query head) and its
    MLP, both as residuals."""
    outs = []
    for head in range(heads):
        g = head // group
        scores = q[:, :, head] @ k[:, :, g].transpose(1, 2) / math.sqrt(head_dim)
        scores = scores.masked_fill(~mask, float("-inf"))
        outs.append(torch.softmax(scores, dim=-1) @ v[:, :, g])
    x = x + torch.cat(outs, dim=-1) @ sd[pre + "attn.o_proj.weight"].T
    h = _rms(x, sd[pre + "post_attention_layernorm.weight"])
    gate, up = h @ sd[pre + "mlp.gate_proj.weight"].T, h @ sd[pre + "mlp.up_proj.weight"].T
    return x + (F.silu(gate) * up) @ sd[pre + "mlp.down_proj.weight"].T


def _head_logits(sd: dict, hidden: torch.Tensor, semantic: bool) -> torch.Tensor:
    h = _rms(hidden, sd["norm_hidden_sates.weight"])
    head = "semantic_head2" if semantic else "head"
    return h @ sd[head + ".weight"].T + sd[head + ".bias"]


def _text_block(sd: dict, text: torch.Tensor, with_uncond: bool) -> tuple[torch.Tensor, list]:
    rows_text = [text] + ([sd["cfg_uncond"][: text.shape[0]]] if with_uncond else [])
    tokens = torch.stack([t @ sd["text_proj.weight"].T + sd["text_proj.bias"] for t in rows_text])
    return tokens, [(j, 0, 0, 0) for j in range(text.shape[0])]


def naive_logits(model, schedule, text, bits, with_uncond=True) -> list[torch.Tensor]:
    """Logits [rows, n, 2*bits] of every pass; bits[i] [1, t, h, w, d] are the given bits of pass i.

    `text` is one text for every clip or a list with one per clip: each clip's text is its own prefix block,
    at text positions 0.., and only that clip's passes see it."""
    sd = {k: v.float() for k, v in model.state_dict().items()}
    cfg = model.cfg
    heads, kv_heads, head_dim = cfg.heads, cfg.kv_heads, cfg.head_dim
    _, full_h, full_w = schedule.latent_shape
    texts = text if isinstance(text, list) else [text] * schedule.clips
    blocks = [(("text", clip), *_text_block(sd, t, with_uncond)) for clip, t in enumerate(texts)]
    rows = blocks[0][1].shape[0]

    sums = {c: torch.zeros(1, cfg.latent_channels, t, full_h, full_w) for c, t in enumerate(schedule.clip_lengths)}
    for p in schedule.passes:
        if p.scale_in_clip == 0 and p.rep == 0:
            feat = torch.zeros(1, cfg.latent_channels, p.t, p.h, p.w)
        else:
            feat = F.interpolate(sums[p.clip], size=(p.t, p.h, p.w), mode="area")
        tokens = feat[0].flatten(1).T @ sd["word_embed.weight"].T + sd["word_embed.bias"]
        frames = list(range(p.frame_start, p.frame_start + p.t))
        blocks.append((p.index, tokens.expand(rows, -1, -1), _block_positions(
            cfg.text_maxlen + p.index, frames, p.h, p.w, full_h, full_w)))
        d = bits[p.index].shape[-1]
        codes = (bits[p.index].float() * 2 - 1) / math.sqrt(d)  # [1, t, h, w, d]
        per_frame = codes.permute(0, 1, 4, 2, 3)  # [1, t, d, h, w]: frames as channels
        up = F.interpolate(per_frame, size=(cfg.latent_channels, full_h, full_w), mode="trilinear")
        sums[p.clip] = sums[p.clip] + up.permute(0, 2, 1, 3, 4)

    # the SSA rule, restated: a text sees itself; a pass sees its clip's text, itself and the final pass of the
    # previous clip
    last_pass_of_clip = {p.clip: p.index for p in schedule.passes}
    n_prefix = len(texts)
    lengths = [b[1].shape[1] for b in blocks]
    starts = [sum(lengths[:i]) for i in range(len(blocks))]
    total = sum(lengths)
    mask = torch.zeros(total, total, dtype=torch.bool)
    for i, (key, _, _) in enumerate(blocks):
        q = slice(starts[i], starts[i] + lengths[i])
        visible = [i]
        if i >= n_prefix:
            p = schedule.passes[key]
            visible.append(p.clip)
            if p.clip > 0:
                visible.append(n_prefix + last_pass_of_clip[p.clip - 1])
        for j in visible:
            mask[q, starts[j] : starts[j] + lengths[j]] = True

    x = torch.cat([b[1] for b in blocks], dim=1)
    angles = _angles([pos for b in blocks for pos in b[2]], head_dim, cfg.rope_base)
    group = heads // kv_heads
    for c in range(cfg.block_chunks):
        for m in range(cfg.blocks_per_chunk):
            pre = f"block_chunks.{c}.module.{m}."
            h = _rms(x, sd[pre + "input_layernorm.weight"])
            q = (h @ sd[pre + "attn.q_proj.weight"].T).unflatten(-1, (heads, head_dim))
            k = (h @ sd[pre + "attn.k_proj.weight"].T).unflatten(-1, (kv_heads, head_dim))
            v = (h @ sd[pre + "attn.v_proj.weight"].T).unflatten(-1, (kv_heads, head_dim))
            q = _rotate(_rms(q, sd[pre + "attn.q_norm.weight"]), angles)
            k = _rotate(_rms(k, sd[pre + "attn.k_norm.weight"]), angles)
            x = _attend_and_mlp(sd, pre, x, q, k, v, mask, heads, group, head_dim)

    out = []
    for i, p in enumerate(schedule.passes):
        b = n_prefix + i
        out.append(_head_logits(sd, x[:, starts[b] : starts[b] + lengths[b]], p.semantic))
    return out


def _slot_start(cfg, clip: int) -> tuple[int, int]:
    """Where the weights saw video clip `clip` (MODEL_SPEC 2): scale position of its first pass, first frame. A
    clip past the trained ones takes the last trained clip's place."""
    if clip == 0:
        return 0, 0
    slot = min(clip, cfg.trained_video_clips)
    return sum(cfg.image_repetitions) + (slot - 1) * sum(cfg.video_repetitions), 1 + (slot - 1) * cfg.clip_frames


def naive_long_logits(model, cfg, schedule, texts, bits, with_uncond=True) -> list[torch.Tensor]:
    """Logits of every pass of a video of any length, clip by clip, written from the SSA rule: a clip's passes
    see its text, themselves and the final scale of the clip before, placed one trained slot before their own.

    The final scale's keys are kept unrotated (after the q/k norm) with their values, layer by layer, and rotated
    afresh wherever a later clip sees them: the recompute that turning cached keys must equal. `texts` holds one
    text per clip of `schedule`, whose clip 0 is clip `schedule.first_clip` of the video."""
    sd = {k: v.float() for k, v in model.state_dict().items()}
    c = model.cfg
    heads, kv_heads, head_dim = c.heads, c.kv_heads, c.head_dim
    group = heads // kv_heads
    _, full_h, full_w = schedule.latent_shape
    out: list[torch.Tensor] = []
    before = None  # the previous clip's final scale: (t, h, w, per-layer unrotated keys and values)
    for clip in range(schedule.clips):
        passes = [p for p in schedule.passes if p.clip == clip]
        scale0, frame0 = _slot_start(cfg, schedule.first_clip + clip)
        text, text_pos = _text_block(sd, texts[clip], with_uncond)
        rows = text.shape[0]
        sums = torch.zeros(1, c.latent_channels, passes[0].t, full_h, full_w)
        blocks = [(text, text_pos)]
        for order, p in enumerate(passes):
            if order == 0:
                feat = torch.zeros(1, c.latent_channels, p.t, p.h, p.w)
            else:
                feat = F.interpolate(sums, size=(p.t, p.h, p.w), mode="area")
            tokens = feat[0].flatten(1).T @ sd["word_embed.weight"].T + sd["word_embed.bias"]
            frames = list(range(frame0, frame0 + p.t))
            blocks.append((tokens.expand(rows, -1, -1),
                           _block_positions(c.text_maxlen + scale0 + order, frames, p.h, p.w, full_h, full_w)))
            d = bits[p.index].shape[-1]
            codes = (bits[p.index].float() * 2 - 1) / math.sqrt(d)
            up = F.interpolate(codes.permute(0, 1, 4, 2, 3), size=(c.latent_channels, full_h, full_w),
                               mode="trilinear")
            sums = sums + up.permute(0, 2, 1, 3, 4)
        lengths = [b[0].shape[1] for b in blocks]
        starts = [sum(lengths[:i]) for i in range(len(blocks))]
        x = torch.cat([b[0] for b in blocks], dim=1)
        angles = _angles([pos for b in blocks for pos in b[1]], head_dim, c.rope_base)
        n_before = 0
        if before is not None:
            t, h, w, _ = before
            frames = list(range(frame0 - t, frame0))
            before_angles = _angles(_block_positions(c.text_maxlen + scale0 - 1, frames, h, w, full_h, full_w),
                                    head_dim, c.rope_base)
            n_before = t * h * w
        total = sum(lengths)
        # columns: the clip's own tokens, then the clip before's final scale
        mask = torch.zeros(total, total + n_before, dtype=torch.bool)
        mask[: lengths[0], : lengths[0]] = True
        for i in range(1, len(blocks)):
            q = slice(starts[i], starts[i] + lengths[i])
            mask[q, : lengths[0]] = True
            mask[q, starts[i] : starts[i] + lengths[i]] = True
            mask[q, total:] = True
        last = len(blocks) - 1
        kept = []
        layer = 0
        for ch in range(c.block_chunks):
            for m in range(c.blocks_per_chunk):
                pre = f"block_chunks.{ch}.module.{m}."
                hidden = _rms(x, sd[pre + "input_layernorm.weight"])
                q = (hidden @ sd[pre + "attn.q_proj.weight"].T).unflatten(-1, (heads, head_dim))
                k = _rms((hidden @ sd[pre + "attn.k_proj.weight"].T).unflatten(-1, (kv_heads, head_dim)),
                         sd[pre + "attn.k_norm.weight"])
                v = (hidden @ sd[pre + "attn.v_proj.weight"].T).unflatten(-1, (kv_heads, head_dim))
                kept.append((k[:, starts[last]:], v[:, starts[last]:]))
                q = _rotate(_rms(q, sd[pre + "attn.q_norm.weight"]), angles)
                k = _rotate(k, angles)
                if before is not None:
                    k_before, v_before = before[3][layer]
                    k = torch.cat([k, _rotate(k_before, before_angles)], dim=1)
                    v = torch.cat([v, v_before], dim=1)
                x = _attend_and_mlp(sd, pre, x, q, k, v, mask, heads, group, head_dim)
                layer += 1
        for i, p in enumerate(passes):
            b = i + 1
            out.append(_head_logits(sd, x[:, starts[b] : starts[b] + lengths[b]], p.semantic))
        final = passes[-1]
        before = (final.t, final.h, final.w, kept)
    return out
