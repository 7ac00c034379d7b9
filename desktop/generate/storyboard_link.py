"""The timeline's storyboard lane and the generate panel, kept in step.

The lane shows the generated clips' prompts and, in Storyboard mode, the storyboard the panel will make at the
playhead. Editing a planned prompt in the lane edits the panel's board; editing a generated clip's prompt loads
that clip's request into the panel with the new prompt, ready to make again: the clip and its provenance stay as
they are, since they record what made the video.
"""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QObject
from PySide6.QtWidgets import QDockWidget

from desktop.generate.panel import GeneratePanel
from desktop.generate.storyboard import planned_segments, project_segments, video_origin
from desktop.timeline.storyboard_lane import Segment
from desktop.timeline.view import TimelineView
from engine.api.records import GenerationRecord


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
        self._generated = project_segments(self.timeline.project, self.panel.known_models)
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
        record = project.media_of(clip).generation
        prompts = list(record.prompts)
        prompts[segment.index] = text
        self._load(record, prompts)
        # the planned storyboard then lies over the clip's own segments, where the new video would start
        self.timeline.set_playhead(max(0, video_origin(project, clip)))

    def _load(self, record: GenerationRecord, prompts: list[str]) -> None:
        """The panel set to make `record`'s video again with `prompts`: same model, length, aspect and seed, so
        the clips before the first changed prompt come out as they were."""
        panel, settings = self.panel, record.settings
        index = panel.model.findData(record.model)
        if index >= 0:
            panel.model.setCurrentIndex(index)
        panel.duration.setValue(settings.seconds)
        model = panel.models.get(record.model)
        aspect = model.aspect_of(settings.aspect_h_over_w) if model and settings.aspect_h_over_w else None
        if aspect is not None:
            panel.aspect.setCurrentText(aspect)
        seed = settings.seed
        if 0 <= seed <= panel.seed.maximum():
            panel.random_seed.setChecked(False)
            panel.seed.setValue(seed)
        panel.set_storyboard(prompts)
        dock = panel.parentWidget()
        while dock is not None and not isinstance(dock, QDockWidget):
            dock = dock.parentWidget()
        if dock is not None:
            dock.show()
            dock.raise_()


def link_storyboard_lane(panel: GeneratePanel, timeline: TimelineView) -> StoryboardLink:
    """Show the generated clips' prompts and the panel's storyboard in `timeline`'s lane, edits going both ways."""
    return StoryboardLink(panel, timeline)
