"""The pass loop: prefill the text, then run every pass of a schedule.

One loop serves T2I, T2V, I2V and continuation (leading passes forced from given bits) and storyboards
(a text per clip). It yields an event after every pass and never prints.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import torch

from engine.config import ScheduleConfig
from engine.model.guidance import apg, cfg, sample_bits
from engine.model.rope import apply_rope, block_turn, rope_rotations, text_positions, visual_positions
from engine.model.running_sum import RunningSums
from engine.model.transformer import KV, InfinityStarTransformer, token_chunk
from engine.schedule import Pass, Scale, Schedule


class GenerationCancelled(Exception):
    """The cancel check returned True between two passes."""


class SamplerInputError(ValueError):
    """An input to the sampler does not fit the model or the schedule; the message says what was expected."""


@dataclass(frozen=True)
class Guidance:
    kind: str
    scale: float
    norm_threshold: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in ("apg", "cfg"):
            raise SamplerInputError(f"guidance kind must be 'apg' or 'cfg', got {self.kind!r}")

    @property
    def with_uncond(self) -> bool:
        """Whether each pass also runs the unconditional row (not needed at scale 1)."""
        return self.scale != 1

    @classmethod
    def from_schedule(cls, schedule: ScheduleConfig) -> Guidance:
        return cls(schedule.guidance, schedule.guidance_scale, schedule.apg_norm_threshold)

    def combine(self, logits: torch.Tensor, batch: int) -> torch.Tensor:
        """Rows [cond x batch, (uncond x batch)] of logits [rows, n, V] -> guided [batch, n, V]."""
        if not self.with_uncond:
            return logits
        cond, uncond = logits[:batch], logits[batch:]
        if self.kind == "apg":
            return apg(cond, uncond, self.scale, self.norm_threshold)
        return cfg(cond, uncond, self.scale)


@dataclass
class PassEvent:
    """After each pass. `running_sum` is the sum of the pass's clip [batch, C, t, H, W] after this pass.

    `bits` [batch, t, h, w, d]; `logits` (when asked) the raw head output [rows, n, 2d] before tau and guidance.
    """

    index: int
    total: int
    clip: int
    scale_in_clip: int  # the scale's index within its clip (Pass.scale counts the schedule's scales)
    rep: int
    tokens: int
    seconds: float
    bits: torch.Tensor
    running_sum: torch.Tensor
    logits: torch.Tensor | None = None


@dataclass
class ClipEvent:
    """After the last pass of a clip: its latent [batch, C, t, H, W] is final and can be decoded; `bits` are its
    passes' (the same tensors its PassEvents carried). The sampler keeps neither once this event is out."""

    clip: int
    frame_start: int
    latent: torch.Tensor
    bits: list[torch.Tensor]


@dataclass
class FinishedEvent:
    seconds: float


Event = PassEvent | ClipEvent | FinishedEvent


def expected_bits_shape(model: InfinityStarTransformer, p: Pass, batch: int = 1) -> tuple[int, ...]:
    bits = model.cfg.semantic_bits if p.semantic else model.cfg.detail_bits
    return (batch, p.t, p.h, p.w, bits)


def _check_text(model: InfinityStarTransformer, text: torch.Tensor) -> None:
    c = model.cfg
    if text.dim() != 2 or text.shape[1] != c.text_channels:
        raise SamplerInputError(
            f"text embedding has shape {tuple(text.shape)}; expected [tokens, {c.text_channels}]"
        )
    if not 1 <= text.shape[0] <= c.text_maxlen:
        raise SamplerInputError(
            f"text embedding has {text.shape[0]} tokens; a prompt must encode to 1..{c.text_maxlen} tokens"
        )


class _ClipTexts:
    """The text of each clip, checked when first used: one tensor for every clip, or a sequence with one per clip
    (it may encode lazily, so a long storyboard is never held whole)."""

    def __init__(
        self, model: InfinityStarTransformer, schedule: Schedule, text: torch.Tensor | Sequence[torch.Tensor]
    ) -> None:
        self.model = model
        self.text = text
        if not isinstance(text, torch.Tensor) and len(text) != schedule.clips:
            raise SamplerInputError(
                f"{len(text)} per-clip texts given; the schedule has {schedule.clips} clips: "
                f"give one text or {schedule.clips}"
            )
        if isinstance(text, list | tuple):  # given whole: checked before any pass runs
            for t in text:
                _check_text(model, t)

    def __getitem__(self, clip: int) -> torch.Tensor:
        text = self.text if isinstance(self.text, torch.Tensor) else self.text[clip]
        _check_text(self.model, text)
        return text


