"""Every edit of a project as an undoable command. `do` checks the whole edit before it changes anything, so a refused
edit (ProjectError) leaves the project as it was; `undo` puts the project back exactly (equal dataclasses, same order,
same ids). Which media goes on which track is `MediaItem.track_kind`: sound files on audio tracks, videos (with their
sound) and stills on video tracks.
"""

from __future__ import annotations

import bisect
import copy
import math
from abc import ABC, abstractmethod
from collections.abc import Collection, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal, get_args

from desktop.project.grade import Grade
from desktop.project.model import (
    FRAME_SLACK,
    Clip,
    MediaItem,
    MediaKind,
    Project,
    ProjectError,
    Track,
    TrackKind,
    new_id,
    whole_frames,
)
from desktop.project.rules import MAX_MARKER_NAME, MAX_PROJECT_FPS, check_clip, frame_side_problem
from desktop.project.title import LOWER_THIRD, TITLE_SECONDS, Title, TitleProblem
from desktop.project.transform import Transform
from desktop.project.transitions import dissolve_problem, dissolve_room, previous
from desktop.project.volume import cut, refit
from desktop.timecode import speed_text


class Command(ABC):
    """One undoable edit; `text` names it in the Edit menu. `undo` is valid right after `do`, or once every command
    done after it has been undone; `do` again after `undo` redoes it."""

    text: str

    @abstractmethod
    def do(self, project: Project) -> None: ...

    @abstractmethod
    def undo(self, project: Project) -> None: ...


def _unlocked(track: Track) -> Track:
    if track.locked:
        raise ProjectError(f"track {track.name} is locked")
    return track


def _editable_clip(project: Project, clip_id: str) -> tuple[Track, Clip]:
    track, clip = project.find_clip(clip_id)
    return _unlocked(track), clip


def _take(track: Track, clip_id: str) -> Clip:
    index = next(i for i, c in enumerate(track.clips) if c.id == clip_id)
    return track.clips.pop(index)


def _check_placement(project: Project, track: Track, clip: Clip) -> None:
    check_clip(project, track, clip)
    if not track.fits(clip.start, clip.length, ignore={clip.id}):
        raise ProjectError(f"frames {clip.start}..{clip.end} on {track.name} are taken by another clip")


def _continues(command: Command, later: Command, target: str) -> bool:
    """Whether `later` is the same kind of edit as `command`, of the same thing (attribute `target`: the clip's or
    the media's id), with the same merge key, not None: the next step of one drag or one run of typing."""
    key = command.merge_key
    return (key is not None and isinstance(later, type(command)) and getattr(later, target) == getattr(command, target)
            and later.merge_key == key)


class Macro(Command):
    """Several commands as one undo step; if one is refused, those already done are undone before the error rises."""

    def __init__(self, text: str, commands: Sequence[Command]) -> None:
        self.text = text
        self.commands = list(commands)

    def do(self, project: Project) -> None:
        done: list[Command] = []
        try:
            for command in self.commands:
                command.do(project)
                done.append(command)
        except ProjectError:
            for command in reversed(done):
                command.undo(project)
            raise

    def undo(self, project: Project) -> None:
        for command in reversed(self.commands):
            command.undo(project)


class AddTrack(Command):
    text = "Add track"

    def __init__(self, kind: TrackKind, name: str, index: int | None = None) -> None:
        """`index` None puts the track last. The id is made here so that a redo brings back the same track."""
        self.track = Track(new_id(), kind, name)
        self.index = index

    def do(self, project: Project) -> None:
        if self.track.kind not in get_args(TrackKind):
            raise ProjectError(f"there are no {self.track.kind!r} tracks, only video and audio")
        index = len(project.tracks) if self.index is None else self.index
        if not 0 <= index <= len(project.tracks):
            raise ProjectError(f"no place {index} among {len(project.tracks)} tracks")
        project.tracks.insert(index, copy.deepcopy(self.track))

    def undo(self, project: Project) -> None:
        project.tracks.remove(project.track(self.track.id))


class RemoveTrack(Command):
    """Removes a track with its clips; undo puts it back in its place."""

    text = "Remove track"

    def __init__(self, track_id: str) -> None:
        self.track_id = track_id

    def do(self, project: Project) -> None:
        track = _unlocked(project.track(self.track_id))
        self._index = next(i for i, t in enumerate(project.tracks) if t is track)
        self._track = project.tracks.pop(self._index)

    def undo(self, project: Project) -> None:
        project.tracks.insert(self._index, self._track)


class SetTrackFlag(Command):
    """Mutes, locks or ducks a track (ducking: audio tracks only, desktop.media.ducking). Allowed on a locked track:
    the lock guards the clips, and must be undoable itself."""

    def __init__(self, track_id: str, flag: Literal["muted", "locked", "ducked"], value: bool) -> None:
        if flag not in ("muted", "locked", "ducked"):
            raise ProjectError(f"a track has no flag {flag!r}, only muted, locked and ducked")
        verb = {"muted": "Mute", "locked": "Lock", "ducked": "Duck"}[flag]
        self.text = f"{verb if value else 'Un' + verb.lower()} track"
        self.track_id, self.flag, self.value = track_id, flag, value

    def do(self, project: Project) -> None:
        track = project.track(self.track_id)
        if self.flag == "ducked" and self.value and track.kind != "audio":
            raise ProjectError(f"{track.name} is a video track: only an audio track is lowered under the others")
        self._before = getattr(track, self.flag)
        setattr(track, self.flag, self.value)

    def undo(self, project: Project) -> None:
        setattr(project.track(self.track_id), self.flag, self._before)


