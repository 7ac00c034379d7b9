"""The clip actions ask for what a person means and make that job: continue by any length up to the longest job,
keep going, bridge with a cross-fade, each placed after the clip it plays on from. No engine runs: the jobs are
only looked at. The actions get what they use as a GenerationContext: from a real main window where the test is
about the studio, and from plain parts (no window at all) to show that is all they use."""

from __future__ import annotations

from pathlib import Path

import pytest
from engine_records import CPU, TOYWORLD
from PySide6.QtCore import QObject, QSettings, Signal
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import QWidget
from studio_window import studio_window

from desktop.generate import actions
from desktop.generate.controller import GenerationController
from desktop.generate.extension_dialog import Extension, ExtensionDialog
from desktop.generate.outputs import media_folder
from desktop.generate.panel import GeneratePanel
from desktop.project.model import Clip, MediaItem, Project
from engine.api.jobs import JobSpec


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
    w = studio_window(qtbot, tmp_path)
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
    actions.continue_clip(window.generation_context, first, asked.seconds, asked.prompt)
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
    actions.bridge_clips(window.generation_context, project.find_clip("first")[1], project.find_clip("second")[1],
                         2, "", crossfade_seconds=0.5)
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
    actions.regenerate(window.generation_context, project.find_clip("more")[1])
    actions.regenerate(window.generation_context, project.find_clip("bridge")[1])
    (more, placed), (bridge, _) = window.submitted
    assert (more.kind, more.seconds, more.prompts, more.continue_from) == ("continue", 3, ("a red ball",),
                                                                            str(tmp_path / "a.bits"))
    assert (placed.mode, placed.clips) == ("replace", ("more",))
    assert (bridge.kind, bridge.continue_from, bridge.bridge_to) == ("bridge", str(tmp_path / "more.bits"),
                                                                     str(tmp_path / "b.mp4"))
    assert bridge.crossfade_seconds == 0.5

    project.tracks[0].clips.pop(0)  # nothing before the continuation to play on from
    assert actions.regenerate(window.generation_context, project.find_clip("more")[1]) is None
    assert len(window.submitted) == 2
    assert "plays on from the clip that was before it" in window.statusBar().currentMessage()


class RecordingBridge(QObject):
    """The engine bridge as the controller sees it, keeping the jobs instead of running them."""

    event = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.submitted: list[JobSpec] = []

    def submit(self, spec: JobSpec) -> None:
        self.submitted.append(spec)


