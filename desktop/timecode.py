"""Time as the editor shows it: frames as m:ss.ff (minutes, seconds, frames), h:mm:ss.ff past an hour; lengths of
time as m:ss; a clip's speed as a percentage."""

from __future__ import annotations


def timecode(frames: int, fps: int) -> str:
    seconds, frame = divmod(max(0, frames), fps)
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    clock = f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
    return f"{clock}.{frame:02d}"


def clock(seconds: float) -> str:
    """A length of time to the second: 1:05, or 1:02:03 past an hour."""
    minutes, secs = divmod(max(0, round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def speed_text(speed: float) -> str:
    """A clip's speed as a percentage: 50 %, 33.33 %."""
    return f"{speed * 100:.4g} %"
