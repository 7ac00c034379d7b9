"""A running generation's clips are shown, never edited in: each appears on the Generating lane above the tracks,
and in the monitor, as soon as it is decoded, but the project never holds them, so Undo and Save see only the
person's edits; when the job ends its video is placed as one undoable edit. No engine runs: the job's events are
sent as the engine sends them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtWidgets import QGraphicsItem
from studio_window import studio_window

from desktop.generate.placement import Placement
from desktop.main_window import MainWindow
from desktop.media.probe import probe_media
from desktop.project.file import load_project, save_project, write_recovery
from desktop.project.live import LIVE_TRACK
from desktop.project.model import Clip, Project, Track
from desktop.timeline.clip_item import ClipItem
from engine.api import protocol as p
from engine.api.jobs import JobSpec
from engine.api.transport import LocalEngine
from engine.media.mp4 import mp4_writer

GREY, RED, GREEN = (128, 128, 128), (220, 40, 40), (40, 200, 60)


def solid(path: Path, frames: int, colour: tuple[int, int, int]) -> Path:
    with mp4_writer(path, 16) as stream:
        stream.write(np.full((frames, 64, 64, 3), colour, np.uint8))
    return path


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    """The person's film open and shown: Video 2 (empty) above Video 1 (a grey clip at 0..32) and Audio 1. No
    engine: jobs submitted go nowhere (`window.submitted`), and the test sends their events."""
    monkeypatch.setenv("ISTAR_HOME", str(tmp_path / "home"))
    w = studio_window(qtbot, tmp_path)
    w.submitted = []
    monkeypatch.setattr(w.bridge, "submit", w.submitted.append)
    monkeypatch.setattr(w.bridge, "list_models", lambda *args: None)
    grey = probe_media(solid(tmp_path / "grey.mp4", 32, GREY))
    film = Project(fps=16, width=64, height=64, media={grey.id: grey})
    film.tracks = [Track("v2", "video", "Video 2"),
                   Track("v1", "video", "Video 1", clips=[Clip("grey", grey.id, 0, 32)]),
                   Track("a1", "audio", "Audio 1")]
    save_project(film, tmp_path / "film.istar")
    assert w.open_project(tmp_path / "film.istar", ask=False)
    w.show()
    qtbot.waitExposed(w)
    return w


def start_job(window: MainWindow, tmp_path: Path, start: int) -> JobSpec:
    """Generate a 2 s video at `start`, as the generate panel does; the engine starts it."""
    spec = JobSpec(kind="generate", model="toyworld", output=str(tmp_path / "made.mp4"), prompts=("a red ball",),
                   seconds=2)
    window.controller.submit(spec, Placement("new", start))
    assert window.submitted == [spec]
    window.bridge.event.emit(p.Started(spec.id, 22, 2, 32, 64, 64, 16, "fp32", "cpu"))
    return spec


def clip_ready(window: MainWindow, spec: JobSpec, tmp_path: Path, clip: int, colour: tuple[int, int, int]) -> None:
    """The engine decoded clip `clip` (16 frames) of the job."""
    video = str(solid(tmp_path / f"clip_{clip:02d}.mp4", 16, colour))
    window.bridge.event.emit(p.ClipReady(spec.id, clip, 16 * clip, 16, video, str(tmp_path / "made.bits"), None))


def names(window: MainWindow) -> list[str]:
    return [t.name for t in window.project.tracks]


def rows(window: MainWindow) -> list[str]:
    """The track headers' names, top to bottom, as the person sees them."""
    headers = window.editor.timeline.headers.rows.values()
    return [h.name.text() for h in sorted(headers, key=lambda h: h.y())]


