"""The generation controller as a person follows a job: its progress as clip i of N with the time left, its clips
growing on the Generating lane (never in the project), and a stopped or failed job's finished clips kept on the
timeline as one undoable placement."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from desktop.generate.controller import GenerationController
from desktop.generate.placement import Placement
from desktop.project.commands import SetFormat
from desktop.project.model import Clip, MediaItem, Project, Track
from engine.api import protocol as p
from engine.api.jobs import JobSpec
from engine.api.records import GenerationRecord
from engine.media.mp4 import mp4_writer

PROVENANCE = {"model": "toyworld", "preset": "toyworld", "precision": "fp32", "settings": {"seconds": 600, "seed": 5},
              "inputs": {"kind": "continue", "prompts": ["a red circle moves up"]}}


class FakeBridge(QObject):
    event = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.submitted: list[JobSpec] = []
        self.cancelled: list[str] = []

    def submit(self, spec: JobSpec) -> None:
        self.submitted.append(spec)

    def cancel(self, job_id: str) -> None:
        self.cancelled.append(job_id)


def video(path: Path, frames: int) -> str:
    with mp4_writer(path, 16, PROVENANCE) as stream:
        stream.write(np.full((frames, 16, 16, 3), 90, np.uint8))
    return str(path)


@pytest.fixture
def controller(qtbot):
    project = Project(fps=16)
    project.media["a"] = MediaItem("a", Path("/media/a.mp4"), "video", 33 / 16, 16, 16, 16, provenance=PROVENANCE)
    project.tracks = [Track("v1", "video", "Video 1", clips=[Clip("first", "a", 0, 33), Clip("after", "a", 40, 8)])]
    made = GenerationController(FakeBridge(), project, QUndoStack())
    made.statuses, made.labels, made.failures = [], [], []
    made.status.connect(made.statuses.append)
    made.preview.connect(lambda image, label: made.labels.append(label))
    made.failed.connect(lambda message, hint: made.failures.append(message))
    return made


def keep_going(controller: GenerationController, tmp_path: Path) -> JobSpec:
    spec = JobSpec(kind="continue", model="toyworld", output=str(tmp_path / "more.mp4"), seconds=600,
                   continue_from=str(tmp_path / "a.bits"))
    controller.submit(spec, Placement("extend", 33, ("first",), "Keep going"))
    controller.on_event(p.Started(spec.id, 6600, 600, 9600, 16, 16, 16, "fp32", "cpu"))
    return spec


def clips(project: Project, track: str = "Video 1") -> list[tuple[int, int]]:
    return [(c.start, c.length) for t in project.tracks if t.name == track for c in t.clips]


def test_progress_reads_clip_i_of_n_with_the_whole_jobs_time_left(controller, tmp_path):
    spec = keep_going(controller, tmp_path)
    controller.on_event(p.Progress(spec.id, 24, 6600, 2, 0.1, 3725.4))
    assert controller.statuses[-1] == "clip 3 of 600 · pass 25/6600 · 1:02:05 left"
    controller.on_event(p.Preview.from_image(spec.id, 25, 6600, 2, np.zeros((4, 4, 3), np.uint8)))
    assert controller.labels[-1] == "clip 3 of 600 · pass 26/6600 · 1:02:05 left"

    new = JobSpec(kind="generate", model="toyworld", output=str(tmp_path / "new.mp4"), prompts=("a red ball",),
                  seconds=3)
    controller.submit(new, Placement("new"))
    controller.on_event(p.Started(new.id, 33, 4, 49, 16, 16, 16, "fp32", "cpu"))
    controller.on_event(p.Progress(new.id, 3, 33, 0, 0.1, None))  # a new video's first frame is made with clip 1
    assert controller.statuses[-1] == "clip 1 of 3 · pass 4/33"


def test_with_jobs_side_by_side_on_a_farm_the_monitor_follows_the_last_started_until_it_ends(controller, tmp_path):
    first, second = (JobSpec(kind="generate", model="toyworld", output=str(tmp_path / f"{name}.mp4"),
                             prompts=("a red ball",), seconds=3) for name in ("first", "second"))
    for spec in (first, second):
        controller.submit(spec, Placement("new"))
        controller.on_event(p.Started(spec.id, 33, 4, 49, 16, 16, 16, "fp32", "cuda:0"))
    assert controller.running == second.id
    controller.on_event(p.Preview.from_image(first.id, 1, 33, 0, np.zeros((4, 4, 3), np.uint8)))
    controller.on_event(p.Progress(first.id, 1, 33, 0, 0.1, 9.0))
    assert controller.labels == [] and controller.statuses[-1].startswith("generating")  # the other job's own
    controller.on_event(p.Progress(second.id, 2, 33, 0, 0.1, 8.0))
    assert controller.statuses[-1] == "clip 1 of 3 · pass 3/33 · 0:08 left"

    controller.on_event(p.Cancelled(second.id))
    assert controller.running == first.id
    controller.on_event(p.Preview.from_image(first.id, 4, 33, 0, np.zeros((4, 4, 3), np.uint8)))
    assert controller.labels == ["clip 1 of 3 · pass 5/33 · 0:09 left"]
    assert controller.stop() and controller.bridge.cancelled == [first.id]


def test_keep_going_then_stop_keeps_the_clips_made_after_the_clip_as_one_undo_step(controller, tmp_path):
    spec = keep_going(controller, tmp_path)
    assert controller.running == spec.id
    for clip in range(2):
        live = video(tmp_path / f"clip_{clip:02d}.mp4", 16)
        controller.on_event(p.ClipReady(spec.id, clip, 16 * clip, 16, live, live,
                                             GenerationRecord.from_json(PROVENANCE)))
    assert [(live.clip.start, live.clip.length) for live in controller.live.shown] == [(33, 16), (49, 16)]
    assert [t.name for t in controller.project.tracks] == ["Video 1"] and controller.stack.count() == 0

    assert controller.stop() and controller.bridge.cancelled == [spec.id]
    controller.on_event(p.Cancelled(spec.id, video(tmp_path / "more.mp4", 32), str(tmp_path / "more.bits")))
    assert [t.name for t in controller.project.tracks] == ["Video 1"] and controller.running is None
    assert clips(controller.project) == [(0, 33), (33, 32), (72, 8)]
    assert controller.statuses[-1] == "generation stopped; the 0:02 it made is on the timeline"
    assert controller.stack.count() == 1 and controller.stack.undoText() == "Keep going"
    controller.stack.undo()
    assert clips(controller.project) == [(0, 33), (40, 8)]


def test_a_failed_job_keeps_what_it_made_and_says_so_and_a_cancelled_one_with_nothing_made_places_nothing(
        controller, tmp_path):
    spec = JobSpec(kind="generate", model="toyworld", output=str(tmp_path / "new.mp4"), prompts=("a red ball",),
                   seconds=30)
    controller.submit(spec, Placement("new", start=100))
    controller.on_event(p.Failed(spec.id, "out_of_memory", "CUDA out of memory", "try nf4",
                                 video(tmp_path / "new.mp4", 17), str(tmp_path / "new.bits")))
    assert clips(controller.project)[-1] == (100, 17)
    assert controller.failures == ["CUDA out of memory\n\nThe 0:01 it made before it failed is on the timeline."]

    nothing = keep_going(controller, tmp_path)
    controller.on_event(p.Cancelled(nothing.id))
    assert clips(controller.project) == [(0, 33), (40, 8), (100, 17)]
    assert controller.statuses[-1] == "generation cancelled" and controller.stack.count() == 1


def test_a_job_queued_before_the_frame_rate_changed_lands_at_the_time_it_was_asked_for(controller, tmp_path):
    spec = JobSpec(kind="generate", model="toyworld", output=str(tmp_path / "new.mp4"), prompts=("a red ball",),
                   seconds=1)
    controller.submit(spec, Placement("new", start=100))  # 6.25 s at 16 fps
    SetFormat(1280, 720, 24).do(controller.project)
    controller.on_event(p.Finished(spec.id, video(tmp_path / "new.mp4", 16), str(tmp_path / "new.bits"),
                                   GenerationRecord.from_json(PROVENANCE), 1.0, 0.8, 0.2))
    assert clips(controller.project)[-1] == (150, 24)  # 6.25 s at 24 fps, 1 s long
