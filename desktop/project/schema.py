"""The JSON layout of a project file: Project to plain data and back, every field checked on the way in and named by
its path (`tracks[1].clips[0].length`), and the migrations that bring older layouts up to SCHEMA_VERSION."""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import asdict
from itertools import pairwise
from pathlib import Path
from typing import Any, get_args

from desktop.project.grade import RANGES as GRADE_RANGES
from desktop.project.grade import Grade
from desktop.project.model import Clip, MediaItem, MediaKind, Project, Track, TrackKind
from desktop.project.rules import (
    MAX_MARKER_NAME,
    MAX_PROJECT_FPS,
    MAX_SAMPLE_RATE,
    MIN_SAMPLE_RATE,
    ClipProblem,
    check_clip,
    frame_side_problem,
    max_timeline_frames,
)
from desktop.project.title import ALIGNMENTS, COLOURS, NUMBERS, Title, TitleProblem
from desktop.project.transform import MODES, RANGES, Transform

SCHEMA_VERSION = 5
MAX_FPS = 1000  # of a media file (a high-speed camera's); the project's own is at most MAX_PROJECT_FPS
MAX_SECONDS = 1e9  # keeps duration × fps a finite number of frames, whatever a hand-edited file says


class FieldError(ValueError):
    """A problem in the data at `field` (a path such as `tracks[1].clips[0].length`; None for the whole file)."""

    def __init__(self, field: str | None, problem: str) -> None:
        super().__init__(f"{field}: {problem}" if field else problem)
        self.field = field
        self.problem = problem


_REQUIRED: Any = object()


def _describe(value: Any) -> str:
    shown = repr(value)
    return shown if len(shown) <= 40 else shown[:37] + "..."


def _finite(value: float) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer too large for a float
        return False


