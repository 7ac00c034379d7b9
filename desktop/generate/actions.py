"""Generation from the timeline: generate from the panel, and on a selected generated clip continue, keep going,
bridge to the next clip, variants, regenerate, image-to-video from the playhead's frame, and its provenance.

Each action is a function taking its inputs, so it runs the same from a menu (which asks the user first) and from
a test. What an action uses of the studio comes in a GenerationContext, named part by part (the main window builds
one; a test can build one from plain parts), never the window itself. A clip is "generated" when its media carries
the engine's generation record; an exported file of one generated clip carries it too (as its only entry), so
importing it brings Regenerate and Continue back.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget

from desktop.generate.controller import GenerationController
from desktop.generate.extension_dialog import ask_extension
from desktop.generate.outputs import media_folder, new_output
from desktop.generate.panel import MAX_SEED, GeneratePanel
from desktop.generate.placement import Placement, media_end
from desktop.generate.remake import clip_after, make_again, remake
from desktop.media.export import export_still
from desktop.project.model import Clip, MediaItem, Project
from engine.api.jobs import MAX_VIDEO_SECONDS, JobInputError, JobSpec
from engine.api.records import GenerationRecord, ModelInfo
from engine.media.layout import find_bits


@dataclass(frozen=True)
class GenerationContext:
    """What the generation actions use of the studio, and nothing else. What changes while the studio runs is a
    callable asked each time it is needed: the project, its path, the timeline's playhead and selection (opening a
    project replaces them all, the timeline too) and the installed models (listed once the engine has started). The
    controller, the panel and `parent` live as long as the studio's window."""

    project: Callable[[], Project]
    project_path: Callable[[], Path | None]  # None: not saved yet
    playhead: Callable[[], int]  # the timeline's, in frames
    selected_clip_ids: Callable[[], list[str]]
    models: Callable[[], Mapping[str, ModelInfo]]  # the installed ones, by id
    controller: GenerationController
    panel: GeneratePanel
    show_message: Callable[[str, int], None]  # the status bar's: a text, for how many ms (0: until the next one)
    show_panel: Callable[[], None]  # brings the generate panel to the front
    open_provenance: Callable[[str], None]  # shows what made a media item, by its id
    parent: QWidget  # of the menu actions and the dialogs that ask


def selected_generated(context: GenerationContext) -> tuple[Clip, MediaItem, GenerationRecord] | None:
    """The one clip selected, its media and the engine's record of it, when the engine made it."""
    ids = context.selected_clip_ids()
    if len(ids) != 1:
        return None
    project = context.project()
    clip = project.find_clip(ids[0])[1]
    media = project.media_of(clip)
    record = media.generation
    return (clip, media, record) if record is not None else None


def target_track(context: GenerationContext) -> str | None:
    """The video track a new generation goes to: the track of the selected clip, when it is a video track; None
    (the top video track) otherwise."""
    project = context.project()
    for clip_id in context.selected_clip_ids():
        track = project.find_clip(clip_id)[0]
        if track.kind == "video":
            return track.id
    return None


def _output(context: GenerationContext, kind: str, seed: int, prompts: tuple[str, ...]) -> Path:
    """Where a job's video goes, named from the first of `prompts` (the job's own, or the record's it remakes)."""
    return new_output(context.project_path(), kind, seed, prompts[0] if prompts else "")


def generate_from_panel(context: GenerationContext, variants: int = 1) -> list[JobSpec]:
    """The panel's request at the playhead; `variants` > 1 makes that many seeds, each on a track of its own."""
    specs = []
    for n in range(variants):
        try:
            spec = context.panel.job("pending.mp4")
        except JobInputError as err:
            context.show_message(str(err), 6000)
            return specs
        if variants > 1 and n:
            spec = replace(spec, seed=secrets.randbelow(MAX_SEED))
        spec = replace(spec, output=str(_output(context, spec.kind, spec.seed, spec.prompts)))
        mode = "variant" if variants > 1 else "new"
        label = f"Variant {n + 1} (seed {spec.seed})" if variants > 1 else ""
        context.controller.submit(spec, Placement(mode, start=context.playhead(), label=label,
                                                  track=target_track(context)))
        specs.append(spec)
    return specs