def frame_at_rate(frame: int, old_fps: int, new_fps: int) -> int:
    """Frame `frame` at `old_fps` as the nearest frame at `new_fps` (halves round up), in whole numbers: exact, and
    never smaller for a later frame."""
    return (2 * frame * new_fps + old_fps) // (2 * old_fps)


def retimed_clips(project: Project, fps: int) -> dict[str, tuple[int, int, float]]:
    """Every clip's (start, length, source_in) at `fps`, keeping its time on the timeline and the part of its media
    it shows. Edges are rounded to the nearest frame, so clips that touched still touch and none come to overlap;
    a clip that would round to no frames keeps 1, the clips after it on its track moving along as little as that
    needs; a clip whose rounded media position runs past its media's end starts that much earlier in the media."""
    old = project.fps
    at_new = replace(project, fps=fps)  # for the media's length in frames at the new rate
    retimed = {}
    for track in project.tracks:
        free = 0  # the first frame no retimed clip of this track takes
        for clip in track.clips:
            start = max(frame_at_rate(clip.start, old, fps), free)
            end = max(frame_at_rate(clip.end, old, fps), start + 1)
            source_in = (frame_at_rate(clip.source_in, old, fps) if isinstance(clip.source_in, int)
                         else clip.source_in * fps / old)
            frames = at_new.source_frames(project.media_of(clip))
            if frames is not None:
                source_in = max(0, min(source_in, frames - (end - start) * clip.speed))
                end = min(end, start + whole_frames((frames - source_in) / clip.speed))
            retimed[clip.id] = (start, end - start, source_in)
            free = end
    return retimed


def retimed_transitions(project: Project, fps: int, retimed: dict[str, tuple[int, int, float]]
                        ) -> dict[str, tuple[int, int, int]]:
    """Every clip's (fade_in, fade_out, dissolve_in) at `fps`: the same times, rounded to the nearest frame, the fades
    within the clip's retimed length (`retimed`: `retimed_clips`' answer). A dissolve longer than its media then allows
    plays as long as it can (desktop.project.transitions)."""
    old = project.fps
    converted = {}
    for track in project.tracks:
        for clip in track.clips:
            length = retimed[clip.id][1] if clip.id in retimed else clip.length
            fade_in = min(frame_at_rate(clip.fade_in, old, fps), length)
            fade_out = min(frame_at_rate(clip.fade_out, old, fps), length - fade_in)
            converted[clip.id] = (fade_in, fade_out, frame_at_rate(clip.dissolve_in, old, fps))
    return converted


class SetFormat(Command):
    """The project's frame size and frame rate, set together (Project settings). The size is what the timeline is
    shown and exported at; clip positions are frames, so a new size moves nothing. A new frame rate keeps every clip
    at the same time, showing the same part of its media: starts, lengths and media positions are converted to it
    (`retimed_clips`), and so are fades and cross-dissolves (`retimed_transitions`), on locked tracks too, since the
    clips stay where they were in time; markers keep their times too. Undo restores every clip and marker exactly."""

    text = "Change project format"

    def __init__(self, width: int, height: int, fps: int) -> None:
        for name, side in (("width", width), ("height", height)):
            problem = frame_side_problem(side)
            if problem:
                raise ProjectError(f"the frame {name} {problem}")
        if not (type(fps) is int and 1 <= fps <= MAX_PROJECT_FPS):
            raise ProjectError(f"the frame rate should be a whole number from 1 to {MAX_PROJECT_FPS}, not {fps}")
        self.width, self.height, self.fps = width, height, fps

    def do(self, project: Project) -> None:
        retimed = retimed_clips(project, self.fps) if self.fps != project.fps else {}
        stretch = self.fps / project.fps  # of every length in frames
        trial = replace(project, fps=self.fps)
        for track in project.tracks:
            for clip in track.clips:
                if clip.id in retimed:
                    start, length, source_in = retimed[clip.id]
                    try:
                        check_clip(trial, track, replace(clip, start=start, length=length, source_in=source_in,
                                                         volume=refit(clip.volume, stretch, length)))
                    except ProjectError as err:
                        raise ProjectError(f"at {self.fps} fps a clip on {track.name} cannot keep its place: "
                                           f"{err}") from None
        transitions = retimed_transitions(project, self.fps, retimed) if retimed else {}
        self._before = (project.width, project.height, project.fps)
        self._markers = list(project.markers), dict(project.marker_names)
        project.markers[:] = sorted({frame_at_rate(m, project.fps, self.fps) for m in project.markers})
        names = {}  # two markers that meet at the new rate keep the earlier one's name
        for frame in sorted(project.marker_names, reverse=True):
            names[frame_at_rate(frame, project.fps, self.fps)] = project.marker_names[frame]
        project.marker_names.clear()
        project.marker_names.update(names)
        self._clips = {}
        self._transitions = {}
        for track in project.tracks:
            for clip in track.clips:
                if clip.id in retimed:
                    self._clips[clip.id] = (clip.start, clip.length, clip.source_in, clip.volume)
                    clip.start, clip.length, clip.source_in = retimed[clip.id]
                    clip.volume = refit(clip.volume, stretch, clip.length)
                if clip.id in transitions:
                    self._transitions[clip.id] = (clip.fade_in, clip.fade_out, clip.dissolve_in)
                    clip.fade_in, clip.fade_out, clip.dissolve_in = transitions[clip.id]
        project.width, project.height, project.fps = self.width, self.height, self.fps

    def undo(self, project: Project) -> None:
        project.width, project.height, project.fps = self._before
        project.markers[:], names = self._markers
        project.marker_names.clear()
        project.marker_names.update(names)
        for track in project.tracks:
            for clip in track.clips:
                if clip.id in self._clips:
                    clip.start, clip.length, clip.source_in, clip.volume = self._clips[clip.id]
                if clip.id in self._transitions:
                    clip.fade_in, clip.fade_out, clip.dissolve_in = self._transitions[clip.id]


