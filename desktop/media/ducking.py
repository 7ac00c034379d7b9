"""Ducking: a ducked audio track (music, say) is lowered wherever a clip of another unmuted audio track that is not
ducked itself plays (a voice-over, say), so the voice is heard over it without the person drawing volume curves.

Its level goes down by DUCK_GAIN (-12 dB) over the RAMP_SECONDS before such a clip starts, stays there while it plays,
and comes back up over the RAMP_SECONDS after it ends; where such clips overlap or lie closer than two ramps, it stays
down between them. The level is a function of time only, so any stretch of the mix is the same however it is cut into
calls.
"""

from __future__ import annotations

import numpy as np

from desktop.project.model import Project, Track

DUCK_GAIN = 0.25  # -12 dB
RAMP_SECONDS = 0.25


def voice_spans(project: Project, ducked: Track) -> list[tuple[float, float]]:
    """The timeline seconds during which `ducked` is lowered: the clips of the other unmuted audio tracks that are
    not ducked."""
    return [(project.seconds(c.start), project.seconds(c.end)) for t in project.tracks
            if t is not ducked and t.kind == "audio" and not t.muted and not t.ducked for c in t.clips]


def duck_gain(project: Project, track: Track, first: int, n_samples: int) -> np.ndarray | None:
    """float32 [n_samples] level of ducked `track` from timeline sample `first` (at the project's rate); None where
    nothing lowers it there."""
    rate = project.sample_rate
    start, end = first / rate, (first + n_samples) / rate
    spans = [(a, b) for a, b in voice_spans(project, track) if a - RAMP_SECONDS < end and b + RAMP_SECONDS > start]
    if not spans:
        return None
    time = (first + np.arange(n_samples, dtype=np.float64)) / rate
    down = np.zeros(n_samples)
    for a, b in spans:  # a trapezoid per clip: 0 a ramp before it, 1 through it, 0 a ramp after
        down = np.maximum(down, np.clip(np.minimum(time - (a - RAMP_SECONDS), (b + RAMP_SECONDS) - time)
                                        / RAMP_SECONDS, 0, 1))
    return (1 - (1 - DUCK_GAIN) * down).astype(np.float32)
