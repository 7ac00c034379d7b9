"""The timeline as a file: an MP4 (H.264 or H.265, yuv420p, + AAC) of its whole length or of a range of it, at the size,
rate and quality of its ExportSettings (desktop.media.export_settings), or one frame as a PNG."""

from __future__ import annotations

import json
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np

from desktop.media.audio import mix_samples
from desktop.media.export_settings import H265, ExportSettings, ExportSettingsError, source_frame
from desktop.media.frames import FrameCache, FramePool, MediaFrames
from desktop.media.render import TimelineRenderer
from desktop.project.model import Clip, Project, ProjectError
from engine.api.records import ExportedClip
from engine.atomic import atomic_writer
from engine.media.image import write_png
from engine.media.mp4 import PROVENANCE_TAG

EXPORT_CACHE_BYTES = 64 * 2**20  # export reads each file in order: the cache only serves stills and repeats
AHEAD = 4  # frames rendered on the worker thread while the encoder works


class ExportCancelled(Exception):
    """The export was cancelled; nothing was written."""


def export_video(
    project: Project,
    path: str | Path,
    settings: ExportSettings | None = None,
    progress: Callable[[float], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> None:
    """Write the timeline to `path` as `settings` say (None: the project's size and fps, H.264 at the default CRF);
    it appears only when complete (cancel or error: the old file, if any, stays). Settings that cannot be used
    raise ExportSettingsError before anything is written. `progress` gets the fraction done after each frame;
    `cancelled` is asked before each frame. The comment tag holds a JSON list of the generated clips' provenance.
    `project` is read throughout: export a copy if it may be edited meanwhile."""
    settings = settings if settings is not None else ExportSettings()
    settings.check()
    if project.duration == 0:
        raise ProjectError("the timeline is empty: there is nothing to export")
    if settings.span is not None and settings.span[0] >= project.duration:
        raise ExportSettingsError("range", f"starts at frame {settings.span[0]}, after the timeline's end (frame "
                                  f"{project.duration})")
    fps = settings.fps_for(project)
    output = settings.output_project(project)
    first, end = settings.output_span(project)
    renderer = TimelineRenderer(output, FrameCache(EXPORT_CACHE_BYTES))
    # keyed by the rendered project's frame, so a frame repeated at a higher output rate is rendered once
    pool = FramePool(lambda index: _yuv(renderer.frame(index)), ahead=AHEAD)
    rate = project.sample_rate
    try:
        with atomic_writer(path) as file, av.open(file, mode="w", format="mp4") as container:
            provenance = clips_provenance(project, settings.span)
            if provenance:
                container.metadata[PROVENANCE_TAG] = json.dumps(provenance, sort_keys=True)
            video = container.add_stream(settings.codec, rate=fps, options=settings.video_options())
            video.width, video.height = _even(output.width), _even(output.height)
            video.pix_fmt = "yuv420p"
            if settings.video_bitrate is not None:
                video.bit_rate = settings.video_bitrate
            if settings.codec == H265:
                video.codec_tag = "hvc1"  # the tag Apple's players need to play H.265 from an MP4
            sound = container.add_stream("aac", rate=rate, layout="stereo")
            sound.bit_rate = settings.audio_bitrate
            sound_start = round(first * rate / fps)
            for index in range(first, end):
                if cancelled is not None and cancelled():
                    raise ExportCancelled(f"the export to {Path(path).name} was cancelled")
                picture = pool.request(source_frame(output, fps, index), prefetch=True).result()
                picture.pts, picture.time_base = index - first, Fraction(1, fps)
                container.mux(video.encode(picture))
                start, stop = round(index * rate / fps), round((index + 1) * rate / fps)
                block = av.AudioFrame.from_ndarray(mix_samples(output, start, stop - start).T.copy(), "fltp", "stereo")
                block.pts, block.time_base, block.sample_rate = start - sound_start, Fraction(1, rate), rate
                container.mux(sound.encode(block))
                if progress is not None:
                    progress((index - first + 1) / (end - first))
            container.mux(video.encode(None))
            container.mux(sound.encode(None))
    finally:
        pool.close()
        renderer.close()


def export_still(project: Project, frame: int, path: str | Path) -> None:
    """Timeline frame `frame` at the project's size as a PNG, written atomically."""
    renderer = TimelineRenderer(project)
    try:
        write_png(path, renderer.frame(frame))
    finally:
        renderer.close()


def export_clip_picture(project: Project, clip: Clip, frame: int, path: str | Path) -> None:
    """The picture video clip `clip` shows at timeline `frame`, as its media has it (its own size, neither placed nor
    graded), as a PNG written atomically."""
    frames = MediaFrames(FrameCache())
    try:
        media = project.media_of(clip)
        write_png(path, frames.scaled(media, project.seconds(clip.shown_position(frame)), frames.source_size(media)))
    finally:
        frames.close()


def clips_provenance(project: Project, span: tuple[int, int] | None = None) -> list[dict[str, Any]]:
    """Where each generated clip of the unmuted tracks sits in the export of project frames `span` (None: the whole
    timeline) and what made it, in timeline order."""
    first, end = span if span is not None else (0, project.duration)
    entries = []
    for track in project.tracks:
        if track.muted:
            continue
        for clip in track.clips:
            media = project.media_of(clip)
            record = media.generation
            if record is not None and clip.start < end and clip.end > first:
                shown = max(clip.start, first)
                # measured from the generated video's start, which an exported file of one clip has inside it
                source_in = project.seconds(clip.shown_position(shown)) - media.video_start
                entries.append(ExportedClip(track.name, media.name, project.seconds(shown - first),
                                            project.seconds(min(clip.end, end) - first), source_in, record,
                                            -clip.speed if clip.reverse else clip.speed))
    return [entry.to_json() for entry in sorted(entries, key=lambda entry: entry.start_s)]


def _even(side: int) -> int:
    return side + side % 2


# Cb and Cr from RGB as swscale makes them for an untagged yuv420p stream (and decodes them back): BT.601, limited
# range (16-240 around 128)
_CHROMA = np.array([[-0.168736, -0.331264, 0.5, 128.0], [0.5, -0.418688, -0.081312, 128.0]], np.float32)
_CHROMA[:, :3] *= 224 / 255


def _yuv(rgb: np.ndarray) -> av.VideoFrame:
    """The frame as the encoder takes it, converted on the render thread rather than the encoding one. yuv420p
    needs even sides: an odd side is extended by repeating its last row or column.

    OpenCV does it in about a third of swscale's CPU time at 1080p, time the encoder can use, with swscale's
    BT.601 limited range. Its own 4:2:0 takes each chroma sample from one pixel of the four it stands for, which
    frays coloured edges, so the chroma comes from the mean of the four instead, as swscale's does."""
    pad_h, pad_w = rgb.shape[0] % 2, rgb.shape[1] % 2
    if pad_h or pad_w:
        rgb = np.pad(rgb, ((0, pad_h), (0, pad_w), (0, 0)), mode="edge")
    height, width = rgb.shape[:2]
    planes = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2YUV_I420)  # Y, then U and V each a quarter
    mean = cv2.resize(rgb, (width // 2, height // 2), interpolation=cv2.INTER_AREA)
    chroma = cv2.transform(mean, _CHROMA)
    planes[height:] = np.concatenate([chroma[..., 0].ravel(), chroma[..., 1].ravel()]).reshape(-1, width)
    return av.VideoFrame.from_ndarray(planes, format="yuv420p")
