"""Where a continuation, a kept part of a stopped job and a bridge land: after the clip they play on from, the
clip's trimmed tail back, the clips after them moved along, the bridge's second clip played on from after the fade;
each one undo step."""

from __future__ import annotations

import copy
from pathlib import Path

from desktop.generate.placement import Placement, fade_frames, place_result
from desktop.project.model import Clip, MediaItem, Project, Track


def generated(name: str, frames: int, kind: str, **inputs) -> MediaItem:
    provenance = {"model": "toyworld", "preset": "toyworld", "precision": "fp32", "settings": {"seconds": 3, "seed": 1},
                  "inputs": {"kind": kind, **inputs}}
    return MediaItem(name, Path(f"/media/{name}.mp4"), "video", frames / 16, 16, 64, 64, provenance=provenance)


def project() -> Project:
    """At 16 fps on Video 1: "first" (a 49-frame video, its last 9 frames trimmed off) at 0..40, "second" (33
    frames) right after it at 40..73, a plain clip at 100..132."""
    made = Project(fps=16)
    made.media = {m.id: m for m in (generated("a", 49, "generate"), generated("b", 33, "generate"),
                                    MediaItem("p", Path("/media/plain.mp4"), "video", 2.0, 16, 64, 64))}
    made.tracks = [Track("v1", "video", "Video 1", clips=[
        Clip("first", "a", 0, 40), Clip("second", "b", 40, 33), Clip("plain", "p", 100, 32)])]
    return made


def layout(made: Project) -> list[tuple[str, int, int, int]]:
    """(media, start, length, source_in) of Video 1's clips, in order."""
    return [(c.media_id, c.start, c.length, c.source_in) for c in made.track("v1").clips]


def test_a_continuation_lands_after_the_clip_with_its_tail_back_and_the_later_clips_moved_in_one_step():
    made = project()
    before = copy.deepcopy(made)
    command = place_result(made, generated("more", 32, "continue"), Placement("extend", 40, ("first",), "Keep going"))
    command.do(made)
    assert command.text == "Keep going"
    assert layout(made) == [("a", 0, 49, 0), ("more", 49, 32, 0), ("b", 81, 33, 0), ("p", 141, 32, 0)]
    command.undo(made)
    assert made == before


def test_a_continuation_of_a_clip_removed_meanwhile_is_placed_at_the_request():
    made = project()
    made.track("v1").clips.pop(0)
    place_result(made, generated("more", 32, "continue"), Placement("extend", 49, ("first",))).do(made)
    assert [(c.media_id, c.start) for c in made.tracks[0].clips] == [("more", 49)]


def test_a_bridge_lands_between_the_clips_and_the_second_plays_on_from_after_the_frames_it_fades_into():
    made = project()
    before = copy.deepcopy(made)
    bridge = generated("bridge", 16, "bridge", crossfade_frames=8)
    command = place_result(made, bridge, Placement("bridge", 49, ("first", "second"), "Bridge clips"))
    command.do(made)
    assert layout(made) == [("a", 0, 49, 0), ("bridge", 49, 16, 0), ("b", 65, 25, 8), ("p", 117, 32, 0)]
    command.undo(made)
    assert made == before


def test_a_bridge_that_cuts_leaves_the_second_clip_whole_and_fades_count_in_project_frames():
    made = project()
    place_result(made, generated("bridge", 16, "bridge", crossfade_frames=0),
                 Placement("bridge", 49, ("first", "second"))).do(made)
    assert layout(made)[1:3] == [("bridge", 49, 16, 0), ("b", 65, 33, 0)]
    assert fade_frames(Project(fps=24), generated("bridge", 16, "bridge", crossfade_frames=8)) == 12


def test_a_new_generation_goes_to_the_chosen_track_at_its_first_free_space_never_to_a_track_of_its_own():
    made = project()
    made.tracks.insert(0, Track("variant", "video", "Variant 2 (seed 7)", clips=[Clip("v", "b", 0, 33)]))
    clip = generated("new", 20, "generate")
    place_result(made, clip, Placement("new", start=50)).do(made)  # no track chosen: the top one, free at 50
    assert [(c.media_id, c.start) for c in made.track("variant").clips] == [("b", 0), ("new", 50)]
    made = project()
    made.tracks.insert(0, Track("variant", "video", "Variant 2 (seed 7)"))
    place_result(made, clip, Placement("new", start=50, track="v1")).do(made)  # Video 1 chosen, busy at 50
    assert layout(made)[-2:] == [("new", 73, 20, 0), ("p", 100, 32, 0)]  # right after "second", before "plain"
    assert made.track("variant").clips == [] and len(made.tracks) == 2
    long = generated("long", 40, "generate")
    place_result(made, long, Placement("new", start=0, track="v1")).do(made)  # no 40 frames free before 132
    assert layout(made)[-1] == ("long", 132, 40, 0)