def continue_clip(context: GenerationContext, clip: Clip, seconds: int, prompt: str = "",
                  label: str = "Continue clip") -> JobSpec:
    """`seconds` more of `clip`'s video from its stored bits, placed right after it (its trimmed tail back first:
    the new part plays on from the media's last frame). With no bits beside its video (an imported export), the
    original is made again from its provenance first, which gives the same bits."""
    project = context.project()
    media = project.media_of(clip)
    record = media.generation
    prompts = (prompt,) if prompt.strip() else ()
    seed = secrets.randbelow(MAX_SEED)

    def extension(bits: Path) -> JobSpec:
        named = prompts or record.prompts[-1:]
        return JobSpec(kind="continue", model=record.model, output=str(_output(context, "continue", seed, named)),
                       prompts=prompts, seconds=seconds, seed=seed, precision=record.precision,
                       continue_from=str(bits))

    placement = Placement("extend", start=media_end(project, clip), clips=(clip.id,), label=label)
    bits = find_bits(media.path)
    if bits is not None:
        spec = extension(bits)
        context.controller.submit(spec, placement)
        return spec
    original = remake(record, _output(context, "remake", record.settings.seed, record.prompts),
                      record.settings.seed)
    context.controller.submit(original, Placement("none"),
                              then=lambda finished: context.controller.submit(extension(Path(finished.bits)),
                                                                               placement))
    return original


def keep_going(context: GenerationContext, clip: Clip) -> JobSpec:
    """Continue `clip` clip after clip, as long as one job goes, until the person stops it: each clip shows on the
    timeline's Generating lane as it is decoded (view state, never in the project: desktop.project.live), and the
    clips made by the stop are kept, placed after `clip` as one undoable edit."""
    spec = continue_clip(context, clip, MAX_VIDEO_SECONDS, label="Keep going")
    context.show_message("keeping going: stop it from the Generate menu or the job queue; "
                         "every clip made by then stays", 0)
    return spec


def bridge_clips(context: GenerationContext, first: Clip, second: Clip, seconds: int, prompt: str = "",
                 crossfade_seconds: float | None = None) -> JobSpec:
    """`seconds` generated from the end of `first`, heading for `second`, whose first frames the bridge's last
    `crossfade_seconds` fade into; placed between the two, `second` then plays on from after the fade."""
    project = context.project()
    media = project.media_of(first)
    record = media.generation
    bits = find_bits(media.path)
    if bits is None:
        raise JobInputError(f"{media.name} has no bits beside it to bridge from")
    seed = secrets.randbelow(MAX_SEED)
    prompts = (prompt,) if prompt.strip() else ()
    output = _output(context, "bridge", seed, prompts or record.prompts[-1:])
    spec = JobSpec(kind="bridge", model=record.model, output=str(output), prompts=prompts, seconds=seconds, seed=seed,
                   precision=record.precision, continue_from=str(bits),
                   bridge_to=str(project.media_of(second).path), crossfade_seconds=crossfade_seconds)
    placement = Placement("bridge", start=media_end(project, first), clips=(first.id, second.id),
                          label="Bridge clips")
    context.controller.submit(spec, placement)
    return spec


def regenerate(context: GenerationContext, clip: Clip) -> JobSpec | None:
    """The same request with a new seed, in place of the clip (a continuation or bridge from its neighbours)."""
    project = context.project()
    record = project.media_of(clip).generation
    seed = secrets.randbelow(MAX_SEED)
    spec = make_again(project, clip, record, _output(context, "regenerate", seed, record.prompts), seed)
    if spec is None:
        context.show_message("this clip plays on from the clip that was before it: put that clip back "
                             "right before it to make it again", 8000)
        return None
    context.controller.submit(spec, Placement("replace", start=clip.start, clips=(clip.id,), label="Regenerate clip"))
    return spec


