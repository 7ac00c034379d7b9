"""The timeline's storyboard lane and the generate panel, kept in step.

The lane shows the generated clips' prompts and, in Storyboard mode, the storyboard the panel will make at the
playhead. Editing a planned prompt in the lane edits the panel's board; editing a generated clip's prompt loads
that clip's request into the panel with the new prompt, ready to make again: the clip and its provenance stay as
they are, since they record what made the video.
"""

from __future__ import annotations

from typing import Any

import shiboken6
from PySide6.QtCore import QObject
from PySide6.QtWidgets import QDockWidget

from desktop.generate.actions import generation_of
from desktop.generate.panel import GeneratePanel
from desktop.generate.storyboard import planned_segments, project_segments, video_origin
from desktop.timeline.storyboard_lane import Segment
from desktop.timeline.view import TimelineView
from engine.config import ConfigError
from engine.schedule import parse_aspect


class StoryboardLink(QObject):
    """A child of the timeline, so it goes (and its connections to the panel with it) when the timeline does."""

    def __init__(self, panel: GeneratePanel, timeline: TimelineView) -> None:
        super().__init__(timeline)
        self.panel = panel
        self.timeline = timeline
        self._generated: list[Segment] = []
        timeline.refreshed.connect(self.update_lane)
        timeline.playhead_moved.connect(self._playhead_moved)
        timeline.storyboard.edited.connect(self.edit)
        panel.storyboard_changed.connect(self._show)
        self.update_lane()

    def update_lane(self) -> None:
        """The project changed (or is shown again): its generated clips' segments, then the planned ones."""
        self._generated = project_segments(self.timeline.project)
        self._show()

    def _show(self) -> None:
        if not shiboken6.isValid(self.panel):
            return  # the window is closing: its docks go before the timeline's last refresh
        timeline = self.timeline
        planned = planned_segments(self.panel, timeline.playhead, timeline.project.fps)
        timeline.storyboard.set_segments(self._generated + planned)

    def _playhead_moved(self) -> None:
        if self.panel.mode_key == "storyboard":  # only the planned storyboard follows the playhead
            self._show()

    def edit(self, segment: Segment, text: str) -> None:
        """`segment`'s prompt becomes `text`: in the panel's board, or in the request of a generated clip loaded
        into the panel."""
        if segment.planned:
            self.panel.board.edits[segment.index].setText(text)
            return
        project = self.timeline.project
        _, clip = project.find_clip(segment.clip_id)
        provenance = generation_of(project.media_of(clip))
        prompts = list(provenance["inputs"]["prompts"])
        prompts[segment.index] = text
        self._load(provenance, prompts)
        # the planned storyboard then lies over the clip's own segments, where the new video would start
        self.timeline.set_playhead(max(0, video_origin(project, clip)))

    def _load(self, provenance: dict[str, Any], prompts: list[str]) -> None:
        """The panel set to make `provenance`'s video again with `prompts`: same model, length, aspect and seed, so
        the clips before the first changed prompt come out as they were."""
        panel, settings = self.panel, provenance["settings"]
        model = panel.model.findData(provenance["model"])
        if model >= 0:
            panel.model.setCurrentIndex(model)
        panel.duration.setValue(int(settings["seconds"]))
        aspect = _aspect_choice(panel, settings.get("aspect_h_over_w"))
        if aspect is not None:
            panel.aspect.setCurrentText(aspect)
        seed = settings.get("seed")
        if isinstance(seed, int) and 0 <= seed <= panel.seed.maximum():
            panel.random_seed.setChecked(False)
            panel.seed.setValue(seed)
        panel.set_storyboard(prompts)
        dock = panel.parentWidget()
        while dock is not None and not isinstance(dock, QDockWidget):
            dock = dock.parentWidget()
        if dock is not None:
            dock.show()
            dock.raise_()


def _aspect_choice(panel: GeneratePanel, h_over_w: Any) -> str | None:
    """The panel's aspect (W:H) that the recorded h/w is, within the engine's template tolerance."""
    for i in range(panel.aspect.count()):
        text = panel.aspect.itemText(i)
        try:
            if isinstance(h_over_w, int | float) and abs(parse_aspect(text) / h_over_w - 1) < 0.06:
                return text
        except ConfigError:
            continue
    return None


def link_storyboard_lane(panel: GeneratePanel, timeline: TimelineView) -> StoryboardLink:
    """Show the generated clips' prompts and the panel's storyboard in `timeline`'s lane, edits going both ways."""
    return StoryboardLink(panel, timeline)
