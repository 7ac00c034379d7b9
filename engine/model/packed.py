"""Teacher-forced forward: the whole schedule as one packed sequence under the SSA block mask.

This is the training-time view of the model: given every pass's bits, all passes' logits come
out of one forward. It must agree with the pass-by-pass inference of the sampler.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch

from engine.model.rope import rope_rotations, text_positions, visual_positions
from engine.model.running_sum import RunningSums
from engine.model.transformer import InfinityStarTransformer
from engine.schedule import Schedule


def block_lengths(schedule: Schedule, text_lens: Sequence[int]) -> list[int]:
    """Token count of each block in packed order: the text (one, or one per clip), condition blocks, then every
    pass."""
    return [*text_lens] + [c.tokens for c in schedule.conditions] + [p.tokens for p in schedule.passes]


def ssa_mask(schedule: Schedule, text_lens: Sequence[int], device: torch.device | str = "cpu") -> torch.Tensor:
    """Boolean [S, S] mask (True = may attend) over the packed sequence.

    Texts and condition blocks see only themselves; a pass sees its clip's text (the only text when
    there is one), the condition blocks, itself and the last repetition of every scale it refers to.
    """
    texts = len(text_lens)
    if texts not in (1, schedule.clips):
        raise ValueError(f"{texts} texts for a schedule of {schedule.clips} clips: give one, or one per clip")
    lengths = block_lengths(schedule, text_lens)
    allowed = torch.zeros(len(lengths), len(lengths), dtype=torch.bool)
    allowed.fill_diagonal_(True)
    prefix = texts + len(schedule.conditions)
    for p in schedule.passes:
        row = prefix + p.index
        allowed[row, p.clip if texts > 1 else 0] = True
        allowed[row, texts:prefix] = True
        for earlier in schedule.visible_passes(p.index):
            allowed[row, prefix + earlier] = True
    block_of = torch.repeat_interleave(torch.arange(len(lengths)), torch.tensor(lengths))
    return allowed[block_of][:, block_of].to(device)


def teacher_forced_logits(
    model: InfinityStarTransformer,
    schedule: Schedule,
    text: torch.Tensor | Sequence[torch.Tensor],
    bits: Sequence[torch.Tensor],
    with_uncond: bool = True,
    conditions: Mapping[str, torch.Tensor] | None = None,
) -> list[torch.Tensor]:
    """Logits [rows, n, 2*bits] of every pass, each pass's input built from the given bits of earlier passes.

    bits[i] is [batch, t, h, w, d]; rows are the batch's cond rows, then (with_uncond) its uncond rows.
    `text` is one prompt's features [L, C] for every video, or one per video [batch, L, C] (training); or a
    sequence of those, one per clip (a storyboard: a clip's passes see only their clip's text, as in the sampler).
    """
    c = model.cfg
    device = model.word_embed.weight.device
    batch = bits[0].shape[0]
    rows = batch * (2 if with_uncond else 1)
    _, full_h, full_w = schedule.latent_shape
    texts = [text] if isinstance(text, torch.Tensor) else list(text)
    text_lens = [t.shape[-2] for t in texts]
    pieces = [model.text_tokens(t.to(device), batch, with_uncond) for t in texts]
    positions = [text_positions(length) for length in text_lens]
    for cond in schedule.conditions:
        pieces.append(model.embed_latent(conditions[cond.name].to(device).expand(batch, -1, -1, -1, -1), rows))
        positions.append(visual_positions(c.text_maxlen + cond.scale_id, cond.frames, cond.h, cond.w, full_h, full_w))
    sums = RunningSums(schedule, c.latent_channels, device, batch)
    for p in schedule.passes:
        pieces.append(model.embed_latent(sums.input_for(p), rows))
        frames = range(p.frame_start, p.frame_start + p.t)
        positions.append(visual_positions(c.text_maxlen + p.index, frames, p.h, p.w, full_h, full_w))
        sums.add(p, bits[p.index])
    x = torch.cat(pieces, dim=1)
    rotations = rope_rotations(torch.cat(positions).to(device), c.head_dim, c.rope_base)
    mask = ssa_mask(schedule, text_lens, device)
    for block in model.blocks():
        x, _ = block(x, rotations, mask=mask)
    lengths = block_lengths(schedule, text_lens)
    visual = x.split(lengths, dim=1)[len(texts) + len(schedule.conditions) :]
    return [model.bit_logits(h, p.semantic) for h, p in zip(visual, schedule.passes, strict=True)]
