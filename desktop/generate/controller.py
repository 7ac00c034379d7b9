"""Generation in the editor: jobs go to the engine bridge, their events come back as timeline changes.

While a job runs, each decoded clip is shown on the "Generating" lane at the top of the timeline as soon as it is
ready, so the clip grows and can be played before the job ends. Those live clips are not edits the user made: they
are view state (desktop.project.live), never in the project, so neither undo nor a save sees them. When the job
finishes they are taken away and the whole video is placed by one undoable command (desktop.generate.placement),
so one Undo removes a generation. A job stopped (cancelled, or
failed) after finishing some clips keeps them as one video, placed the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage, QUndoStack

from desktop.generate.bridge import EngineBridge
from desktop.generate.placement import Placement, place_result
from desktop.generate.progress import JobProgress
from desktop.media.errors import MediaReadError
from desktop.media.probe import probe_media
from desktop.project.commands import frame_at_rate
from desktop.project.live import LiveClips
from desktop.project.model import MediaItem, Project, ProjectError
from desktop.timecode import clock
from desktop.timeline.edit_command import apply_edit
from engine.api import protocol as p
from engine.api.jobs import JobSpec


@dataclass
class _Running:
    spec: JobSpec
    placement: Placement
    then: Callable[[p.Finished], None] | None = None
    fps: int = 16  # the project's when the job was submitted: the placement's start is a frame at this rate
    live: dict[int, str] = field(default_factory=dict)  # the media id of each of its clips shown live, by clip
    model_fps: int = 16
    progress: JobProgress = JobProgress()
    eta_seconds: float | None = None  # the whole job's time left, as the last Progress said


class GenerationController(QObject):
    """`changed` when the live clips changed (`live`, shown over the project); `preview(image, label)` for the
    monitor; `status(text)` for the status bar; `placed(clip media id)` once a result is on the timeline;
    `running_changed()` when one of its jobs starts or ends."""

    changed = Signal()
    preview = Signal(QImage, str)
    status = Signal(str)
    placed = Signal(str)
    failed = Signal(str, str)  # message, hint
    running_changed = Signal()

    def __init__(self, bridge: EngineBridge, project: Project, stack: QUndoStack,
                 live: LiveClips | None = None) -> None:
        super().__init__()
        self.bridge = bridge
        self.project = project
        self.stack = stack
        self.live = live if live is not None else LiveClips()
        self.jobs: dict[str, _Running] = {}
        self._started: list[str] = []  # its jobs running now, in the order they started (several on a farm)
        bridge.event.connect(self.on_event)

    @property
    def running(self) -> str | None:
        """The running job the monitor and the status bar follow, and Stop stops: the last one started."""
        return self._started[-1] if self._started else None

    def set_project(self, project: Project, stack: QUndoStack) -> None:
        self.project, self.stack = project, stack

    def submit(self, spec: JobSpec, placement: Placement, then: Callable[[p.Finished], None] | None = None) -> None:
        """Run `spec` and place its video as `placement` says ("none": not placed); `then(finished)` follows a
        successful end (a job that needs another one's result)."""
        self.jobs[spec.id] = _Running(spec, placement, then, self.project.fps)
        self.bridge.submit(spec)
        self.status.emit(f"queued: {spec.kind} {spec.seconds} s")

    def stop(self) -> bool:
        """Cancel the job running now; what it finished is kept (placed when the engine says it stopped)."""
        if self.running is None:
            return False
        self.bridge.cancel(self.running)
        self.status.emit("stopping: the clips made so far are kept")
        return True

    def on_event(self, message: p.Message) -> None:
        job = self.jobs.get(getattr(message, "job_id", None) or "")
        if isinstance(message, p.Failed) and job is None and message.job_id is None:
            self.status.emit(f"engine: {message.message}")
        if job is None:
            return
        if isinstance(message, p.Started):
            job.model_fps = message.fps
            job.progress = JobProgress.of(job.spec, message)
            if message.job_id not in self._started:
                self._started.append(message.job_id)
            self.running_changed.emit()
            self.status.emit(f"generating {message.frames} frames ({message.precision} on {message.device})")
        elif isinstance(message, p.Progress):
            job.eta_seconds = message.eta_seconds
            if message.job_id == self.running:
                self.status.emit(job.progress.text(message.index, message.total, message.clip, message.eta_seconds))
        elif isinstance(message, p.Preview) and message.job_id == self.running:
            image = QImage(message.pixels(), message.width, message.height, 3 * message.width,
                           QImage.Format.Format_RGB888).copy()
            self.preview.emit(image, job.progress.text(message.index, message.total, message.clip, job.eta_seconds))
        elif isinstance(message, p.ClipReady):
            self._show_live(job, message)
        elif isinstance(message, p.TERMINAL):
            self._end(job, message)

    def _end(self, job: _Running, message: p.Finished | p.Failed | p.Cancelled) -> None:
        del self.jobs[message.job_id]
        if message.job_id in self._started:
            self._started.remove(message.job_id)
            self.running_changed.emit()
        self._drop_live(job)
        placed = self._place(job, message.video) if message.video and job.placement.mode != "none" else None
        if isinstance(message, p.Finished):
            if placed is not None:
                self.status.emit(f"generated {placed.name} in {message.seconds:.1f} s")
            if job.then is not None:
                job.then(message)
            return
        if isinstance(message, p.Failed):
            kept = f"\n\nThe {clock(placed.duration)} it made before it failed is on the timeline." if placed else ""
            self.failed.emit(message.message + kept, message.hint)
            self.status.emit(f"generation failed ({message.kind})")
        elif placed is not None:
            self.status.emit(f"generation stopped; the {clock(placed.duration)} it made is on the timeline")
        else:
            self.status.emit("generation cancelled")

    def _show_live(self, job: _Running, ready: p.ClipReady) -> None:
        if job.placement.mode == "none":
            return
        try:
            media = probe_media(ready.video)
        except MediaReadError:
            return  # the finished video will still be placed; a segment that will not open only shows late
        start = self._start(job) + round(ready.frame_start * self.project.fps / job.model_fps)
        # a clip shown before is made again when the job moves to another engine (Edit > Engine...), which runs it
        # from its start: the new one takes the old one's place
        shown = job.live.get(ready.clip)
        if shown is not None:
            self.live.remove([shown])
        self.live.add(media, start, self.project.source_frames(media) or 1)
        job.live[ready.clip] = media.id
        self.changed.emit()

    def _start(self, job: _Running) -> int:
        """Where the job's placement starts at the project's frame rate now, which may have changed since."""
        return frame_at_rate(job.placement.start, job.fps, self.project.fps)

    def _drop_live(self, job: _Running) -> None:
        removed = self.live.remove(job.live.values())
        job.live = {}
        if removed:
            self.changed.emit()

    def _place(self, job: _Running, video: str) -> MediaItem | None:
        try:
            media = probe_media(Path(video))
            placement = replace(job.placement, start=self._start(job))
            apply_edit(self.stack, self.project, place_result(self.project, media, placement))
        except (MediaReadError, ProjectError) as err:
            self.failed.emit(f"the generated video {video} could not be placed: {err}", "")
            return None
        self.placed.emit(media.id)
        return media
