"""Fades and cross-dissolves in time: which clips of a track are seen and heard around a moment, and how much.

A fade of L frames shows the clip's picture at (i + 1) / (L + 1) of its opacity on its i-th frame (a fade-out counts
from the clip's last frame back), so a fade's middle frame is at half, its first already faint and the first frame
after it whole. Sound follows the straight line from silence at the fade's outer edge to full at its inner edge.

A cross-dissolve of L frames on the cut at frame c (where the incoming clip starts) lasts frames c - L // 2 up to
c + L - L // 2: the first L // 2 show the incoming clip's media before its in point, the rest the outgoing clip's
media after its out point. Its i-th frame shows the incoming picture at weight (i + 1) / (L + 1) and the outgoing at
the rest; the two sounds cross-fade along straight lines over the same time. The media on each side of the cut
limits L (`dissolve_limit`); a dissolve stored longer than its media now allows (after a trim, say) plays as long as
it can, and one whose clips no longer touch plays not at all. A fade stored longer than its clip (after a trim)
likewise lasts the whole clip.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from desktop.project.model import Clip, Project, Track

_UNLIMITED = 1 << 40  # media frames around a still's or a title's clip: it lasts as long as it is shown


class Dissolve(NamedTuple):
    """A cross-dissolve as played: `outgoing` into `incoming` over timeline frames [first, first + length)."""

    outgoing: Clip
    incoming: Clip
    first: int
    length: int

    @property
    def cut(self) -> int:
        return self.incoming.start

    def weight(self, frame: int) -> float:
        """How much of the incoming picture timeline frame `frame` shows."""
        return (frame - self.first + 1) / (self.length + 1)

    def sound_weight(self, time: np.ndarray) -> np.ndarray:
        """How much of the incoming sound is heard at `time` (timeline frames, fractional)."""
        return np.clip((time - self.first) / self.length, 0.0, 1.0)


def fades(clip: Clip) -> tuple[int, int]:
    """The clip's fade-in and fade-out as played: within the clip, the fade-in first."""
    fade_in = max(0, min(clip.fade_in, clip.length))
    return fade_in, max(0, min(clip.fade_out, clip.length - fade_in))


def fade_alpha(clip: Clip, frame: int) -> float:
    """How much of the clip's picture shows at timeline `frame` for its fades (a frame beyond the clip, during a
    dissolve, as its nearest frame)."""
    fade_in, fade_out = fades(clip)
    alpha = 1.0
    into = min(max(frame, clip.start), clip.end - 1) - clip.start
    if into < fade_in:
        alpha = (into + 1) / (fade_in + 1)
    left = clip.length - 1 - into
    if left < fade_out:
        alpha = min(alpha, (left + 1) / (fade_out + 1))
    return alpha


def fade_gain(clip: Clip, time: np.ndarray) -> np.ndarray:
    """The clip's sound level for its fades at `time` (timeline frames, fractional)."""
    fade_in, fade_out = fades(clip)
    gain = np.ones_like(time)
    if fade_in:
        gain = np.minimum(gain, np.clip((time - clip.start) / fade_in, 0.0, 1.0))
    if fade_out:
        gain = np.minimum(gain, np.clip((clip.end - time) / fade_out, 0.0, 1.0))
    return gain


def previous(track: Track, clip: Clip) -> Clip | None:
    """The clip that ends where `clip` starts on `track` (the other side of its cut), or None."""
    return next((c for c in track.clips if c.end == clip.start and c.id != clip.id), None)


def following(track: Track, clip: Clip) -> Clip | None:
    """The clip that starts where `clip` ends on `track`, or None."""
    return next((c for c in track.clips if c.start == clip.end and c.id != clip.id), None)


def _halves(length: int) -> tuple[int, int]:
    """Frames of a dissolve before and after its cut."""
    return length // 2, length - length // 2