def _media(project: Project, media_id: str) -> MediaItem:
    try:
        return project.media[media_id]
    except KeyError:
        raise ProjectError(f"no media {media_id}") from None


class AddMedia(Command):
    text = "Import media"

    def __init__(self, item: MediaItem) -> None:
        self.item = copy.deepcopy(item)

    def do(self, project: Project) -> None:
        if self.item.kind not in get_args(MediaKind):
            raise ProjectError(f"{self.item.name}: unknown media kind {self.item.kind!r}")
        if self.item.id in project.media:
            raise ProjectError(f"the project already has media {self.item.id}")
        if (self.item.kind == "title") != (self.item.title is not None):
            raise ProjectError(f"{self.item.name}: a title, and only a title, says what text it shows")
        if self.item.title is not None:
            _check_title(self.item.title)
        project.media[self.item.id] = copy.deepcopy(self.item)

    def undo(self, project: Project) -> None:
        del project.media[self.item.id]


class RemoveMedia(Command):
    """Refused while clips use the media; undo puts it back in its place in the media list."""

    text = "Remove media"

    def __init__(self, media_id: str) -> None:
        self.media_id = media_id

    def do(self, project: Project) -> None:
        item = _media(project, self.media_id)
        users = [t.name for t in project.tracks for c in t.clips if c.media_id == self.media_id]
        if users:
            raise ProjectError(f"{item.name} is used by {len(users)} clip(s) on {', '.join(dict.fromkeys(users))}")
        self._index = list(project.media).index(self.media_id)
        self._item = project.media.pop(self.media_id)

    def undo(self, project: Project) -> None:
        entries = list(project.media.items())
        entries.insert(self._index, (self.media_id, self._item))
        project.media.clear()
        project.media.update(entries)


class RelinkMedia(Command):
    """Points media at another file (moved or replaced), with what probing that file found. The media keeps its kind;
    refused if the new file is too short for the clips that use it."""

    text = "Relink media"

    def __init__(
        self,
        media_id: str,
        new_path: Path,
        *,
        duration: float | None = None,
        fps: float | None = None,
        width: int | None = None,
        height: int | None = None,
        has_audio: bool | None = None,
    ) -> None:
        self.media_id = media_id
        probed = {"duration": duration, "fps": fps, "width": width, "height": height, "has_audio": has_audio}
        self.changes = {"path": Path(new_path)} | {k: v for k, v in probed.items() if v is not None}

    def do(self, project: Project) -> None:
        item = _media(project, self.media_id)
        relinked = replace(item, **self.changes)
        if not (math.isfinite(relinked.duration) and relinked.duration >= 0):
            raise ProjectError(f"{relinked.name}: duration {relinked.duration} is not a length of time")
        frames = project.source_frames(relinked)
        for track in project.tracks:
            for clip in track.clips:
                if clip.media_id == item.id and frames is not None and clip.source_end > frames + FRAME_SLACK:
                    raise ProjectError(
                        f"{relinked.name} has {frames} frames; a clip on {track.name} uses frames up to "
                        f"{math.ceil(clip.source_end - FRAME_SLACK)}"
                    )
        self._before = {key: getattr(item, key) for key in self.changes}
        for key, value in self.changes.items():
            setattr(item, key, value)

    def undo(self, project: Project) -> None:
        item = project.media[self.media_id]
        for key, value in self._before.items():
            setattr(item, key, value)


class AddClip(Command):
    text = "Add clip"

    def __init__(self, track_id: str, clip: Clip) -> None:
        self.track_id = track_id
        self.clip = replace(clip)

    def do(self, project: Project) -> None:
        track = _unlocked(project.track(self.track_id))
        if any(c.id == self.clip.id for t in project.tracks for c in t.clips):
            raise ProjectError(f"the project already has clip {self.clip.id}")
        _check_placement(project, track, self.clip)
        track.place(replace(self.clip))

    def undo(self, project: Project) -> None:
        _take(project.track(self.track_id), self.clip.id)


class RemoveClip(Command):
    """Removes a clip and leaves a gap where it was."""

    text = "Delete clip"

    def __init__(self, clip_id: str) -> None:
        self.clip_id = clip_id

    def do(self, project: Project) -> None:
        track, _ = _editable_clip(project, self.clip_id)
        self._track_id = track.id
        self._clip = _take(track, self.clip_id)

    def undo(self, project: Project) -> None:
        project.track(self._track_id).place(self._clip)


class RippleDelete(Command):
    """Removes a clip and closes the gap: the later clips of its track move left by its length (other tracks stay)."""

    text = "Ripple delete"

    def __init__(self, clip_id: str) -> None:
        self.clip_id = clip_id

    def do(self, project: Project) -> None:
        track, clip = _editable_clip(project, self.clip_id)
        _take(track, clip.id)
        for later in track.clips:
            if later.start >= clip.end:
                later.start -= clip.length
        self._track_id, self._clip = track.id, clip

    def undo(self, project: Project) -> None:
        track = project.track(self._track_id)
        for later in track.clips:
            if later.start >= self._clip.start:
                later.start += self._clip.length
        track.place(self._clip)


