"""The pass loop: prefill the text (and any condition blocks), then run every pass of a schedule.

One loop serves T2I, T2V, I2V and continuation (leading passes forced from given bits) and the
Interact segments (prefilled condition blocks). It yields an event after every pass and never prints.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import torch

from engine.config import ScheduleConfig
from engine.model.guidance import apg, cfg, sample_bits
from engine.model.rope import rope_rotations, text_positions, visual_positions
from engine.model.running_sum import RunningSums
from engine.model.transformer import KV, InfinityStarTransformer, token_chunk
from engine.schedule import Pass, Schedule


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
    def batch(self) -> int:
        """Rows per pass: cond and uncond, or cond alone when the scale is 1."""
        return 1 if self.scale == 1 else 2

    @classmethod
    def from_schedule(cls, schedule: ScheduleConfig) -> Guidance:
        return cls(schedule.guidance, schedule.guidance_scale, schedule.apg_norm_threshold)

    def combine(self, logits: torch.Tensor) -> torch.Tensor:
        """[batch, n, V] -> [n, V]."""
        if self.batch == 1:
            return logits[0]
        if self.kind == "apg":
            return apg(logits[0], logits[1], self.scale, self.norm_threshold)
        return cfg(logits[0], logits[1], self.scale)


@dataclass
class PassEvent:
    """After each pass. `running_sum` is the live sum of the pass's clip [1, C, t, H, W]: clone it to keep it."""

    index: int
    total: int
    clip: int
    scale: int
    rep: int
    tokens: int
    seconds: float
    bits: torch.Tensor
    running_sum: torch.Tensor
    logits: torch.Tensor | None = None


@dataclass
class ClipEvent:
    """After the last pass of a clip: its latent [1, C, t, H, W] is final and can be decoded."""

    clip: int
    frame_start: int
    latent: torch.Tensor


@dataclass
class FinishedEvent:
    latent: torch.Tensor
    bits: list[torch.Tensor]
    seconds: float


Event = PassEvent | ClipEvent | FinishedEvent


def expected_bits_shape(model: InfinityStarTransformer, p: Pass) -> tuple[int, ...]:
    bits = model.cfg.semantic_bits if p.semantic else model.cfg.detail_bits
    return (1, p.t, p.h, p.w, bits)


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


def _check_forced(model: InfinityStarTransformer, schedule: Schedule, forced: Sequence[torch.Tensor]) -> None:
    if len(forced) > len(schedule.passes):
        raise SamplerInputError(f"{len(forced)} forced passes given; the schedule has {len(schedule.passes)}")
    for bits, p in zip(forced, schedule.passes, strict=False):
        want = expected_bits_shape(model, p)
        if tuple(bits.shape) != want:
            raise SamplerInputError(
                f"forced bits of pass {p.index} (clip {p.clip}, scale {p.scale_in_clip}, repetition {p.rep}) "
                f"have shape {tuple(bits.shape)}; expected {want}"
            )
        if bits.dtype.is_floating_point or bool(((bits != 0) & (bits != 1)).any()):
            raise SamplerInputError(f"forced bits of pass {p.index} must be integers 0 or 1")


def _check_conditions(schedule: Schedule, conditions: Mapping[str, torch.Tensor], channels: int) -> None:
    for c in schedule.conditions:
        got = conditions.get(c.name)
        want = (1, channels, c.t, c.h, c.w)
        if got is None or tuple(got.shape) != want:
            shape = None if got is None else tuple(got.shape)
            raise SamplerInputError(f"condition {c.name!r} has shape {shape}; expected {want}")


def _run_blocks(
    model: InfinityStarTransformer,
    x: torch.Tensor,
    rotations: torch.Tensor,
    cache: Mapping[object, list[KV]],
    sees: Sequence[object],
    chunk: int,
    keep: bool,
) -> tuple[torch.Tensor, list[KV]]:
    kept: list[KV] = []
    for layer, block in enumerate(model.blocks()):
        x, kv = block(x, rotations, [cache[key][layer] for key in sees], chunk=chunk)
        if keep:
            kept.append(kv)
    return x, kept


