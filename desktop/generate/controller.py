"""Generation in the editor: jobs go to the engine bridge, their events come back as timeline changes.

While a job runs, each decoded clip is put on a "Generating" track at the top of the timeline as soon as it is
ready, so the clip grows and can be played before the job ends. Those live clips are not edits the user made and
are not on the undo stack; when the job finishes they are taken away and the whole video is placed by one
undoable command (desktop.generate.placement), so one Undo removes a generation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage, QUndoStack

from desktop.generate.bridge import EngineBridge
from desktop.generate.placement import Placement, place_result
from desktop.media.errors import MediaReadError
from desktop.media.probe import probe_media
from desktop.project.model import Clip, Project, ProjectError, Track, new_id
from desktop.timeline.edit_command import apply_edit
from engine.service import protocol as p
from engine.service.jobs import JobSpec

LIVE_TRACK = "Generating"


@dataclass
class _Running:
    spec: JobSpec
    placement: Placement
    then: Callable[[p.Finished], None] | None = None
    live: list[str] = field(default_factory=list)  # ids of the live clips and their media
    model_fps: int = 16


class GenerationController(QObject):
    """`changed` when the project changed outside the undo stack (live clips); `preview(image, label)` for the
    monitor; `status(text)` for the status bar; `placed(clip media id)` once a result is on the timeline."""

    changed = Signal()
    preview = Signal(QImage, str)
    status = Signal(str)
    placed = Signal(str)
    failed = Signal(str, str)  # message, hint

    def __init__(self, bridge: EngineBridge, project: Project, stack: QUndoStack) -> None:
        super().__init__()
        self.bridge = bridge
        self.project = project
        self.stack = stack
        self.jobs: dict[str, _Running] = {}
        bridge.event.connect(self.on_event)

    def set_project(self, project: Project, stack: QUndoStack) -> None:
        self.project, self.stack = project, stack

    def submit(self, spec: JobSpec, placement: Placement, then: Callable[[p.Finished], None] | None = None) -> None:
        """Run `spec` and place its video as `placement` says ("none": not placed); `then(finished)` follows a
        successful end (a job that needs another one's result)."""
        self.jobs[spec.id] = _Running(spec, placement, then)
        self.bridge.submit(spec)
        self.status.emit(f"queued: {spec.kind} {spec.seconds} s")

    def on_event(self, message: p.Message) -> None:
        job = self.jobs.get(getattr(message, "job_id", None) or "")
        if isinstance(message, p.Failed) and job is None and message.job_id is None:
            self.status.emit(f"engine: {message.message}")
        if job is None:
            return
        if isinstance(message, p.Started):
            job.model_fps = message.fps
            self.status.emit(f"generating {message.frames} frames ({message.precision} on {message.device})")
        elif isinstance(message, p.Progress):
            eta = "" if message.eta_seconds is None else f", {message.eta_seconds:.0f} s left"
            self.status.emit(f"pass {message.index + 1}/{message.total}, clip {message.clip + 1}{eta}")
        elif isinstance(message, p.Preview):
            image = QImage(message.pixels(), message.width, message.height, 3 * message.width,
                           QImage.Format.Format_RGB888).copy()
            self.preview.emit(image, f"pass {message.index + 1}/{message.total} · clip {message.clip + 1}")
        elif isinstance(message, p.ClipReady):
            self._show_live(job, message)
        elif isinstance(message, p.TERMINAL):
            del self.jobs[message.job_id]
            self._drop_live(job)
            if isinstance(message, p.Finished):
                if job.placement.mode != "none":
                    self._place(job, message)
                if job.then is not None:
                    job.then(message)
            elif isinstance(message, p.Failed):
                self.failed.emit(message.message, message.hint)
                self.status.emit(f"generation failed ({message.kind})")
            else:
                self.status.emit("generation cancelled")

    def _live_track(self) -> Track:
        track = next((t for t in self.project.tracks if t.name == LIVE_TRACK and t.kind == "video"), None)
        if track is None:
            track = Track(new_id(), "video", LIVE_TRACK)
            self.project.tracks.insert(0, track)
        return track

    def _show_live(self, job: _Running, ready: p.ClipReady) -> None:
        if job.placement.mode == "none":
            return
        try:
            media = probe_media(ready.video)
        except MediaReadError:
            return  # the finished video will still be placed; a segment that will not open only shows late
        self.project.media[media.id] = media
        start = job.placement.start + round(ready.frame_start * self.project.fps / job.model_fps)
        length = self.project.source_frames(media) or 1
        track = self._live_track()
        if not track.fits(start, length):
            start = max((c.end for c in track.clips), default=start)
        track.place(Clip(new_id(), media.id, start, length))
        job.live.append(media.id)
        self.changed.emit()

    def _drop_live(self, job: _Running) -> None:
        if not job.live:
            return
        for track in self.project.tracks:
            track.clips = [c for c in track.clips if c.media_id not in job.live]
        for media_id in job.live:
            self.project.media.pop(media_id, None)
        self.project.tracks = [t for t in self.project.tracks if t.name != LIVE_TRACK or t.clips]
        job.live = []
        self.changed.emit()

    def _place(self, job: _Running, finished: p.Finished) -> None:
        try:
            media = probe_media(Path(finished.video))
            apply_edit(self.stack, self.project, place_result(self.project, media, job.placement))
        except (MediaReadError, ProjectError) as err:
            self.failed.emit(f"the generated video {finished.video} could not be placed: {err}", "")
            return
        self.placed.emit(media.id)
        self.status.emit(f"generated {Path(finished.video).name} in {finished.seconds:.1f} s")