def ripple_trim(project: Project, clip_id: str, edge: Literal["start", "end"], frame: int) -> Macro:
    """The edit that trims clip `clip_id`'s `edge` to timeline `frame` and closes the gap that leaves on its track:
    trimming the end pulls the later clips in; trimming the start keeps the clip starting where it did, its media
    starting later, and pulls it and the later clips in by as much. Other tracks stay, as with Ripple delete."""
    track, clip = project.find_clip(clip_id)
    if not clip.start < frame < clip.end:
        raise ProjectError(f"frame {frame} is not inside the clip (frames {clip.start}..{clip.end})")
    removed = frame - clip.start if edge == "start" else clip.end - frame
    commands: list[Command] = [TrimClip(clip_id, edge, frame)]
    if edge == "start":
        commands.append(MoveClip(clip_id, track.id, clip.start))
    commands += [MoveClip(c.id, track.id, c.start - removed) for c in track.clips if c.start >= clip.end]
    return Macro("Ripple trim", commands)


def insert_room(project: Project, frame: int, length: int, track_ids: Collection[str] | None = None) -> Macro:
    """The edit that opens `length` frames at timeline `frame` on every unlocked track (or on tracks `track_ids`): a
    clip under `frame` is split there, and every clip from `frame` on moves that much later, so what follows keeps
    its place against the other tracks. A cross-dissolve on a cut at `frame` is dropped, the clips on either side of
    it no longer meeting."""
    if length < 1:
        raise ProjectError(f"room to insert lasts at least 1 frame, not {length}")
    commands: list[Command] = []
    moving: list[tuple[str, str, int]] = []  # clip id, track id, start
    for track in project.tracks:
        if track_ids is None and track.locked or track_ids is not None and track.id not in track_ids:
            continue
        for clip in track.clips:
            if clip.start < frame < clip.end:
                split = SplitClip(clip.id, frame)
                commands.append(split)
                moving.append((split.right_id, track.id, frame))
            elif clip.start >= frame:
                moving.append((clip.id, track.id, clip.start))
                if clip.start == frame and clip.dissolve_in:
                    commands.append(SetDissolve(clip.id, 0))
    # the latest first, so that no clip moves onto one that has not moved yet
    commands += [MoveClip(i, t, start + length) for i, t, start in sorted(moving, key=lambda m: -m[2])]
    return Macro("Insert room", commands)


def gap_at(track: Track, frame: int) -> tuple[int, int] | None:
    """The empty frames of `track` around `frame`, [first, end), when a clip follows them; else None (`frame` is in a
    clip, or past the last one)."""
    if track.clip_at(frame) is not None:
        return None
    end = min((c.start for c in track.clips if c.start > frame), default=None)
    if end is None:
        return None
    return max((c.end for c in track.clips if c.end <= frame), default=0), end


class CloseGap(Command):
    """Closes the gap of a track at `frame`: the clips after it move left by its length (other tracks stay)."""

    text = "Close gap"

    def __init__(self, track_id: str, frame: int) -> None:
        self.track_id, self.frame = track_id, frame

    def do(self, project: Project) -> None:
        track = _unlocked(project.track(self.track_id))
        gap = gap_at(track, self.frame)
        if gap is None:
            raise ProjectError(f"there is no gap with a clip after it at frame {self.frame} on {track.name}")
        self._gap = gap
        for clip in track.clips:
            if clip.start >= gap[1]:
                clip.start -= gap[1] - gap[0]

    def undo(self, project: Project) -> None:
        first, end = self._gap
        for clip in project.track(self.track_id).clips:
            if clip.start >= first:
                clip.start += end - first


class ToggleMarker(Command):
    """Marks timeline frame `frame`, or takes away the marker there and its name (`text` says which, once done)."""

    text = "Marker"

    def __init__(self, frame: int) -> None:
        if frame < 0:
            raise ProjectError(f"a marker goes on frame 0 or later, not {frame}")
        self.frame = frame

    def do(self, project: Project) -> None:
        self.text = "Remove marker" if self.frame in project.markers else "Add marker"
        self._name = project.marker_names.pop(self.frame, None)
        self._toggle(project)

    def undo(self, project: Project) -> None:
        self._toggle(project)
        if self._name is not None:
            project.marker_names[self.frame] = self._name

    def _toggle(self, project: Project) -> None:
        if self.frame in project.markers:
            project.markers.remove(self.frame)
        else:
            bisect.insort(project.markers, self.frame)


class NameMarker(Command):
    """Names the marker at timeline `frame` (an empty name takes the name away)."""

    def __init__(self, frame: int, name: str) -> None:
        self.frame, self.name = frame, name.strip()
        self.text = "Name marker" if self.name else "Unname marker"

    def do(self, project: Project) -> None:
        if self.frame not in project.markers:
            raise ProjectError(f"no marker is at frame {self.frame}: mark it first (M)")
        if len(self.name) > MAX_MARKER_NAME or "\n" in self.name:
            raise ProjectError(f"a marker's name is one line of at most {MAX_MARKER_NAME} characters")
        self._before = project.marker_names.get(self.frame)
        if self.name:
            project.marker_names[self.frame] = self.name
        else:
            project.marker_names.pop(self.frame, None)

    def undo(self, project: Project) -> None:
        if self._before is None:
            project.marker_names.pop(self.frame, None)
        else:
            project.marker_names[self.frame] = self._before


class MoveClip(Command):
    """Moves a clip to `start` on a track, its own or another of the kind its media goes on."""

    text = "Move clip"

    def __init__(self, clip_id: str, track_id: str, start: int) -> None:
        self.clip_id, self.track_id, self.start = clip_id, track_id, start

    def do(self, project: Project) -> None:
        source, clip = _editable_clip(project, self.clip_id)
        target = _unlocked(project.track(self.track_id))
        _check_placement(project, target, replace(clip, start=self.start))
        self._from = (source.id, clip.start)
        _take(source, clip.id)
        clip.start = self.start
        target.place(clip)

    def undo(self, project: Project) -> None:
        source_id, start = self._from
        clip = _take(project.track(self.track_id), self.clip_id)
        clip.start = start
        project.track(source_id).place(clip)


