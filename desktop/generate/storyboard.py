"""Where each prompt of a storyboard falls on the timeline: the model clips of a generated clip (from its provenance)
and those the generate panel would make at the playhead.

The boundaries are the engine's own: its schedule gives the latent frames of every clip (engine.schedule, no torch),
and the decoded video has one frame for the first frame's latent and `time_factor` for each later one, the first
frame then shown twice (engine.pipeline.frames). So the first video clip has one frame more than the others: a 3 s
toyworld video is 49 frames, its clips start at frames 0, 17 and 33.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from desktop.generate.actions import generation_of
from desktop.generate.panel import GeneratePanel
from desktop.project.model import Clip, MediaItem, Project
from desktop.timeline.storyboard_lane import Segment
from engine.config import ConfigError, get_preset
from engine.schedule import clip_lengths


def clip_times(preset_name: Any, seconds: Any) -> list[float] | None:
    """Seconds into a `seconds` long video of the preset where each video clip starts, then where the video ends;
    None for a preset or length the engine does not know (an image: just [0.0])."""
    try:
        preset = get_preset(str(preset_name))
        lengths = clip_lengths(seconds, preset.schedule)
    except ConfigError:
        return None
    frames, starts = 1, [0]
    for latents in lengths[1:]:
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
    """The model clips of a generated clip, cut to the part of its video the clip shows; [] for other clips."""
    media = project.media_of(clip)
    provenance = generation_of(media)
    if provenance is None:
        return []
    prompts = provenance.get("inputs", {}).get("prompts")
    times = clip_times(provenance.get("preset"), provenance["settings"].get("seconds"))
    if not prompts or times is None or len(prompts) != len(times) - 1:
        return []
    if _video_start(media) + times[-1] > media.duration + 2 / project.fps:
        return []  # not the whole video: one clip of it shown while the job runs
    return [replace(s, start=max(s.start, clip.start), end=min(s.end, clip.end), cut=s.cut and s.start >= clip.start)
            for s in _spans(video_origin(project, clip), times, project.fps, [str(p) for p in prompts], clip.id)
            if s.start < clip.end and s.end > clip.start]


def project_segments(project: Project) -> list[Segment]:
    """Every generated clip's segments, the upper video tracks' last so they are drawn on top, as they are seen."""
    return [s for track in reversed(project.tracks) if track.kind == "video" for clip in track.clips
            for s in clip_segments(project, clip)]


def planned_segments(panel: GeneratePanel, start: int, fps: int) -> list[Segment]:
    """The storyboard the panel would make at timeline frame `start`, one segment per board prompt (empty ones
    too); [] when the panel is not making a storyboard."""
    model = panel.models.get(panel.model.currentData())
    if panel.mode_key != "storyboard" or model is None:
        return []
    times = clip_times(model.get("preset"), panel.duration.value())
    prompts = [edit.text().strip() for edit in panel.board_prompts]
    if times is None or len(prompts) != len(times) - 1:
        return []
    return _spans(start, times, fps, prompts, None)