def shown_colour(window: MainWindow, qtbot, frame: int) -> tuple[int, ...]:
    """The colour the monitor shows in the middle of the picture at timeline frame `frame`."""
    monitor = window.editor.monitor
    with qtbot.waitSignal(monitor.frame_shown, timeout=10_000, check_params_cb=lambda shown: shown == frame):
        window.editor.timeline.set_playhead(frame)
    image = monitor.image
    pixel = image.pixelColor(image.width() // 2, image.height() // 2)
    return pixel.red(), pixel.green(), pixel.blue()


def near(colour: tuple[int, ...], expected: tuple[int, int, int]) -> bool:
    return max(abs(a - b) for a, b in zip(colour, expected, strict=True)) <= 12


def test_undo_after_live_clips_came_puts_a_removed_track_back_where_it_was(window, tmp_path):
    assert rows(window) == names(window) == ["Video 2", "Video 1", "Audio 1"]
    window.editor.timeline.headers.rows["v1"].remove.click()  # the person removes Video 1
    assert rows(window) == names(window) == ["Video 2", "Audio 1"]

    spec = start_job(window, tmp_path, start=40)
    clip_ready(window, spec, tmp_path, 0, RED)
    assert rows(window) == [LIVE_TRACK, "Video 2", "Audio 1"]

    window.editor.stack.undo()
    assert rows(window) == [LIVE_TRACK, "Video 2", "Video 1", "Audio 1"]  # below Video 2, as it was
    assert names(window) == ["Video 2", "Video 1", "Audio 1"]  # the lane is not one of the project's tracks
    assert window.editor.stack.index() == 0 and window.editor.stack.isClean()
    window.editor.stack.redo()
    window.editor.stack.undo()
    assert names(window) == ["Video 2", "Video 1", "Audio 1"]


def test_a_save_while_a_job_runs_writes_only_the_persons_edits(window, qtbot, tmp_path):
    window.editor.timeline.headers.rows["v2"].mute.click()  # the person's edit
    spec = start_job(window, tmp_path, start=40)
    clip_ready(window, spec, tmp_path, 0, RED)
    clip_ready(window, spec, tmp_path, 1, GREEN)
    assert rows(window)[0] == LIVE_TRACK

    path = tmp_path / "saved.istar"
    assert window._save_to(path)
    text = path.read_text()
    assert LIVE_TRACK not in text and "clip_00" not in text and "clip_01" not in text
    recovery = write_recovery(window.project, path)  # an autosave sees the same
    assert LIVE_TRACK not in recovery.read_text()
    saved = load_project(path)
    assert saved == window.project and [t.name for t in saved.tracks] == ["Video 2", "Video 1", "Audio 1"]
    assert saved.tracks[0].muted and [(c.id, c.start, c.length) for t in saved.tracks for c in t.clips] == [
        ("grey", 0, 32)]
    assert set(saved.media) == {saved.tracks[1].clips[0].media_id}

    assert window.open_project(path, ask=False)  # reopened while the job still runs: the lane stays above it
    assert names(window) == ["Video 2", "Video 1", "Audio 1"] and window.project.tracks[0].muted
    assert rows(window) == [LIVE_TRACK, "Video 2", "Video 1", "Audio 1"]
    window.bridge.event.emit(p.Cancelled(spec.id))  # nothing kept: the lane goes and the project is as saved
    assert rows(window) == ["Video 2", "Video 1", "Audio 1"] and load_project(path) == window.project
    assert window.editor.stack.count() == 0


def test_live_clips_show_on_the_lane_and_in_the_monitor_then_the_video_is_placed_as_one_undo_step(window, qtbot,
                                                                                                 tmp_path):
    before = load_project(tmp_path / "film.istar")
    timeline = window.editor.timeline
    spec = start_job(window, tmp_path, start=40)
    clip_ready(window, spec, tmp_path, 0, RED)
    clip_ready(window, spec, tmp_path, 1, GREEN)

    assert [(live.clip.start, live.clip.length) for live in window.live.shown] == [(40, 16), (56, 16)]
    for live in window.live.shown:
        item = timeline.clip_item(live.clip.id)
        assert item.isVisible() and item.y() == 0 and item.x() == timeline.scale.x(live.clip.start)  # the top row
        assert not item.flags() & QGraphicsItem.GraphicsItemFlag.ItemIsSelectable  # shown, not edited
    assert rows(window) == [LIVE_TRACK, "Video 2", "Video 1", "Audio 1"]
    assert timeline.clip_item("grey").y() > 0 and window.editor.playback.end == 72  # plays on to the live clips' end
    assert near(shown_colour(window, qtbot, 20), GREY)
    assert near(shown_colour(window, qtbot, 45), RED)
    assert near(shown_colour(window, qtbot, 60), GREEN)
    assert window.project == before and window.editor.stack.count() == 0  # the project is as the person left it

    made = solid(tmp_path / "made.mp4", 32, RED)
    window.bridge.event.emit(p.Finished(spec.id, str(made), str(tmp_path / "made.bits"), None, 3.0, 2.0, 1.0))
    assert window.live.shown == () and rows(window) == ["Video 2", "Video 1", "Audio 1"]
    assert [(c.start, c.length) for c in window.project.tracks[0].clips] == [(40, 32)]  # Video 2 had room
    assert window.editor.stack.count() == 1 and window.editor.stack.undoText() == "Generate clip"
    assert near(shown_colour(window, qtbot, 50), RED)
    window.editor.stack.undo()
    assert window.project == before
    assert near(shown_colour(window, qtbot, 51), (0, 0, 0))


def test_a_job_moved_to_another_engine_shows_each_of_its_clips_once(window, qtbot, tmp_path):
    timeline = window.editor.timeline
    spec = start_job(window, tmp_path, start=40)
    clip_ready(window, spec, tmp_path, 0, RED)
    clip_ready(window, spec, tmp_path, 1, RED)
    window.use_engine(lambda: LocalEngine(tmp_path / "other.log"), "the other engine")  # Edit > Engine...
    # the job goes to the new engine, which runs it from its start and announces its clips again
    window.bridge.event.emit(p.Started(spec.id, 22, 2, 32, 64, 64, 16, "fp32", "cpu"))
    clip_ready(window, spec, tmp_path, 0, GREEN)
    lane = [i for i in timeline.scene().items() if isinstance(i, ClipItem) and i.live]
    assert sorted(i.x() for i in lane) == [timeline.scale.x(40), timeline.scale.x(56)]  # not a third after them
    clip_ready(window, spec, tmp_path, 1, GREEN)
    lane = [i for i in timeline.scene().items() if isinstance(i, ClipItem) and i.live]
    assert sorted(i.x() for i in lane) == [timeline.scale.x(40), timeline.scale.x(56)]
    assert [(live.clip.start, live.clip.length) for live in window.live.shown] == [(40, 16), (56, 16)]
    assert window.editor.playback.end == 72 and near(shown_colour(window, qtbot, 45), GREEN)

    made = solid(tmp_path / "made.mp4", 32, GREEN)
    window.bridge.event.emit(p.Finished(spec.id, str(made), str(tmp_path / "made.bits"), None, 3.0, 2.0, 1.0))
    assert window.live.shown == () and [(c.start, c.length) for c in window.project.tracks[0].clips] == [(40, 32)]