def test_the_clip_actions_need_only_the_parts_they_are_given_not_a_window(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("ISTAR_HOME", str(tmp_path / "home"))
    project = Project.empty(fps=16)
    for media in (generated(tmp_path, "a", 49, bits=True), generated(tmp_path, "b", 33, bits=False)):
        project.media[media.id] = media
    project.tracks[0].clips = [Clip("first", "a", 0, 40), Clip("second", "b", 40, 33)]
    projects, selected, messages, opened, asked = [project], [], [], [], []
    parent = QWidget()
    panel = GeneratePanel(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(parent)
    qtbot.addWidget(panel)
    bridge = RecordingBridge()
    controller = GenerationController(bridge, project, QUndoStack())
    context = actions.GenerationContext(
        project=lambda: projects[-1], project_path=lambda: tmp_path / "film.istar", playhead=lambda: 0,
        selected_clip_ids=lambda: selected, models=lambda: {"toyworld": TOYWORLD}, controller=controller,
        panel=panel, show_message=lambda text, ms: messages.append((text, ms)), show_panel=lambda: None,
        open_provenance=opened.append, parent=parent)
    clip_actions = actions.ClipActions(context)
    assert not any(a.isEnabled() for a in clip_actions.clip_menu_actions())  # nothing selected
    assert not clip_actions.stop.isEnabled()

    selected.append("first")
    clip_actions.update_enabled()
    assert all(a.isEnabled() for a in clip_actions.clip_menu_actions())
    assert all(a.parent() is parent for a in clip_actions.menu_actions())
    project.find_clip("first")[1].reverse = True  # it ends on its video's start: nothing to go on from
    clip_actions.update_enabled()
    assert [a.isEnabled() for a in (clip_actions.continue_, clip_actions.keep_going, clip_actions.bridge,
                                    clip_actions.regenerate)] == [False, False, False, True]
    project.find_clip("first")[1].reverse = False
    clip_actions.update_enabled()

    def ask(where, title, seconds, max_seconds, crossfade=False):
        asked.append((where, title, seconds, max_seconds, crossfade))
        return Extension(5, "the ball rolls on", 0.5 if crossfade else None)

    monkeypatch.setattr(actions, "ask_extension", ask)
    clip_actions.continue_.trigger()
    clip_actions.bridge.trigger()
    clip_actions.keep_going.trigger()
    clip_actions.provenance.trigger()
    # the dialog opens over the parent, at one clip of the model, up to the longest job it makes
    assert asked == [(parent, "Continue clip", 1, 600, False), (parent, "Bridge clips", 1, 600, True)]
    more, bridged, going = bridge.submitted
    assert (more.kind, more.seconds, more.prompts) == ("continue", 5, ("the ball rolls on",))
    assert (bridged.kind, bridged.crossfade_seconds, bridged.bridge_to) == ("bridge", 0.5, str(tmp_path / "b.mp4"))
    assert (going.kind, going.seconds) == ("continue", 600)
    assert all(Path(s.output).parent == media_folder(tmp_path / "film.istar") for s in bridge.submitted)
    placed = [(controller.jobs[s.id].placement.mode, controller.jobs[s.id].placement.start) for s in bridge.submitted]
    assert placed == [("extend", 49), ("bridge", 49), ("extend", 49)]
    assert messages == [("keeping going: stop it from the Generate menu or the job queue; every clip made by then "
                         "stays", 0)]
    assert opened == ["a"]

    projects.append(Project.empty(fps=16))  # another project opened: the actions ask for it, not a copy
    projects[-1].media["a"] = MediaItem("a", tmp_path / "mine.mp4", "video", 40 / 16, 16, 64, 64)
    projects[-1].tracks[0].clips = [Clip("first", "a", 0, 40)]
    clip_actions.update_enabled()
    assert not any(a.isEnabled() for a in clip_actions.clip_menu_actions())  # "first" there is not generated


def test_the_window_context_follows_the_project_and_timeline_open_now(window, tmp_path):
    context = window.generation_context
    window.editor.timeline.select_clips(["first"])
    window.editor.timeline.set_playhead(7)
    assert actions.selected_generated(context)[0].id == "first" and context.playhead() == 7
    assert context.models() is window.models and context.project_path() is None

    assert window.clip_actions.continue_.isEnabled()
    window.new_project()  # a new project, and a new timeline with it
    assert not window.clip_actions.continue_.isEnabled(), "nothing is selected in the new project"
    window.project_path = tmp_path / "film.istar"
    assert context.project() is window.project and context.project().media == {}
    assert actions.selected_generated(context) is None and context.playhead() == 0
    assert context.project_path() == tmp_path / "film.istar"
    window.clip_actions.continue_.trigger()  # nothing selected in this project: nothing asked, nothing made
    assert window.submitted == []


def test_a_new_generation_goes_to_the_track_of_the_selected_clip(window):
    window.panel.set_models([TOYWORLD], CPU)
    window.panel.prompt.setPlainText("a red ball")
    actions.generate_from_panel(window.generation_context)
    assert window.submitted[-1][1].track is None  # nothing selected: the top video track
    window.editor.timeline.select_clips(["second"])
    actions.generate_from_panel(window.generation_context)
    (spec, placement) = window.submitted[-1]
    assert (placement.mode, placement.track) == ("new", window.project.tracks[0].id)
    assert Path(spec.output).name.startswith("a-red-ball-s")
