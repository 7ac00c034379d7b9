"""The clip actions ask for what a person means and make that job: continue by any length up to the longest job,
keep going, bridge with a cross-fade, each placed after the clip it plays on from. No engine runs: the jobs are
only looked at."""

from __future__ import annotations

from pathlib import Path

import pytest
from engine_records import TOYWORLD
from PySide6.QtCore import QSettings

from desktop.generate import actions
from desktop.generate.extension_dialog import ExtensionDialog
from desktop.main_window import MainWindow
from desktop.project.model import Clip, MediaItem
from engine.api.job_book import JobBook
from engine.api.transport import LocalEngine


def generated(folder: Path, name: str, frames: int, bits: bool, kind: str = "generate", **inputs) -> MediaItem:
    path = folder / f"{name}.mp4"
    if bits:
        path.with_suffix(".bits").write_bytes(b"")
    provenance = {"model": "toyworld", "preset": "toyworld", "precision": "fp32", "settings": {"seconds": 3, "seed": 9},
                  "inputs": {"kind": kind, "prompts": ["a red ball"] * 3, **inputs}}
    return MediaItem(name, path, "video", frames / 16, 16, 64, 64, provenance=provenance)


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    """Video 1: "first" (a 49-frame generated video with bits, its tail trimmed) at 0..40, "second" (33 frames,
    no bits) at 40..73."""
    monkeypatch.setenv("ISTAR_HOME", str(tmp_path / "home"))
    w = MainWindow(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat),
                   lambda: LocalEngine(tmp_path / "engine.log"), JobBook(tmp_path / "q.json"))
    qtbot.addWidget(w)
    w.models = {"toyworld": TOYWORLD}
    w.submitted = []
    monkeypatch.setattr(w.controller, "submit",
                        lambda spec, placement, then=None: w.submitted.append((spec, placement)))
    for media in (generated(tmp_path, "a", 49, bits=True), generated(tmp_path, "b", 33, bits=False)):
        w.project.media[media.id] = media
    w.project.tracks[0].clips = [Clip("first", "a", 0, 40), Clip("second", "b", 40, 33)]
    w.editor.timeline.refresh()
    return w


def test_continue_by_thirty_seconds_makes_one_job_placed_after_the_whole_clip(window, tmp_path):
    dialog = ExtensionDialog(window, "Continue clip", 1, 600, crossfade=False)
    dialog.seconds.setValue(900)
    assert dialog.seconds.value() == 600  # the longest one job makes
    dialog.seconds.setValue(30)
    asked = dialog.extension()
    first = window.project.find_clip("first")[1]
    actions.continue_clip(window, first, asked.seconds, asked.prompt)
    [(spec, placement)] = window.submitted
    assert (spec.kind, spec.seconds, spec.continue_from) == ("continue", 30, str(tmp_path / "a.bits"))
    assert (placement.mode, placement.start, placement.clips) == ("extend", 49, ("first",))  # after its media's end


def test_keep_going_asks_for_the_longest_job_and_says_how_to_stop(window):
    window.editor.timeline.select_clips(["first"])
    assert window.clip_actions.keep_going.isEnabled() and not window.clip_actions.stop.isEnabled()
    assert window.clip_actions.keep_going in window.clip_actions.clip_menu_actions()
    window.clip_actions.keep_going.trigger()
    [(spec, placement)] = window.submitted
    assert (spec.kind, spec.seconds, placement.mode, placement.label) == ("continue", 600, "extend", "Keep going")
    assert "stop it" in window.statusBar().currentMessage()


def test_bridge_needs_bits_and_fades_into_the_next_clip_for_at_most_its_own_length(window, tmp_path):
    window.editor.timeline.select_clips(["first"])
    assert window.clip_actions.bridge.isEnabled()
    window.editor.timeline.select_clips(["second"])  # no bits beside it, nor a clip after it
    assert not window.clip_actions.bridge.isEnabled()

    dialog = ExtensionDialog(window, "Bridge clips", 2, 600, crossfade=True)
    assert dialog.extension().crossfade_seconds == 1.0
    dialog.seconds.setValue(1)
    dialog.crossfade.setValue(3)
    assert dialog.extension().crossfade_seconds == 1.0  # the fade is part of the bridge
    dialog.crossfade.setValue(0)
    assert dialog.crossfade.text() == "none (cut)"

    project = window.project
    actions.bridge_clips(window, project.find_clip("first")[1], project.find_clip("second")[1], 2, "",
                         crossfade_seconds=0.5)
    [(spec, placement)] = window.submitted
    assert (spec.kind, spec.seconds, spec.crossfade_seconds) == ("bridge", 2, 0.5)
    assert (spec.continue_from, spec.bridge_to) == (str(tmp_path / "a.bits"), str(tmp_path / "b.mp4"))
    assert (placement.mode, placement.start, placement.clips) == ("bridge", 49, ("first", "second"))


def test_regenerating_a_continuation_or_a_bridge_plays_on_again_from_the_clip_before_it(window, tmp_path):
    project = window.project
    for media in (generated(tmp_path, "more", 48, True, "continue"),
                  generated(tmp_path, "bridge", 48, True, "bridge", crossfade_frames=8)):
        project.media[media.id] = media
    project.tracks[0].clips = [Clip("first", "a", 0, 49), Clip("more", "more", 49, 48),
                               Clip("bridge", "bridge", 97, 48), Clip("second", "b", 145, 25, source_in=8)]
    actions.regenerate(window, project.find_clip("more")[1])
    actions.regenerate(window, project.find_clip("bridge")[1])
    (more, placed), (bridge, _) = window.submitted
    assert (more.kind, more.seconds, more.prompts, more.continue_from) == ("continue", 3, ("a red ball",),
                                                                            str(tmp_path / "a.bits"))
    assert (placed.mode, placed.clips) == ("replace", ("more",))
    assert (bridge.kind, bridge.continue_from, bridge.bridge_to) == ("bridge", str(tmp_path / "more.bits"),
                                                                     str(tmp_path / "b.mp4"))
    assert bridge.crossfade_seconds == 0.5

    project.tracks[0].clips.pop(0)  # nothing before the continuation to play on from
    assert actions.regenerate(window, project.find_clip("more")[1]) is None and len(window.submitted) == 2
    assert "plays on from the clip that was before it" in window.statusBar().currentMessage()
