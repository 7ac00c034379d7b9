"""Random sequences of edits, valid and not: a refused edit leaves the project as it was, every accepted edit leaves a
project the file loader accepts (ordered, non-overlapping clips within their media), undoing everything in reverse
gives back the starting project exactly, and redoing everything gives back the end result."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sample_projects import FOOTAGE, assert_same, sample_project, snapshot

from desktop.project import commands as c
from desktop.project.audio_detach import detach_audio
from desktop.project.clipboard import copy_clips, insert_clips, paste_clips
from desktop.project.grade import Grade
from desktop.project.model import Clip, MediaItem, Project, ProjectError
from desktop.project.schema import project_from_json, project_to_json

frames = st.integers(-5, 220)


def pick(data: st.DataObject, ids: list[str]) -> str:
    """One of `ids`, or now and then one the project does not have."""
    return data.draw(st.sampled_from([*ids, "missing"]))


class Refused(c.Command):
    """An edit whose making was refused already (a group edit built from the project as it is): refused on `do`."""

    text = "Refused"

    def __init__(self, error: ProjectError) -> None:
        self.error = error

    def do(self, project: Project) -> None:
        raise self.error

    def undo(self, project: Project) -> None:
        raise AssertionError("a refused edit is never undone")


def built(make: Callable[[], c.Command]) -> c.Command:
    try:
        return make()
    except ProjectError as error:
        return Refused(error)


def random_command(data: st.DataObject, project: Project, depth: int = 0) -> c.Command:
    tracks = [t.id for t in project.tracks]
    clips = [clip.id for t in project.tracks for clip in t.clips]
    media = list(project.media)
    some = data.draw(st.lists(st.sampled_from(clips), min_size=1, max_size=3, unique=True)) if clips else []
    shift = data.draw(st.integers(-60, 60))
    edits = [
        lambda: c.AddTrack(data.draw(st.sampled_from(["video", "audio"])), "New", data.draw(st.integers(-1, 5))),
        lambda: c.RemoveTrack(pick(data, tracks)),
        lambda: c.SetTrackFlag(
            pick(data, tracks), data.draw(st.sampled_from(["muted", "locked", "ducked"])), data.draw(st.booleans())
        ),
        lambda: c.AddMedia(
            MediaItem(
                data.draw(st.sampled_from([*media, "fresh1", "fresh2"])),
                FOOTAGE / "new.mp4",
                data.draw(st.sampled_from(["video", "audio", "image"])),
                data.draw(st.sampled_from([0.0, 1.0, 4.0])),
            )
        ),
        lambda: c.RemoveMedia(pick(data, media)),
        lambda: c.RelinkMedia(
            pick(data, media), FOOTAGE / "relinked.mp4", duration=data.draw(st.sampled_from([1.0, 9.0]))
        ),
        lambda: c.AddClip(
            pick(data, tracks),
            Clip(
                data.draw(st.sampled_from([*clips, "n1", "n2", "n3"])),
                pick(data, media),
                data.draw(frames),
                data.draw(st.integers(-1, 60)),
                data.draw(st.integers(-1, 40)),
            ),
        ),
        lambda: c.RemoveClip(pick(data, clips)),
        lambda: c.RippleDelete(pick(data, clips)),
        lambda: c.MoveClip(pick(data, clips), pick(data, tracks), data.draw(frames)),
        lambda: c.TrimClip(pick(data, clips), data.draw(st.sampled_from(["start", "end"])), data.draw(frames)),
        lambda: c.SplitClip(pick(data, clips), data.draw(frames)),
        lambda: c.SetClipGain(pick(data, clips), data.draw(st.sampled_from([0.0, 0.7, 2.0, -1.0]))),
        lambda: c.SetClipSpeed(pick(data, clips), data.draw(st.sampled_from([0.3, 0.5, 0.7, 2.0, 3.0, 0.0])),
                               ripple=data.draw(st.booleans())),
        lambda: c.SetClipReverse(pick(data, clips), data.draw(st.booleans())),
        lambda: c.SetClipVolume(pick(data, clips), data.draw(st.sampled_from([((0, 1.0), (8, 0.25)), ((3, 2.0),), (),
                                                                               ((90, 1.0),)]))),
        lambda: c.SetClipGrade(pick(data, clips), data.draw(st.sampled_from([Grade(0.1), Grade(saturation=0.0),
                                                                            Grade(contrast=5.0)]))),
        lambda: c.CloseGap(pick(data, tracks), data.draw(frames)),
        lambda: c.ToggleMarker(data.draw(st.integers(0, 220))),
        lambda: c.NameMarker(data.draw(st.sampled_from([*project.markers, 3])), data.draw(st.sampled_from(["A", ""]))),
        lambda: built(lambda: c.move_clips(project, {i: project.find_clip(i)[1].start + shift for i in some})),
        lambda: built(lambda: paste_clips(project, copy_clips(project, some), data.draw(frames))[0]),
        lambda: built(lambda: insert_clips(project, copy_clips(project, some), data.draw(frames))[0]),
        lambda: built(lambda: detach_audio(project, some)[0]),
        lambda: built(lambda: c.link_clips(project, some)),
        lambda: built(lambda: c.unlink_clips(project, some)),
    ]
    if depth == 0:
        edits.append(lambda: c.Macro("Edits", [random_command(data, project, 1) for _ in range(3)]))
    return data.draw(st.sampled_from(edits))()


def assert_holds_together(project: Project) -> None:
    assert project_from_json(project_to_json(project, FOOTAGE), FOOTAGE) == project


def test_random_edits_are_refused_cleanly_and_undo_and_redo_exactly():
    outcomes: Counter[str] = Counter()

    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(data=st.data())
    def edit_at_random(data: st.DataObject) -> None:
        project = sample_project()
        start = snapshot(project)
        done: list[c.Command] = []
        for _ in range(data.draw(st.integers(1, 30))):
            command = random_command(data, project)
            before = snapshot(project)
            try:
                command.do(project)
            except ProjectError:
                outcomes["refused"] += 1
                assert_same(project, before)
                continue
            outcomes["accepted"] += 1
            done.append(command)
            assert_holds_together(project)
        end = snapshot(project)
        for command in reversed(done):
            command.undo(project)
        assert_same(project, start)
        for command in done:
            command.do(project)
        assert_same(project, end)

    edit_at_random()
    # The generator must exercise both paths, or the property says little.
    assert outcomes["accepted"] > 300 and outcomes["refused"] > 300, outcomes