def move_clips(project: Project, starts: dict[str, int]) -> Macro:
    """The edit that moves each clip of `starts` (clip id -> new start) on its own track by the same time as one undo
    step. The clips furthest along the way they move go first, so that none passes over one still to move."""
    shift = {clip_id: start - project.find_clip(clip_id)[1].start for clip_id, start in starts.items()}
    order = sorted(starts, key=lambda i: starts[i] - shift[i], reverse=any(s > 0 for s in shift.values()))
    return Macro("Move clips", [MoveClip(i, project.find_clip(i)[0].id, starts[i]) for i in order])


class TrimClip(Command):
    """Moves one edge of a clip to timeline `frame`. Trimming the start moves where the media starts with it, so the
    rest of the clip stays put; a clip cannot reach beyond its media, shrink below 1 frame or run into a neighbour."""

    text = "Trim clip"

    def __init__(self, clip_id: str, edge: Literal["start", "end"], frame: int) -> None:
        if edge not in ("start", "end"):
            raise ProjectError(f"a clip has no edge {edge!r}, only start and end")
        self.clip_id, self.edge, self.frame = clip_id, edge, frame

    def do(self, project: Project) -> None:
        track, clip = _editable_clip(project, self.clip_id)
        start, end = (self.frame, clip.end) if self.edge == "start" else (clip.start, self.frame)
        trimmed = replace(clip, start=start, length=end - start,
                          source_in=project.trimmed_source(clip, start, end - start),
                          volume=cut(clip.volume, start - clip.start, end - clip.start))
        _check_placement(project, track, trimmed)
        self._before = (clip.start, clip.length, clip.source_in, clip.volume)
        clip.start, clip.length, clip.source_in, clip.volume = (trimmed.start, trimmed.length, trimmed.source_in,
                                                                trimmed.volume)

    def undo(self, project: Project) -> None:
        _, clip = project.find_clip(self.clip_id)
        clip.start, clip.length, clip.source_in, clip.volume = self._before


class SplitClip(Command):
    """Cuts a clip in two at timeline `frame`: the left part keeps the clip's id, the right part is a new clip whose
    media starts where the left part's ends. The left part keeps the fade-in and the cross-dissolve into the clip,
    the right part takes the fade-out; the new cut between them is a plain cut. A title's right part shows a copy of
    the title, a media item of its own, so that editing one part's text leaves the other's as it is."""

    text = "Split clip"

    def __init__(self, clip_id: str, frame: int) -> None:
        self.clip_id, self.frame = clip_id, frame
        self.right_id = new_id()  # made once, so a redo recreates the same clip
        self.title_copy_id = new_id()  # the right part's title media, if the clip is a title's

    def do(self, project: Project) -> None:
        track, clip = _editable_clip(project, self.clip_id)
        if not clip.start < self.frame < clip.end:
            raise ProjectError(f"frame {self.frame} is not inside the clip (frames {clip.start}..{clip.end})")
        left = self.frame - clip.start
        media = project.media_of(clip)
        media_id = self.title_copy_id if media.kind == "title" else media.id
        right = replace(clip, id=self.right_id, media_id=media_id, start=self.frame, length=clip.length - left,
                        source_in=project.trimmed_source(clip, self.frame, clip.length - left), fade_in=0,
                        fade_out=min(clip.fade_out, clip.length - left), dissolve_in=0,
                        volume=cut(clip.volume, left, clip.length),
                        # linked clips split at one frame pair up again: their right parts share this link
                        link=f"{clip.link}@{self.frame}" if clip.link else "")
        self._before = (clip.source_in, clip.fade_in, clip.fade_out, clip.volume)
        clip.source_in = project.trimmed_source(clip, clip.start, left)  # a reversed clip's left part moves
        clip.volume = cut(clip.volume, 0, left)
        clip.length, clip.fade_in, clip.fade_out = left, min(clip.fade_in, left), 0
        track.place(right)
        if media_id != media.id:
            project.media[media_id] = replace(media, id=media_id)
        self._track_id = track.id

    def undo(self, project: Project) -> None:
        right = _take(project.track(self._track_id), self.right_id)
        if right.media_id == self.title_copy_id:
            del project.media[right.media_id]
        _, clip = project.find_clip(self.clip_id)
        clip.length += right.length
        clip.source_in, clip.fade_in, clip.fade_out, clip.volume = self._before


class _SetClipField(Command):
    """Sets one field of a clip (the class's `field`) to `value`, as the project's rules and the class's `refusal`
    allow; undo puts back what was there. With a `merge_key` (not None), the same edit of the same clip done right
    after it, such as the next step of one spin-box drag, becomes part of it: one undo step."""

    field: str

    def __init__(self, clip_id: str, value: Any, text: str, merge_key: object = None) -> None:
        self.clip_id, self.value, self.text, self.merge_key = clip_id, value, text, merge_key

    def refusal(self, project: Project, clip: Clip) -> str | None:
        """Why this clip cannot take the value, beyond the rules every clip keeps; None when it can."""
        return None

    def do(self, project: Project) -> None:
        track, clip = _editable_clip(project, self.clip_id)
        why = self.refusal(project, clip)
        if why is not None:
            raise ProjectError(why)
        check_clip(project, track, replace(clip, **{self.field: self.value}))
        self._before = getattr(clip, self.field)
        setattr(clip, self.field, self.value)

    def undo(self, project: Project) -> None:
        setattr(project.find_clip(self.clip_id)[1], self.field, self._before)

    def merge(self, later: Command) -> bool:
        """Whether `later`, done right after this, is now part of it (this one then sets `later`'s value)."""
        if not _continues(self, later, "clip_id"):
            return False
        self.value = later.value
        return True


