"""What an imported file holds, told by its content (never its extension): video, audio or a still image."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import av
import av.logging
from av.stream import Disposition

from desktop.media.errors import MediaImportError
from desktop.media.picture_header import picture_size
from desktop.project.model import MediaItem, new_id
from desktop.project.rules import picture_size_problem
from engine.api.json_text import loads_limited
from engine.api.records import read_provenance
from engine.media.errors import MediaError
from engine.media.image import read_rgb
from engine.media.mp4 import PROVENANCE_TAG

PROBE_PACKETS = 200  # enough for a decoder to output its first frame; a damaged stream is not read to the end


def probe_media(path: str | Path) -> MediaItem:
    """A new MediaItem for `path`; MediaImportError, naming the file and what was found, if it cannot be used."""
    path = Path(path).absolute()
    _refuse_a_picture_too_big(path)
    with _open(path) as container:
        if _is_image_reader(container.format.name):
            return _probe_image(path)
        video = next((s for s in container.streams.video if not s.disposition & Disposition.attached_pic), None)
        audio = next(iter(container.streams.audio), None)
        if video is None and audio is None:
            raise MediaImportError(f"{path.name} is not a video, audio or image file this build can read")
        decodable = _decodable(container, [s for s in (video, audio) if s is not None])
        has_audio = audio is not None and audio.index in decodable
        provenance = _provenance(container.metadata.get(PROVENANCE_TAG))
        if video is not None and video.index in decodable:
            fps = float(video.average_rate or video.guessed_rate or 0) or None
            duration = _seconds(video, container)
            return MediaItem(new_id(), path, "video", duration, fps, video.width, video.height, has_audio, provenance)
        if has_audio:
            return MediaItem(new_id(), path, "audio", _seconds(audio, container), has_audio=True, provenance=provenance)
    raise MediaImportError(f"{path.name} has no decodable video or audio stream")


def _refuse_a_picture_too_big(path: Path) -> None:
    """Refuse a picture beyond the project's limits from its header, before anything decodes it (opening a picture
    with FFmpeg decodes it)."""
    size = picture_size(path)
    problem = picture_size_problem(*size) if size is not None else None
    if problem is not None:
        raise MediaImportError(f"{path.name} {problem}")


def _open(path: Path) -> av.container.InputContainer:
    try:
        return av.open(str(path))
    except av.error.FFmpegError as err:
        if isinstance(err, OSError) and not isinstance(err, av.error.InvalidDataError):
            raise MediaImportError(f"{path.name} cannot be read: {err.strerror}") from None
        complaint = _reader_complaint(path)
    if complaint:
        raise MediaImportError(
            f"{path.name} has no decodable video or audio stream ({complaint}: the file is incomplete or damaged)"
        )
    raise MediaImportError(f"{path.name} is not a video, audio or image file this build can read")


def _reader_complaint(path: Path) -> str | None:
    """Why the reader FFmpeg chose for `path` gave up, or None when no reader recognised it at all.

    FFmpeg only logs it, so logging is switched on (for this thread's capture) while the file is opened again."""
    level = av.logging.get_level()
    av.logging.set_level(av.logging.ERROR)
    try:
        with av.logging.Capture() as logs, contextlib.suppress(av.error.FFmpegError):
            av.open(str(path)).close()
    finally:
        av.logging.set_level(level)
    return next((message.strip() for _, name, message in logs if name and name != "AVIOContext"), None)


def _is_image_reader(format_name: str) -> bool:
    """FFmpeg reads single image files with its image2 and *_pipe readers (png_pipe, jpeg_pipe, webp_pipe...)."""
    return format_name == "image2" or (format_name.endswith("_pipe") and format_name != "gif_pipe")


def _probe_image(path: Path) -> MediaItem:
    try:
        height, width = read_rgb(path).shape[:2]
    except MediaError:
        raise MediaImportError(f"{path.name} is an image this build cannot decode") from None
    return MediaItem(new_id(), path, "image", 0.0, width=width, height=height)


def _decodable(container: av.container.InputContainer, streams: list[av.stream.Stream]) -> set[int]:
    """Indexes of `streams` that decode to at least one frame within the first PROBE_PACKETS packets."""
    pending = {s.index for s in streams}
    found: set[int] = set()
    try:
        for count, packet in enumerate(container.demux(streams)):
            if count >= PROBE_PACKETS or not pending:
                break
            if packet.stream.index in pending:
                try:
                    frames = packet.decode()
                except av.error.FFmpegError:
                    continue
                if frames:
                    pending.discard(packet.stream.index)
                    found.add(packet.stream.index)
    except av.error.FFmpegError:
        pass  # a damaged file: what decoded before the damage counts
    return found


def _seconds(stream: av.stream.Stream, container: av.container.InputContainer) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    return container.duration / av.time_base if container.duration else 0.0


def _provenance(text: str | None) -> dict[str, Any] | None:
    """The JSON the engine stored in a generated file (an object), or an exported timeline's list of its generated
    clips, kept here as {"clips": [...]}; None for a comment that is not provenance (engine.api.records reads it)."""
    try:
        value = loads_limited(text, "its provenance") if text else None
    except json.JSONDecodeError:
        return None
    if read_provenance(value) is None:
        return None
    return {"clips": value} if isinstance(value, list) else value
