"""Where each prompt of a storyboard falls on the timeline: the model clips of a generated clip (from its provenance)
and those the generate panel would make at the playhead.

The boundaries are the engine's own: its schedule gives the latent frames of every clip (engine.schedule, no torch),
and the decoded video has one frame for the first frame's latent and `time_factor` for each later one, the first
frame then shown twice (engine.pipeline.frames). So the first video clip of a new video has one frame more than the
others: a 3 s toyworld video is 49 frames, its clips start at frames 0, 17 and 33. A continuation or a bridge has
no first frame of its own: its clips are all the same length, a 3 s toyworld continuation's start at 0, 16 and 32.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from desktop.generate.actions import generation_of
from desktop.generate.panel import GeneratePanel
from desktop.generate.remake import PLAYS_ON
from desktop.project.model import Clip, MediaItem, Project
from desktop.timeline.storyboard_lane import Segment
from engine.config import ConfigError, get_preset
from engine.schedule import video_clip_lengths


def clip_times(preset_name: Any, seconds: Any, first_frame: bool = True) -> list[float] | None:
    """Seconds into a `seconds` long video of the preset where each video clip starts, then where the video ends
    (`first_frame`: a new video's, which comes before its first clip); None for a preset or length the engine does
    not know (an image: just [0.0])."""
    try:
        preset = get_preset(str(preset_name))
        lengths = video_clip_lengths(seconds, preset.schedule)
    except ConfigError:
        return None
    frames, starts = int(first_frame), [0]
    for latents in lengths:
        frames += latents * preset.vae.time_factor
        starts.append(frames)
    return [frame / preset.schedule.fps for frame in starts]


def _video_start(media: MediaItem) -> float:
    """Where the generated video starts in the file, in seconds: 0, or for an exported file of one generated clip,
    where that clip's first frame would be."""
    clips = media.provenance.get("clips") if isinstance(media.provenance, dict) else None
    if not isinstance(clips, list) or len(clips) != 1 or not isinstance(clips[0], dict):
        return 0.0
    return float(clips[0].get("start_s", 0)) - float(clips[0].get("source_in_s", 0))


def video_origin(project: Project, clip: Clip) -> int:
    """The timeline frame where the generated video `clip` shows starts (before the clip when trimmed off)."""
    return clip.start - clip.source_in + round(_video_start(project.media_of(clip)) * project.fps)


def _spans(start: int, times: list[float], fps: int, prompts: list[str], clip_id: str | None) -> list[Segment]:
    edges = [start + round(t * fps) for t in times]
    return [Segment(a, b, prompt, i, clip_id, cut=i > 0) for i, (prompt, a, b)
            in enumerate(zip(prompts, edges, edges[1:], strict=False))]


def clip_segments(project: Project, clip: Clip) -> list[Segment]:
    """The model clips of a generated clip, cut to the part of its video the clip shows (a stopped job's video holds
    its first clips only); [] for other clips."""
    media = project.media_of(clip)
    provenance = generation_of(media)
    if provenance is None:
        return []
    inputs = provenance.get("inputs", {})
    prompts = inputs.get("prompts")
    times = clip_times(provenance.get("preset"), provenance["settings"].get("seconds"),
                       first_frame=inputs.get("kind") not in PLAYS_ON)
    if not prompts or times is None or len(prompts) != len(times) - 1:
        return []
    return [replace(s, start=max(s.start, clip.start), end=min(s.end, clip.end), cut=s.cut and s.start >= clip.start)
            for s in _spans(video_origin(project, clip), times, project.fps, [str(p) for p in prompts], clip.id)
            if s.start < clip.end and s.end > clip.start]


def project_segments(project: Project) -> list[Segment]:
    """Every generated clip's segments, the upper video tracks' last so they are drawn on top, as they are seen. The
    live clips of a running job are not the project's (desktop.project.live), so they have none."""
    return [s for track in reversed(project.tracks) if track.kind == "video"
            for clip in track.clips for s in clip_segments(project, clip)]


def planned_segments(panel: GeneratePanel, start: int, fps: int) -> list[Segment]:
    """The storyboard the panel would make at timeline frame `start`, one segment per board prompt (empty ones
    too); [] when the panel is not making a storyboard."""
    model = panel.models.get(panel.model.currentData())
    if panel.mode_key != "storyboard" or model is None:
        return []
    times = clip_times(model.get("preset"), panel.duration.value())
    prompts = list(panel.board.prompts())
    if times is None or len(prompts) != len(times) - 1:
        return []
    return _spans(start, times, fps, prompts, None)
