"""Teacher-forced forward: the whole schedule as one packed sequence, each block attending only where SSA lets it.

This is the training-time view of the model: given every pass's bits, all passes' logits come
out of one forward. It must agree with the pass-by-pass inference of the sampler.

SSA is very sparse: a pass sees its clip's text, itself and the last repetition of the scales it refers to (at
most the previous clip's last pass). So attention runs block by block over just those keys, not over the packed
sequence under a dense mask, and a pass no other pass sees can be left out of a forward altogether without
changing any other pass's logits (training uses that to skip some repetitions).

Passes sit at their RoPE slots (engine.schedule.trained_slot). Past the trained length a clip shares its slot with
the clip before, which it must see one slot back: that block's keys are then also given turned to the place it is
seen from (a key view, appended after the packed tokens), as the sampler turns its cached keys.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from engine.config import TransformerConfig
from engine.model.rope import block_turn, rope_rotations, text_positions, visual_positions
from engine.model.running_sum import RunningSums
from engine.model.transformer import InfinityStarTransformer, KeyView, Span
from engine.schedule import Schedule

Slot = tuple[int, int]  # a block's RoPE place: scale position (after the text) and first frame


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


def turned_views(schedule: Schedule, run: Sequence[int]) -> list[tuple[int, Slot]]:
    """The (pass, place) pairs of passes in `run` that a later pass in `run` sees from another place than their own:
    the clip before one that shares its trained slot, seen one slot back (Schedule.seen_position)."""
    wanted, views = set(run), []
    for index in run:
        p = schedule.passes[index]
        for seen in schedule.visible_passes(index):
            own, place = schedule.passes[seen], schedule.seen_position(p.clip)
            if seen in wanted and (own.rope_scale, own.rope_frame) != place and (seen, place) not in views:
                views.append((seen, place))
    return views


def attention_spans(
    schedule: Schedule, text_lens: Sequence[int], run: Sequence[int], device: torch.device | str = "cpu",
    views: Sequence[tuple[int, Slot]] = (),
) -> list[Span]:
    """Per block of the packed sequence holding the texts and the passes `run` (in schedule order), its token span
    and the indices of the tokens it attends to. The key views (turned_views) follow the packed tokens in order,
    and a pass sees the view of a block in place of the block itself."""
    prefix = len(text_lens)
    blocks = [*range(prefix), *(prefix + i for i in run)]  # packed block -> its block in the full schedule
    every_length = block_lengths(schedule, text_lens)
    starts = torch.tensor([0, *(every_length[b] for b in blocks)]).cumsum(0).tolist()
    view_starts = torch.tensor([starts[-1], *(schedule.passes[i].tokens for i, _ in views)]).cumsum(0).tolist()
    packed_at = {block: (starts[i], starts[i + 1]) for i, block in enumerate(blocks)}
    view_at = {view: (view_starts[i], view_starts[i + 1]) for i, view in enumerate(views)}
    visible = visible_blocks(schedule, len(text_lens))

    def keys(block: int, seen: int) -> tuple[int, int]:
        if block >= prefix and seen != block and seen >= prefix:
            place = schedule.seen_position(schedule.passes[block - prefix].clip)
            if (seen - prefix, place) in view_at:
                return view_at[seen - prefix, place]
        return packed_at[seen]

    return [
        ((starts[i], starts[i + 1]),
         torch.cat([torch.arange(*keys(block, seen)) for seen in visible[block]]).to(device))
        for i, block in enumerate(blocks)
    ]


def key_views(
    schedule: Schedule, spans: Sequence[Span], run: Sequence[int], views: Sequence[tuple[int, Slot]],
    cfg: TransformerConfig, device: torch.device | str = "cpu",
) -> list[KeyView]:
    """Per turned view, the packed indices of the block's keys and the rotations that take them to its place."""
    _, full_h, full_w = schedule.latent_shape
    span_of = dict(zip(run, spans[-len(run):], strict=True))
    out = []
    for index, place in views:
        p = schedule.passes[index]
        (start, end), _ = span_of[index]
        turn = block_turn(cfg.text_maxlen, (p.t, p.h, p.w), (full_h, full_w), (p.rope_scale, p.rope_frame), place,
                          cfg.head_dim, cfg.rope_base)
        out.append((torch.arange(start, end, device=device), turn.to(device)))
    return out


def dense_mask(spans: Sequence[Span], tokens: int, keys: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """The boolean [tokens, keys] mask (True = may attend) that lets each span's queries see its keys."""
    mask = torch.zeros(tokens, keys, dtype=torch.bool, device=device)
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
            frames = range(p.rope_frame, p.rope_frame + p.t)
            positions.append(visual_positions(c.text_maxlen + p.rope_scale, frames, p.h, p.w, full_h, full_w))
        sums.add(p, bits[p.index])
    views = turned_views(schedule, run)
    spans = attention_spans(schedule, [t.shape[-2] for t in texts], run, device, views)
    viewed = key_views(schedule, spans, run, views, c, device)
    x = torch.cat(pieces, dim=1)
    rotations = rope_rotations(torch.cat(positions).to(device), c.head_dim, c.rope_base)
    keys = x.shape[1] + sum(len(index) for index, _ in viewed)
    mask = dense_mask(spans, x.shape[1], keys, device) if dense else None
    for block in model.blocks():
        x = block.forward_packed(x, rotations, spans, mask, viewed)
    visual = x.split([piece.shape[1] for piece in pieces], dim=1)[prefix:]
    logits = {i: model.bit_logits(h, schedule.passes[i].semantic) for i, h in zip(run, visual, strict=True)}
    return [logits[i] for i in (run if passes is None else passes)]