def image_to_video_from_playhead(context: GenerationContext) -> Path:
    """The frame under the playhead, saved beside the project, becomes the panel's first frame."""
    folder = media_folder(context.project_path())
    folder.mkdir(parents=True, exist_ok=True)
    frame = context.playhead()
    path = folder / f"frame-{frame}-{secrets.token_hex(2)}.png"
    export_still(context.project(), frame, path)
    context.panel.set_first_frame(str(path))
    context.show_panel()
    return path


class ClipActions:
    """The Generate menu's clip actions (most also on a clip's context menu), enabled only where they apply."""

    def __init__(self, context: GenerationContext) -> None:
        self.context = context
        self.continue_ = self._make("&Continue clip...", self._continue, "Ctrl+Shift+C")
        self.keep_going = self._make("&Keep going", self._keep_going, "Ctrl+Shift+K",
                                     "Continue the clip clip after clip until you stop it; every clip made stays")
        self.bridge = self._make("&Bridge to next clip...", self._bridge, "Ctrl+Shift+B")
        self.variants = self._make("&Variants (3 seeds)", lambda: generate_from_panel(context, variants=3))
        self.regenerate = self._make("&Regenerate clip", self._regenerate, "Ctrl+Shift+R")
        self.image = self._make("&Image to video from playhead", lambda: image_to_video_from_playhead(context))
        self.provenance = self._make("Open &provenance", self._provenance)
        self.stop = self._make("&Stop generating", context.controller.stop, "Ctrl+.",
                               "Stop the job running now; the clips it has made stay on the timeline")
        context.controller.running_changed.connect(self.update_enabled)
        self.update_enabled()

    def _make(self, text: str, slot, shortcut: str | None = None, tip: str = "") -> QAction:
        action = QAction(text, self.context.parent)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        action.setStatusTip(tip)
        action.triggered.connect(slot)
        return action

    def menu_actions(self) -> list[QAction]:
        return [self.continue_, self.keep_going, self.bridge, self.variants, self.regenerate, self.image,
                self.provenance, self.stop]

    def clip_menu_actions(self) -> list[QAction]:
        """What a generated clip's context menu offers."""
        return [self.continue_, self.keep_going, self.bridge, self.regenerate, self.provenance]

    def update_enabled(self) -> None:
        selected = selected_generated(self.context)
        for action in (self.regenerate, self.provenance):
            action.setEnabled(selected is not None)
        # a reversed clip ends on its video's start: nothing to go on from there
        forwards = selected is not None and not selected[0].reverse
        for action in (self.continue_, self.keep_going):
            action.setEnabled(forwards)
        following = clip_after(self.context.project(), selected[0]) if forwards else None
        self.bridge.setEnabled(following is not None and find_bits(selected[1].path) is not None)
        self.stop.setEnabled(self.context.controller.running is not None)

    def _ask(self, title: str, record: GenerationRecord, crossfade: bool = False):
        model = self.context.models().get(record.model)
        clip_seconds = round(model.clip_seconds) if model is not None else 1
        max_seconds = model.max_seconds if model is not None else MAX_VIDEO_SECONDS
        return ask_extension(self.context.parent, title, clip_seconds, max_seconds, crossfade)

    def _continue(self) -> None:
        selected = selected_generated(self.context)
        if selected is None:
            return
        asked = self._ask("Continue clip", selected[2])
        if asked:
            continue_clip(self.context, selected[0], asked.seconds, asked.prompt)

    def _keep_going(self) -> None:
        selected = selected_generated(self.context)
        if selected is not None:
            keep_going(self.context, selected[0])

    def _bridge(self) -> None:
        selected = selected_generated(self.context)
        following = clip_after(self.context.project(), selected[0]) if selected else None
        if following is None:
            return
        asked = self._ask("Bridge clips", selected[2], crossfade=True)
        if asked:
            bridge_clips(self.context, selected[0], following, asked.seconds, asked.prompt,
                         asked.crossfade_seconds)

    def _regenerate(self) -> None:
        selected = selected_generated(self.context)
        if selected is not None:
            regenerate(self.context, selected[0])

    def _provenance(self) -> None:
        selected = selected_generated(self.context)
        if selected is not None:
            self.context.open_provenance(selected[1].id)
