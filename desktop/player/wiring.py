"""How the timeline, playback and the monitor work together: the playhead is the one position all of them show."""

from __future__ import annotations

from desktop.player.monitor import Monitor
from desktop.player.placement_handles import PlacementHandles
from desktop.player.playback import Playback
from desktop.timeline.view import TimelineView


def connect_player(timeline: TimelineView, playback: Playback, monitor: Monitor) -> None:
    """Playback moves the playhead; a playhead moved by hand seeks playback (playback's own frames are no seek);
    the monitor shows the frame under the playhead, rendering ahead while playing, and again after every edit.
    Space, J, K and L in the timeline drive playback; playback's messages show under the monitor. The selected clip's
    placement handles are drawn over the monitor's picture."""
    playback.position_changed.connect(timeline.set_playhead)
    timeline.playhead_moved.connect(playback.seek)
    timeline.playhead_moved.connect(lambda frame: monitor.show_frame(frame, playing=playback.is_playing))
    timeline.play_toggled.connect(playback.toggle)
    timeline.shuttle.connect(playback.shuttle)
    timeline.undo_stack.indexChanged.connect(monitor.refresh)
    playback.message.connect(monitor.show_message)
    monitor.show_frame(timeline.playhead)
    monitor.placement_handles = PlacementHandles(monitor.screen, timeline)
