"""The README's screenshots, made by using the studio as a person does: a real engine with toyworld, clips generated
from the generate panel onto the timeline, music imported under them, a storyboard caught mid-generation.

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python docs/make_screenshots.py [--out docs/images]

Writes main_window.png (a small project open, a generated clip selected), generating.png (the monitor showing a
pass's preview while the clip grows on the timeline), generated.png (the finished storyboard on the timeline),
title.png (a title over the first clip, one line wrapped onto two, its Title section in the inspector),
transitions.png (a fade in, a cross-dissolve and a fade out on two storyboard clips, the monitor at their cut),
export_dialog.png (File > Export video... at 1080p), project_settings.png (File > Project settings... with 1080p
at 24 fps picked), engine_settings.png (Edit > Engine... after testing an `istar serve` started here on loopback)
and sample.png (Help > Open sample project, the playhead where the title, the turned picture and the voice-over
meet). `--only sample` makes sample.png alone, with no engine work.
"""

from __future__ import annotations

import argparse
import os
import queue
import sys
import tempfile
import threading
import wave
from itertools import pairwise
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from desktop.app import save_screenshot
from desktop.generate import actions
from desktop.main_window import MainWindow
from desktop.self_check import wait_until
from desktop.theme import apply_dark_theme
from engine.api import protocol as p
from engine.api.job_book import JobBook
from engine.api.server_address import read_token
from engine.api.transport import LocalEngine
from engine.service.tcp import serve_tcp
from engine.weights.store import ModelStore

SIZE = (1500, 900)
CLIPS = [
    ("a red circle moves to the right on a blue background", 2, 3),
    ("a yellow star moves up on a black background", 2, 11),
]
STORYBOARD = ["a green square moves to the left", "a green square moves down", "a green square grows"]


def write_music(path: Path, seconds: float, rate: int = 48000) -> None:
    """A soft two-note pad, so the audio track has a waveform to draw."""
    t = np.arange(int(seconds * rate)) / rate
    tone = 0.25 * np.sin(2 * np.pi * 220 * t) + 0.15 * np.sin(2 * np.pi * 330 * t) * (0.5 + 0.5 * np.sin(t * 3))
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((tone * 32767).astype("<i2").tobytes())


def generate(window: MainWindow, prompt: str, seconds: int, seed: int, storyboard: list[str] | None = None) -> None:
    panel = window.panel
    if storyboard:
        panel.duration.setValue(seconds)
        panel.set_storyboard(storyboard)
    else:
        panel.mode.setCurrentText("Text to video")
        panel.prompt.setPlainText(prompt)
        panel.duration.setValue(seconds)
    panel.random_seed.setChecked(False)
    panel.seed.setValue(seed)
    window.editor.timeline.set_playhead(window.project.duration)
    if not actions.generate_from_panel(window.generation_context):
        sys.exit(f"no job: {window.statusBar().currentMessage()}")


def engine_settings(window: MainWindow, folder: Path, out: Path) -> None:
    """Edit > Engine... once "Test connection" has reached an `istar serve` started here on loopback."""
    token = folder / "token"
    ports: queue.Queue[int] = queue.Queue()
    threading.Thread(target=serve_tcp, args=("127.0.0.1", 0, read_token(token, create=True), ModelStore(), ports.put),
                     daemon=True, name="istar-serve").start()
    dialog = window.show_engine_settings()
    dialog.remote.setChecked(True)
    dialog.address.setText(f"127.0.0.1:{ports.get(timeout=60)}")
    dialog.token_file.setText(str(token))
    tested: list[bool] = []
    dialog.tested.connect(lambda ok, _: tested.append(ok))
    dialog.test()
    if not wait_until(lambda: bool(tested), 120) or not tested[0]:
        sys.exit(f"the engine dialog's test failed: {dialog.message.text()}")
    wait_until(lambda: False, 0.5)
    save_screenshot(dialog, out / "engine_settings.png")
    dialog.reject()


def title_over_clip(window: MainWindow, out: Path) -> None:
    """Timeline > Add title over the first clip, its text typed into the inspector's Title section as one line, which
    wraps at the title-safe area."""
    first = window.project.tracks[0].clips[0]
    window.editor.timeline.select_clips([first.id])
    window.editor.timeline.set_playhead(first.start + 8)
    window.title_action.trigger()
    panel = window.inspector.title_panel
    panel.text.setPlainText("Shapes in motion, made with toyworld")
    panel.commit_text()
    wait_until(lambda: False, 2)
    save_screenshot(window, out / "title.png")


