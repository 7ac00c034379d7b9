"""The studio's main window: the editor in the middle, media bin, inspector, generate panel and job queue around it,
menus, toolbar and status bar. Wiring only: each part lives in its own module."""

from __future__ import annotations

import copy
import secrets
import time
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from PySide6.QtCore import QPoint, QSettings, QSize, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QShowEvent, QUndoCommand
from PySide6.QtWidgets import (
    QDialog,
    QDockWidget,
    QFileDialog,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QUndoView,
    QWidget,
)

from desktop.collect_dialog import CollectDialog
from desktop.context_menus import build_menu, enabled_while
from desktop.dialogs import ProgressTask, RelinkDialog, offer_recovery, show_provenance
from desktop.editor import Editor
from desktop.engine_settings import LOCAL_NAME, EngineSettingsDialog
from desktop.export_dialog import ExportDialog, default_export_path
from desktop.first_run import FirstRunWizard
from desktop.fitting_scroll import FittingScroll
from desktop.generate import actions
from desktop.generate.bridge import EngineBridge
from desktop.generate.controller import GenerationController
from desktop.generate.outputs import media_folder
from desktop.generate.panel import GeneratePanel
from desktop.generate.placement import place_media
from desktop.generate.queue_view import QueueView
from desktop.generate.storyboard_link import link_storyboard_lane
from desktop.inspector import Inspector
from desktop.media.audio import shared_audio, stretches_to_make
from desktop.media.errors import MediaReadError
from desktop.media.export import ExportCancelled, export_clip_picture, export_still, export_video
from desktop.media.probe import probe_media
from desktop.media_bin import MediaBin
from desktop.player.level_meter import LevelMeter
from desktop.player.transport import read_scale
from desktop.player.voice_over import VoiceOverRecorder
from desktop.project.audio_detach import detach_audio, has_sound_to_detach
from desktop.project.clipboard import Copied, copy_clips, insert_clips, paste_clips
from desktop.project.collect import Collected, collect_media, made_by_studio, media_to_collect, plan_collect
from desktop.project.commands import (
    AddMedia,
    Command,
    Macro,
    NameMarker,
    RelinkMedia,
    RemoveClip,
    RemoveMedia,
    SetClipFades,
    SetClipGain,
    SetClipGrade,
    SetClipKeepPitch,
    SetClipReverse,
    SetClipSmoothMotion,
    SetClipSpeed,
    SetClipTransform,
    SetClipVolume,
    SetFormat,
    SetTitle,
    add_title,
)
from desktop.project.file import (
    PROJECT_SUFFIX,
    clean_leftovers,
    discard_recovery,
    find_recovery,
    load_project,
    missing_media,
    save_project,
    write_recovery,
)
from desktop.project.formats import ProjectFormat, new_project
from desktop.project.freeze import freeze_frame, frozen_clip
from desktop.project.live import LiveClips
from desktop.project.model import MediaItem, Project, ProjectError
from desktop.project.sample import copy_sample
from desktop.project.volume import with_key
from desktop.project_settings import ProjectFormatDialog, remember_format, remembered_format
from desktop.provenance_view import provenance_text
from desktop.shortcuts_dialog import ShortcutsDialog
from desktop.timecode import timecode
from desktop.timeline.previews import MediaPreviews
from desktop.workers import run_in_background
from engine.api import protocol as p
from engine.api.job_book import JobBook
from engine.api.records import ModelInfo
from engine.api.transport import Transport
from engine.home import studio_home

APP_NAME = "InfinityStar Studio"
DEFAULT_SIZE = QSize(1400, 860)
AUTOSAVE_SECONDS = 60
PREVIEW_SCALE_KEY = "monitor/preview_scale"
SNAP_KEY = "timeline/snap"
# Edit > Speed's choices, in percent; the inspector takes any speed from 5 % to 2000 %
SPEED_CHOICES = ((25, " (slow motion)"), (50, ""), (100, " (normal)"), (200, ""), (400, ""))
PROJECT_FILTER = f"Studio projects (*{PROJECT_SUFFIX})"
MEDIA_FILTER = "Media (*.mp4 *.mov *.mkv *.webm *.avi *.wav *.mp3 *.m4a *.aac *.flac *.ogg *.png *.jpg *.jpeg);;All (*)"


def app_version() -> str:
    try:
        return version("infinitystar-studio")
    except PackageNotFoundError:
        return "unknown (package not installed)"


def about_text() -> str:
    return (f"<b>{APP_NAME}</b> {app_version()}<p>Text-to-video generation with a local InfinityStar model and a "
            "timeline editor, in one window. Everything runs on your own machines, offline.</p>")