def _same_text(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a is b or torch.equal(a, b)


def _check_forced(
    model: InfinityStarTransformer, schedule: Schedule, forced: Sequence[torch.Tensor], batch: int
) -> None:
    if len(forced) > len(schedule.passes):
        raise SamplerInputError(f"{len(forced)} forced passes given; the schedule has {len(schedule.passes)}")
    for bits, p in zip(forced, schedule.passes, strict=False):
        want = expected_bits_shape(model, p, batch)
        if tuple(bits.shape) not in (want, (1, *want[1:])):
            raise SamplerInputError(
                f"forced bits of pass {p.index} (clip {p.clip}, scale {p.scale_in_clip}, repetition {p.rep}) "
                f"have shape {tuple(bits.shape)}; expected {want}"
            )
        if bits.dtype.is_floating_point or bool(((bits != 0) & (bits != 1)).any()):
            raise SamplerInputError(f"forced bits of pass {p.index} must be integers 0 or 1")


def _own(kv: KV) -> KV:
    """K/V that own their memory: a chunked pass returns views into a buffer that also holds the keys it saw."""
    return tuple(t if t.untyped_storage().nbytes() == t.numel() * t.element_size() else t.clone() for t in kv)


def _to(kv: KV, device: torch.device) -> KV:
    """K/V on `device`; from pinned host memory the copies overlap what runs before them on the stream."""
    return tuple(t.to(device, non_blocking=True) for t in kv)


def _to_host(kv: KV) -> KV:
    """K/V moved to host memory (pinned, so they can be copied back asynchronously)."""
    out = []
    for t in kv:
        host = torch.empty(t.shape, dtype=t.dtype, pin_memory=True)
        host.copy_(t, non_blocking=True)  # complete before use: the pass loop synchronises after every pass
        out.append(host)
    return tuple(out)


def _run_blocks(
    model: InfinityStarTransformer,
    x: torch.Tensor,
    rotations: torch.Tensor,
    cache: Mapping[object, list[KV | None]],
    sees: Sequence[object],
    chunk: int,
    keep: bool,
    last_seen: Sequence[object] = (),
    keep_on_host: bool = False,
) -> tuple[torch.Tensor, list[KV]]:
    """The blocks over x, each seeing the cached K/V of `sees` at its layer. `last_seen` are cached entries no later
    pass sees: each layer's is dropped once used, so a pass keeping its own K/V never holds both whole. With
    `keep_on_host` the kept K/V go to host memory layer by layer (cached entries may live there too: each layer's
    is brought to x's device as its block runs)."""
    kept: list[KV] = []
    for layer, block in enumerate(model.blocks()):
        past = [_to(cache[key][layer], x.device) for key in sees]
        x, kv = block(x, rotations, past, chunk=chunk)
        del past
        for key in last_seen:
            cache[key][layer] = None
        if keep:
            kept.append(_to_host(_own(kv)) if keep_on_host else _own(kv))
        del kv  # otherwise this layer's K/V (and a chunked pass's buffer of what it saw) would stay alive
    return x, kept


def _prefill_text(
    model: InfinityStarTransformer, text: torch.Tensor, batch: int, with_uncond: bool, chunk: int
) -> list[KV]:
    """The K/V of the text prefix at every layer: the text sees only itself."""
    c = model.cfg
    tokens = model.text_tokens(text, batch, with_uncond)
    rotations = rope_rotations(text_positions(text.shape[0]).to(text.device), c.head_dim, c.rope_base)
    return _run_blocks(model, tokens, rotations, {}, (), chunk, keep=True)[1]


def _move_kept(model: InfinityStarTransformer, kept: list[KV], scale: Scale, old: tuple[int, int],
               new: tuple[int, int], full_h: int, full_w: int) -> None:
    """Turn the cached keys of `scale` from RoPE slot `old` to `new` (scale position, first frame) in place."""
    c = model.cfg
    turn = block_turn(c.text_maxlen, (scale.t, scale.h, scale.w), (full_h, full_w), old, new, c.head_dim, c.rope_base)
    turn = turn.to(kept[0][0].device)
    for keys, _ in kept:
        keys.copy_(apply_rope(keys, turn))


def generate(
    model: InfinityStarTransformer,
    schedule: Schedule,
    text: torch.Tensor | Sequence[torch.Tensor],
    guidance: Guidance,
    seed: int = 0,
    batch: int = 1,
    forced: Sequence[torch.Tensor] = (),
    cancel: Callable[[], bool] | None = None,
    return_logits: bool = False,
    chunk_budget: int | None = None,
    kv_on_host: bool = False,
) -> Iterator[Event]:
    """Run every pass of `schedule` and yield events as they happen.

    `text` [tokens, text_channels] is one prompt for every clip, or a sequence with one per clip of the
    schedule (a storyboard; token counts may differ): a clip's passes attend to its own text, and the
    kept K/V of earlier clips stay as computed with theirs. `batch` videos share the text; video i
    draws its bits from a generator seeded `seed + i`.
    `forced` holds bits for the leading passes (I2V, continuation; [batch or 1, t, h, w, d]):
    those are not sampled, and a forced pass is not even run unless a later pass attends to it
    (or `return_logits` asks for its logits). `chunk_budget` (bytes) bounds one token chunk's MLP activation: lower
    saves memory on large passes at some speed. `kv_on_host` keeps each clip's final-scale K/V in host memory and
    streams it to the device layer by layer as passes read it (on a CUDA device: the memory it saves is what
    the clip before holds, 9.4 GB at 8B 480p with guidance; the price is copying it once per pass).

    Memory does not grow with the number of clips: between clips only the text prefix and the previous clip's
    final-scale K/V are held, and a clip's running sum and bits are given away with its ClipEvent. Past the
    clips the weights were trained on, each clip runs in the last trained slot (engine.schedule.trained_slot),
    and the previous clip's cached keys are turned to the slot before it.
    """
    c = model.cfg
    if batch < 1:
        raise SamplerInputError(f"batch must be >= 1, got {batch}")
    texts = _ClipTexts(model, schedule, text)
    _check_forced(model, schedule, forced, batch)
    if schedule.conditions:  # an Interact segment's schedule: planned (engine.runtime.planner), never run here
        raise SamplerInputError("the schedule has prefilled condition blocks (Interact); this sampler runs none")
    device = model.word_embed.weight.device
    kv_on_host = kv_on_host and device.type == "cuda"  # elsewhere the device's memory is the host's
    rows = batch * (2 if guidance.with_uncond else 1)
    chunk = token_chunk(c, rows, model.compute_dtype.itemsize, chunk_budget)
    generators = [torch.Generator(device=device).manual_seed(seed + i) for i in range(batch)]
    _, full_h, full_w = schedule.latent_shape
    started = time.perf_counter()
    with torch.inference_mode():
        cache: dict[object, list[KV]] = {}
        placed: dict[int, tuple[int, int]] = {}  # where each kept scale's keys sit now
        prefilled: torch.Tensor | None = None
        prefix = ("text",)
        sums = RunningSums(schedule, c.latent_channels, device, batch)
        clip_bits: list[torch.Tensor] = []
        for p in schedule.passes:
            if cancel is not None and cancel():
                raise GenerationCancelled(f"cancelled before pass {p.index} of {len(schedule.passes)}")
            t0 = time.perf_counter()
            shape = expected_bits_shape(model, p, batch)
            bits = forced[p.index].to(device, torch.uint8).expand(shape) if p.index < len(forced) else None
            logits = None
            if bits is None or p.keeps or return_logits:
                # the prefix switches only when a pass runs: a forced pass kept for later ones needs its
                # clip's text too, and a clip none of whose passes run needs no prefill at all
                clip_text = texts[p.clip].to(device)
                if prefilled is None or not _same_text(prefilled, clip_text):
                    cache.pop("text", None)  # free the old prefix before the new one is built
                    prefilled = clip_text
                    cache["text"] = _prefill_text(model, prefilled, batch, guidance.with_uncond, chunk)
                for seen in p.sees:
                    if placed[seen] != (want := schedule.seen_position(p.clip)):
                        _move_kept(model, cache[seen], schedule.scales[seen], placed[seen], want, full_h, full_w)
                        placed[seen] = want
                x = model.embed_latent(sums.input_for(p), rows)
                frames = range(p.rope_frame, p.rope_frame + p.t)
                pos = visual_positions(c.text_maxlen + p.rope_scale, frames, p.h, p.w, full_h, full_w)
                rotations = rope_rotations(pos.to(device), c.head_dim, c.rope_base)
                x, kept = _run_blocks(model, x, rotations, cache, prefix + p.sees, chunk, keep=p.keeps,
                                      last_seen=[s for s in p.releases if s in p.sees], keep_on_host=kv_on_host)
                if p.keeps:
                    cache[p.scale] = kept
                    placed[p.scale] = (p.rope_scale, p.rope_frame)
                del kept
                if bits is None or return_logits:
                    logits = model.bit_logits(x, p.semantic, chunk)
                del x
            if bits is None:
                guided = guidance.combine(logits.mul(1 / p.tau), batch)
                bits = sample_bits(guided, generators).view(shape)
            for released in p.releases:
                del cache[released]
                del placed[released]
            sums.add(p, bits)
            clip_bits.append(bits)
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            yield PassEvent(
                index=p.index,
                total=len(schedule.passes),
                clip=p.clip,
                scale_in_clip=p.scale_in_clip,
                rep=p.rep,
                tokens=p.tokens,
                seconds=time.perf_counter() - t0,
                bits=bits,
                running_sum=sums.clip_latent(p.clip),
                logits=logits if return_logits else None,
            )
            if p.index == len(schedule.passes) - 1 or schedule.passes[p.index + 1].clip != p.clip:
                yield ClipEvent(p.clip, p.frame_start, sums.release(p.clip), clip_bits)
                clip_bits = []
        yield FinishedEvent(time.perf_counter() - started)


@dataclass
class Result:
    """A whole generation gathered from its events: the latent [batch, C, T, H, W] of every clip, every pass's bits."""

    latent: torch.Tensor
    bits: list[torch.Tensor]
    seconds: float


def run_to_end(events: Iterator[Event]) -> Result:
    """Drain a generation and gather its clips (for short videos: this holds the whole video)."""
    latents: list[torch.Tensor] = []
    bits: list[torch.Tensor] = []
    for event in events:
        if isinstance(event, ClipEvent):
            latents.append(event.latent)
            bits += event.bits
        elif isinstance(event, FinishedEvent):
            return Result(torch.cat(latents, dim=2), bits, event.seconds)
    raise RuntimeError("generation ended without a result")
