"""The timeline editor: tracks of clips under a time ruler, edited with the mouse and keys, every edit undoable.

Clips are QGraphicsItems in scene pixels (x = frame * zoom, y = track rows); the ruler, the storyboard lane and the
track headers sit in the view's margins. Edits go through `apply_edit`, and the view redraws from the project
whenever the undo stack moves, so what is shown is always the project as it is. A running generation's live clips
(desktop.project.live) are drawn on a row above the project's tracks while there are any; they are only shown:
not selected, moved nor edited.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from PySide6.QtCore import QPoint, QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import (
    QCloseEvent,
    QColor,
    QContextMenuEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPen,
    QResizeEvent,
    QUndoStack,
    QWheelEvent,
)
from PySide6.QtWidgets import QApplication, QGraphicsScene, QGraphicsView, QLabel, QWidget

from desktop.project.commands import (
    AddTrack,
    CloseGap,
    Command,
    Macro,
    MoveClip,
    RemoveClip,
    RemoveTrack,
    RippleDelete,
    SetClipFades,
    SetClipReverse,
    SetClipSpeed,
    SetClipVolume,
    SetDissolve,
    SetTrackFlag,
    SplitClip,
    ToggleMarker,
    TrimClip,
    add_dissolve,
    gap_at,
    link_clips,
    linked_ids,
    move_clips,
    new_track_name,
    overlap_dissolve,
    ripple_trim,
    unlink_clips,
)
from desktop.project.live import LiveClips
from desktop.project.model import Clip, MediaItem, Project, ProjectError, Track
from desktop.project.transitions import dissolve_into, dissolve_limit, following, previous
from desktop.project.volume import level_at, with_key, without_key
from desktop.timeline.clip_item import FADE_HANDLE_SIZE, ClipItem, ClipLook
from desktop.timeline.drags import Landing, group_landing, move_landing, trim_landing
from desktop.timeline.edit_command import apply_edit
from desktop.timeline.layout import (
    EDGE_GRIP,
    HEADER_WIDTH,
    LABEL_HEIGHT,
    RULER_HEIGHT,
    TAIL_SECONDS,
    track_height,
    track_tops,
)
from desktop.timeline.previews import MediaPreviews
from desktop.timeline.ruler import PLAYHEAD_COLOR, Ruler
from desktop.timeline.scale import ZOOM_STEP, TimeScale
from desktop.timeline.storyboard_lane import LANE_HEIGHT, StoryboardLane
from desktop.timeline.track_headers import AddTrackButtons, TrackHeaders

SNAP_PIXELS = 8
FIT_SHARE = 0.95  # of the view's width that a timeline zoomed to fit takes, so its end is seen as an end
PLAYHEAD_GRIP = 4  # pixels either side of the playhead line where a press grabs it
_GUIDE = QColor(255, 230, 120)
_BACKGROUND = QColor(28, 28, 30)
_ROW = QColor(36, 36, 39)
_DISSOLVE_FILL = QColor(255, 255, 255, 70)
_DISSOLVE_LINE = QPen(QColor(250, 250, 250), 1)
_DROP_DISSOLVE_FILL = QColor(255, 230, 120, 90)  # the cross-dissolve a drag would make, in the guide's colour
_DROP_DISSOLVE_LINE = QPen(_GUIDE, 2)
TRANSITION_SECONDS = 1  # a new fade or cross-dissolve lasts this long, where the clip and its media allow


@dataclass
class _Drag:
    item: ClipItem
    action: str  # "move", "start" or "end" (the edge being trimmed), "fade_in", "fade_out", "dissolve" or "volume"
    press: QPointF  # scene position of the press
    grab: float  # scene x of the press minus the x of what it grabbed (clip start or edge)
    started: bool = False
    landing: Landing | None = None
    value: int | None = None  # the fade's or the dissolve's length in frames where a transition drag would leave it
    key: int | None = None  # a volume drag's key, by index
    keys: tuple[tuple[int, float], ...] | None = None  # the clip's volume keys where a volume drag would leave them


class TimelineView(QGraphicsView):
    """Signals: `playhead_moved(frame)`, `selection_changed(clip_ids)`, `play_toggled()` (Space),
    `shuttle(key)` ("j", "k" or "l": reverse, pause, forward), `edit_refused(message)` (an edit the project
    does not allow, nothing changed), `refreshed()` (it shows the project again: after an edit, a zoom, live clips),
    `clip_menu_requested(global position)` (a right click on a clip, which it selects first: alone, unless it is
    already in the selection), `space_menu_requested(global position)` (a right click on no clip that can be edited:
    the playhead moves there first, since what that menu offers happens at the playhead), `notice(message)` (an edit
    done otherwise than asked: a transition shortened to what the media allows).

    A fade shows as a ramp at a clip's end, with a handle on its top edge to drag; a cross-dissolve as a crossed box
    over its cut, whose sides drag it longer or shorter (desktop.project.transitions). A clip dragged (or its edge)
    over the end of its neighbour makes a cross-dissolve over the frames they share, shown in the guide's colour
    while it is dragged (desktop.timeline.drags)."""

    playhead_moved = Signal(int)
    selection_changed = Signal(list)
    play_toggled = Signal()
    shuttle = Signal(str)
    edit_refused = Signal(str)
    refreshed = Signal()
    clip_menu_requested = Signal(QPoint)
    space_menu_requested = Signal(QPoint)
    notice = Signal(str)

    def __init__(self, project: Project, undo_stack: QUndoStack, previews: MediaPreviews | None = None,
                 parent: QWidget | None = None, live: LiveClips | None = None) -> None:
        super().__init__(parent)
        self.project = project
        self.undo_stack = undo_stack
        self.live = live if live is not None else LiveClips()
        self.scale = TimeScale(project.fps)
        self.previews = previews if previews is not None else MediaPreviews(parent=self)
        self.snapping = True
        self._look = ClipLook(self.scale, self.previews)
        self._playhead = 0
        self._guide: int | None = None
        self._drag: _Drag | None = None
        self._dragging_playhead = False
        self._items: dict[str, ClipItem] = {}
        self._tops: list[int] = [0]  # of every row drawn: the live row (while there are live clips), then the tracks
        self._live_rows = 0  # 1 while the live row is drawn
        self._dissolves: list[tuple[str, int, QRectF]] = []  # incoming clip id, cut, box: every dissolve drawn
        self._drop_dissolve: QRectF | None = None  # the box of the dissolve the clip being dragged would make
        self._menu_frame: int | None = None  # where the clip menu being shown was asked for
        self.menu_track: str | None = None  # the track under the empty place whose menu is shown, if any

        self.setScene(QGraphicsScene(self))
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setBackgroundBrush(_BACKGROUND)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setOptimizationFlags(QGraphicsView.OptimizationFlag.DontSavePainterState
                                  | QGraphicsView.OptimizationFlag.DontAdjustForAntialiasing)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.MinimalViewportUpdate)
        self.viewport().setMouseTracking(True)
        self.setViewportMargins(HEADER_WIDTH, RULER_HEIGHT + LANE_HEIGHT, 0, 0)

        self.ruler = Ruler(self.scale, self)
        self.headers = TrackHeaders(self)
        self.add_track_buttons = AddTrackButtons(self)
        self.storyboard = StoryboardLane(self.scale, self)
        self.storyboard_label = QLabel("  Storyboard", self)
        self.storyboard_label.setToolTip("The prompt of each model clip of the generated clips, and the storyboard "
                                         "the generate panel will make; double-click one to edit it")
        self.ruler.seek.connect(self.set_playhead)
        self.headers.flag_changed.connect(lambda track_id, flag, on: self.edit(SetTrackFlag(track_id, flag, on)))
        self.headers.remove_requested.connect(lambda track_id: self.edit(RemoveTrack(track_id)))
        self.add_track_buttons.add_requested.connect(self.add_track)
        self.horizontalScrollBar().valueChanged.connect(self._scrolled)
        self.verticalScrollBar().valueChanged.connect(self.headers.scroll_to)
        self.scene().selectionChanged.connect(self._selection_changed)
        self.previews.changed.connect(self.viewport().update)
        undo_stack.indexChanged.connect(self.refresh)
        self.refresh()

    # what it shows

    @property
    def playhead(self) -> int:
        return self._playhead

    def set_playhead(self, frame: int) -> None:
        frame = max(0, frame)
        if frame == self._playhead:
            return
        self._update_line(self._playhead)
        self._playhead = frame
        self._update_line(frame)
        for strip in (self.ruler, self.storyboard):
            strip.playhead = frame
            strip.update()
        self._keep_in_view(frame)
        self.playhead_moved.emit(frame)

    def selected_clip_ids(self) -> list[str]:
        items = sorted((i for i in self.scene().selectedItems() if isinstance(i, ClipItem)),
                       key=lambda i: (i.y(), i.x()))
        return [item.clip_id for item in items]

    def select_clips(self, clip_ids: list[str]) -> None:
        wanted = set(clip_ids)
        for clip_id, item in self._items.items():
            item.setSelected(clip_id in wanted)

    def clip_item(self, clip_id: str) -> ClipItem:
        return self._items[clip_id]

    def track_top(self, track_id: str) -> int:
        """The scene y where the row of project track `track_id` starts (below the live row while it is drawn)."""
        row = next(i for i, t in enumerate(self.project.tracks) if t.id == track_id)
        return self._tops[self._live_rows + row]

    def refresh(self) -> None:
        """Show the project, and the live clips over it, as they are now (the view calls this itself whenever the
        undo stack moves)."""
        project, live = self.project, self.live.shown
        if self.scale.fps != project.fps:  # a new frame rate: a second keeps its width on screen
            self.scale.zoom(self.scale.fps / project.fps)
            self.scale.fps = project.fps
        live_media: dict[str, MediaItem] = {shown.clip.id: shown.media for shown in live}
        rows: list[Track] = ([self.live.track()] if live else []) + project.tracks
        self._live_rows = len(rows) - len(project.tracks)
        self._tops = track_tops(rows)
        shown = set()
        for row, track in enumerate(rows):
            for clip in track.clips:
                item = self._items.get(clip.id)
                if item is None:
                    item = self._items[clip.id] = ClipItem(self._look)
                    self.scene().addItem(item)
                item.show_clip(project, track, clip, self._tops[row], live_media.get(clip.id))
                item.setFlag(ClipItem.GraphicsItemFlag.ItemIsSelectable, not (track.locked or item.live))
                shown.add(clip.id)
        self._remove_items(set(self._items) - shown)
        self._dissolves, self._drop_dissolve = [], None
        for row, track in enumerate(rows[self._live_rows:], start=self._live_rows):
            for clip in track.clips:
                dissolve = dissolve_into(project, track, clip)
                if dissolve is not None:
                    self._dissolves.append((clip.id, clip.start, self._dissolve_box(
                        dissolve.first, dissolve.length, self._tops[row], track)))
        self._fit_scene()
        self.headers.show_tracks(rows, self._tops, shown_only={self.live.track_id})
        self.ruler.markers = project.markers
        self.ruler.marker_names = project.marker_names
        self.ruler.update()
        self.storyboard.update()
        self.viewport().update()
        self.refreshed.emit()

    def _remove_items(self, clip_ids: set[str]) -> None:
        """Remove the items of clips gone from the project; the selection changes once, after the last (an item
        removed alone would say the others are still selected, though their clips are gone too)."""
        if not clip_ids:
            return
        scene, selected = self.scene(), self.selected_clip_ids()
        blocked = scene.blockSignals(True)
        try:
            for clip_id in clip_ids:
                scene.removeItem(self._items.pop(clip_id))
        finally:
            scene.blockSignals(blocked)
        if self.selected_clip_ids() != selected:
            self._selection_changed()

    def zoom_to_fit(self) -> None:
        """Zoom so that the whole timeline (at least a second) shows in the view's width, from its start."""
        frames = max(self._end(), self.project.fps)
        self.scale.pixels_per_frame = 1.0
        self.scale.zoom(self.viewport().width() * FIT_SHARE / frames)
        self.refresh()
        self.horizontalScrollBar().setValue(0)

    def toggle_marker(self) -> None:
        """Mark the playhead's frame, or take away the marker there."""
        self.edit(ToggleMarker(self._playhead))

    def go_to_marker(self, step: int) -> None:
        """Move the playhead to the next marker (`step` 1) or the previous one (-1), if there is one."""
        markers = self.project.markers
        if step > 0:
            frame = next((m for m in markers if m > self._playhead), None)
        else:
            frame = next((m for m in reversed(markers) if m < self._playhead), None)
        if frame is not None:
            self.set_playhead(frame)

    def select_all(self) -> None:
        """Select every clip that can be edited (those of locked tracks stay as they are)."""
        for item in self._items.values():
            item.setSelected(not item.locked and not item.live)

    def zoom(self, factor: float, anchor: float | None = None) -> None:
        """Zoom by `factor` keeping the frame at viewport x `anchor` (default: the playhead) where it is."""
        scroll = self.horizontalScrollBar()
        if anchor is None:
            anchor = self.scale.x(self._playhead) - scroll.value()
        frame = (scroll.value() + anchor) / self.scale.pixels_per_frame
        self.scale.zoom(factor)
        self.refresh()
        scroll.setValue(round(self.scale.x(frame) - anchor))

    # edits

    def edit(self, command: Command) -> bool:
        """Do `command` through the undo stack; False (and `edit_refused`) if the project does not allow it."""
        try:
            apply_edit(self.undo_stack, self.project, command)
        except ProjectError as error:
            self.refresh()
            self.edit_refused.emit(str(error))
            return False
        return True

    def add_track(self, kind: str) -> None:
        """A new video track goes on top (it covers the others), a new audio track at the bottom."""
        self.edit(AddTrack(kind, new_track_name({t.name for t in self.project.tracks}, kind),
                           0 if kind == "video" else None))

    def split_at_playhead(self) -> None:
        """Split the selected clips under the playhead, or every clip under it when none of those is selected."""
        targets = self._cut_at_playhead()
        if targets:
            self.edit(_one([SplitClip(i, self._playhead) for i in targets], "Split clips"))

    def gap_at_playhead(self, track_id: str | None) -> tuple[int, int] | None:
        """The gap under the playhead on track `track_id` that a clip follows (what Close gap closes), if any."""
        track = next((t for t in self.project.tracks if t.id == track_id), None)
        return None if track is None or track.locked else gap_at(track, self._playhead)

    def close_gap(self, track_id: str) -> None:
        """Close the gap under the playhead on track `track_id`: its later clips move left by the gap's length."""
        self.edit(CloseGap(track_id, self._playhead))

    def trim_to_playhead(self, edge: str, ripple: bool = False) -> None:
        """Trim the `edge` ("start" or "end") of the selected clips the playhead is inside of to the playhead, or of
        every clip under it when none of those is selected (as S splits); `ripple`: closing the gap each leaves on its
        track."""
        targets = self._cut_at_playhead()
        if not targets:
            return
        if ripple:
            self.edit(_one([ripple_trim(self.project, i, edge, self._playhead) for i in targets], "Ripple trim"))
        else:
            self.edit(_one([TrimClip(i, edge, self._playhead) for i in targets],
                           "Trim clip starts" if edge == "start" else "Trim clip ends"))

    def _cut_at_playhead(self) -> list[str]:
        """The clips a split or trim at the playhead cuts: the selected ones it is inside of, else every clip it is
        inside of (those of locked tracks aside)."""
        frame = self._playhead
        under = [c.id for t in self.project.tracks if not t.locked for c in t.clips if c.start < frame < c.end]
        return self.selected_at_playhead() or under

    def selected_at_playhead(self) -> list[str]:
        """The selected clips the playhead is inside of: those a split at the playhead cuts."""
        frame, selected = self._playhead, set(self.selected_clip_ids())
        return [c.id for t in self.project.tracks if not t.locked for c in t.clips
                if c.id in selected and c.start < frame < c.end]

    def delete_selected(self, ripple: bool = False) -> None:
        """Lift the selected clips (leaving gaps), or with `ripple` close the gaps on their tracks."""
        ids = self.selected_clip_ids()
        if ids:
            commands = [RippleDelete(i) if ripple else RemoveClip(i) for i in ids]
            self.edit(_one(commands, "Ripple delete clips" if ripple else "Delete clips"))

    def cross_dissolve(self) -> None:
        """A cross-dissolve of a second on the cut of each selected clip nearer where its menu was asked for (else
        the playhead). Where the media beyond a cut is short, the clips give the missing frames (`add_dissolve`):
        the clips after the cut move earlier, which the timeline says (`notice`)."""
        at = self._menu_frame if self._menu_frame is not None else self._playhead
        incoming_ids: list[str] = []
        for clip_id in self._editable_selection():
            track, clip = self.project.find_clip(clip_id)
            cuts = [c for c in (clip if previous(track, clip) else None, following(track, clip)) if c is not None]
            if not cuts:
                self.edit_refused.emit(f"{self.project.media_of(clip).name} touches no clip on {track.name}: a "
                                       "cross-dissolve goes on a cut, where one clip ends and the next starts")
                return
            incoming = min(cuts, key=lambda c: abs(c.start - at))
            if incoming.id not in incoming_ids:
                incoming_ids.append(incoming.id)
        notes = []
        wanted = TRANSITION_SECONDS * self.project.fps
        several = len(incoming_ids) > 1
        if several:
            self.undo_stack.beginMacro("Cross-dissolves")
        try:
            for incoming_id in incoming_ids:  # one at a time: each may move the clips after it
                track, incoming = self.project.find_clip(incoming_id)
                start, source_in = incoming.start, incoming.source_in
                try:
                    edit = add_dissolve(self.project, incoming_id, wanted)
                except ProjectError as error:
                    self.edit_refused.emit(str(error))
                    break
                if not self.edit(edit):
                    break
                shift = (start - incoming.start) + round((incoming.source_in - source_in) / incoming.speed)
                if shift:
                    at_s = self.project.seconds(start)
                    notes.append(f"to make room for the cross-dissolve, the clips from {at_s:.2f} s on {track.name} "
                                 f"moved {shift} frames earlier into the clip before (their media had too little "
                                 "beyond the cut)")
        finally:
            if several:
                self.undo_stack.endMacro()
        if notes:
            note = "; ".join(notes)
            self.notice.emit(note[0].upper() + note[1:])

    def fade_selected(self, edge: str) -> None:
        """Fade each selected clip in (`edge` "in") or out over a second, or as much of it as the other fade
        leaves."""
        commands = []
        for clip_id in self._editable_selection():
            _, clip = self.project.find_clip(clip_id)
            wanted = TRANSITION_SECONDS * self.project.fps
            if edge == "in":
                commands.append(SetClipFades(clip.id, min(wanted, clip.length - clip.fade_out), clip.fade_out))
            else:
                commands.append(SetClipFades(clip.id, clip.fade_in, min(wanted, clip.length - clip.fade_in)))
        if commands:
            self.edit(_one(commands, "Fade clips in" if edge == "in" else "Fade clips out"))

    def set_speed_selected(self, speed: float) -> None:
        """Play each selected video or sound clip at `speed`, the later clips of its track moving with its end (one
        undo step); stills and titles have no pace and are left as they are."""
        paced = self._paced_selection("speed")
        if paced:
            self.edit(_one([SetClipSpeed(c.id, speed, ripple=True) for c in paced], "Change clip speeds"))

    def reverse_selected(self) -> None:
        """Play the selected video and sound clips backwards, or all forwards again when every one of them already
        plays backwards (one undo step); stills and titles have no direction and are left as they are."""
        paced = self._paced_selection("direction")
        if paced:
            backwards = not all(c.reverse for c in paced)
            self.edit(_one([SetClipReverse(c.id, backwards) for c in paced],
                           "Reverse clips" if backwards else "Play clips forwards"))

    def _paced_selection(self, what: str) -> list[Clip]:
        """The selected clips that play media at a pace (videos and sounds); where the selection has only stills and
        titles, which have no `what`, that is said."""
        clips = [self.project.find_clip(i)[1] for i in self._editable_selection()]
        paced = [c for c in clips if self.project.media_room(c) is not None]
        if clips and not paced:
            self.edit_refused.emit(f"Stills and titles have no {what}: select a video or sound clip")
        return paced

    def _editable_selection(self) -> list[str]:
        ids = [i for i in self.selected_clip_ids() if not self._items[i].locked]
        if not ids:
            self.edit_refused.emit("Select a clip on the timeline first")
        return ids

    # painting

    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        painter.fillRect(rect, _BACKGROUND)
        for top, bottom in zip(self._tops, self._tops[1:], strict=False):
            row = QRectF(rect.left(), top, rect.width(), bottom - top - 2)
            painter.fillRect(row.intersected(rect), _ROW)

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:
        x = self.scale.x(self._playhead)
        if rect.left() - 2 <= x <= rect.right() + 2:
            painter.setPen(QPen(PLAYHEAD_COLOR, 1))
            painter.drawLine(QPointF(x, rect.top()), QPointF(x, rect.bottom()))
        if self._guide is not None:
            painter.setPen(QPen(_GUIDE, 1, Qt.PenStyle.DashLine))
            guide = self.scale.x(self._guide)
            painter.drawLine(QPointF(guide, rect.top()), QPointF(guide, rect.bottom()))
        boxes = [(box, _DISSOLVE_FILL, _DISSOLVE_LINE) for _, _, box in self._dissolves]
        if self._drop_dissolve is not None:
            boxes.append((self._drop_dissolve, _DROP_DISSOLVE_FILL, _DROP_DISSOLVE_LINE))
        for box, fill, line in boxes:
            if box.intersects(rect):
                painter.fillRect(box, fill)
                painter.setPen(line)
                painter.drawRect(box)
                painter.drawLine(box.topLeft(), box.bottomRight())
                painter.drawLine(box.bottomLeft(), box.topRight())

    def _dissolve_box(self, first: int, length: int, top: float, track: Track) -> QRectF:
        """The box a dissolve of `length` frames from `first` is drawn as, below the clips' names."""
        left, right = self.scale.x(first), self.scale.x(first + length)
        return QRectF(left, top + LABEL_HEIGHT, max(2.0, right - left), track_height(track.kind) - LABEL_HEIGHT - 1)

    # mouse

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.RightButton:
            self._pick_for_menu(self._clip_at(event.position().toPoint()))
            return  # the selection stays for the context menu that follows (the scene would clear it)
        if event.button() != Qt.MouseButton.LeftButton:
            super().mousePressEvent(event)
            return
        scene_pos = self.mapToScene(event.position().toPoint())
        item = self._clip_at(event.position().toPoint())
        if item is None:
            if abs(scene_pos.x() - self.scale.x(self._playhead)) <= PLAYHEAD_GRIP:
                self._dragging_playhead = True
                return
            super().mousePressEvent(event)  # rubber band, or a press on nothing that clears the selection
            return
        if event.modifiers() & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier):
            self._select_linked(item, not item.isSelected())
            return
        if not item.isSelected():
            self.scene().clearSelection()
            self._select_linked(item, True)
        if item.locked:
            return
        if self._volume_press(item, scene_pos, bool(event.modifiers() & Qt.KeyboardModifier.AltModifier)):
            return
        transition = self._transition_grip(scene_pos)
        if transition is not None:
            self._drag = _Drag(self._items[transition[1]], transition[0], scene_pos, 0.0)
            return
        action = self._grip(item, scene_pos.x())
        edge_x = item.x() + (item.boundingRect().width() if action == "end" else 0)
        self._drag = _Drag(item, action, scene_pos, scene_pos.x() - edge_x)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        point = event.position().toPoint()
        if self._dragging_playhead:
            self.set_playhead(self.scale.nearest_frame(self.mapToScene(point).x()))
            return
        drag = self._drag
        if drag is None:
            if not event.buttons():
                self._show_cursor(point)
            super().mouseMoveEvent(event)
            return
        scene_pos = self.mapToScene(point)
        if not drag.started:
            if (scene_pos - drag.press).manhattanLength() < QApplication.startDragDistance():
                return
            drag.started = True
            drag.item.setZValue(1)
        if drag.action in ("fade_in", "fade_out", "dissolve"):
            self._drag_transition(drag, scene_pos.x())
            return
        if drag.action == "volume":
            self._drag_volume_key(drag, scene_pos)
            return
        drag.landing = self._landing(drag, scene_pos)
        self._show_landing(drag.item, drag.landing)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        drag, self._drag = self._drag, None
        if self._dragging_playhead:
            self._dragging_playhead = False
            return
        if drag is None:
            super().mouseReleaseEvent(event)
            return
        self._set_guide(None)
        drag.item.setZValue(0)
        along = drag.landing.along if drag.landing is not None else ()
        for clip_id in [drag.item.clip_id, *(i for i, _ in along)]:
            self._items[clip_id].set_refused(False)
        if drag.action in ("fade_in", "fade_out", "dissolve"):
            if drag.started and drag.value is not None and self._end_transition_drag(drag):
                return
            self.refresh()
            return
        if drag.action == "volume":
            keys, before = drag.keys, self.project.find_clip(drag.item.clip_id)[1].volume
            if keys is not None and keys != before:
                what = ("Add volume key" if len(keys) > len(before) else "Remove volume key" if len(keys) < len(before)
                        else "Move volume key")
                if self.edit(SetClipVolume(drag.item.clip_id, keys, what)):
                    return
            self.refresh()
            return
        landing = drag.landing
        if drag.started and landing is not None and landing.allowed:
            item = drag.item
            if landing.dissolve is not None:
                self.edit(overlap_dissolve(self.project, item.clip_id, drag.action, landing.track_id, landing.start,
                                           landing.length))
                return
            if landing.along and landing.start != item.start:
                self.edit(move_clips(self.project, {item.clip_id: landing.start, **dict(landing.along)}))
                return
            moved = (landing.start, landing.track_id) != (item.start, item.track_id)
            if drag.action == "move" and not landing.along and moved:
                self.edit(MoveClip(item.clip_id, landing.track_id, landing.start))
                return
            if drag.action == "start" and landing.start != item.start:
                self.edit(self._trim_with_links(item.clip_id, "start", landing.start))
                return
            if drag.action == "end" and landing.start + landing.length != item.start + item.length:
                self.edit(self._trim_with_links(item.clip_id, "end", landing.start + landing.length))
                return
        self.refresh()  # put back a drag that changed nothing or was refused

    def wheelEvent(self, event: QWheelEvent) -> None:
        delta = event.angleDelta().y()
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier and delta:
            self.zoom(ZOOM_STEP ** (delta / 120), event.position().x())
        elif event.modifiers() & Qt.KeyboardModifier.ShiftModifier and delta:
            scroll = self.horizontalScrollBar()
            scroll.setValue(scroll.value() - delta)
        else:
            super().wheelEvent(event)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        if event.reason() == QContextMenuEvent.Reason.Keyboard:  # the Menu key: the selection's menu, if any
            ids = self.selected_clip_ids()
            if ids:
                item = self._items[ids[0]]
                self.clip_menu_requested.emit(self.viewport().mapToGlobal(
                    self.mapFromScene(item.sceneBoundingRect().center())))
            else:
                self.space_menu_requested.emit(self.viewport().mapToGlobal(
                    self.mapFromScene(QPointF(self.scale.x(self._playhead), 0))))
            return
        item = self._clip_at(event.pos())
        if self._pick_for_menu(item):
            self._menu_frame = self.scale.nearest_frame(self.mapToScene(event.pos()).x())
            try:
                self.clip_menu_requested.emit(event.globalPos())
            finally:
                self._menu_frame = None
            return
        self.set_playhead(self.scale.nearest_frame(self.mapToScene(event.pos()).x()))
        row = bisect.bisect_right(self._tops, self.mapToScene(event.pos()).y()) - 1 - self._live_rows
        self.menu_track = self.project.tracks[row].id if 0 <= row < len(self.project.tracks) else None
        try:
            self.space_menu_requested.emit(event.globalPos())
        finally:
            self.menu_track = None

    def _pick_for_menu(self, item: ClipItem | None) -> bool:
        """Select a right-clicked clip (alone, unless it is in the selection already); False if there is none that
        can be picked (no clip there, or a locked track's)."""
        if item is None or item.locked:
            return False
        if not item.isSelected():
            self.scene().clearSelection()
            self._select_linked(item, True)
        return True

    def _clip_at(self, point: QPoint) -> ClipItem | None:
        """The clip item under `point` to edit; a live clip is not one (a press there is a press on the row)."""
        return next((i for i in self.items(point) if isinstance(i, ClipItem) and not i.live), None)

    def _grip(self, item: ClipItem, scene_x: float) -> str:
        """Which part of the clip a press at `scene_x` takes: an edge to trim, or the body to move."""
        width = item.boundingRect().width()
        if width >= 3 * EDGE_GRIP:
            if scene_x - item.x() <= EDGE_GRIP:
                return "start"
            if item.x() + width - scene_x <= EDGE_GRIP:
                return "end"
        return "move"

    def _transition_grip(self, scene_pos: QPointF) -> tuple[str, str] | None:
        """The transition a press at `scene_pos` takes hold of: ("fade_in" or "fade_out", clip id) at a fade's
        handle, ("dissolve", incoming clip id) at a side of a dissolve's box; None elsewhere."""
        for clip_id, _, box in self._dissolves:
            inside = box.top() <= scene_pos.y() <= box.bottom() and not self._items[clip_id].locked
            if inside and min(abs(scene_pos.x() - box.left()), abs(scene_pos.x() - box.right())) <= EDGE_GRIP:
                return "dissolve", clip_id
        for item in self._items.values():
            if item.live or item.locked or item.boundingRect().width() < 3 * FADE_HANDLE_SIZE:
                continue
            y = scene_pos.y() - item.y()
            if not 0 <= y <= FADE_HANDLE_SIZE + 3:
                continue
            for edge in ("in", "out"):
                if abs(scene_pos.x() - item.x() - item.fade_handle_x(edge)) <= FADE_HANDLE_SIZE:
                    return f"fade_{edge}", item.clip_id
        return None

    def _trim_with_links(self, clip_id: str, edge: str, frame: int) -> Command:
        """Trimming a clip's `edge` to `frame`, and the same edge of the clips linked to it that share that edge (a
        picture and its sound), as one edit."""
        def edge_of(clip_id: str) -> int:
            clip = self.project.find_clip(clip_id)[1]
            return clip.start if edge == "start" else clip.end

        partners = [i for i in linked_ids(self.project, {clip_id}) if i != clip_id and not self._items[i].locked
                    and edge_of(i) == edge_of(clip_id)]
        return _one([TrimClip(i, edge, frame) for i in [clip_id, *partners]], "Trim linked clips")

    def _select_linked(self, item: ClipItem, selected: bool) -> None:
        """Select (or not) `item` and the clips linked to it, which go together."""
        for other in self._items.values():
            if other is item or (item.link and other.link == item.link and not other.live):
                other.setSelected(selected)

    def link_selected(self, link: bool) -> None:
        """Link the selected clips together (`link`), or take them out of their links; one undo step."""
        ids = self._editable_selection()
        if not ids:
            return
        try:
            edit = link_clips(self.project, ids) if link else unlink_clips(self.project, ids)
        except ProjectError as error:
            self.edit_refused.emit(str(error))
            return
        self.edit(edit)

    def _volume_press(self, item: ClipItem, scene_pos: QPointF, alt: bool) -> bool:
        """A press on a volume key takes hold of it; with Alt it takes the key away, and Alt elsewhere on a clip with
        sound puts a key there at the level there (its line), held to drag on. False where the press is not for the
        volume."""
        x, y = scene_pos.x() - item.x(), scene_pos.y() - item.y()
        index = item.volume_key_at(x, y)
        if index is not None:
            keys = without_key(item.volume, item.volume[index][0]) if alt else item.volume
            self._drag = _Drag(item, "volume", scene_pos, 0.0, key=None if alt else index, keys=keys)
            return True
        if not (alt and item.has_sound):
            return False
        frame = min(max(self.scale.nearest_frame(scene_pos.x()) - item.start, 0), item.length)
        keys = with_key(item.volume, frame, level_at(item.volume, frame))  # on the line: the sound stays as it is
        item.show_volume(keys)
        self._drag = _Drag(item, "volume", scene_pos, 0.0, key=[f for f, _ in keys].index(frame), keys=keys)
        return True

    def _drag_volume_key(self, drag: _Drag, scene_pos: QPointF) -> None:
        """Show the held volume key where the mouse takes it: its level from the height, its frame between its
        neighbours' and within the clip."""
        if drag.key is None or drag.keys is None:
            return
        item, keys = drag.item, list(drag.keys)
        low = keys[drag.key - 1][0] + 1 if drag.key > 0 else 0
        high = keys[drag.key + 1][0] - 1 if drag.key + 1 < len(keys) else item.length
        frame = min(max(self.scale.nearest_frame(scene_pos.x()) - item.start, low), high)
        keys[drag.key] = (frame, round(item.level_at_y(scene_pos.y() - item.y()), 3))
        drag.keys = tuple(keys)
        item.show_volume(drag.keys)

    def _drag_transition(self, drag: _Drag, scene_x: float) -> None:
        """Show the fade or dissolve being dragged at the length the mouse gives it, within what the clip allows."""
        item = drag.item
        track, clip = self.project.find_clip(item.clip_id)
        if drag.action == "dissolve":
            half = abs(scene_x - self.scale.x(clip.start)) / self.scale.pixels_per_frame
            drag.value = min(round(2 * half), dissolve_limit(self.project, track, clip))
            top = self.track_top(track.id)
            self._dissolves = [(i, cut, self._dissolve_box(cut - drag.value // 2, drag.value, top, track)
                                if i == clip.id else box) for i, cut, box in self._dissolves]
            if not any(i == clip.id for i, _, _ in self._dissolves):
                self._dissolves.append((clip.id, clip.start, self._dissolve_box(clip.start - drag.value // 2,
                                                                                drag.value, top, track)))
            self.viewport().update()
            return
        frame = self.scale.nearest_frame(scene_x)
        if drag.action == "fade_in":
            drag.value = min(max(0, frame - clip.start), clip.length - item.fade_out)
            item.show_fades(drag.value, item.fade_out)
        else:
            drag.value = min(max(0, clip.end - frame), clip.length - item.fade_in)
            item.show_fades(item.fade_in, drag.value)

    def _end_transition_drag(self, drag: _Drag) -> bool:
        """Make the dragged fade or dissolve length an edit; False if it is as it was (or was refused)."""
        _, clip = self.project.find_clip(drag.item.clip_id)
        value = drag.value if drag.value is not None else 0
        command: Command
        if drag.action == "dissolve":
            if value == clip.dissolve_in:
                return False
            command = SetDissolve(clip.id, value)
        elif drag.action == "fade_in":
            if value == clip.fade_in:
                return False
            command = SetClipFades(clip.id, value, min(clip.fade_out, clip.length - value))
        else:
            if value == clip.fade_out:
                return False
            command = SetClipFades(clip.id, min(clip.fade_in, clip.length - value), value)
        return self.edit(command)

    def _show_cursor(self, point: QPoint) -> None:
        item = self._clip_at(point)
        scene = self.mapToScene(point)
        if item is not None and not item.locked and item.volume_key_at(scene.x() - item.x(),
                                                                        scene.y() - item.y()) is not None:
            self.viewport().setCursor(Qt.CursorShape.SizeAllCursor)
            return
        if item is not None and not item.locked and self._transition_grip(scene) is not None:
            self.viewport().setCursor(Qt.CursorShape.SizeHorCursor)
            return
        trim = item is not None and not item.locked and self._grip(item, scene.x()) != "move"
        self.viewport().setCursor(Qt.CursorShape.SizeHorCursor if trim else Qt.CursorShape.ArrowCursor)

    def _landing(self, drag: _Drag, scene_pos: QPointF) -> Landing:
        tolerance = int(SNAP_PIXELS / self.scale.pixels_per_frame) if self.snapping else None
        frame = self.scale.nearest_frame(scene_pos.x() - drag.grab)
        together = [i for i in self.selected_clip_ids() if i != drag.item.clip_id]
        if drag.action == "move" and together:
            return group_landing(self.project, drag.item.clip_id, together, frame, tolerance, self._playhead)
        if drag.action == "move":
            row = bisect.bisect_right(self._tops, scene_pos.y()) - 1 - self._live_rows
            row = min(max(row, 0), len(self.project.tracks) - 1)  # above the tracks (the live row too): the top one
            return move_landing(self.project, drag.item.clip_id, self.project.tracks[row].id, frame, tolerance,
                                self._playhead)
        return trim_landing(self.project, drag.item.clip_id, drag.action, frame, tolerance, self._playhead)

    def _show_landing(self, item: ClipItem, landing: Landing) -> None:
        item.set_refused(not landing.allowed)
        item.show_span(landing.start, landing.length, landing.source_in, self.track_top(landing.track_id))
        for clip_id, start in landing.along:
            track, clip = self.project.find_clip(clip_id)
            along = self._items[clip_id]
            along.set_refused(not landing.allowed)
            along.show_span(start, clip.length, clip.source_in, self.track_top(track.id))
        self._set_guide(landing.guide)
        shown = self._drop_dissolve
        self._drop_dissolve = None
        if landing.dissolve is not None:
            first, length = landing.dissolve
            self._drop_dissolve = self._dissolve_box(first, length, self.track_top(landing.track_id),
                                                     self.project.track(landing.track_id))
        if shown != self._drop_dissolve:
            self.viewport().update()

    # keys

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key, modifiers = event.key(), event.modifiers()
        shift = bool(modifiers & Qt.KeyboardModifier.ShiftModifier)
        if modifiers & ~(Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.KeypadModifier):
            super().keyPressEvent(event)  # Ctrl and Alt combinations are the window's shortcuts
            return
        step = self.project.fps if shift else 1
        actions = {
            Qt.Key.Key_S: self.split_at_playhead,
            Qt.Key.Key_M: self.toggle_marker,
            Qt.Key.Key_BracketLeft: lambda: self.trim_to_playhead("start"),
            Qt.Key.Key_BracketRight: lambda: self.trim_to_playhead("end"),
            Qt.Key.Key_Q: lambda: self.trim_to_playhead("start", ripple=True),
            Qt.Key.Key_W: lambda: self.trim_to_playhead("end", ripple=True),
            Qt.Key.Key_Delete: lambda: self.delete_selected(ripple=shift),
            Qt.Key.Key_Backspace: lambda: self.delete_selected(ripple=shift),
            Qt.Key.Key_J: lambda: self.shuttle.emit("j"),
            Qt.Key.Key_K: lambda: self.shuttle.emit("k"),
            Qt.Key.Key_L: lambda: self.shuttle.emit("l"),
            Qt.Key.Key_Space: self.play_toggled.emit,
            Qt.Key.Key_Left: lambda: self.set_playhead(self._playhead - step),
            Qt.Key.Key_Right: lambda: self.set_playhead(self._playhead + step),
            Qt.Key.Key_Home: lambda: self.set_playhead(0),
            Qt.Key.Key_End: lambda: self.set_playhead(self._end()),
            Qt.Key.Key_Plus: lambda: self.zoom(ZOOM_STEP),
            Qt.Key.Key_Equal: lambda: self.zoom(ZOOM_STEP),
            Qt.Key.Key_Minus: lambda: self.zoom(1 / ZOOM_STEP),
            Qt.Key.Key_0: self.zoom_to_fit,
        }
        action = actions.get(Qt.Key(key))
        if action is None:
            super().keyPressEvent(event)
            return
        action()

    # layout of the margins and the scene

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        viewport = self.viewport().geometry()
        self.ruler.setGeometry(viewport.left(), 0, viewport.width(), RULER_HEIGHT)
        self.headers.setGeometry(0, viewport.top(), HEADER_WIDTH, viewport.height())
        self.add_track_buttons.setGeometry(0, 0, HEADER_WIDTH, RULER_HEIGHT)
        self.storyboard.setGeometry(viewport.left(), RULER_HEIGHT, viewport.width(), LANE_HEIGHT)
        self.storyboard_label.setGeometry(0, RULER_HEIGHT, HEADER_WIDTH, LANE_HEIGHT)
        self._fit_scene()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.previews.parent() is self:
            self.previews.close()
        super().closeEvent(event)

    def _end(self) -> int:
        """The end of what is shown: the project's last clip, or a live clip after it."""
        return max(self.project.duration, self.live.end)

    def _fit_scene(self) -> None:
        frames = max(self._end(), self._playhead) + TAIL_SECONDS * self.project.fps
        width = max(self.scale.x(frames), self.viewport().width())
        self.setSceneRect(0, 0, width, self._tops[-1])

    def _selection_changed(self) -> None:
        self.selection_changed.emit(self.selected_clip_ids())

    def _scrolled(self, value: int) -> None:
        for strip in (self.ruler, self.storyboard):
            strip.offset = value
            strip.update()

    def _keep_in_view(self, frame: int) -> None:
        """Page the view when the playhead leaves it (playing on, stepping, dragging past the edge)."""
        scroll, width = self.horizontalScrollBar(), self.viewport().width()
        x = self.scale.x(frame)
        if x < scroll.value():
            scroll.setValue(round(x - width * 0.9))
        elif x > scroll.value() + width:
            scroll.setValue(round(x - width * 0.1))

    def _update_line(self, frame: int) -> None:
        x = round(self.scale.x(frame)) - self.horizontalScrollBar().value()
        self.viewport().update(QRect(x - 2, 0, 5, self.viewport().height()))

    def _set_guide(self, frame: int | None) -> None:
        if frame != self._guide:
            for shown in (self._guide, frame):
                if shown is not None:
                    self._update_line(shown)
            self._guide = frame


def _one(commands: list[Command], text: str) -> Command:
    return commands[0] if len(commands) == 1 else Macro(text, commands)
