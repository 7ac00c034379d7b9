"""J/K/L shuttle: the playback rate each key asks for, given the rate asked for before."""

from __future__ import annotations

MAX_RATE = 8.0


def shuttle_rate(key: str, rate: float) -> float:
    """L plays forward and, pressed again, twice as fast (up to 8x); J the same in reverse; K pauses."""
    if key == "k":
        return 0.0
    direction = 1.0 if key == "l" else -1.0
    if rate * direction > 0:
        return direction * min(MAX_RATE, abs(rate) * 2)
    return direction