class SetClipGain(_SetClipField):
    field = "gain"

    def __init__(self, clip_id: str, gain: float) -> None:
        super().__init__(clip_id, gain, "Change clip volume")


class SetClipVolume(_SetClipField):
    """A clip's volume keys (desktop.project.volume): all of them at once, as the inspector sets or clears one."""

    field = "volume"

    def __init__(self, clip_id: str, keys: tuple[tuple[int, float], ...], text: str = "Change volume keys") -> None:
        super().__init__(clip_id, tuple(keys), text)


class SetClipTransform(_SetClipField):
    """Places a visual clip in the frame by `transform` (desktop.project.transform); the steps of one spin-box drag
    (one `merge_key`) are one undo step."""

    field = "transform"

    def __init__(self, clip_id: str, transform: Transform, what: str = "placement", merge_key: object = None) -> None:
        super().__init__(clip_id, transform, f"Change clip {what}", merge_key)

    def refusal(self, project: Project, clip: Clip) -> str | None:
        media = project.media_of(clip)
        return f"{media.name} is sound: it has no picture to place" if media.kind == "audio" else None


class SetClipGrade(_SetClipField):
    """Adjusts a video's or a picture's colour by `grade` (desktop.project.grade); the steps of one spin-box drag
    (one `merge_key`) are one undo step."""

    field = "grade"

    def __init__(self, clip_id: str, grade: Grade, what: str = "colour", merge_key: object = None) -> None:
        super().__init__(clip_id, grade, f"Change clip {what}", merge_key)


class SetClipSmoothMotion(_SetClipField):
    """Turns on or off the frames made between a video clip's own where it is slower than the project."""

    field = "smooth_motion"

    def __init__(self, clip_id: str, smooth: bool) -> None:
        super().__init__(clip_id, smooth, "Smooth clip motion" if smooth else "Repeat clip frames")

    def refusal(self, project: Project, clip: Clip) -> str | None:
        media = project.media_of(clip)
        return None if media.kind == "video" else f"{media.name} is not a video: it has no motion to smooth"


class SetClipReverse(_SetClipField):
    """Plays a video or sound clip's stretch of media backwards (or forwards again): its place, length and media stay,
    its first frame showing what its last did."""

    field = "reverse"

    def __init__(self, clip_id: str, reverse: bool) -> None:
        super().__init__(clip_id, reverse, "Reverse clip" if reverse else "Play clip forwards")


class SetClipLink(_SetClipField):
    """Links a clip to the others of `link` (selected, moved and deleted with them), or unlinks it ("")."""

    field = "link"

    def __init__(self, clip_id: str, link: str) -> None:
        super().__init__(clip_id, link, "Link clips" if link else "Unlink clips")


def link_clips(project: Project, clip_ids: Sequence[str]) -> Macro:
    """The edit that links clips `clip_ids` together (and out of any other link), as one; ProjectError for fewer
    than two."""
    if len(set(clip_ids)) < 2:
        raise ProjectError("select two clips or more to link")
    link = new_id()
    return Macro("Link clips", [SetClipLink(i, link) for i in clip_ids])


def unlink_clips(project: Project, clip_ids: Sequence[str]) -> Macro:
    """The edit that takes clips `clip_ids` out of their links; ProjectError when none is linked."""
    linked = [i for i in clip_ids if project.find_clip(i)[1].link]
    if not linked:
        raise ProjectError("none of the selected clips is linked")
    return Macro("Unlink clips", [SetClipLink(i, "") for i in linked])


def linked_ids(project: Project, clip_ids: Collection[str]) -> list[str]:
    """`clip_ids` and every clip linked to one of them, in timeline order."""
    links = {c.link for t in project.tracks for c in t.clips if c.id in clip_ids and c.link}
    return [c.id for t in project.tracks for c in t.clips if c.id in clip_ids or (c.link and c.link in links)]


class SetClipKeepPitch(_SetClipField):
    """Whether a sped clip's sound keeps its pitch, or has it move with its pace."""

    field = "keep_pitch"

    def __init__(self, clip_id: str, keep: bool) -> None:
        super().__init__(clip_id, keep, "Keep clip pitch" if keep else "Let clip pitch follow speed")


