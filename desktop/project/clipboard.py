"""Copy and paste of timeline clips, within a project or into another one opened later.

What is copied is a project of its own: the clips, on copies of their tracks, at their times from the first copied
clip's start, with the media they use and the frame rate they were made at. Pasting puts them at the playhead, the
clips of one copied track together on one track of its kind that is unlocked and free for all of them: the track
they came from where it is, else the nearest such track, else a new one. Copied video tracks keep their order from
bottom to top, since the upper covers the lower. Clips pasted at another frame rate keep their times
(desktop.project.commands.retimed_clips). A pasted title is a title of its own, so that editing the copy's text
leaves the original's as it is, as a split does. A cross-dissolve is pasted only with the clip it dissolves from;
fades always come along, and links among the copied clips (a link with a clip not copied is dropped). An insert
paste first makes room for the copied clips on every unlocked track (the clips from the playhead on move later, a
clip under it split there), so what follows keeps its sync.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, replace

from desktop.project.commands import (
    AddClip,
    AddMedia,
    AddTrack,
    Command,
    Macro,
    insert_room,
    new_track_name,
    retimed_clips,
    retimed_transitions,
)
from desktop.project.model import Clip, Project, ProjectError, Track, new_id
from desktop.project.volume import refit


@dataclass(frozen=True)
class Copied:
    """Clips copied from a project (`clips`: a project holding only them, the first starting at frame 0)."""

    clips: Project

    @property
    def count(self) -> int:
        return sum(len(t.clips) for t in self.clips.tracks)


def copy_clips(project: Project, clip_ids: Sequence[str]) -> Copied:
    """The clips `clip_ids` of `project`, copied: later edits of the project leave the copy as it is."""
    if not clip_ids:
        raise ProjectError("no clip is selected to copy")
    wanted = set(clip_ids)
    for clip_id in wanted:
        project.find_clip(clip_id)  # names a clip that is gone
    first = min(c.start for t in project.tracks for c in t.clips if c.id in wanted)
    tracks, media = [], {}
    for track in project.tracks:
        clips = [replace(c, start=c.start - first) for c in track.clips if c.id in wanted]
        if clips:
            tracks.append(Track(track.id, track.kind, track.name, clips=clips))
            for clip in clips:
                media[clip.media_id] = copy.deepcopy(project.media_of(clip))
    return Copied(Project(fps=project.fps, width=project.width, height=project.height,
                          sample_rate=project.sample_rate, media=media, tracks=tracks))


def paste_clips(project: Project, copied: Copied, at: int) -> tuple[Macro, list[str]]:
    """The edit that pastes `copied` into `project` with its first clip at frame `at`, and the ids of the clips it
    makes (to select them once it is done)."""
    clips = _at_rate(copied.clips, project.fps)
    commands: list[Command] = []
    media_ids = _pasted_media(project, clips, commands)
    names = {t.name for t in project.tracks}
    order = [t.id for t in project.tracks]  # the tracks top to bottom, as the paste's new tracks join them
    made: list[str] = []
    copied_links = [c.link for t in clips.tracks for c in t.clips if c.link]
    links = {link: "" for link in copied_links if copied_links.count(link) < 2}  # its partner not copied: alone
    for kind in ("video", "audio"):
        sources = [t for t in clips.tracks if t.kind == kind]
        after: str | None = None  # the track the last copied track of this kind went to
        for source in reversed(sources) if kind == "video" else sources:
            pasted = _pasted_clips(source, media_ids, at, links)
            target = _free_track(project, order, source, pasted, after, upward=kind == "video")
            if target is None:
                names.add(name := new_track_name(names, kind))
                commands.append(add := AddTrack(kind, name, 0 if kind == "video" else None))
                target = add.track.id
                order.insert(0 if kind == "video" else len(order), target)
            commands += [AddClip(target, clip) for clip in pasted]
            made += [clip.id for clip in pasted]
            after = target
    return Macro("Paste clips" if len(made) > 1 else "Paste clip", commands), made


def insert_clips(project: Project, copied: Copied, at: int) -> tuple[Macro, list[str]]:
    """As `paste_clips`, after making room for the copied clips at frame `at` on every unlocked track
    (desktop.project.commands.insert_room)."""
    room = insert_room(project, at, _at_rate(copied.clips, project.fps).duration)
    opened = copy.deepcopy(project)  # the project as the paste will find it
    room.do(opened)
    paste, made = paste_clips(opened, copied, at)
    return Macro("Insert clips" if len(made) > 1 else "Insert clip", [room, paste]), made


def _at_rate(clips: Project, fps: int) -> Project:
    """`clips` at `fps`, keeping their times on the timeline and the part of their media they show."""
    if clips.fps == fps:
        return clips
    retimed = retimed_clips(clips, fps)
    fades = retimed_transitions(clips, fps, retimed)

    def at_rate(clip: Clip) -> Clip:
        (start, length, source_in), (fade_in, fade_out, dissolve_in) = retimed[clip.id], fades[clip.id]
        return replace(clip, start=start, length=length, source_in=source_in, fade_in=fade_in, fade_out=fade_out,
                       dissolve_in=dissolve_in, volume=refit(clip.volume, fps / clips.fps, length))

    return replace(clips, fps=fps, tracks=[replace(t, clips=[at_rate(c) for c in t.clips]) for t in clips.tracks])


def _pasted_media(project: Project, clips: Project, commands: list[Command]) -> dict[str, str]:
    """The media each copied media item is pasted as: a new title for a title, the project's own item when it has it,
    else the copied item, added (`commands` gets the additions)."""
    ids = {}
    for media_id, item in clips.media.items():
        if item.kind == "title":
            ids[media_id] = new_id()
            commands.append(AddMedia(replace(item, id=ids[media_id])))
            continue
        ids[media_id] = media_id
        if media_id not in project.media:
            commands.append(AddMedia(item))
    return ids


def _pasted_clips(source: Track, media_ids: dict[str, str], at: int, links: dict[str, str]) -> list[Clip]:
    """The clips of copied track `source` as pasted at `at`; `links` maps each copied link to the paste's own, so the
    copies are linked among themselves and not to the clips they were copied from."""
    ends = {c.end for c in source.clips}
    return [replace(c, id=new_id(), media_id=media_ids[c.media_id], start=at + c.start,
                    dissolve_in=c.dissolve_in if c.start in ends else 0,
                    link=links.setdefault(c.link, new_id()) if c.link else "") for c in source.clips]


def _free_track(project: Project, order: list[str], source: Track, pasted: list[Clip], after: str | None,
                upward: bool) -> str | None:
    """The id of the track to paste `pasted` (the clips of copied track `source`) on: one of their kind, unlocked and
    free for all of them, beyond track `after` (above it when `upward`, else below; anywhere when None): the one they
    came from if it is such a track, else the nearest. None when no track is."""
    beyond = order
    if after is not None:
        place = order.index(after)
        beyond = order[:place] if upward else order[place + 1:]
    tracks = {t.id: t for t in project.tracks}
    free = [i for i in beyond if i in tracks and tracks[i].kind == source.kind and not tracks[i].locked
            and all(tracks[i].fits(c.start, c.length) for c in pasted)]
    if source.id in free:
        return source.id
    nearest = free[::-1] if upward else free
    return nearest[0] if nearest else None