def dissolve_room(project: Project, track: Track, incoming: Clip) -> tuple[int, int]:
    """Frames a dissolve into `incoming` may take before and after its cut: the incoming clip's media before its in
    point and the outgoing clip's after its out point, within the two clips and clear of their other dissolves."""
    outgoing = previous(track, incoming)
    if outgoing is None:
        return 0, 0
    before = min(_media_before(project, incoming), outgoing.length - _halves(outgoing.dissolve_in)[1])
    after_next = following(track, incoming)
    taken_after = _halves(after_next.dissolve_in)[0] if after_next is not None else 0
    after = min(_media_after(project, outgoing), incoming.length - taken_after)
    return max(0, before), max(0, after)


def dissolve_limit(project: Project, track: Track, incoming: Clip) -> int:
    """The longest cross-dissolve into `incoming` its media and neighbours allow (0: none)."""
    before, after = dissolve_room(project, track, incoming)
    return 2 * after if before >= after else 2 * before + 1


def dissolve_problem(project: Project, track: Track, incoming: Clip, length: int) -> str | None:
    """Why a cross-dissolve of `length` frames into `incoming` cannot be, or None."""
    if length == 0:
        return None
    outgoing = previous(track, incoming)
    if outgoing is None:
        return "a cross-dissolve goes on a cut: no clip ends where this one starts"
    limit = dissolve_limit(project, track, incoming)
    if length <= limit:
        return None
    before, after = dissolve_room(project, track, incoming)
    need_before, need_after = _halves(length)
    out_name, in_name = project.media_of(outgoing).name, project.media_of(incoming).name
    if need_after > after:
        why = (f"it would show {need_after} frames of {out_name} after the outgoing clip's out point, which has "
               f"{after} to give")
    else:
        why = (f"it would show {need_before} frames of {in_name} before the incoming clip's in point, which has "
               f"{before} to give")
    most = f"at most {limit} frames fit" if limit else "none fits: trim the clips to leave media beyond the cut"
    return f"a {length}-frame cross-dissolve does not fit: {why}; {most}"


def dissolve_into(project: Project, track: Track, incoming: Clip) -> Dissolve | None:
    """The dissolve into `incoming` as it plays, or None."""
    if incoming.dissolve_in <= 0:
        return None
    outgoing = previous(track, incoming)
    if outgoing is None:
        return None
    length = min(incoming.dissolve_in, dissolve_limit(project, track, incoming))
    if length <= 0:
        return None
    return Dissolve(outgoing, incoming, incoming.start - _halves(length)[0], length)


def dissolve_at(project: Project, track: Track, frame: int) -> Dissolve | None:
    """The dissolve playing at timeline `frame` on `track`, or None."""
    clip = track.clip_at(frame)
    if clip is None:
        return None
    for incoming in (clip, following(track, clip)):
        if incoming is not None:
            dissolve = dissolve_into(project, track, incoming)
            if dissolve is not None and dissolve.first <= frame < dissolve.first + dissolve.length:
                return dissolve
    return None


def pictures_at(project: Project, track: Track, frame: int) -> list[tuple[Clip, float]]:
    """The clips of `track` whose pictures make timeline `frame`, each with its share: one clip at 1, or the outgoing
    and incoming clips of a dissolve at their weights."""
    dissolve = dissolve_at(project, track, frame)
    if dissolve is not None:
        weight = dissolve.weight(frame)
        return [(dissolve.outgoing, 1 - weight), (dissolve.incoming, weight)]
    clip = track.clip_at(frame)
    return [] if clip is None else [(clip, 1.0)]


def sound_span(project: Project, track: Track, clip: Clip) -> tuple[Dissolve | None, Dissolve | None]:
    """The dissolves into and out of `clip` on `track`, which extend its sound before its start and after its end."""
    after = following(track, clip)
    return dissolve_into(project, track, clip), dissolve_into(project, track, after) if after is not None else None


def _media_before(project: Project, clip: Clip) -> int:
    room = project.media_room(clip)
    return _UNLIMITED if room is None else room[0]


def _media_after(project: Project, clip: Clip) -> int:
    room = project.media_room(clip)
    return _UNLIMITED if room is None else room[1]
