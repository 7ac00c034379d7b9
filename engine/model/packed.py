"""Teacher-forced forward: the whole schedule as one packed sequence, each block attending only where SSA lets it.

This is the training-time view of the model: given every pass's bits, all passes' logits come
out of one forward. It must agree with the pass-by-pass inference of the sampler.

SSA is very sparse: a pass sees its clip's text, itself and the last repetition of the scales it refers to (at
most the previous clip's last pass). So attention runs block by block over just those keys, not over the packed
sequence under a dense mask, and a pass no other pass sees can be left out of a forward altogether without
changing any other pass's logits (training uses that to skip some repetitions).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from engine.model.rope import rope_rotations, text_positions, visual_positions
from engine.model.running_sum import RunningSums
from engine.model.transformer import InfinityStarTransformer, Span
from engine.schedule import Schedule


def block_lengths(schedule: Schedule, text_lens: Sequence[int]) -> list[int]:
    """Token count of each block in packed order: the text (one, or one per clip), then every pass."""
    return [*text_lens] + [p.tokens for p in schedule.passes]


def visible_blocks(schedule: Schedule, texts: int) -> list[list[int]]:
    """Per block in packed order, the blocks its tokens attend to (itself included).

    A text sees only itself; a pass sees its clip's text (the only text when there is one), itself and the last
    repetition of every scale it refers to.
    """
    if texts not in (1, schedule.clips):
        raise ValueError(f"{texts} texts for a schedule of {schedule.clips} clips: give one, or one per clip")
    visible = [[block] for block in range(texts)]
    for p in schedule.passes:
        earlier = [texts + i for i in schedule.visible_passes(p.index)]
        visible.append([p.clip if texts > 1 else 0, *earlier, texts + p.index])
    return visible


def needed_passes(schedule: Schedule, wanted: Sequence[int]) -> list[int]:
    """`wanted` pass indices and every pass they attend to, in schedule order."""
    needed, stack = set(), list(wanted)
    while stack:
        index = stack.pop()
        if index not in needed:
            needed.add(index)
            stack.extend(schedule.visible_passes(index))
    return sorted(needed)


def attention_spans(
    schedule: Schedule, text_lens: Sequence[int], run: Sequence[int], device: torch.device | str = "cpu"
) -> list[Span]:
    """Per block of the packed sequence holding the texts and the passes `run` (in schedule order), its token span
    and the indices of the tokens it attends to."""
    prefix = len(text_lens)
    blocks = [*range(prefix), *(prefix + i for i in run)]  # packed block -> its block in the full schedule
    every_length = block_lengths(schedule, text_lens)
    starts = torch.tensor([0, *(every_length[b] for b in blocks)]).cumsum(0).tolist()
    packed_at = {block: i for i, block in enumerate(blocks)}
    visible = visible_blocks(schedule, len(text_lens))
    return [
        ((starts[i], starts[i + 1]),
         torch.cat([torch.arange(starts[packed_at[v]], starts[packed_at[v] + 1]) for v in visible[block]]).to(device))
        for i, block in enumerate(blocks)
    ]


def dense_mask(spans: Sequence[Span], tokens: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """The boolean [tokens, tokens] mask (True = may attend) that lets each span's queries see its keys."""
    mask = torch.zeros(tokens, tokens, dtype=torch.bool, device=device)
    for (start, end), keys in spans:
        mask[start:end, keys] = True
    return mask


def teacher_forced_logits(
    model: InfinityStarTransformer,
    schedule: Schedule,
    text: torch.Tensor | Sequence[torch.Tensor],
    bits: Sequence[torch.Tensor],
    with_uncond: bool = True,
    passes: Sequence[int] | None = None,
    dense: bool = False,
) -> list[torch.Tensor]:
    """Logits [rows, n, 2*bits] of every pass (or of `passes`, in that order), each pass's input built from the
    given bits of earlier passes.

    bits[i] is [batch, t, h, w, d]; rows are the batch's cond rows, then (with_uncond) its uncond rows.
    `text` is one prompt's features [L, C] for every video, or one per video [batch, L, C] (training); or a
    sequence of those, one per clip (a storyboard: a clip's passes see only their clip's text, as in the sampler).
    `passes` runs only those passes and the ones they attend to; the logits are the same as in a full forward.
    `dense` attends over the whole packed sequence under the SSA mask instead: the same logits, the naive
    baseline the benchmarks measure against.
    """
    if schedule.conditions:  # an Interact segment's schedule: planned (engine.runtime.planner), never run here
        raise ValueError("the schedule has prefilled condition blocks (Interact); the packed forward runs none")
    c = model.cfg
    device = model.word_embed.weight.device
    batch = bits[0].shape[0]
    rows = batch * (2 if with_uncond else 1)
    _, full_h, full_w = schedule.latent_shape
    texts = [text] if isinstance(text, torch.Tensor) else list(text)
    prefix = len(texts)
    run = range(len(schedule.passes)) if passes is None else needed_passes(schedule, passes)
    pieces = [model.text_tokens(t.to(device), batch, with_uncond) for t in texts]
    positions = [text_positions(t.shape[-2]) for t in texts]
    sums = RunningSums(schedule, c.latent_channels, device, batch)
    wanted = set(run)
    for p in schedule.passes:
        if p.index in wanted:
            pieces.append(model.embed_latent(sums.input_for(p), rows))
            frames = range(p.frame_start, p.frame_start + p.t)
            positions.append(visual_positions(c.text_maxlen + p.index, frames, p.h, p.w, full_h, full_w))
        sums.add(p, bits[p.index])
    spans = attention_spans(schedule, [t.shape[-2] for t in texts], run, device)
    x = torch.cat(pieces, dim=1)
    rotations = rope_rotations(torch.cat(positions).to(device), c.head_dim, c.rope_base)
    mask = dense_mask(spans, x.shape[1], device) if dense else None
    for block in model.blocks():
        x = block.forward_packed(x, rotations, spans, mask)
    visual = x.split([piece.shape[1] for piece in pieces], dim=1)[prefix:]
    logits = {i: model.bit_logits(h, schedule.passes[i].semantic) for i, h in zip(run, visual, strict=True)}
    return [logits[i] for i in (run if passes is None else passes)]
