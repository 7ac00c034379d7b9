"""The job that makes a generated clip's video again with another seed. Qt-free.

A new video is its recorded request again. A continuation or a bridge plays on from another video's last frame, so
it is made again from the clip it now plays on from (a bridge also toward the clip after it): without those, the
request alone would make an unrelated video.
"""

from __future__ import annotations

from pathlib import Path

from desktop.project.model import Clip, Project
from engine.api.jobs import JobSpec
from engine.api.records import GenerationRecord
from engine.media.layout import find_bits


def remake(record: GenerationRecord, output: Path, seed: int) -> JobSpec:
    """The job that made a new video again (same model, prompts, length and settings), with `seed`."""
    settings, prompts = record.settings, record.prompts
    storyboard = len(set(prompts)) > 1
    return JobSpec(
        kind="storyboard" if storyboard else "generate", model=record.model, output=str(output),
        prompts=prompts if storyboard else prompts[:1], seconds=settings.seconds, seed=seed,
        precision=record.precision, aspect=str(settings.aspect_h_over_w) if settings.aspect_h_over_w else None,
        guidance_scale=settings.guidance_scale, tau_image=settings.tau_image, tau_video=settings.tau_video,
    )


def clip_before(project: Project, clip: Clip) -> Clip | None:
    """The clip ending where `clip` starts, on its track."""
    track, _ = project.find_clip(clip.id)
    return next((c for c in track.clips if c.end == clip.start), None)


def clip_after(project: Project, clip: Clip) -> Clip | None:
    """The clip starting where `clip` ends, on its track."""
    track, _ = project.find_clip(clip.id)
    return next((c for c in track.clips if c.start == clip.end), None)


def make_again(project: Project, clip: Clip, record: GenerationRecord, output: Path, seed: int) -> JobSpec | None:
    """The job that makes `clip`'s video again with `seed`; None for a continuation or a bridge whose neighbours it
    plays on from (with their bits) or heads for are no longer beside it."""
    inputs = record.inputs
    kind = inputs.kind
    if not inputs.plays_on:
        return remake(record, output, seed)
    before = clip_before(project, clip)
    bits = find_bits(project.media_of(before).path) if before is not None else None
    after = clip_after(project, clip) if kind == "bridge" else None
    if bits is None or (kind == "bridge" and after is None):
        return None
    prompts = inputs.prompts
    fade = None
    if after is not None:
        fade = inputs.crossfade_frames / (project.media_of(clip).fps or project.fps)
    return JobSpec(
        kind=kind, model=record.model, output=str(output), prompts=prompts if len(set(prompts)) > 1 else prompts[:1],
        seconds=record.settings.seconds, seed=seed, precision=record.precision,
        continue_from=str(bits), bridge_to=str(project.media_of(after).path) if after is not None else None,
        crossfade_seconds=fade,
    )
