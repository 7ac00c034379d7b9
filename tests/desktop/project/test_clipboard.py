"""Copy and paste of clips: where pasted clips land, what they keep, that a pasted title is its own, and pasting into
another project at another frame rate."""

from __future__ import annotations

import pytest
from sample_projects import do_undo_redo, sample_project, snapshot

from desktop.project.clipboard import copy_clips, insert_clips, paste_clips
from desktop.project.commands import SetDissolve, SetTitle, TrimClip, add_title, insert_room
from desktop.project.model import Clip, Project, ProjectError
from desktop.project.title import Title


def placed(project: Project, clip_ids: list[str]) -> list[tuple[str, str, int, int, int]]:
    """(track name, media, start, length, source_in) of each clip, in `clip_ids`' order."""
    rows = []
    for clip_id in clip_ids:
        track, clip = project.find_clip(clip_id)
        rows.append((track.name, clip.media_id, clip.start, clip.length, clip.source_in))
    return rows


def test_clips_paste_at_the_playhead_on_their_own_tracks_keeping_their_spacing():
    project = sample_project()
    copied = copy_clips(project, ["top", "c1"])  # V2 short@20..36 and V1 vid@0..40 from its frame 10
    edit, made = paste_clips(project, copied, at=200)
    do_undo_redo(project, edit)

    assert sorted(placed(project, made)) == [("Video 1", "vid", 200, 40, 10), ("Video 2", "short", 220, 16, 0)]
    assert placed(project, ["top", "c1"]) == [("Video 2", "short", 20, 16, 0), ("Video 1", "vid", 0, 40, 10)]
    assert len({c.id for t in project.tracks for c in t.clips}) == 7, "every pasted clip has an id of its own"
    assert len(project.tracks) == 3 and len(project.media) == 4, "no track or media was needed"


def test_a_clip_that_finds_its_track_taken_goes_on_a_new_track_of_its_kind():
    project = sample_project()
    copied = copy_clips(project, ["c2", "m1"])  # V1 still@40..88, A1 music@0..160
    edit, made = paste_clips(project, copied, at=150)  # V1 is free from 132 on; A1 is taken until 160
    do_undo_redo(project, edit)

    assert [t.name for t in project.tracks] == ["Video 2", "Video 1", "Audio 1", "Audio 2"]
    assert sorted(placed(project, made)) == [("Audio 2", "music", 150, 160, 0), ("Video 1", "still", 190, 48, 0)]

    again, more = paste_clips(project, copy_clips(project, ["c1"]), at=10)
    do_undo_redo(project, again)
    assert project.tracks[0].name == "Video 3", "a new video track goes on top, named after the others"
    assert placed(project, more) == [("Video 3", "vid", 10, 40, 10)]


def test_what_is_pasted_is_the_clip_as_it_was_copied():
    project = sample_project()
    copied = copy_clips(project, ["c1"])
    TrimClip("c1", "end", 20).do(project)
    edit, made = paste_clips(project, copied, at=300)
    edit.do(project)
    assert placed(project, made) == [("Video 1", "vid", 300, 40, 10)]


def test_a_pasted_title_is_a_title_of_its_own():
    project = sample_project()
    add_title(project, 200, "v1", Title(text="Chapter one")).do(project)
    title_clip = project.track("v1").clips[-1]
    edit, made = paste_clips(project, copy_clips(project, [title_clip.id]), at=400)
    edit.do(project)

    pasted = project.find_clip(made[0])[1]
    assert pasted.media_id != title_clip.media_id
    assert pasted.transform == title_clip.transform
    SetTitle(pasted.media_id, Title(text="Chapter two")).do(project)
    assert project.media[title_clip.media_id].title.text == "Chapter one"
    assert project.media[pasted.media_id].title.text == "Chapter two"
    edit.undo(project)
    assert pasted.media_id not in project.media, "undo takes the pasted title's media away too"


def test_fades_come_along_and_a_dissolve_only_with_the_clip_it_dissolves_from():
    project = sample_project()
    c1, c2 = project.track("v1").clips[:2]
    c1.fade_in, c2.dissolve_in, c2.fade_out = 8, 6, 4  # c2 starts where c1 ends
    for clip_ids, dissolve in ((["c1", "c2"], 6), (["c2"], 0)):
        edit, made = paste_clips(project, copy_clips(project, clip_ids), at=400 if dissolve else 600)
        edit.do(project)
        pasted = [project.find_clip(i)[1] for i in made]
        assert (pasted[-1].dissolve_in, pasted[-1].fade_out) == (dissolve, 4)
    assert project.find_clip(made[0])[1].fade_in == 0 and c1.fade_in == 8