class _Fields:
    """A JSON object being read, which knows where it sits in the file so that errors can say."""

    def __init__(self, value: Any, where: str) -> None:
        if not isinstance(value, dict):
            raise FieldError(where or None, f"should be an object, not {_describe(value)}")
        self.value = value
        self.where = where

    def path(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def get(self, key: str, default: Any = _REQUIRED) -> Any:
        if key in self.value:
            return self.value[key]
        if default is _REQUIRED:
            raise FieldError(self.path(key), "is missing")
        return default

    def integer(
        self, key: str, minimum: int | None = None, maximum: int | None = None, default: Any = _REQUIRED
    ) -> int:
        value = self.get(key, default)
        if type(value) is not int:
            raise FieldError(self.path(key), f"should be a whole number, not {_describe(value)}")
        self._check_range(key, value, minimum, maximum)
        return value

    def number(
        self, key: str, minimum: float | None = None, maximum: float | None = None, default: Any = _REQUIRED
    ) -> float:
        value = self.get(key, default)
        if type(value) not in (int, float) or not _finite(value):
            raise FieldError(self.path(key), f"should be a number, not {_describe(value)}")
        self._check_range(key, value, minimum, maximum)
        return value

    def _check_range(self, key: str, value: float, minimum: float | None, maximum: float | None) -> None:
        if minimum is not None and value < minimum:
            raise FieldError(self.path(key), f"should be at least {minimum}, not {value}")
        if maximum is not None and value > maximum:
            raise FieldError(self.path(key), f"should be at most {maximum}, not {value}")

    def frame_side(self, key: str) -> int:
        value = self.integer(key)
        problem = frame_side_problem(value)
        if problem:
            raise FieldError(self.path(key), problem)
        return value

    def text(self, key: str, empty_ok: bool = False) -> str:
        value = self.get(key)
        if not isinstance(value, str) or not (value or empty_ok):
            raise FieldError(self.path(key), f"should be a non-empty string, not {_describe(value)}")
        return value

    def flag(self, key: str, default: bool) -> bool:
        value = self.get(key, default)
        if not isinstance(value, bool):
            raise FieldError(self.path(key), f"should be true or false, not {_describe(value)}")
        return value

    def choice(self, key: str, options: tuple[str, ...]) -> Any:
        value = self.get(key)
        if value not in options:
            raise FieldError(self.path(key), f"should be one of {', '.join(options)}, not {_describe(value)}")
        return value

    def objects(self, key: str) -> list[_Fields]:
        value = self.get(key)
        if not isinstance(value, list):
            raise FieldError(self.path(key), f"should be a list, not {_describe(value)}")
        return [_Fields(item, f"{self.path(key)}[{i}]") for i, item in enumerate(value)]


def _v0_seconds_to_frames(data: dict[str, Any]) -> dict[str, Any]:
    """Pre-release files (schema 0) kept clip times in seconds; schema 1 keeps whole frames at the project fps. Clip
    ends are rounded rather than lengths, so clips that touched still touch."""
    top = _Fields(data, "")
    fps = top.integer("fps", 1, MAX_PROJECT_FPS)
    for track in top.objects("tracks"):
        for clip in track.objects("clips"):
            start = clip.number("start", 0, MAX_SECONDS)
            end = start + clip.number("length", 0, MAX_SECONDS)
            clip.value["start"], clip.value["length"] = round(start * fps), round(end * fps) - round(start * fps)
            clip.value["source_in"] = round(clip.number("source_in", 0, MAX_SECONDS, default=0) * fps)
    data["schema"] = 1
    return data


def _v1_placed_clips(data: dict[str, Any]) -> dict[str, Any]:
    """Schema 2 adds what a schema 1 file cannot hold, each with a default that leaves the file as it was: clip
    transforms, smooth motion, fades and dissolves, and title media. The number changes so that a build reading only
    schema 1 refuses a file that uses them instead of dropping them unseen."""
    data["schema"] = 2
    return data


def _v2_wrapped_titles(data: dict[str, Any]) -> dict[str, Any]:
    """Schema 3 titles wrap at `wrap_width`; a schema 2 title has none and takes a new title's, the title-safe width
    (its long lines, which ran off the frame, now wrap). The number changes so that a build without wrapping
    refuses a file whose titles wrap instead of laying them out on one line."""
    data["schema"] = 3
    return data


def _v3_markers(data: dict[str, Any]) -> dict[str, Any]:
    """Schema 4 projects keep the timeline's markers; a schema 3 one has none. The number changes so that a build
    without markers refuses a file that has some instead of dropping them when it saves."""
    data["schema"] = 4
    data["markers"] = []
    return data


def _v4_clip_speed(data: dict[str, Any]) -> dict[str, Any]:
    """Schema 5 clips have a speed (and at another speed than 1 a media position between frames, and whether their
    sound keeps its pitch), a direction, volume keys, a colour grade and links, audio tracks may be ducked and
    markers named; a schema 4 clip plays forwards at speed 1, at a level volume, ungraded and unlinked, on a track
    that is not, and its markers have no names. The number changes so that a build without them refuses such a file
    instead of dropping them when it saves."""
    data["schema"] = 5
    return data


MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {
    0: _v0_seconds_to_frames, 1: _v1_placed_clips, 2: _v2_wrapped_titles, 3: _v3_markers, 4: _v4_clip_speed,
}


def upgrade(data: Any) -> dict[str, Any]:
    """The file's data in the current layout, migrated one schema version at a time."""
    if not isinstance(data, dict) or "schema" not in data:
        raise FieldError(None, 'is not an InfinityStar Studio project (it has no "schema" version)')
    version = _Fields(data, "").integer("schema", 0)
    if version > SCHEMA_VERSION:
        raise FieldError(
            None, f"made by a newer version of the studio (schema {version}); this build reads up to {SCHEMA_VERSION}"
        )
    for old in range(version, SCHEMA_VERSION):
        data = MIGRATIONS[old](data)
    return data


def _stored_path(path: Path, folder: Path) -> str:
    """Relative to the project's folder when the media lies inside it, so the folder can move as a whole; media kept
    elsewhere (a shared footage drive) stays absolute, so it is still found when the project alone moves."""
    absolute = Path(os.path.normpath(os.path.abspath(path)))
    base = Path(os.path.normpath(os.path.abspath(folder)))
    if absolute.is_relative_to(base):
        return absolute.relative_to(base).as_posix()
    return str(absolute)


def project_to_json(project: Project, folder: Path) -> dict[str, Any]:
    """The file's data, with media paths stored as seen from `folder` (where the file goes)."""
    media = [asdict(m) | {"path": _stored_path(m.path, folder) if m.on_disk else m.path.as_posix()}
             for m in project.media.values()]
    return {
        "schema": SCHEMA_VERSION,
        "fps": project.fps,
        "width": project.width,
        "height": project.height,
        "sample_rate": project.sample_rate,
        "media": media,
        "tracks": [asdict(t) for t in project.tracks],
        "markers": list(project.markers),
        "marker_names": {str(frame): name for frame, name in sorted(project.marker_names.items())},
    }


def _optional(fields: _Fields, key: str, read: Callable[..., Any], *limits: Any) -> Any:
    return None if fields.get(key, None) is None else read(key, *limits)


def _media_from_json(fields: _Fields, folder: Path) -> MediaItem:
    provenance = fields.get("provenance", None)
    if provenance is not None and not isinstance(provenance, dict):
        raise FieldError(fields.path("provenance"), f"should be an object or null, not {_describe(provenance)}")
    kind = fields.choice("kind", get_args(MediaKind))
    title = _title_from_json(fields) if kind == "title" else None
    return MediaItem(
        id=fields.text("id"),
        path=Path(fields.text("path")) if title is not None else Path(os.path.normpath(folder / fields.text("path"))),
        kind=kind,
        duration=fields.number("duration", 0, MAX_SECONDS),
        fps=_optional(fields, "fps", fields.number, 0, MAX_FPS),
        width=_optional(fields, "width", fields.integer, 1),
        height=_optional(fields, "height", fields.integer, 1),
        has_audio=fields.flag("has_audio", False),
        provenance=provenance,
        title=title,
    )


def _title_from_json(media: _Fields) -> Title:
    """A title media item's Title: every field that is there checked, the others as a new title's."""
    fields = _Fields(media.get("title"), media.path("title"))
    default = Title()
    values = {name: fields.number(name, low, high, default=getattr(default, name)) for name, (low, high) in
              NUMBERS.items()}
    values |= {name: fields.flag(name, getattr(default, name)) for name in ("bold", "box")}
    for name in ("text", "font", *COLOURS):
        if name in fields.value:
            values[name] = fields.text(name)
    if "align" in fields.value:
        values["align"] = fields.choice("align", ALIGNMENTS)
    title = Title(**values)
    try:
        title.check()
    except TitleProblem as problem:
        raise FieldError(fields.path(problem.field), str(problem)) from None
    return title


def _clip_from_json(fields: _Fields) -> Clip:
    return Clip(
        id=fields.text("id"),
        media_id=fields.text("media_id"),
        start=fields.integer("start"),
        length=fields.integer("length"),
        source_in=fields.number("source_in", 0, default=0),
        gain=fields.number("gain", default=1.0),
        transform=_transform_from_json(fields),
        smooth_motion=fields.flag("smooth_motion", False),
        fade_in=fields.integer("fade_in", 0, default=0),
        fade_out=fields.integer("fade_out", 0, default=0),
        dissolve_in=fields.integer("dissolve_in", 0, default=0),
        speed=fields.number("speed", default=1.0),
        keep_pitch=fields.flag("keep_pitch", True),
        reverse=fields.flag("reverse", False),
        grade=_grade_from_json(fields),
        volume=_volume_from_json(fields),
        link=fields.text("link", empty_ok=True) if "link" in fields.value else "",
    )


def _volume_from_json(clip: _Fields) -> tuple[tuple[int, float], ...]:
    """The clip's volume keys, [frame, level] pairs; the rules check their frames and levels."""
    keys = clip.get("volume", [])
    pairs = (list, tuple)  # tuples where the data did not go through JSON text
    if not isinstance(keys, pairs) or not all(isinstance(k, pairs) and len(k) == 2 for k in keys):
        raise FieldError(clip.path("volume"), f"should be a list of [frame, level] pairs, not {_describe(keys)}")
    return tuple((frame, level) for frame, level in keys)


def _grade_from_json(clip: _Fields) -> Grade:
    """The clip's grade; a clip without one shows its picture as it is."""
    if clip.get("grade", None) is None:
        return Grade()
    fields = _Fields(clip.get("grade"), clip.path("grade"))
    return Grade(**{name: fields.number(name, default=getattr(Grade(), name)) for name in GRADE_RANGES})


def _transform_from_json(clip: _Fields) -> Transform:
    """The clip's transform; a clip without one is fitted into the frame, the default placement."""
    if clip.get("transform", None) is None:
        return Transform()
    fields = _Fields(clip.get("transform"), clip.path("transform"))
    default = Transform()
    mode = fields.choice("mode", MODES) if "mode" in fields.value else default.mode
    numbers = {name: fields.number(name, low, high, default=getattr(default, name)) for name, (low, high) in
               RANGES.items()}
    return Transform(mode, **numbers)


def _track_from_json(fields: _Fields, project: Project, clip_ids: set[str]) -> Track:
    track = Track(
        id=fields.text("id"),
        kind=fields.choice("kind", get_args(TrackKind)),
        name=fields.text("name", empty_ok=True),
        muted=fields.flag("muted", False),
        locked=fields.flag("locked", False),
        ducked=fields.flag("ducked", False),
    )
    if track.ducked and track.kind != "audio":
        raise FieldError(fields.path("ducked"), "only an audio track is lowered under the others, not a video track")
    placed: list[tuple[_Fields, Clip]] = []
    for clip_fields in fields.objects("clips"):
        clip = _clip_from_json(clip_fields)
        if clip.id in clip_ids:
            raise FieldError(clip_fields.path("id"), f"another clip already has id {clip.id!r}")
        clip_ids.add(clip.id)
        try:
            check_clip(project, track, clip)
        except ClipProblem as e:
            raise FieldError(clip_fields.path(e.field), str(e)) from None
        placed.append((clip_fields, clip))
    placed.sort(key=lambda pair: pair[1].start)
    for (_, before), (clip_fields, clip) in pairwise(placed):
        if clip.start < before.end:
            raise FieldError(
                clip_fields.path("start"),
                f"overlaps clip {before.id} (frames {before.start}..{before.end}) on {track.name}",
            )
    track.clips = [clip for _, clip in placed]
    return track


def project_from_json(data: dict[str, Any], folder: Path) -> Project:
    """The project in current-layout `data`, media paths resolved against `folder`; FieldError names what is wrong."""
    top = _Fields(data, "")
    project = Project(
        fps=top.integer("fps", 1, MAX_PROJECT_FPS),
        width=top.frame_side("width"),
        height=top.frame_side("height"),
        sample_rate=top.integer("sample_rate", MIN_SAMPLE_RATE, MAX_SAMPLE_RATE),
    )
    for fields in top.objects("media"):
        item = _media_from_json(fields, folder)
        if item.id in project.media:
            raise FieldError(fields.path("id"), f"another media item already has id {item.id!r}")
        project.media[item.id] = item
    track_ids: set[str] = set()
    clip_ids: set[str] = set()
    for fields in top.objects("tracks"):
        track = _track_from_json(fields, project, clip_ids)
        if track.id in track_ids:
            raise FieldError(fields.path("id"), f"another track already has id {track.id!r}")
        track_ids.add(track.id)
        project.tracks.append(track)
    project.markers = _markers_from_json(top, max_timeline_frames(project.fps))
    project.marker_names = _marker_names_from_json(top, project.markers)
    return project


def _marker_names_from_json(top: _Fields, markers: list[int]) -> dict[int, str]:
    """The names of markers, by frame: each of a marker there, one line of at most MAX_MARKER_NAME characters."""
    names = _Fields(top.get("marker_names", {}), top.path("marker_names"))
    read = {}
    for key in names.value:
        name = names.text(key)
        if not key.isdigit() or int(key) not in markers:
            raise FieldError(names.path(key), "names no marker: its key should be the frame of one")
        if len(name) > MAX_MARKER_NAME or "\n" in name:
            raise FieldError(names.path(key), f"should be one line of at most {MAX_MARKER_NAME} characters")
        read[int(key)] = name
    return read


def _markers_from_json(top: _Fields, limit: int) -> list[int]:
    markers = top.get("markers")
    if not isinstance(markers, list):
        raise FieldError(top.path("markers"), f"should be a list of frames, not {_describe(markers)}")
    frames = _Fields({f"markers[{i}]": frame for i, frame in enumerate(markers)}, "")
    read = [frames.integer(f"markers[{i}]", 0, limit) for i in range(len(markers))]
    if len(set(read)) != len(read):
        twice = next(frame for frame in read if read.count(frame) > 1)
        raise FieldError(top.path("markers"), f"marks frame {twice} twice")
    return sorted(read)
