"""Where each prompt of a storyboard falls on the timeline: the model clips of a generated clip (from its generation
record) and those the generate panel would make at the playhead.

The boundaries are the engine's own: the model info it lists gives each model's clip times (ModelInfo.clip_times).
The first video clip of a new video has one frame more than the others (its first frame): a 3 s toyworld video is
49 frames, its clips start at frames 0, 17 and 33. A continuation or a bridge has no first frame of its own: its
clips are all the same length, a 3 s toyworld continuation's start at 0, 16 and 32.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from desktop.generate.panel import GeneratePanel
from desktop.project.model import Clip, Project
from desktop.timeline.storyboard_lane import Segment
from engine.api.records import ModelInfo, RecordError


def video_origin(project: Project, clip: Clip) -> int:
    """The timeline frame where the generated video `clip` shows starts (before the clip when trimmed off)."""
    return clip.start + round((project.media_of(clip).video_start * project.fps - clip.source_in) / clip.speed)


def _spans(start: int, times: list[float], fps: float, prompts: list[str], clip_id: str | None) -> list[Segment]:
    """Segments from timeline frame `start`, one per prompt, between the video times `times` at `fps` timeline frames
    a second of video."""
    edges = [start + round(t * fps) for t in times]
    return [Segment(a, b, prompt, i, clip_id, cut=i > 0) for i, (prompt, a, b)
            in enumerate(zip(prompts, edges, edges[1:], strict=False))]


def _times(model: ModelInfo | None, seconds: int, first_frame: bool = True) -> list[float] | None:
    try:
        return model.clip_times(seconds, first_frame) if model is not None else None
    except RecordError:
        return None


def clip_segments(project: Project, clip: Clip, models: Mapping[str, ModelInfo]) -> list[Segment]:
    """The model clips of a generated clip, cut to the part of its video the clip shows (a stopped job's video holds
    its first clips only); [] for other clips, reversed ones and those of a model the engine does not list."""
    record = project.media_of(clip).generation
    if record is None or clip.reverse:  # a reversed clip's prompts run backwards: no segments to show in order
        return []
    prompts = record.prompts
    times = _times(models.get(record.model), record.settings.seconds, first_frame=not record.inputs.plays_on)
    if not prompts or times is None or len(prompts) != len(times) - 1:
        return []
    return [replace(s, start=max(s.start, clip.start), end=min(s.end, clip.end), cut=s.cut and s.start >= clip.start)
            for s in _spans(video_origin(project, clip), times, project.fps / clip.speed, [str(p) for p in prompts],
                            clip.id)
            if s.start < clip.end and s.end > clip.start]


def project_segments(project: Project, models: Mapping[str, ModelInfo]) -> list[Segment]:
    """Every generated clip's segments, the upper video tracks' last so they are drawn on top, as they are seen. The
    live clips of a running job are not the project's (desktop.project.live), so they have none."""
    return [s for track in reversed(project.tracks) if track.kind == "video"
            for clip in track.clips for s in clip_segments(project, clip, models)]


def planned_segments(panel: GeneratePanel, start: int, fps: int) -> list[Segment]:
    """The storyboard the panel would make at timeline frame `start`, one segment per board prompt (empty ones
    too); [] when the panel is not making a storyboard."""
    model = panel.models.get(panel.model.currentData())
    if panel.mode_key != "storyboard" or model is None:
        return []
    times = _times(model, panel.duration.value())
    prompts = list(panel.board.prompts())
    if times is None or len(prompts) != len(times) - 1:
        return []
    return _spans(start, times, fps, prompts, None)
