"""Self-test of the schedule and transformer against a recorded run of the official code."""

from __future__ import annotations

import statistics
import time

import torch

from engine.model.rope import grid_positions
from engine.model.transformer import InfinityStarTransformer
from engine.sampler import ClipEvent, Guidance, PassEvent, generate, run_to_end
from engine.schedule import Pass, Schedule, build_clips_schedule
from engine.selftest.fixture import Fixture, FixtureError
from engine.tensors.errors import CheckpointError
from engine.weights.transformer_checkpoint import load_transformer


def fixture_schedule(fixture: Fixture) -> Schedule:
    """Our schedule for the fixture's clips: clip lengths as recorded, not derived from a duration."""
    try:
        return build_clips_schedule(fixture.schedule_config(), fixture.clip_lengths(), fixture.aspect())
    except ValueError as err:
        raise FixtureError(f"{fixture.root / 'fixture.json'}: {err}") from None


def pass_record(schedule: Schedule, p: Pass, text_maxlen: int) -> dict:
    """Pass `p` as a fixture's "passes" list records it (the fields the self-test compares)."""
    _, full_h, full_w = schedule.latent_shape
    return {
        "pass_index": p.index,
        "clip": p.clip,
        "scale_in_clip": p.scale_in_clip,
        "rep": p.rep,
        "t": p.t,
        "h": p.h,
        "w": p.w,
        "tau": p.tau,
        "head": "semantic_head2" if p.semantic else "head",
        "attends_to": {"earlier_passes": list(schedule.visible_passes(p.index))},
        "rope": {
            "scale_pos": text_maxlen + p.index,
            "frame_pos": list(range(p.frame_start, p.frame_start + p.t)),
            "h_pos": grid_positions(p.h, full_h).int().tolist(),
            "w_pos": grid_positions(p.w, full_w).int().tolist(),
        },
    }


def _flat(record: dict) -> dict:
    return {**record, **record["rope"], "earlier_passes": record["attends_to"]["earlier_passes"]}


def schedule_mismatches(fixture: Fixture, schedule: Schedule) -> list[str]:
    """Every way our pass list differs from the recorded one (sizes, taus, heads, visibility, RoPE)."""
    recorded = fixture.field("passes")
    text_maxlen = fixture.field("architecture", "text_maxlen")
    if len(recorded) != len(schedule.passes):
        return [f"{len(schedule.passes)} passes, the fixture has {len(recorded)}"]
    problems = []
    for want, p in zip(recorded, schedule.passes, strict=True):
        ours, theirs = _flat(pass_record(schedule, p, text_maxlen)), _flat(want)
        for key, value in ours.items():
            if key not in ("rope", "attends_to") and theirs[key] != value:
                problems.append(f"pass {p.index} {key}: ours {value}, fixture {theirs[key]}")
    return problems


def load_fixture_model(fixture: Fixture, device: str) -> InfinityStarTransformer:
    """The official code's weights through the studio's own checkpoint loader, in float32 as recorded."""
    try:
        return load_transformer(fixture.root / "transformer.safetensors", fixture.transformer_config(),
                                torch.float32, device)
    except CheckpointError as err:
        raise FixtureError(str(err)) from None


def check_transformer(fixture: Fixture, model: InfinityStarTransformer, schedule: Schedule) -> dict[str, float]:
    """Teacher-force the recorded bits pass by pass; worst max-abs error of the logits and the final sum."""
    device = model.word_embed.weight.device
    guidance = Guidance.from_schedule(fixture.schedule_config())
    events = generate(
        model, schedule, fixture.text_features(), guidance, forced=fixture.pass_bits(), return_logits=True
    )
    worst = {"transformer.logits_cond": 0.0, "transformer.logits_uncond": 0.0}
    clips = []
    for event in events:
        if isinstance(event, PassEvent):
            want = fixture.pass_logits(event.index).to(device)
            frames = fixture.logits_frames(event.index)
            ours = kept_logits(event.logits, schedule.passes[event.index], frames)
            if ours.shape != want.shape:
                where = "" if frames is None else f" on latent frames {frames}"
                raise FixtureError(f"pass{event.index:03d}.logits is {list(want.shape)}; ours{where} are "
                                   f"{list(ours.shape)}")
            err = (ours - want).abs().amax(dim=(1, 2))
            worst["transformer.logits_cond"] = max(worst["transformer.logits_cond"], err[0].item())
            worst["transformer.logits_uncond"] = max(worst["transformer.logits_uncond"], err[1].item())
        elif isinstance(event, ClipEvent):
            clips.append(event.latent)
    summed = fixture.io["summed_codes"].to(device)
    worst["transformer.summed_codes"] = (torch.cat(clips, dim=2) - summed).abs().max().item()
    return worst


def kept_logits(logits: torch.Tensor, p: Pass, frames: list[int] | None) -> torch.Tensor:
    """The tokens of `frames` (latent frames local to pass `p`, in the order given) of logits [rows, t*h*w, V]:
    what a fixture stores for a pass whose logits it cropped. All of them when `frames` is None."""
    if frames is None:
        return logits
    if any(not 0 <= f < p.t for f in frames):
        raise FixtureError(f"pass{p.index:03d}.logits_frames {frames} lie outside the pass's {p.t} latent frames")
    by_frame = logits.unflatten(1, (p.t, p.h * p.w))
    return by_frame[:, frames].flatten(1, 2)


def time_sampling(fixture: Fixture, model: InfinityStarTransformer, schedule: Schedule, runs: int = 3) -> float:
    """Median seconds of one full guided sampling run (after one warm-up run)."""
    guidance = Guidance.from_schedule(fixture.schedule_config())
    text = fixture.text_features()
    seconds = []
    for i in range(runs + 1):
        start = time.perf_counter()
        run_to_end(generate(model, schedule, text, guidance, seed=i))
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds[1:])