class MainWindow(QMainWindow):
    def __init__(self, settings: QSettings, connect_engine: Callable[[], Transport], queue: JobBook,
                 engine_name: str = LOCAL_NAME) -> None:
        super().__init__()
        self.settings = settings
        self.engine_name = engine_name  # where the engine runs, for the status bar: "this computer" or HOST:PORT
        self.project_path: Path | None = None
        self.previews = MediaPreviews(parent=self)
        self.bridge = EngineBridge(connect_engine, queue, self)
        self.editor: Editor | None = None
        self.copied: Copied | None = None  # the clips Edit > Copy or Cut took, for Paste, in this project or another
        self._stretching: set[tuple[Path, float]] = set()  # sounds being time-stretched ahead (make_stretches)
        self.recorder = VoiceOverRecorder(parent=self)
        self.collect_question: CollectDialog | None = None  # the offer to collect media, while it is open
        self.collect_task: ProgressTask | None = None  # media being collected into the project's folder
        self.models: dict[str, ModelInfo] = {}
        self.live = LiveClips()  # a running generation's clips: shown with whichever project is open, never in it
        self._build_docks(queue)
        self._set_editor(new_project(remembered_format(settings)))
        self.controller = GenerationController(self.bridge, self.project, self.editor.stack, self.live)
        self.generation_context = self._build_generation_context()
        self._wire_generation()
        self._build_menus()
        self._build_status()
        self.autosave = QTimer(self)
        self.autosave.setInterval(int(settings.value("autosave_seconds", AUTOSAVE_SECONDS)) * 1000)
        self.autosave.timeout.connect(self.write_autosave)
        self.autosave.start()
        self.resize(DEFAULT_SIZE)
        # the docks first: a size restored while a dock since hidden still counts would be clamped to its width
        self.restoreState(settings.value("window/state", b""))
        self.restoreGeometry(settings.value("window/geometry", b""))
        self.editor.splitter.restoreState(settings.value("window/editor", b""))
        self._engine_asked = False

    # building

    @property
    def project(self) -> Project:
        return self.editor.project

    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(title.replace(" ", "") + "Dock")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _steady(self, inspector: Inspector) -> FittingScroll:
        """The inspector in a scroll area as wide as its widest section: what it shows changes its height only."""
        scroll = FittingScroll(inspector)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(inspector.steady_width() + scroll.verticalScrollBar().sizeHint().width())
        return scroll

    def _build_docks(self, queue: JobBook) -> None:
        self.bin = MediaBin(self.previews)
        self.inspector = Inspector()
        self.panel = GeneratePanel(self.settings)
        self.queue_view = QueueView(queue)
        self.history = QUndoView()  # the open project's edits: a click goes back (or forward) to that point
        self.history.setEmptyLabel("Opened")
        left, right = Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea
        self.docks = {
            "bin": self._dock("Media", self.bin, left),
            "inspector": self._dock("Inspector", self._steady(self.inspector), left),
            "generate": self._dock("Generate", FittingScroll(self.panel), right),
            "queue": self._dock("Jobs", self.queue_view, right),
            "history": self._dock("History", self.history, right),
        }
        self.tabifyDockWidget(self.docks["queue"], self.docks["history"])
        self.docks["queue"].raise_()
        self.bin.import_requested.connect(self.import_media)
        self.bin.place_requested.connect(self.place_media)
        self.bin.remove_requested.connect(lambda media_id: self.editor.timeline.edit(RemoveMedia(media_id)))
        self.inspector.gain_changed.connect(lambda clip_id, gain: self.editor.timeline.edit(SetClipGain(clip_id, gain)))
        self.inspector.transform_changed.connect(
            lambda clip_id, transform, what, key: self._edit_from_inspector(SetClipTransform(clip_id, transform, what,
                                                                                             key)))
        self.inspector.title_changed.connect(
            lambda media_id, title, what, key: self._edit_from_inspector(SetTitle(media_id, title, what, key)))
        self.inspector.fades_changed.connect(
            lambda clip_id, fade_in, fade_out: self._edit_from_inspector(SetClipFades(clip_id, fade_in, fade_out)))
        self.inspector.speed_changed.connect(
            lambda clip_id, speed: self._edit_from_inspector(SetClipSpeed(clip_id, speed, ripple=True)))
        self.inspector.keep_pitch_changed.connect(
            lambda clip_id, keep: self.editor.timeline.edit(SetClipKeepPitch(clip_id, keep)))
        self.inspector.reverse_changed.connect(
            lambda clip_id, backwards: self.editor.timeline.edit(SetClipReverse(clip_id, backwards)))
        self.inspector.volume_key_set.connect(self._set_volume_key)
        self.inspector.volume_keys_cleared.connect(
            lambda clip_id: self.editor.timeline.edit(SetClipVolume(clip_id, (), "Clear volume keys")))
        self.inspector.grade_changed.connect(
            lambda clip_id, grade, what, key: self._edit_from_inspector(SetClipGrade(clip_id, grade, what, key)))
        self.inspector.smooth_motion_changed.connect(
            lambda clip_id, smooth: self.editor.timeline.edit(SetClipSmoothMotion(clip_id, smooth)))
        self.inspector.provenance_requested.connect(self.open_provenance_of)

    def _set_editor(self, project: Project) -> None:
        old = self.editor
        self.editor = Editor(project, self.previews, self, live=self.live)
        self.setCentralWidget(self.editor)
        self.history.setStack(self.editor.stack)
        transport = self.editor.transport  # the preview quality chosen last, for every project
        transport.set_scale(read_scale(self.settings.value(PREVIEW_SCALE_KEY, 1.0)))
        transport.scale_changed.connect(lambda scale: self.settings.setValue(PREVIEW_SCALE_KEY, scale))
        if old is not None:
            old.close_parts()
            old.deleteLater()
        timeline = self.editor.timeline
        link_storyboard_lane(self.panel, timeline)
        timeline.selection_changed.connect(self._selection_changed)
        timeline.edit_refused.connect(lambda text: self.statusBar().showMessage(text, 5000))
        timeline.notice.connect(lambda text: self.statusBar().showMessage(text, 8000))
        timeline.clip_menu_requested.connect(self._clip_menu)
        timeline.ruler.name_marker.connect(self.name_marker)
        timeline.playhead_moved.connect(self.inspector.show_playhead)
        timeline.space_menu_requested.connect(self._space_menu)
        timeline.snapping = self.settings.value(SNAP_KEY, True, type=bool)
        self.editor.stack.indexChanged.connect(self._project_edited)
        self.editor.stack.cleanChanged.connect(self._update_title)
        if hasattr(self, "controller"):
            self.controller.set_project(project, self.editor.stack)
        self.bin.show_project(project)
        self.inspector.show_clip(project, None)
        if hasattr(self, "clip_actions"):  # a new project has nothing selected: no clip action applies
            self.clip_actions.update_enabled()
            self.detach_action.setEnabled(False)
        self._update_title()

    def _build_generation_context(self) -> actions.GenerationContext:
        """What the generation actions use of the window; the project, its timeline and the models are asked for
        each time, since opening a project or the engine listing its models replaces them."""
        return actions.GenerationContext(
            project=lambda: self.project,
            project_path=lambda: self.project_path,
            playhead=lambda: self.editor.timeline.playhead,
            selected_clip_ids=lambda: self.editor.timeline.selected_clip_ids(),
            models=lambda: self.models,
            controller=self.controller,
            panel=self.panel,
            show_message=lambda text, ms: self.statusBar().showMessage(text, ms),
            show_panel=lambda: self.docks["generate"].raise_(),
            open_provenance=lambda media_id: self.open_provenance_of(media_id),
            parent=self,
        )

    def _wire_generation(self) -> None:
        self.panel.generate_clicked.connect(self.generate)
        self.bridge.event.connect(self._engine_event)
        self.bridge.event.connect(self.queue_view.on_event)
        self.queue_view.cancel_requested.connect(self.bridge.cancel)
        self.queue_view.retry_requested.connect(self.bridge.retry)
        self.queue_view.move_requested.connect(lambda job, before: self.bridge.move(job, before or None))
        self.bridge.failed.connect(lambda text: self.statusBar().showMessage(f"The engine: {text}", 8000))
        self.controller.changed.connect(lambda: self.editor.live_changed())
        self.controller.preview.connect(lambda image, label: self.editor.monitor.show_image(image, label))
        self.controller.status.connect(lambda text: self.statusBar().showMessage(text))
        self.controller.failed.connect(self._generation_failed)
        self.controller.placed.connect(lambda _: self.bin.show_project(self.project))

    def _action(self, menu, text: str, slot, shortcut=None, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.setStatusTip(tip)
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file = bar.addMenu("&File")
        self._action(file, "&New project...", self.ask_new_project, QKeySequence.StandardKey.New)
        self._action(file, "&Open project...", self.open_project_dialog, QKeySequence.StandardKey.Open)
        self._action(file, "&Save", self.save, QKeySequence.StandardKey.Save)
        self._action(file, "Save &as...", self.save_as, QKeySequence.StandardKey.SaveAs)
        self._action(file, "Project se&ttings...", self.show_project_settings,
                     tip="The frame size and frame rate of the video the project makes")
        file.addSeparator()
        self.import_action = self._action(file, "&Import media...", self.import_media, "Ctrl+I")
        self._action(file, "&Export video...", self.export_video_dialog, "Ctrl+E")
        self._action(file, "Export &frame as PNG...", self.export_frame_dialog, "Ctrl+Shift+E")
        file.addSeparator()
        self._action(file, "&Quit", self.close, QKeySequence.StandardKey.Quit)

        edit = bar.addMenu("&Edit")
        self._action(edit, "&Undo", lambda: self.editor.stack.undo(), QKeySequence.StandardKey.Undo)
        self._action(edit, "&Redo", lambda: self.editor.stack.redo(), QKeySequence.StandardKey.Redo)
        edit.addSeparator()
        self.split_action = self._action(edit, "&Split at playhead", lambda: self.editor.timeline.split_at_playhead(),
                                         "S")
        self.trim_actions = [
            self._action(edit, "Tr&im start to playhead", lambda: self.editor.timeline.trim_to_playhead("start"), "[",
                         "The selected clip (or every clip) under the playhead starts there; the rest stays put"),
            self._action(edit, "Trim e&nd to playhead", lambda: self.editor.timeline.trim_to_playhead("end"), "]",
                         "The selected clip (or every clip) under the playhead ends there"),
            self._action(edit, "Ripple trim start to playhead",
                         lambda: self.editor.timeline.trim_to_playhead("start", ripple=True), "Q",
                         "Cut the selected clip (or every clip) under the playhead from its start to there, the clip "
                         "and the later clips of its track moving in to close the gap"),
            self._action(edit, "Ripple trim end to playhead",
                         lambda: self.editor.timeline.trim_to_playhead("end", ripple=True), "W",
                         "Cut the selected clip (or every clip) under the playhead from there to its end, the later "
                         "clips of its track moving in to close the gap"),
        ]
        self.delete_action = self._action(edit, "&Delete (leave gap)", lambda: self.editor.timeline.delete_selected(),
                                          "Delete")
        self.ripple_action = self._action(edit, "&Ripple delete",
                                          lambda: self.editor.timeline.delete_selected(ripple=True), "Shift+Delete")
        self.detach_action = self._action(edit, "Detach audi&o", self.detach_audio, None,
                                          "Move the selected videos' sound to clips of its own on an audio track")
        self.detach_action.setEnabled(False)
        speed = edit.addMenu("Spee&d")
        speed.setStatusTip("Play the selected video and sound clips faster or slower: the clip grows or shrinks with "
                           "it, the later clips of its track moving along, its sound keeping its pitch")
        for percent, what in SPEED_CHOICES:
            self._action(speed, f"{percent} %{what}", lambda _=False, s=percent / 100:
                         self.editor.timeline.set_speed_selected(s))
        self.speed_action = speed.menuAction()
        self.reverse_action = self._action(edit, "Re&verse", lambda: self.editor.timeline.reverse_selected(), None,
                                           "Play the selected videos and sounds backwards (again: forwards)")
        self.link_actions = [
            self._action(edit, "&Link clips", lambda: self.editor.timeline.link_selected(True), "Ctrl+L",
                         "Link the selected clips: a click on one selects them all, to move or delete together"),
            self._action(edit, "&Unlink clips", lambda: self.editor.timeline.link_selected(False), "Ctrl+Shift+L",
                         "Take the selected clips out of their links, to move each on its own"),
        ]
        self.clip_edit_actions = [self.split_action, *self.trim_actions, self.delete_action,  # a clip's menu's edits
                                  self.ripple_action, self.detach_action, self.speed_action, self.reverse_action,
                                  *self.link_actions]
        edit.addSeparator()
        self.cut_action = self._action(edit, "Cu&t", self.cut_clips, QKeySequence.StandardKey.Cut,
                                       "Take the selected clips off the timeline, to paste them elsewhere")
        self.copy_action = self._action(edit, "&Copy", self.copy_clips, QKeySequence.StandardKey.Copy,
                                        "Copy the selected clips, to paste them elsewhere")
        self.paste_action = self._action(edit, "&Paste at playhead", self.paste_clips, QKeySequence.StandardKey.Paste,
                                         "Put the copied clips at the playhead, on their tracks where they are free")
        self.paste_action.setEnabled(False)
        self.insert_action = self._action(edit, "Paste &insert at playhead", lambda: self.paste_clips(insert=True),
                                          "Ctrl+Shift+V", "Put the copied clips at the playhead, every clip from there "
                                          "on moving later to make room (a clip under it is split)")
        self.insert_action.setEnabled(False)
        self.clipboard_actions = [self.cut_action, self.copy_action, self.paste_action, self.insert_action]
        self._action(edit, "Select &all clips", lambda: self.editor.timeline.select_all(),
                     QKeySequence.StandardKey.SelectAll, "Select every clip on tracks that are not locked")
        edit.addSeparator()
        self._action(edit, "&Engine...", self.show_engine_settings,
                     tip="Use the engine on this computer or one served by `istar serve` on another")

        timeline = bar.addMenu("&Timeline")
        self.add_track_actions = [self._action(timeline, f"Add &{kind} track", lambda _=False, k=kind:
                                               self.editor.timeline.add_track(k)) for kind in ("video", "audio")]
        self.title_action = self._action(timeline, "Add &title", self.add_title, "Ctrl+T",
                                         "A text clip at the playhead, on the selected clip's video track or the top "
                                         "free one")
        timeline.addSeparator()
        self.transition_actions = [  # also a clip's menu's
            self._action(timeline, "Add &cross-dissolve", lambda: self.editor.timeline.cross_dissolve(), "Ctrl+D",
                         "Mix the selected clip into its neighbour over a second, on the cut nearer the playhead"),
            self._action(timeline, "Fade &in", lambda: self.editor.timeline.fade_selected("in"), None,
                         "Fade the selected clips in from black (or the track below) over a second"),
            self._action(timeline, "Fade &out", lambda: self.editor.timeline.fade_selected("out"), None,
                         "Fade the selected clips out to black (or the track below) over a second"),
        ]
        self._action(timeline, "&Freeze frame", self.freeze_frame, "Shift+F",
                     "Hold the picture under the playhead for 2 s as a still: the video clip (the selected one, else "
                     "the top one) goes on after it, with the later clips of its track")
        timeline.addSeparator()
        self._action(timeline, "Add or remove &marker", lambda: self.editor.timeline.toggle_marker(), "M",
                     "Mark the playhead's place on the ruler, or take away the marker there")
        self._action(timeline, "&Name marker...", lambda: self.name_marker(self.editor.timeline.playhead), None,
                     "Name the marker at the playhead (double-clicking a marker on the ruler does too)")
        self._action(timeline, "Ne&xt marker", lambda: self.editor.timeline.go_to_marker(1), "Alt+Right")
        self._action(timeline, "Previous mar&ker", lambda: self.editor.timeline.go_to_marker(-1), "Alt+Left")
        timeline.addSeparator()
        self.snap_action = self._action(timeline, "S&nap to clip edges, markers and the playhead", self._set_snapping,
                                        None, "Dragged clips and edges jump to nearby clip edges, markers, the "
                                        "playhead and the start")
        self.snap_action.setCheckable(True)
        self.snap_action.setChecked(self.settings.value(SNAP_KEY, True, type=bool))
        timeline.addSeparator()
        self._action(timeline, "&Play / pause", lambda: self.editor.playback.toggle())
        self.record_action = self._action(timeline, "&Record voice-over", self.toggle_voice_over, "R",
                                          "Record from the microphone into a new audio clip at the playhead")
        self.record_action.setCheckable(True)

        generate = bar.addMenu("&Generate")
        self.generate_action = self._action(generate, "&Generate", self.generate, "Ctrl+G")
        self.context_menu: QMenu | None = None  # the timeline's right-click menu while it is open
        self.clip_actions = actions.ClipActions(self.generation_context)
        generate.addActions(self.clip_actions.menu_actions())

        view = bar.addMenu("&View")
        self._action(view, "Zoom timeline to &fit", lambda: self.editor.timeline.zoom_to_fit(), "0",
                     "Show the whole timeline in the width of its view")
        view.addSeparator()
        for dock in self.docks.values():
            view.addAction(dock.toggleViewAction())
        help_menu = bar.addMenu("&Help")
        self._action(help_menu, "Open &sample project", self.open_sample,
                     tip="A copy of a finished sample project, with every kind of clip, transition and title")
        self._action(help_menu, "Set up &models...", self.show_setup)
        self._action(help_menu, "&Keyboard shortcuts", self.show_shortcuts, QKeySequence.StandardKey.HelpContents,
                     "Every key the studio takes, from its menus")
        self._action(help_menu, f"&About {APP_NAME}", self.show_about)

        toolbar = self.addToolBar("Main")
        toolbar.setObjectName("MainToolbar")
        for text, slot in (("Play", lambda: self.editor.playback.toggle()),
                           ("Split", lambda: self.editor.timeline.split_at_playhead()),
                           ("Undo", lambda: self.editor.stack.undo()), ("Redo", lambda: self.editor.stack.redo()),
                           ("Generate", self.generate), ("Export", self.export_video_dialog)):
            toolbar.addAction(text, slot)
        toolbar.addAction(self.record_action)

    def _build_status(self) -> None:
        self.engine_label = QLabel(f"Engine: {self.engine_name} · starting")
        self.meter = LevelMeter()
        self.meter.hide()
        self.statusBar().addPermanentWidget(self.meter)
        self.statusBar().addPermanentWidget(self.engine_label)
        self.recorder.level.connect(self.meter.set_level)
        self.recorder.message.connect(self._voice_over_message)

    # project files

    def _update_title(self) -> None:
        name = self.project_path.name if self.project_path else "Untitled"
        dirty = "" if self.editor is None or self.editor.stack.isClean() else " *"
        self.setWindowTitle(f"{name}{dirty} - {APP_NAME}")

    def _project_edited(self) -> None:
        self.bin.show_project(self.project)
        self._selection_changed(self.editor.timeline.selected_clip_ids())
        self._update_title()
        self.make_stretches()

    def make_stretches(self) -> None:
        """Time-stretch, in the background, the sound of clips that keep their pitch at another speed, so that
        playback does not wait for it when it reaches them."""
        for media, speed in stretches_to_make(self.project):
            key = (media.path, speed)
            if key in self._stretching:
                continue
            self._stretching.add(key)
            run_in_background(shared_audio.stretched, media, self.project.sample_rate, speed,
                              on_done=lambda _, k=key: self._stretching.discard(k),
                              on_error=lambda _, k=key: self._stretching.discard(k))  # playback will say why

    def confirm_discard(self) -> bool:
        if self.editor.stack.isClean():
            return True
        answer = QMessageBox.question(
            self, "Unsaved changes", "Save the changes to this project first?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel)
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

    def new_project(self, chosen: ProjectFormat | None = None) -> None:
        """An untitled project in format `chosen` (None: the one chosen last), once the open one may go."""
        if self.confirm_discard():
            self._start_project(chosen)

    def _start_project(self, chosen: ProjectFormat | None) -> None:
        self.project_path = None
        self._set_editor(new_project(chosen or remembered_format(self.settings)))

    def ask_new_project(self) -> ProjectFormatDialog | None:
        """File > New project: once the open project may go, a small window-modal dialog asks the new one's format
        (the one chosen last to begin with); OK starts it. None when the open project stays."""
        if not self.confirm_discard():
            return None
        dialog = ProjectFormatDialog(remembered_format(self.settings), self, new_project=True)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.chosen.connect(lambda chosen: (remember_format(self.settings, chosen), self._start_project(chosen)))
        dialog.open()
        return dialog

    def show_project_settings(self) -> ProjectFormatDialog:
        """File > Project settings...: the open project's format, window-modal, not blocking; OK sets it as one
        undoable edit and remembers it for new projects."""
        dialog = ProjectFormatDialog(ProjectFormat.of(self.project), self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.chosen.connect(self.set_project_format)
        dialog.open()
        return dialog

    def set_project_format(self, chosen: ProjectFormat) -> bool:
        """Give the open project format `chosen` (one undo step; nothing when it has it already); False, with the
        reason in the status bar, when the project cannot take it."""
        remember_format(self.settings, chosen)
        if chosen == ProjectFormat.of(self.project):
            return True
        try:
            command = SetFormat(chosen.width, chosen.height, chosen.fps)
        except ProjectError as err:
            self.statusBar().showMessage(str(err), 8000)
            return False
        return self.editor.timeline.edit(command)

    def open_project_dialog(self) -> None:
        if not self.confirm_discard():
            return
        path, _ = QFileDialog.getOpenFileName(self, "Open project", "", PROJECT_FILTER)
        if path:
            self.open_project(Path(path))

    def open_project(self, path: Path | None, ask: bool = True) -> bool:
        """Open `path` (None: an untitled project), offering an autosave newer than it; False if it cannot be read."""
        project = None
        recovery = find_recovery(path)
        if recovery is not None and ask:
            project = self._recover(recovery, path)
        if project is None and path is not None:
            try:
                project = load_project(path)
            except ProjectError as err:
                QMessageBox.critical(self, "Cannot open the project", str(err))
                return False
        self.project_path = path
        self._set_editor(project or new_project(remembered_format(self.settings)))
        if path is not None:
            clean_leftovers(path, media_folder(path))  # temp files of saves and jobs killed before
        if recovery is not None and project is not None and ask:
            self.editor.stack.push(QUndoCommand("Recover autosave"))  # shown, but not saved yet: the title says so
        if path is not None:
            self._offer_relink()
        self.make_stretches()
        return True

    def _recover(self, recovery: Path, path: Path | None) -> Project | None:
        try:
            recovered = load_project(recovery)
        except ProjectError as err:
            if offer_recovery(self, recovery, readable=False, reason=str(err)) == "discard":
                discard_recovery(path)
            return None
        choice = offer_recovery(self, recovery, readable=True)
        if choice == "discard":
            discard_recovery(path)
        return recovered if choice == "recover" else None

    def _offer_relink(self) -> None:
        missing = missing_media(self.project)
        if not missing:
            return
        dialog = RelinkDialog(missing, self)
        if dialog.exec() and dialog.found:
            commands = [RelinkMedia(media_id, item.path, duration=item.duration, fps=item.fps, width=item.width,
                                    height=item.height, has_audio=item.has_audio)
                        for media_id, item in dialog.found.items()]
            self.editor.timeline.edit(Macro("Relink media", commands))

    def open_sample(self) -> bool:
        """Help > Open sample project: a fresh copy of the sample shipped in resources/sample, in a new folder under
        the studio home (sample, sample 2, ...), so edits never change the installed sample nor an earlier copy."""
        if not self.confirm_discard():
            return False
        try:
            path = copy_sample(studio_home() / "samples")
        except OSError as err:
            QMessageBox.critical(self, "Cannot open the sample project", str(err))
            return False
        return self.open_project(path, ask=False)

    def save(self) -> bool:
        if self.project_path is None:
            return self.save_as()
        return self._save_to(self.project_path)

    def save_as(self) -> bool:
        path, _ = QFileDialog.getSaveFileName(self, "Save project", "", PROJECT_FILTER)
        if not path:
            return False
        path = Path(path)
        return self._save_to(path if path.suffix == PROJECT_SUFFIX else path.with_suffix(PROJECT_SUFFIX))

    def _save_to(self, path: Path) -> bool:
        old_path = self.project_path
        try:
            save_project(self.project, path)
        except (OSError, ProjectError) as err:
            QMessageBox.critical(self, "Cannot save", f"{path}: {err}")
            return False
        clean_leftovers(path, media_folder(path))
        if self.project_path is None:
            discard_recovery(None)
        self.project_path = path
        self.editor.stack.setClean()
        self._update_title()
        self.statusBar().showMessage(f"saved {path}", 4000)
        if old_path is None or old_path.parent != path.parent:  # the first save into this folder
            self._offer_collect(path, old_path)
        return True

    def _offer_collect(self, path: Path, old_path: Path | None) -> None:
        """After the first save of a project into a folder: offer to copy the media it uses from outside that folder
        into its own media folder, so the folder can move as a whole; what the studio made for it (in "unsaved
        media", or the old project's media folder) is ticked, imported files are offered unticked. The project is
        already saved; the copies are made in the background and the project points at them, and is saved again,
        once all of them are whole."""
        folders = [media_folder(None)] + ([media_folder(old_path)] if old_path is not None else [])
        items = media_to_collect(self.project, path)
        if items:
            project = self.project
            made = {item.id for item in items if made_by_studio(item, folders)}
            self.ask_collect(items, made, media_folder(path),
                             lambda chosen: self._collect(project, path, chosen) if chosen else None)

    def ask_collect(self, items: list[MediaItem], made: set[str], target: Path,
                    reply: Callable[[list[MediaItem]], None]) -> None:
        """Ask which of `items` (`made`: the ids of the studio's own) to collect into `target`, then `reply(chosen)`,
        empty to keep them all where they are. The question is window-modal but does not block (open, not exec): the
        save that asks it has returned by then (tests replace this)."""
        dialog = CollectDialog(items, made, target, self)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def answered(result: int) -> None:
            self.collect_question = None
            reply(dialog.chosen() if result == QDialog.DialogCode.Accepted else [])

        dialog.finished.connect(answered)
        self.collect_question = dialog  # while it is open: a screenshot or a test finds it here
        dialog.open()

    def _collect(self, project: Project, path: Path, items: list[MediaItem]) -> None:
        if project is not self.project or path != self.project_path:
            return  # another project, or the same one saved elsewhere, since the question was asked
        target = media_folder(path)
        moves = plan_collect(items, target)
        outcome: list[Collected] = []
        task = ProgressTask(self, f"Collecting media into {target.name}...",
                            lambda progress, cancelled: outcome.append(collect_media(moves, progress, cancelled)))
        task.finished.connect(lambda error: self._collected(project, path, outcome[0] if outcome else None, error))
        self.collect_task = task
        task.start()

    def _collected(self, project: Project, path: Path, outcome: Collected | None, error: object) -> None:
        """Every copy is made: point the media at them in one undo step and save. Else (nothing copied, nothing
        left) say why the project still uses its originals."""
        self.collect_task = None
        if outcome is None or outcome.cancelled:
            self.statusBar().showMessage("collecting media was cancelled: the project uses its media where they are",
                                         6000)
            return
        if project is not self.project or path != self.project_path:
            return  # another project is open now: the copies stay, unused
        if outcome.failed:
            QMessageBox.warning(self, "Media not collected",
                                "Nothing was collected: the project is saved and still uses all its media where they "
                                "are. This file could not be copied:\n\n"
                                + "\n".join(f"  {project.media[m].path}\n    {why}" for m, why in outcome.failed.items()
                                             if m in project.media))
            return
        moved = {media_id: target for media_id, target in outcome.moved.items() if media_id in project.media}
        if moved:
            self.editor.timeline.edit(Macro("Collect media", [RelinkMedia(m, t) for m, t in moved.items()]))
            self._save_to(path)
        self.statusBar().showMessage(f"collected {len(moved)} media into {media_folder(path)}", 6000)

    def write_autosave(self) -> None:
        """A recovery copy beside the project (never over it) while there are unsaved changes."""
        if not self.editor.stack.isClean():
            try:
                write_recovery(self.project, self.project_path)
            except OSError as err:
                self.statusBar().showMessage(f"autosave failed: {err}", 5000)

    # media

    def import_media(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Import media", "", MEDIA_FILTER)
        self.import_paths([Path(p) for p in paths])

    def import_paths(self, paths: list[Path]) -> list[str]:
        """Add files to the bin in one undo step; the ones that cannot be read are listed with why."""
        added, problems = [], []
        for path in paths:
            try:
                added.append(probe_media(path))
            except MediaReadError as err:
                problems.append(str(err))
        if added:
            self.editor.timeline.edit(Macro("Import media", [AddMedia(m) for m in added]))
        if problems:
            QMessageBox.warning(self, "Some files could not be imported", "\n".join(problems))
        return [m.id for m in added]

    def place_media(self, media_id: str) -> None:
        media = self.project.media[media_id]
        self.editor.timeline.edit(Macro("Add clip", place_media(self.project, media, self.editor.timeline.playhead)))

    def _set_snapping(self, on: bool) -> None:
        """Timeline > Snap: for this project's timeline and the next ones, remembered."""
        self.settings.setValue(SNAP_KEY, on)
        self.editor.timeline.snapping = on

    def copy_clips(self) -> None:
        """Edit > Copy: the selected clips, for Paste."""
        ids = self.editor.timeline.selected_clip_ids()
        if not ids:
            self.statusBar().showMessage("Select the clips to copy first", 5000)
            return
        self._keep_copied(copy_clips(self.project, ids))

    def cut_clips(self) -> None:
        """Edit > Cut: copy the selected clips and lift them off the timeline (leaving gaps, as Delete does)."""
        timeline = self.editor.timeline
        ids = timeline.selected_clip_ids()
        if not ids:
            self.statusBar().showMessage("Select the clips to cut first", 5000)
            return
        copied = copy_clips(self.project, ids)
        if timeline.edit(Macro("Cut clips" if len(ids) > 1 else "Cut clip", [RemoveClip(i) for i in ids])):
            self._keep_copied(copied)

    def _keep_copied(self, copied: Copied) -> None:
        self.copied = copied
        self.paste_action.setEnabled(True)
        self.insert_action.setEnabled(True)
        count = copied.count
        self.statusBar().showMessage(f"{count} clip{'s' if count > 1 else ''} ready to paste at the playhead", 5000)

    def paste_clips(self, insert: bool = False) -> None:
        """Edit > Paste (`insert`: Paste insert): the copied clips at the playhead, selected once they are there."""
        if self.copied is None:
            return
        copied, playhead = self.copied, self.editor.timeline.playhead
        self._edit_selecting_made(lambda: (insert_clips if insert else paste_clips)(self.project, copied, playhead))

    def _edit_selecting_made(self, build: Callable[[], tuple[Command, list[str]]]) -> None:
        """Do the edit `build` makes, then select the clips it made (and show their media in the bin); a refusal,
        building it or doing it, goes to the status bar."""
        timeline = self.editor.timeline
        try:
            edit, made = build()
        except ProjectError as error:
            self.statusBar().showMessage(str(error), 5000)
            return
        if timeline.edit(edit):
            timeline.select_clips(made)
            self.bin.show_project(self.project)

    def add_title(self) -> None:
        """Timeline > Add title: a new title at the playhead, selected so the inspector shows its text to edit."""
        timeline = self.editor.timeline
        selected = timeline.selected_clip_ids()
        track_id = self.project.find_clip(selected[0])[0].id if len(selected) == 1 else None
        edit = add_title(self.project, timeline.playhead, track_id)
        if timeline.edit(edit):
            timeline.select_clips([edit.commands[-1].clip.id])

    def export_video_dialog(self) -> ExportDialog:
        """File > Export video...: the file and its settings, then the export with its progress, window-modal without
        blocking (the export runs in the background)."""
        timeline = self.editor.timeline
        clips = [self.project.find_clip(i)[1] for i in timeline.selected_clip_ids()]
        selection = (min(c.start for c in clips), max(c.end for c in clips)) if clips else None
        dialog = ExportDialog(self.project, default_export_path(self.project_path), self, settings=self.settings,
                              selection=selection, playhead=timeline.playhead)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.exported.connect(lambda path: self.statusBar().showMessage(f"exported {path}", 6000))
        dialog.open()
        return dialog

    def export_to(self, path: Path) -> ProgressTask:
        snapshot = copy.deepcopy(self.project)  # edits during the export do not change what it writes
        task = ProgressTask(self, f"Exporting {path.name}...",
                            lambda progress, cancelled: export_video(snapshot, path, None, progress, cancelled))
        task.finished.connect(lambda error: self._exported(path, error))
        task.start()
        return task

    def _exported(self, path: Path, error: object) -> None:
        if error is None:
            self.statusBar().showMessage(f"exported {path}", 6000)
        elif isinstance(error, ExportCancelled):
            self.statusBar().showMessage("export cancelled; nothing was written", 6000)
        else:
            QMessageBox.critical(self, "Export failed", f"{path}: {error}")

    def name_marker(self, frame: int) -> None:
        """Ask for a name for the marker at `frame` (empty: none); the Timeline menu's, and a double-clicked one's."""
        if frame not in self.project.markers:
            self.statusBar().showMessage("No marker is at the playhead: put one there first (M)", 5000)
            return
        name, ok = self.ask_text("Name marker", f"Name of the marker at {timecode(frame, self.project.fps)}:",
                                 self.project.marker_names.get(frame, ""))
        if ok:
            self.editor.timeline.edit(NameMarker(frame, name))

    def ask_text(self, title: str, label: str, text: str) -> tuple[str, bool]:
        """A line of text from the person, and whether they gave it (a test replaces this)."""
        return QInputDialog.getText(self, title, label, text=text)

    def freeze_frame(self) -> None:
        """Timeline > Freeze frame: the picture under the playhead written beside the project's media and held there
        (desktop.project.freeze), selected once it is."""
        timeline = self.editor.timeline
        at = timeline.playhead
        selected = [i for i in timeline.selected_clip_ids() if self.project.find_clip(i)[0].kind == "video"]
        folder = media_folder(self.project_path)
        try:
            clip = frozen_clip(self.project, at, selected[0] if len(selected) == 1 else None)
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"{Path(self.project.media_of(clip).name).stem}-frame-{at}-{secrets.token_hex(2)}.png"
            export_clip_picture(self.project, clip, at, path)
            edit = freeze_frame(self.project, clip.id, at, probe_media(path))
        except (ProjectError, MediaReadError, OSError) as error:
            self.statusBar().showMessage(f"Cannot freeze the frame: {error}", 6000)
            return
        if timeline.edit(edit):
            timeline.select_clips([edit.commands[-1].clip.id])
            self.bin.show_project(self.project)
        else:
            path.unlink(missing_ok=True)  # refused: the picture is of no use

    def export_frame_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export frame", "", "PNG image (*.png)")
        if path:
            try:
                export_still(self.project, self.editor.timeline.playhead, Path(path))
            except (MediaReadError, ProjectError, OSError) as err:
                QMessageBox.critical(self, "Cannot export the frame", str(err))

    # voice-over

    def toggle_voice_over(self) -> None:
        if self.recorder.is_recording:
            self._finish_voice_over()
            return
        folder = media_folder(self.project_path)
        folder.mkdir(parents=True, exist_ok=True)
        self._record_start = self.editor.timeline.playhead
        started = self.recorder.start(folder / f"voice-over-{time.strftime('%Y%m%d-%H%M%S')}.wav")
        self.record_action.setChecked(started)
        self.meter.setVisible(started)
        if started:
            self.statusBar().showMessage("recording voice-over: press R again to stop")

    def _finish_voice_over(self) -> None:
        path = self.recorder.stop()
        self.record_action.setChecked(False)
        self.meter.hide()
        if path is None:
            return
        try:
            media = probe_media(path)
        except MediaReadError as err:
            QMessageBox.warning(self, "Voice-over", str(err))
            return
        self.editor.timeline.edit(Macro("Record voice-over",
                                        [AddMedia(media), *place_media(self.project, media, self._record_start)]))

    def _voice_over_message(self, text: str) -> None:
        self.record_action.setChecked(False)
        self.meter.hide()
        self.statusBar().showMessage(text, 8000)
        QMessageBox.information(self, "Voice-over", text)

    # generation

    def generate(self) -> None:
        actions.generate_from_panel(self.generation_context)

    def _engine_event(self, message: p.Message) -> None:
        if isinstance(message, p.Ready):
            self.engine_label.setText(f"Engine: {self.engine_name} · ready (pid {message.pid})")
        elif isinstance(message, p.Models):
            # The engine also lists catalogue models that are not installed; the first-run wizard offers those.
            self.models = {m.id: m for m in message.models if m.installed}
            self.panel.set_models(message.models, message.device)
            self.engine_label.setText(f"Engine: {self.engine_name} · {message.device.name or message.device.device}")

    def _generation_failed(self, message: str, hint: str) -> None:
        """Said without blocking: the editor stays usable and the queue keeps the failure with its hint."""
        self.statusBar().showMessage(f"generation failed: {message}", 10000)
        self.docks["queue"].raise_()
        box = QMessageBox(QMessageBox.Icon.Warning, "Generation failed",
                          message + (f"\n\nWhat to try: {hint}" if hint else ""), parent=self)
        box.setModal(False)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.show()
        self.failure_box = box

    def _selection_changed(self, clip_ids: list) -> None:
        clip = None
        if len(clip_ids) == 1:
            try:
                clip = self.project.find_clip(clip_ids[0])[1]
            except ProjectError:
                clip = None
        self.inspector.show_clip(self.project, clip)
        self.inspector.show_playhead(self.editor.timeline.playhead)
        self.clip_actions.update_enabled()
        self.detach_action.setEnabled(self._detachable(clip_ids))

    def _detachable(self, clip_ids: list[str]) -> bool:
        try:
            return any(has_sound_to_detach(self.project, i) for i in clip_ids)
        except ProjectError:  # a clip of the selection is gone
            return False

    def detach_audio(self) -> None:
        """Edit > Detach audio: the selected videos' sound on an audio track, the sound clips selected after."""
        self._edit_selecting_made(lambda: detach_audio(self.project, self.editor.timeline.selected_clip_ids()))

    def _edit_from_inspector(self, command: Command) -> None:
        """An edit the inspector asks for; if it is refused, the inspector shows the clip as it is again."""
        if not self.editor.timeline.edit(command):
            self._selection_changed(self.editor.timeline.selected_clip_ids())

    def _set_volume_key(self, clip_id: str, frame: int, level: float) -> None:
        """A volume key at `frame` of the clip, as the inspector's level at the playhead says."""
        keys = self.project.find_clip(clip_id)[1].volume
        self.editor.timeline.edit(SetClipVolume(clip_id, with_key(keys, frame, level), "Set volume key"))

    def clip_menu(self) -> QMenu:
        """The menu of a right-clicked clip (it is selected, alone or with others): the Edit menu's clip edits, then
        the Generate menu's actions on a generated clip when one applies."""
        self.clip_actions.update_enabled()
        generation = [a for a in self.clip_actions.clip_menu_actions() if a.isEnabled()]
        return build_menu(self, [self.clip_edit_actions, self.clipboard_actions, self.transition_actions,
                                 self.clip_actions.clip_menu_actions() if generation else []])

    def _clip_menu(self, where: QPoint) -> None:
        """Split and trim at the playhead act here only on the selected clips it is inside of (from the Edit menu
        they act on every clip under the playhead when none of those is selected)."""
        timeline = self.editor.timeline
        selected = bool(timeline.selected_clip_ids())
        at_playhead = bool(timeline.selected_at_playhead())
        with enabled_while({self.split_action: at_playhead, **dict.fromkeys(self.trim_actions, at_playhead),
                            self.delete_action: selected, self.ripple_action: selected, self.cut_action: selected,
                            self.copy_action: selected}):
            self._open_menu(self.clip_menu(), where)

    def space_menu(self) -> QMenu:
        """The menu of the timeline where no clip is (the playhead is moved there first): what is made or put at
        the playhead, closing the gap there on the track clicked, importing, and new tracks."""
        place = QAction(self)
        media_id = self.bin.selected_id()
        if media_id is not None and media_id in self.project.media:
            place.setText(f"&Place {self.project.media[media_id].name.replace('&', '&&')} at playhead")
            place.triggered.connect(lambda: self.place_media(media_id))
        else:
            place.setText("&Place media at playhead (pick it in the Media bin)")
            place.setEnabled(False)
        timeline = self.editor.timeline
        track_id = timeline.menu_track
        gap = timeline.gap_at_playhead(track_id)
        seconds = 0 if gap is None else round((gap[1] - gap[0]) / self.project.fps, 2)
        close_gap = QAction("Close &gap" if gap is None else f"Close &gap ({seconds:g} s): the later clips move left",
                            self)
        close_gap.setEnabled(gap is not None)
        close_gap.triggered.connect(lambda: timeline.close_gap(track_id))
        menu = build_menu(self, [[self.generate_action, self.clip_actions.variants, self.clip_actions.image],
                                 [place, self.paste_action, self.insert_action, self.record_action], [close_gap],
                                 [self.import_action],
                                 self.add_track_actions])
        place.setParent(menu)
        close_gap.setParent(menu)
        return menu

    def _space_menu(self, where: QPoint) -> None:
        self._open_menu(self.space_menu(), where)

    def _open_menu(self, menu: QMenu, where: QPoint) -> None:
        self.context_menu = menu  # while it is open: a test finds it here
        menu.exec(where)
        self.context_menu = None
        menu.deleteLater()

    def open_provenance_of(self, media_id: str) -> None:
        media = self.project.media.get(media_id)
        if media is not None and media.provenance:
            show_provenance(self, f"What made {media.name}", provenance_text(media.provenance))

    # window

    def show_setup(self) -> FirstRunWizard:
        """The first-run wizard (what fits this machine, installing a model), beside the window, not blocking it."""
        wizard = FirstRunWizard(self.bridge, self.settings, self, self.engine_name)
        wizard.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        wizard.show()
        return wizard

    def show_engine_settings(self) -> EngineSettingsDialog:
        """Edit > Engine...: where the engine runs. Window-modal, not blocking; a new choice is used at once."""
        dialog = EngineSettingsDialog(self.settings, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.chosen.connect(self.use_engine)
        dialog.open()
        return dialog

    def use_engine(self, connect: Callable[[], Transport], name: str) -> None:
        """From now on use the engine `connect` reaches: the current one is let go, the jobs waiting or running go
        to the new one, and the models, aspects and plans come from it."""
        self.engine_name = name
        self.engine_label.setText(f"Engine: {name} · connecting")
        self.statusBar().showMessage(f"switching to the engine on {name}", 5000)
        self.bridge.switch_engine(connect)
        self.bridge.list_models()

    def show_shortcuts(self) -> ShortcutsDialog:
        dialog = ShortcutsDialog(self.menuBar(), self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def show_about(self) -> None:
        QMessageBox.about(self, f"About {APP_NAME}", about_text())

    def showEvent(self, event: QShowEvent) -> None:
        """The engine starts when the window is first shown, not when it is built: a window never shown (a test, a
        script) costs no engine process."""
        super().showEvent(event)
        if not self._engine_asked:
            self._engine_asked = True
            self.bridge.list_models()

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.confirm_discard():
            event.ignore()
            return
        if self.collect_task is not None:  # stopped here, so that no copy is left half made for a project not using it
            self.collect_task.stop()
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.settings.setValue("window/editor", self.editor.splitter.saveState())
        if self.recorder.is_recording:
            self.recorder.stop()
        self.autosave.stop()
        self.bridge.close()
        self.editor.close_parts()
        self.previews.close()
        super().closeEvent(event)