def test_pasting_into_a_project_at_another_frame_rate_keeps_times_and_brings_the_media():
    source = sample_project()  # 16 fps
    copied = copy_clips(source, ["top", "c1"])
    other = Project.empty(fps=24)
    before = snapshot(other)
    edit, made = paste_clips(other, copied, at=48)
    edit.do(other)

    # at 24 fps: vid from 0 s for 2.5 s (its source from 0.625 s), short from 1.25 s for 1 s, 2 s in
    assert sorted(placed(other, made)) == [("Video 1", "vid", 48, 60, 15), ("Video 2", "short", 78, 24, 0)]
    assert [t.name for t in other.tracks] == ["Video 2", "Video 1", "Audio 1"], "the upper copied clip stays on top"
    assert set(other.media) == {"vid", "short"} and other.media["vid"].path == source.media["vid"].path
    edit.undo(other)
    assert other == before[0]


def test_copying_nothing_or_a_clip_that_is_gone_is_refused_by_name():
    project = sample_project()
    with pytest.raises(ProjectError, match="no clip is selected"):
        copy_clips(project, [])
    with pytest.raises(ProjectError, match="no clip gone"):
        copy_clips(project, ["gone"])


def test_a_paste_past_the_longest_timeline_is_refused_and_leaves_the_project_as_it_was():
    project = sample_project()
    project.track("v1").clips.append(Clip("late", "still", 10_000, 1))
    edit, _ = paste_clips(project, copy_clips(project, ["c1"]), at=10**9)
    before = snapshot(project)
    with pytest.raises(ProjectError, match="past the end of the longest timeline"):
        edit.do(project)
    assert project == before[0]


def spans(project: Project) -> dict[str, list[tuple[str, int, int, int]]]:
    """Each track's clips as (media, start, end, source_in)."""
    return {t.name: [(c.media_id, c.start, c.end, c.source_in) for c in t.clips] for t in project.tracks}


def test_insert_room_splits_what_is_under_the_frame_and_moves_every_later_clip_on_unlocked_tracks():
    project = sample_project()  # V2: short@20..36; V1: vid@0..40 (from 10), still@40..88, short@100..132; A1: music
    project.track("v2").locked = True
    do_undo_redo(project, insert_room(project, 30, 10))
    assert spans(project) == {
        "Video 2": [("short", 20, 36, 0)],  # locked: stays
        "Video 1": [("vid", 0, 30, 10), ("vid", 40, 50, 40), ("still", 50, 98, 0), ("short", 110, 142, 0)],
        "Audio 1": [("music", 0, 30, 0), ("music", 40, 170, 30)],
    }
    with pytest.raises(ProjectError, match="at least 1 frame"):
        insert_room(project, 30, 0)


def test_an_insert_on_a_cross_dissolve_drops_it_with_its_cut():
    project = sample_project()
    TrimClip("c2", "start", 44).do(project)
    project.find_clip("c2")[1].start = 40  # still@40..84, meeting vid's end at the cut 40
    SetDissolve("c2", 8).do(project)
    insert_room(project, 40, 16).do(project)
    assert project.find_clip("c2")[1].dissolve_in == 0 and project.find_clip("c2")[1].start == 56


def test_an_insert_paste_makes_room_and_keeps_what_follows_in_sync_in_one_step():
    project = sample_project()
    before = snapshot(project)
    copied = copy_clips(project, ["c3"])  # short, 32 frames
    edit, made = insert_clips(project, copied, at=40)  # on the cut between vid and the still
    do_undo_redo(project, edit)
    assert placed(project, made) == [("Video 1", "short", 40, 32, 0)]
    assert spans(project)["Video 1"] == [("vid", 0, 40, 10), ("short", 40, 72, 0), ("still", 72, 120, 0),
                                         ("short", 132, 164, 0)]
    assert spans(project)["Video 2"] == [("short", 20, 36, 0)], "clips before the playhead stay"
    assert spans(project)["Audio 1"] == [("music", 0, 40, 0), ("music", 72, 192, 40)], "the music goes on in sync"
    assert edit.text == "Insert clip"
    edit.undo(project)
    assert project == before[0]
