"""`istar-studio --self-check`: with the main window open, generate 1 s of toyworld through the engine bridge and
export it, printing one line per step; exit 0 only if every step worked. Proves an install or a build end to end."""

from __future__ import annotations

import importlib.util
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication, QWidget

from desktop.generate.bridge import EngineBridge
from desktop.project.model import Clip, MediaItem, Project, new_id
from engine.media.mp4 import read_frames
from engine.service import protocol as p
from engine.service.job_queue import JobQueue
from engine.service.jobs import JobSpec
from engine.service.transport import LocalEngine

PROMPT = "a red circle moves to the right on a black background"
SECONDS = 1
GENERATION_TIMEOUT_S = 600  # a cold start on a slow machine loads torch and the model first
LOG_TAIL_LINES = 20


class SelfCheckFailed(Exception):
    """A step did not do what it should; the message says what happened."""


def _say(start: float, text: str) -> None:
    print(f"self-check [{time.monotonic() - start:6.1f} s] {text}", flush=True)


def _generate(folder: Path, start: float) -> p.Finished:
    """Submit the job through the bridge the window uses and run the event loop until it ends."""
    bridge = EngineBridge(lambda: LocalEngine(folder / "engine.log"), JobQueue(folder / "queue.json"))
    spec = JobSpec(kind="generate", model="toyworld", output=str(folder / "generated.mp4"), prompts=(PROMPT,),
                   seconds=SECONDS, seed=1)
    loop = QEventLoop()
    outcome: list[p.Message] = []

    def on_event(message: p.Message) -> None:
        if isinstance(message, p.Started):
            _say(start, f"engine started the job: {message.frames} frames {message.width}x{message.height} "
                        f"on {message.device} ({message.precision}), {message.passes} passes")
        elif isinstance(message, p.TERMINAL) and message.job_id == spec.id:
            outcome.append(message)
            loop.quit()

    bridge.event.connect(on_event)
    QTimer.singleShot(GENERATION_TIMEOUT_S * 1000, loop.quit)
    bridge.submit(spec)
    loop.exec()
    bridge.close()
    if not outcome:
        raise SelfCheckFailed(f"no answer from the engine in {GENERATION_TIMEOUT_S} s")
    ended = outcome[0]
    if isinstance(ended, p.Failed):
        raise SelfCheckFailed(f"generation failed ({ended.kind}): {ended.message} {ended.hint}".rstrip())
    if not isinstance(ended, p.Finished):
        raise SelfCheckFailed("generation was cancelled")
    return ended


def _export(video: Path, out: Path) -> str:
    """Export a one-clip project holding `video`, or, in a build without the exporter, only check it decodes."""
    frames, fps = read_frames(video)
    if importlib.util.find_spec("desktop.media.export") is None:
        return (f"decodes: {len(frames)} frames at {fps:g} fps (desktop.media.export is not in this build, "
                "so no timeline export was tried)")
    from desktop.media.export import export_video

    count, height, width = frames.shape[:3]
    project = Project.empty(fps=round(fps), width=width, height=height)
    media = MediaItem(new_id(), video, "video", count / fps, fps, width, height)
    project.media[media.id] = media
    project.tracks[0].place(Clip(new_id(), media.id, start=0, length=count))
    export_video(project, out)
    exported, _ = read_frames(out)
    if len(exported) != count:
        raise SelfCheckFailed(f"the export {out} holds {len(exported)} frames, the clip {count}")
    return f"exported a one-clip project to MP4 and decoded it back: {len(exported)} frames {width}x{height}"


def run_self_check(app: QApplication, window: QWidget) -> int:
    """Run the steps, then close the window (so that it lets go of its own engine) and return the exit code."""
    start = time.monotonic()
    try:
        return _run(app, window, start)
    finally:
        window.close()


def _run(app: QApplication, window: QWidget, start: float) -> int:
    app.processEvents()
    if not window.isVisible():
        _say(start, "FAILED: the main window is not shown")
        return 1
    _say(start, f"main window open: {window.windowTitle()!r} on the {app.platformName()} platform")
    with tempfile.TemporaryDirectory(prefix="istar-self-check-") as tmp:
        folder = Path(tmp)
        try:
            finished = _generate(folder, start)
            _say(start, f"generated {SECONDS} s of toyworld in {finished.seconds:.1f} s: {Path(finished.video).name}")
            _say(start, _export(Path(finished.video), folder / "exported.mp4"))
        except Exception as err:  # whatever broke, the check reports it and fails
            _say(start, f"FAILED: {type(err).__name__}: {err}")
            log = folder / "engine.log"
            if log.is_file():  # it goes with the temporary folder: show its end now
                tail = log.read_text(errors="replace").splitlines()[-LOG_TAIL_LINES:]
                print("engine log ends:\n  " + "\n  ".join(tail), flush=True)
            return 1
    _say(start, "passed")
    return 0