def generate(
    model: InfinityStarTransformer,
    schedule: Schedule,
    text: torch.Tensor,
    guidance: Guidance,
    seed: int = 0,
    forced: Sequence[torch.Tensor] = (),
    conditions: Mapping[str, torch.Tensor] | None = None,
    cancel: Callable[[], bool] | None = None,
    return_logits: bool = False,
) -> Iterator[Event]:
    """Run every pass of `schedule` for one prompt and yield events as they happen.

    `forced` holds bits for the leading passes (I2V, continuation): those are not sampled, and a
    forced pass is not even run unless a later pass attends to it (or `return_logits` asks for
    its logits). `conditions` supplies the schedule's prefilled blocks (Interact).
    """
    c = model.cfg
    _check_text(model, text)
    _check_forced(model, schedule, forced)
    _check_conditions(schedule, conditions or {}, c.latent_channels)
    device = model.word_embed.weight.device
    batch = guidance.batch
    chunk = token_chunk(c, batch, model.compute_dtype.itemsize)
    generator = torch.Generator(device=device)
    generator.manual_seed(seed)
    _, full_h, full_w = schedule.latent_shape
    started = time.perf_counter()
    with torch.inference_mode():
        cache: dict[object, list[KV]] = {}
        tokens = model.text_tokens(text.to(device), with_uncond=batch == 2)
        rope = rope_rotations(text_positions(text.shape[0]).to(device), c.head_dim, c.rope_base)
        _, cache["text"] = _run_blocks(model, tokens, rope, cache, (), chunk, keep=True)
        for cond in schedule.conditions:
            x = model.embed_latent(conditions[cond.name].to(device), batch)
            pos = visual_positions(c.text_maxlen + cond.scale_id, cond.frames, cond.h, cond.w, full_h, full_w)
            rope = rope_rotations(pos.to(device), c.head_dim, c.rope_base)
            _, cache[cond.name] = _run_blocks(model, x, rope, cache, (), chunk, keep=True)
        prefix = ("text", *(cond.name for cond in schedule.conditions))
        sums = RunningSums(schedule, c.latent_channels, device)
        all_bits: list[torch.Tensor] = []
        for p in schedule.passes:
            if cancel is not None and cancel():
                raise GenerationCancelled(f"cancelled before pass {p.index} of {len(schedule.passes)}")
            t0 = time.perf_counter()
            bits = forced[p.index].to(device, torch.uint8) if p.index < len(forced) else None
            logits = None
            if bits is None or p.keeps or return_logits:
                x = model.embed_latent(sums.input_for(p), batch)
                frames = range(p.frame_start, p.frame_start + p.t)
                pos = visual_positions(c.text_maxlen + p.index, frames, p.h, p.w, full_h, full_w)
                rope = rope_rotations(pos.to(device), c.head_dim, c.rope_base)
                x, kept = _run_blocks(model, x, rope, cache, prefix + p.sees, chunk, keep=p.keeps)
                if p.keeps:
                    cache[p.scale] = kept
                if bits is None or return_logits:
                    logits = model.bit_logits(x, p.semantic, chunk)
            if bits is None:
                guided = guidance.combine(logits.mul(1 / p.tau))
                bits = sample_bits(guided, generator).view(expected_bits_shape(model, p))
            for released in p.releases:
                del cache[released]
            sums.add(p, bits)
            all_bits.append(bits)
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            yield PassEvent(
                index=p.index,
                total=len(schedule.passes),
                clip=p.clip,
                scale=p.scale_in_clip,
                rep=p.rep,
                tokens=p.tokens,
                seconds=time.perf_counter() - t0,
                bits=bits,
                running_sum=sums.clip_latent(p.clip),
                logits=logits if return_logits else None,
            )
            if p.index == len(schedule.passes) - 1 or schedule.passes[p.index + 1].clip != p.clip:
                yield ClipEvent(p.clip, p.frame_start, sums.clip_latent(p.clip))
        yield FinishedEvent(sums.latent(), all_bits, time.perf_counter() - started)


def run_to_end(events: Iterator[Event]) -> FinishedEvent:
    """Drain a generation and return its final event."""
    last = None
    for event in events:
        last = event
    if not isinstance(last, FinishedEvent):
        raise RuntimeError("generation ended without a result")
    return last