class SetClipSpeed(Command):
    """Plays a video or sound clip at `speed` times its media's pace (0.5: slow motion). The clip keeps its start and
    the media position it starts at, and shows the same stretch of media, so its length scales by the old speed over
    the new, as far as its media reaches; its fades keep their times. With `ripple` the later clips of its track move
    by as much as its end does (other tracks stay, as with Ripple delete); without, it is refused where the clip
    would run into the next one."""

    def __init__(self, clip_id: str, speed: float, ripple: bool = False) -> None:
        self.text = "Change clip speed"
        self.clip_id, self.speed, self.ripple = clip_id, speed, ripple

    def do(self, project: Project) -> None:
        track, clip = _editable_clip(project, self.clip_id)
        # the speed alone, before the length it gives
        check_clip(project, track, replace(clip, speed=self.speed, length=1, volume=()))
        length = max(1, round(clip.length * clip.speed / self.speed))
        changed = replace(clip, speed=self.speed, length=length)
        room = project.media_room(replace(changed, reverse=False))  # the media after its stretch, either way
        if room is not None and room[1] < 0:
            changed.length = max(1, length + room[1])
        fade_in = min(clip.fade_in, changed.length)
        changed.fade_in, changed.fade_out = fade_in, min(clip.fade_out, changed.length - fade_in)
        changed.volume = refit(clip.volume, changed.length / clip.length, changed.length)
        check_clip(project, track, changed)
        later = [c for c in track.clips if c.start >= clip.end] if self.ripple else []
        shift = changed.end - clip.end
        if later:
            check_clip(project, track, replace(later[-1], start=later[-1].start + shift))  # within the timeline
        moving = {c.id for c in later}
        blocking = next((c for c in track.clips if c.id != clip.id and c.id not in moving and c.start < changed.end
                         and c.end > clip.start), None)
        if blocking is not None:
            raise ProjectError(
                f"at {speed_text(self.speed)} the clip lasts {project.seconds(changed.length):.2f} s and would run "
                f"into {project.media_of(blocking).name} at {project.seconds(blocking.start):.2f} s on {track.name}: "
                "move that clip first"
            )
        self._before = (clip.speed, clip.length, clip.fade_in, clip.fade_out, clip.volume)
        clip.speed, clip.length, clip.fade_in, clip.fade_out, clip.volume = (
            changed.speed, changed.length, changed.fade_in, changed.fade_out, changed.volume)
        for moved in later:
            moved.start += shift
        self._moved, self._shift = moving, shift

    def undo(self, project: Project) -> None:
        _, clip = project.find_clip(self.clip_id)
        clip.speed, clip.length, clip.fade_in, clip.fade_out, clip.volume = self._before
        for clip_id in self._moved:
            project.find_clip(clip_id)[1].start -= self._shift


class SetClipFades(Command):
    """A clip's fade-in and fade-out lengths in frames (desktop.project.transitions); together they fit in the clip.
    Edits with the same `merge_key` (not None) one after another, such as the steps of one drag, are one undo step."""

    def __init__(self, clip_id: str, fade_in: int, fade_out: int, merge_key: object = None) -> None:
        self.text = "Change clip fades"
        self.clip_id, self.fade_in, self.fade_out, self.merge_key = clip_id, fade_in, fade_out, merge_key

    def do(self, project: Project) -> None:
        track, clip = _editable_clip(project, self.clip_id)
        if self.fade_in < 0 or self.fade_out < 0:
            raise ProjectError(f"a fade lasts 0 frames or more, not {min(self.fade_in, self.fade_out)}")
        if self.fade_in + self.fade_out > clip.length:
            raise ProjectError(f"fades of {self.fade_in} and {self.fade_out} frames do not fit in a clip of "
                               f"{clip.length} frames")
        check_clip(project, track, replace(clip, fade_in=self.fade_in, fade_out=self.fade_out))
        self._before = (clip.fade_in, clip.fade_out)
        clip.fade_in, clip.fade_out = self.fade_in, self.fade_out

    def undo(self, project: Project) -> None:
        _, clip = project.find_clip(self.clip_id)
        clip.fade_in, clip.fade_out = self._before

    def merge(self, later: Command) -> bool:
        """Whether `later`, done right after this, is now part of it (this one then sets `later`'s fades)."""
        if not _continues(self, later, "clip_id"):
            return False
        self.fade_in, self.fade_out = later.fade_in, later.fade_out
        return True


class SetDissolve(Command):
    """The cross-dissolve on the cut where clip `clip_id` starts: `length` frames centred on the cut, 0 for none
    (desktop.project.transitions). Refused where no clip ends at the cut or the media beyond it is too short; the
    message says how long one may be. `merge_key` as SetClipFades'."""

    def __init__(self, clip_id: str, length: int, merge_key: object = None) -> None:
        self.text = "Cross-dissolve" if length else "Remove cross-dissolve"
        self.clip_id, self.length, self.merge_key = clip_id, length, merge_key

    def do(self, project: Project) -> None:
        track, clip = _editable_clip(project, self.clip_id)
        if self.length < 0:
            raise ProjectError(f"a cross-dissolve lasts 0 frames or more, not {self.length}")
        problem = dissolve_problem(project, track, clip, self.length)
        if problem:
            raise ProjectError(problem)
        check_clip(project, track, replace(clip, dissolve_in=self.length))
        self._before = clip.dissolve_in
        clip.dissolve_in = self.length

    def undo(self, project: Project) -> None:
        _, clip = project.find_clip(self.clip_id)
        clip.dissolve_in = self._before

    def merge(self, later: Command) -> bool:
        """Whether `later`, done right after this, is now part of it (this one then sets `later`'s length)."""
        if not _continues(self, later, "clip_id"):
            return False
        self.length = later.length
        self.text = later.text if self.length == 0 else "Cross-dissolve"
        return True


