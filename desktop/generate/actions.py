"""Generation from the timeline: generate from the panel, and on a selected generated clip continue, bridge to the
next clip, variants, regenerate, image-to-video from the playhead's frame, and its provenance.

Each action is a function taking its inputs, so it runs the same from a menu (which asks the user first) and from
a test. A clip is "generated" when its media carries the engine's provenance; an exported file of one generated
clip carries it too (as its only entry), so importing it brings Regenerate and Continue back.
"""

from __future__ import annotations

import secrets
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLineEdit, QSpinBox

from desktop.generate.outputs import media_folder, new_output
from desktop.generate.panel import MAX_SEED
from desktop.generate.placement import Placement
from desktop.media.export import export_still
from desktop.project.model import Clip, MediaItem
from engine.media.layout import bits_path
from engine.service.jobs import JobInputError, JobSpec

if TYPE_CHECKING:
    from desktop.main_window import MainWindow

def generation_of(media: MediaItem) -> dict[str, Any] | None:
    """The engine's provenance of `media`: its own, or the only clip's of an exported one-clip file."""
    provenance = media.provenance
    if not isinstance(provenance, dict):
        return None
    if "settings" in provenance and "model" in provenance:
        return provenance
    clips = provenance.get("clips")
    if isinstance(clips, list) and len(clips) == 1 and isinstance(clips[0], dict):
        return generation_of(replace(media, provenance=clips[0].get("provenance")))
    return None


def remake(provenance: dict[str, Any], output: Path, seed: int) -> JobSpec:
    """The job that made a video again (same model, prompts, length and settings), with `seed`."""
    settings, inputs = provenance["settings"], provenance.get("inputs", {})
    prompts = tuple(inputs.get("prompts") or ())
    storyboard = len(set(prompts)) > 1
    return JobSpec(
        kind="storyboard" if storyboard else "generate", model=provenance["model"], output=str(output),
        prompts=prompts if storyboard else prompts[:1], seconds=int(settings["seconds"]), seed=seed,
        precision=provenance.get("precision"), aspect=str(settings.get("aspect_h_over_w")) if
        settings.get("aspect_h_over_w") else None, guidance_scale=settings.get("guidance_scale"),
        tau_image=settings.get("tau_image"), tau_video=settings.get("tau_video"),
    )


def _selected_generated(window: MainWindow) -> tuple[Clip, MediaItem, dict[str, Any]] | None:
    ids = window.editor.timeline.selected_clip_ids()
    if len(ids) != 1:
        return None
    clip = window.project.find_clip(ids[0])[1]
    media = window.project.media_of(clip)
    provenance = generation_of(media)
    return (clip, media, provenance) if provenance is not None else None


def _next_clip(window: MainWindow, clip: Clip) -> Clip | None:
    track, _ = window.project.find_clip(clip.id)
    return next((c for c in track.clips if c.start == clip.end), None)


def _output(window: MainWindow, kind: str, seed: int) -> Path:
    return new_output(window.project_path, kind, seed)


def generate_from_panel(window: MainWindow, variants: int = 1) -> list[JobSpec]:
    """The panel's request at the playhead; `variants` > 1 makes that many seeds, each on a track of its own."""
    specs = []
    for n in range(variants):
        try:
            spec = window.panel.job("pending.mp4")
        except JobInputError as err:
            window.statusBar().showMessage(str(err), 6000)
            return specs
        if variants > 1 and n:
            spec = replace(spec, seed=secrets.randbelow(MAX_SEED))
        spec = replace(spec, output=str(_output(window, spec.kind, spec.seed)))
        mode = "variant" if variants > 1 else "new"
        label = f"Variant {n + 1} (seed {spec.seed})" if variants > 1 else ""
        window.controller.submit(spec, Placement(mode, start=window.editor.timeline.playhead, label=label))
        specs.append(spec)
    return specs


def continue_clip(window: MainWindow, clip: Clip, seconds: int, prompt: str = "") -> JobSpec:
    """Extend `clip` by `seconds` from its stored bits (the earlier part stays as it is); with no bits beside its
    video (an imported export), the original is made again from its provenance first, which gives the same bits."""
    media = window.project.media_of(clip)
    provenance = generation_of(media)
    prompts = (prompt,) if prompt.strip() else ()
    seed = secrets.randbelow(MAX_SEED)

    def extension(bits: Path) -> JobSpec:
        return JobSpec(kind="continue", model=provenance["model"], output=str(_output(window, "continue", seed)),
                       prompts=prompts, seconds=seconds, seed=seed, precision=provenance.get("precision"),
                       continue_from=str(bits))

    placement = Placement("replace", start=clip.start, clips=(clip.id,), label="continue")
    bits = bits_path(media.path)
    if bits.is_file():
        spec = extension(bits)
        window.controller.submit(spec, placement)
        return spec
    original = remake(provenance, _output(window, "remake", provenance["settings"]["seed"]),
                      provenance["settings"]["seed"])
    window.controller.submit(original, Placement("none"),
                             then=lambda finished: window.controller.submit(extension(Path(finished.bits)), placement))
    return original