def transitions_on_timeline(window: MainWindow, out: Path) -> None:
    """On the last two touching clips of a video track: Fade in on the first, Fade out on the second and Add
    cross-dissolve on their cut (generated clips are placed whole, so they overlap to make room), the playhead at
    the cut; undone after the screenshot."""
    timeline, stack = window.editor.timeline, window.editor.stack
    done = stack.index()
    outgoing, incoming = [(a, b) for t in window.project.tracks if t.kind == "video"
                          for a, b in pairwise(t.clips) if a.end == b.start][-1]
    timeline.select_clips([outgoing.id])
    timeline.fade_selected("in")
    timeline.select_clips([incoming.id])
    timeline.fade_selected("out")
    timeline.set_playhead(incoming.start)
    timeline.cross_dissolve()
    timeline.set_playhead(incoming.start)
    timeline.horizontalScrollBar().setValue(round(timeline.scale.x(incoming.start) - timeline.viewport().width() / 2))
    wait_until(lambda: False, 2)
    save_screenshot(window, out / "transitions.png")
    stack.setIndex(done)


def project_settings(window: MainWindow, out: Path) -> None:
    """File > Project settings... with 1080p at 24 fps picked, then closed without applying them."""
    dialog = window.show_project_settings()
    dialog.choose_preset("1080p")
    dialog.choose_fps(24)
    wait_until(lambda: False, 0.5)
    save_screenshot(dialog, out / "project_settings.png")
    dialog.reject()


def export_dialog(window: MainWindow, out: Path) -> None:
    """File > Export video... for the project on the timeline at 1080p, then closed without exporting."""
    dialog = window.export_video_dialog()
    dialog.choose_preset("1080p")
    wait_until(lambda: False, 0.5)
    save_screenshot(dialog, out / "export_dialog.png")
    dialog.reject()


def sample_project(window: MainWindow, out: Path) -> None:
    """Help > Open sample project, the picture clip selected (its transform in the inspector) and the playhead inside
    it, over a generated clip, with the voice-over under it."""
    window.open_sample()
    project = window.project
    [picture] = [c for t in project.tracks for c in t.clips if project.media_of(c).kind == "image"]
    window.editor.timeline.select_clips([picture.id])
    window.editor.timeline.set_playhead(picture.start + picture.length // 2)
    wait_until(lambda: False, 2)
    save_screenshot(window, out / "sample.png")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "images")
    parser.add_argument("--only", choices=["sample"], help="make this screenshot alone")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    app = QApplication(sys.argv[:1])
    apply_dark_theme(app)
    with tempfile.TemporaryDirectory(prefix="istar-screens-") as tmp:
        folder = Path(tmp)
        os.environ["ISTAR_HOME"] = str(folder / "home")
        settings = QSettings(str(folder / "settings.ini"), QSettings.Format.IniFormat)
        window = MainWindow(settings, lambda: LocalEngine(folder / "engine.log"), JobBook(folder / "queue.json"))
        window.resize(*SIZE)
        if args.only == "sample":
            window.confirm_discard = lambda: True
            window.show()
            wait_until(lambda: bool(window.models), 120)  # the generate panel ready, as a person sees it
            sample_project(window, args.out)
            window.close()
            print(f"wrote sample.png to {args.out}")
            return 0
        window.show()
        if not wait_until(lambda: bool(window.models), 120):
            sys.exit("the engine did not list its models")
        window._save_to(folder / "Shapes.istar")  # outputs go beside the project

        for prompt, seconds, seed in CLIPS:
            generate(window, prompt, seconds, seed)
            wait_until(lambda: not window.controller.jobs, 300)
        music = folder / "pad.wav"
        write_music(music, 4.0)
        [media_id] = window.import_paths([music])
        window.editor.timeline.set_playhead(0)
        window.place_media(media_id)
        window._save_to(folder / "Shapes.istar")
        first = window.project.tracks[0].clips[0]
        window.editor.timeline.select_clips([first.id])
        window.editor.timeline.set_playhead(first.start + 12)
        wait_until(lambda: False, 2)
        save_screenshot(window, args.out / "main_window.png")

        caught: list[bool] = []

        def on_event(message: p.Message) -> None:
            # the window has already shown this preview (its controller hears the event first): grab it now
            late = isinstance(message, p.Preview) and message.clip >= 2 and message.index >= message.total * 0.6
            if late and not caught:
                caught.append(True)
                save_screenshot(window, args.out / "generating.png")

        window.bridge.event.connect(on_event)
        generate(window, "", len(STORYBOARD), 5, STORYBOARD)
        wait_until(lambda: not window.controller.jobs, 300)
        window.panel.mode.setCurrentText("Text to video")  # the lane then shows the clip's own prompts, not the plan
        window.editor.timeline.select_clips([window.project.tracks[0].clips[-1].id])
        wait_until(lambda: False, 2)
        save_screenshot(window, args.out / "generated.png")
        title_over_clip(window, args.out)
        transitions_on_timeline(window, args.out)
        export_dialog(window, args.out)
        project_settings(window, args.out)
        engine_settings(window, folder, args.out)
        window.editor.stack.setClean()
        sample_project(window, args.out)
        window.close()
    names = ("main_window", "generating", "generated", "title", "transitions", "export_dialog", "project_settings",
             "engine_settings", "sample")
    print(f"wrote {', '.join(n + '.png' for n in names)} to {args.out}"
          + ("" if caught else " (no mid-generation preview was caught: generating.png is missing)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