def add_dissolve(project: Project, clip_id: str, length: int) -> Macro:
    """A cross-dissolve of `length` frames on the cut where clip `clip_id` starts. Where the media beyond the cut
    is too short (a clip placed whole has none), the two clips give the missing frames as if dragged over each other:
    the outgoing one ends earlier and the incoming one starts later in its media, and it moves earlier, with the clips
    after it on its track, by as much. Refused (ProjectError) where the clips are too short for that."""
    track, incoming = project.find_clip(clip_id)
    outgoing = previous(track, incoming)
    if outgoing is None:
        raise ProjectError(dissolve_problem(project, track, incoming, length) or "no cut")
    before, after = dissolve_room(project, track, incoming)
    want_before, want_after = length // 2, length - length // 2
    lend_before, lend_after = max(0, want_before - before), max(0, want_after - after)  # from inside the clips
    shift = lend_before + lend_after
    if not shift:
        return Macro("Cross-dissolve", [SetDissolve(clip_id, length)])
    if outgoing.length - lend_after < max(1, want_before) or incoming.length - lend_before < max(1, want_after):
        raise ProjectError(f"a {length}-frame cross-dissolve needs {shift} more frames of media beyond the cut than "
                           f"the clips have, and they are too short to give them")
    commands: list[Command] = [TrimClip(outgoing.id, "end", outgoing.end - lend_after),
                               TrimClip(incoming.id, "start", incoming.start + lend_before)]
    commands += [MoveClip(c.id, track.id, c.start + (lend_before if c.id == incoming.id else 0) - shift)
                 for c in track.clips if c.start >= incoming.start]
    return Macro("Cross-dissolve", [*commands, SetDissolve(clip_id, length)])


def overlap_dissolve(project: Project, clip_id: str, grip: Literal["move", "start", "end"], track_id: str,
                     start: int, length: int) -> Macro:
    """The edit of a drag that lays clip `clip_id` (moved whole, `grip` "move", or one edge dragged) at frames
    [start, start + length) of track `track_id`, over the end of the one clip it meets there or over its start: a
    cross-dissolve over the frames the two share. Each clip goes on showing there the media it showed as dropped, so
    the cut goes in the middle of the overlap and the dissolve shows the rest of each clip beyond it. Refused
    (ProjectError) where it overlaps more than one clip, lies within one, covers one, or the clips cannot give the
    dissolve its frames."""
    _, clip = project.find_clip(clip_id)
    end = start + length
    met = [c for c in project.track(track_id).clips if c.id != clip_id and c.start < end and c.end > start]
    if len(met) != 1:
        raise ProjectError("a cross-dissolve by overlap lays a clip over one neighbour's end or start")
    other, = met
    if other.start < start < other.end < end:
        incoming, first, overlap = clip, start, other.end - start
    elif start < other.start < end < other.end:
        incoming, first, overlap = other, other.start, end - other.start
    else:
        raise ProjectError("a cross-dissolve by overlap needs the clips to overlap at an end, not one within the other")
    cut = first + overlap // 2
    ours: list[Command]
    if incoming is clip:
        theirs = TrimClip(other.id, "end", cut)
        ours = ([TrimClip(clip_id, "start", cut)] if grip == "start" else
                [TrimClip(clip_id, "start", clip.start + cut - start), MoveClip(clip_id, track_id, cut)])
    else:
        theirs = TrimClip(other.id, "start", cut)
        ours = ([TrimClip(clip_id, "end", cut)] if grip == "end" else
                [TrimClip(clip_id, "end", clip.start + cut - start), MoveClip(clip_id, track_id, start)])
    return Macro("Cross-dissolve", [theirs, *ours, SetDissolve(incoming.id, overlap)])


def new_track_name(names: set[str], kind: TrackKind) -> str:
    """The name of a new `kind` track among tracks named `names`: Video 2 beside Video 1, Audio 3 beside Audio 2..."""
    number = next(n for n in range(1, len(names) + 2) if f"{kind.capitalize()} {n}" not in names)
    return f"{kind.capitalize()} {number}"


def _check_title(title: Title) -> None:
    try:
        title.check()
    except TitleProblem as problem:
        raise ProjectError(str(problem)) from None


def add_title(project: Project, start: int, track_id: str | None = None, title: Title | None = None) -> Macro:
    """The edit that makes a title (a new title media item) and places it at `start`, TITLE_SECONDS long, in the
    lower third: on video track `track_id` when it is free there, else on the top video track that is, else on a new
    video track on top."""
    title = title if title is not None else Title()
    item = MediaItem(new_id(), Path("title"), "title", 0.0, title=title)
    length = max(1, round(TITLE_SECONDS * project.fps))
    videos = [t for t in project.tracks if t.kind == "video" and not t.locked]
    free = [t for t in sorted(videos, key=lambda t: t.id != track_id) if t.fits(start, length)]
    commands: list[Command] = [AddMedia(item)]
    if free:
        target = free[0].id
    else:
        commands.append(add_track := AddTrack("video", new_track_name({t.name for t in project.tracks}, "video"), 0))
        target = add_track.track.id
    commands.append(AddClip(target, Clip(new_id(), item.id, start, length, transform=LOWER_THIRD)))
    return Macro("Add title", commands)


class SetTitle(Command):
    """Changes what a title shows (every clip of it). Edits with the same `merge_key` (not None) one after another,
    such as the keystrokes of one text edit, merge into one undo step."""

    def __init__(self, media_id: str, title: Title, what: str = "title", merge_key: object = None) -> None:
        self.text = f"Change {what}"
        self.media_id, self.title, self.merge_key = media_id, title, merge_key

    def do(self, project: Project) -> None:
        item = _media(project, self.media_id)
        if item.kind != "title":
            raise ProjectError(f"{item.name} is not a title")
        locked = [t.name for t in project.tracks if t.locked and any(c.media_id == item.id for c in t.clips)]
        if locked:
            raise ProjectError(f"track {locked[0]} is locked")
        _check_title(self.title)
        self._before = item.title
        item.title = self.title

    def undo(self, project: Project) -> None:
        project.media[self.media_id].title = self._before

    def merge(self, later: Command) -> bool:
        """Whether `later`, done right after this, is now part of it (this one then sets `later`'s title)."""
        if not _continues(self, later, "media_id"):
            return False
        self.title = later.title
        return True