def bridge_clips(window: MainWindow, first: Clip, second: Clip, seconds: int, prompt: str = "") -> JobSpec:
    """A generated middle from the end of `first` toward `second`; the joined video replaces both."""
    media = window.project.media_of(first)
    provenance = generation_of(media)
    seed = secrets.randbelow(MAX_SEED)
    spec = JobSpec(kind="bridge", model=provenance["model"], output=str(_output(window, "bridge", seed)),
                   prompts=(prompt,) if prompt.strip() else (), seconds=seconds, seed=seed,
                   precision=provenance.get("precision"), continue_from=str(bits_path(media.path)),
                   bridge_to=str(window.project.media_of(second).path))
    placement = Placement("bridge", start=first.start, clips=(first.id, second.id), label="Bridge clips")
    window.controller.submit(spec, placement)
    return spec


def regenerate(window: MainWindow, clip: Clip) -> JobSpec:
    """The same request with a new seed, in place of the clip."""
    provenance = generation_of(window.project.media_of(clip))
    seed = secrets.randbelow(MAX_SEED)
    spec = remake(provenance, _output(window, "regenerate", seed), seed)
    window.controller.submit(spec, Placement("replace", start=clip.start, clips=(clip.id,), label="Regenerate clip"))
    return spec


def image_to_video_from_playhead(window: MainWindow) -> Path:
    """The frame under the playhead, saved beside the project, becomes the panel's first frame."""
    folder = media_folder(window.project_path)
    folder.mkdir(parents=True, exist_ok=True)
    frame = window.editor.timeline.playhead
    path = folder / f"frame-{frame}-{secrets.token_hex(2)}.png"
    export_still(window.project, frame, path)
    window.panel.set_first_frame(str(path))
    window.docks["generate"].raise_()
    return path


def ask_extension(window: MainWindow, title: str, seconds: int, prompt: str) -> tuple[int, str] | None:
    dialog = QDialog(window)
    dialog.setWindowTitle(title)
    form = QFormLayout(dialog)
    length = QSpinBox()
    length.setRange(1, 60)
    length.setSuffix(" s")
    length.setValue(seconds)
    text = QLineEdit(prompt)
    text.setPlaceholderText("what happens next (empty: as before)")
    form.addRow("Seconds", length)
    form.addRow("Prompt", text)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    form.addRow(buttons)
    return (length.value(), text.text()) if dialog.exec() else None


class ClipActions:
    """The Generate menu's clip actions, enabled only where they apply."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.continue_ = self._make("&Continue clip...", self._continue, "Ctrl+Shift+C")
        self.bridge = self._make("&Bridge to next clip...", self._bridge, "Ctrl+Shift+B")
        self.variants = self._make("&Variants (3 seeds)", lambda: generate_from_panel(window, variants=3))
        self.regenerate = self._make("&Regenerate clip", self._regenerate, "Ctrl+Shift+R")
        self.image = self._make("&Image to video from playhead", lambda: image_to_video_from_playhead(window))
        self.provenance = self._make("Open &provenance", self._provenance)
        self.update_enabled()

    def _make(self, text: str, slot, shortcut: str | None = None) -> QAction:
        action = QAction(text, self.window)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        return action

    def menu_actions(self) -> list[QAction]:
        return [self.continue_, self.bridge, self.variants, self.regenerate, self.image, self.provenance]

    def update_enabled(self) -> None:
        selected = _selected_generated(self.window)
        for action in (self.continue_, self.regenerate, self.provenance):
            action.setEnabled(selected is not None)
        following = _next_clip(self.window, selected[0]) if selected else None
        self.bridge.setEnabled(following is not None and bits_path(selected[1].path).is_file())

    def _clip_seconds(self, provenance: dict[str, Any]) -> int:
        model = self.window.models.get(provenance["model"], {})
        return model.get("clip_seconds", 1)

    def _continue(self) -> None:
        selected = _selected_generated(self.window)
        if selected is None:
            return
        clip, _, provenance = selected
        asked = ask_extension(self.window, "Continue clip", self._clip_seconds(provenance), "")
        if asked:
            continue_clip(self.window, clip, *asked)

    def _bridge(self) -> None:
        selected = _selected_generated(self.window)
        following = _next_clip(self.window, selected[0]) if selected else None
        if following is None:
            return
        asked = ask_extension(self.window, "Bridge clips", self._clip_seconds(selected[2]), "")
        if asked:
            bridge_clips(self.window, selected[0], following, *asked)

    def _regenerate(self) -> None:
        selected = _selected_generated(self.window)
        if selected is not None:
            regenerate(self.window, selected[0])

    def _provenance(self) -> None:
        selected = _selected_generated(self.window)
        if selected is not None:
            self.window.open_provenance_of(selected[1].id)
