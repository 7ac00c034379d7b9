"""What made a media file, in words a person reads: the model, the request, each clip's prompt and the files it
started from; for an exported timeline, each generated clip with where it sits. The raw record follows, for
whoever needs the exact values."""

from __future__ import annotations

import json
from typing import Any

from engine.api.records import ExportedClip, GenerationRecord, read_provenance

KIND_TEXT = {"generate": "made from a prompt", "storyboard": "a storyboard, one prompt per clip",
             "continue": "continues another video", "bridge": "bridges two videos"}


def _short(sha256: str | None) -> str:
    return f"file {sha256[:12]}…" if sha256 else ""


def generation_lines(record: GenerationRecord, indent: str = "") -> list[str]:
    """The record as lines of text: model, request, prompts, starting files, engine."""
    settings, inputs = record.settings, record.inputs
    kind = KIND_TEXT.get(inputs.kind, inputs.kind)
    video = "an image" if settings.seconds == 0 else f"{settings.seconds} s of video"
    lines = [f"{video}, {kind}",
             f"Model: {record.model} at {record.precision} (preset {record.preset})",
             f"Seed: {settings.seed}"]
    tuning = [f"{name} {value:g}" for name, value in (("guidance scale", settings.guidance_scale),
                                                       ("temperature of the first frame", settings.tau_image),
                                                       ("temperature of the clips", settings.tau_video))
              if value is not None]
    if settings.resolution:
        tuning.insert(0, f"resolution {settings.resolution}")
    if tuning:
        lines.append("Settings: " + ", ".join(tuning))
    prompts = inputs.prompts or settings.prompts
    if len(set(prompts)) == 1:
        lines.append(f"Prompt: {prompts[0]}")
    elif prompts:
        lines.append("Prompts, clip by clip:")
        lines += [f"  {i}. {prompt}" for i, prompt in enumerate(prompts, 1)]
    continued = _short(inputs.continued_from_sha256)
    if continued and inputs.continued_from_clip is not None:
        continued += f", after its clip {inputs.continued_from_clip}"
    lines += [f"{what}: {value}" for what, value in (
        ("First frame", _short(inputs.first_frame_sha256)),
        ("Continued from", continued),
        ("Bridged toward", _short(inputs.bridge_to_sha256)),
        ("Text features", _short(inputs.text_features_sha256))) if value]
    if inputs.crossfade_frames:
        lines.append(f"Fades into the next video over its last {inputs.crossfade_frames} frames")
    lines.append(f"Made by {record.app}, engine {record.engine_version}")
    return [indent + line for line in lines]


def _clip_lines(clip: ExportedClip) -> list[str]:
    where = f"{clip.start_s:.2f} s to {clip.end_s:.2f} s on {clip.track}: {clip.file}"
    return [where, *generation_lines(clip.record, "    ")]


def provenance_text(provenance: dict[str, Any]) -> str:
    """The readable account of `provenance`, then the raw record."""
    found = read_provenance(provenance)
    raw = json.dumps(provenance, indent=2, sort_keys=True)
    if found is None:
        return "This record is not one the studio can read; here it is as stored:\n\n" + raw
    if found.generation is not None:
        lines = generation_lines(found.generation)
    else:
        lines = [f"An exported timeline with {len(found.clips)} generated clip(s):", ""]
        for clip in found.clips:
            lines += [*_clip_lines(clip), ""]
    return "\n".join(lines).rstrip() + "\n\nThe record as stored:\n" + raw
