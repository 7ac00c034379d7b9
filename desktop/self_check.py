"""`istar-studio --self-check`: in the main window as a person uses it, generate 1 s of toyworld from the generate
panel onto the timeline and export the timeline, printing one line per step; exit 0 only if every step worked.
Proves an install or a build end to end."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

from desktop.generate import actions
from desktop.main_window import MainWindow
from desktop.media.export import export_video
from engine.home import engine_log
from engine.media.mp4 import read_frames

PROMPT = "a red circle moves to the right on a black background"
SECONDS = 1
ENGINE_TIMEOUT_S = 300  # a cold start on a slow machine imports torch before it can list its models
GENERATION_TIMEOUT_S = 600
LOG_TAIL_LINES = 20


class SelfCheckFailed(Exception):
    """A step did not do what it should; the message says what happened."""


def _say(start: float, text: str) -> None:
    print(f"self-check [{time.monotonic() - start:6.1f} s] {text}", flush=True)


def wait_until(done: Callable[[], bool], timeout_s: float) -> bool:
    """Run the event loop (the window stays live) until `done()` or the timeout; True if done."""
    loop = QEventLoop()
    deadline = time.monotonic() + timeout_s

    def check() -> None:
        if done() or time.monotonic() > deadline:
            loop.quit()
        else:
            QTimer.singleShot(50, check)

    QTimer.singleShot(0, check)
    loop.exec()
    return done()


def _generate(window: MainWindow, start: float) -> Path:
    """Ask for the clip through the generate panel, as a click on Generate does, and wait until it is placed."""
    if not wait_until(lambda: "toyworld" in window.models, ENGINE_TIMEOUT_S):
        raise SelfCheckFailed(f"the engine did not list the toyworld model in {ENGINE_TIMEOUT_S} s")
    panel = window.panel
    panel.model.setCurrentIndex(panel.model.findData("toyworld"))
    panel.mode.setCurrentText("Text to video")
    panel.prompt.setPlainText(PROMPT)
    panel.duration.setValue(SECONDS)
    panel.random_seed.setChecked(False)
    panel.seed.setValue(1)
    failures: list[str] = []
    window.controller.failed.connect(lambda message, hint: failures.append(f"{message} {hint}".rstrip()))
    if not actions.generate_from_panel(window.generation_context):
        raise SelfCheckFailed(f"the generate panel made no job: {window.statusBar().currentMessage()}")
    if not wait_until(lambda: not window.controller.jobs, GENERATION_TIMEOUT_S):
        raise SelfCheckFailed(f"no answer from the engine in {GENERATION_TIMEOUT_S} s")
    if failures:
        raise SelfCheckFailed(f"generation failed: {failures[0]}")
    clips = [c for t in window.project.tracks if t.kind == "video" for c in t.clips]
    if not clips:
        raise SelfCheckFailed("the job ended but no clip was placed on the timeline")
    return window.project.media_of(clips[0]).path


def _export(window: MainWindow, out: Path) -> str:
    """Export the window's timeline, then decode the file back."""
    expected = window.project.duration
    export_video(window.project, out)
    exported, fps = read_frames(out)
    if len(exported) != expected:
        raise SelfCheckFailed(f"the export {out} holds {len(exported)} frames, the timeline {expected}")
    height, width = exported.shape[1:3]
    return f"exported the timeline to MP4 and decoded it back: {len(exported)} frames {width}x{height} at {fps:g} fps"


def run_self_check(app: QApplication, window: MainWindow) -> int:
    """Run the steps, then close the window (so that it lets go of its engine) and return the exit code."""
    start = time.monotonic()
    try:
        return _run(app, window, start)
    finally:
        window.editor.stack.setClean()  # the generated clip is the check's, not a user's work to ask about
        window.close()


def _run(app: QApplication, window: MainWindow, start: float) -> int:
    app.processEvents()
    if not window.isVisible():
        _say(start, "FAILED: the main window is not shown")
        return 1
    _say(start, f"main window open: {window.windowTitle()!r} on the {app.platformName()} platform")
    with tempfile.TemporaryDirectory(prefix="istar-self-check-") as tmp:
        try:
            began = time.monotonic()
            video = _generate(window, start)
            _say(start, f"generated {SECONDS} s of toyworld onto the timeline in {time.monotonic() - began:.1f} s: "
                        f"{video.name}")
            _say(start, _export(window, Path(tmp) / "exported.mp4"))
        except Exception as err:  # whatever broke, the check reports it and fails
            _say(start, f"FAILED: {type(err).__name__}: {err}")
            log = engine_log()
            if log.is_file():
                tail = log.read_text(errors="replace").splitlines()[-LOG_TAIL_LINES:]
                print(f"{log} ends:\n  " + "\n  ".join(tail), flush=True)
            return 1
    _say(start, "passed")
    return 0
