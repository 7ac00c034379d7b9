"""Detach audio: a video clip's sound becomes a clip of its own on an audio track, to move, trim, fade or delete apart
from the picture, and the video clip falls silent.

The sound clip plays the same part of the same file at the same time, with the video clip's volume and fades, and
with its cross-dissolve where the clip it dissolves from is detached too and lands on the same audio track: the mix
sounds as before. Its media is an audio item of the video's file (the file's sound, as an imported sound file
would be), shared by every clip detached from that file. It goes on the first audio track free for it from the top,
else on a new audio track at the bottom. All of it is one undo step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from desktop.project.commands import (
    AddClip,
    AddMedia,
    AddTrack,
    Command,
    Macro,
    SetClipGain,
    SetClipLink,
    new_track_name,
)
from desktop.project.model import Clip, MediaItem, Project, ProjectError, new_id
from desktop.project.transitions import previous


def has_sound_to_detach(project: Project, clip_id: str) -> bool:
    """Whether clip `clip_id` is a video clip whose sound is heard (a file with sound, volume above 0)."""
    clip = project.find_clip(clip_id)[1]
    media = project.media_of(clip)
    return media.kind == "video" and media.has_audio and clip.gain > 0


def detach_audio(project: Project, clip_ids: Sequence[str]) -> tuple[Macro, list[str]]:
    """The edit that detaches the sound of the clips `clip_ids` that have some to detach, and the ids of the sound
    clips it makes. ProjectError when none of them has."""
    clips = [project.find_clip(i)[1] for i in clip_ids if has_sound_to_detach(project, i)]
    if not clips:
        raise ProjectError("none of the selected clips is a video with sound to detach")
    commands: list[Command] = []
    sound_of: dict[str, str] = {}  # video media id -> its sound's media id
    taken: dict[str, list[tuple[int, int]]] = {t.id: [(c.start, c.end) for c in t.clips]
                                              for t in project.tracks if t.kind == "audio" and not t.locked}
    names = {t.name for t in project.tracks}
    made = []
    placed: dict[str, tuple[str, int]] = {}  # detached video clip id -> the audio track of its sound, its end
    for clip in sorted(clips, key=lambda c: c.start):
        video = project.media_of(clip)
        if video.id not in sound_of:
            sound = _sound_media(project, video)
            sound_of[video.id] = sound.id
            if sound.id not in project.media:
                commands.append(AddMedia(sound))
        track_id = next((t for t, spans in taken.items() if all(e <= clip.start or s >= clip.end for s, e in spans)),
                        None)
        if track_id is None:
            names.add(name := new_track_name(names, "audio"))
            commands.append(add := AddTrack("audio", name))
            track_id = add.track.id
            taken[track_id] = []
        taken[track_id].append((clip.start, clip.end))
        before = previous(project.find_clip(clip.id)[0], clip)
        dissolve = clip.dissolve_in if before is not None and placed.get(before.id) == (track_id, clip.start) else 0
        link = clip.link or new_id()  # the picture and its sound stay together
        sound_clip = Clip(new_id(), sound_of[video.id], clip.start, clip.length, source_in=clip.source_in,
                          gain=clip.gain, fade_in=clip.fade_in, fade_out=clip.fade_out, dissolve_in=dissolve,
                          speed=clip.speed, keep_pitch=clip.keep_pitch, reverse=clip.reverse, volume=clip.volume,
                          link=link)
        placed[clip.id] = (track_id, clip.end)
        commands += [AddClip(track_id, sound_clip), SetClipGain(clip.id, 0.0), SetClipLink(clip.id, link)]
        made.append(sound_clip.id)
    return Macro("Detach audio", commands), made


def _sound_media(project: Project, video: MediaItem) -> MediaItem:
    """The project's audio item of `video`'s file, or a new one."""
    same = next((m for m in project.media.values() if m.kind == "audio" and m.path == video.path), None)
    return same if same is not None else replace(video, id=new_id(), kind="audio", fps=None, width=None, height=None,
                                                 title=None)
