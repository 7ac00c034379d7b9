"""Frames as the editor shows them: m:ss.ff (minutes, seconds, frames), h:mm:ss.ff past an hour."""

from __future__ import annotations


def timecode(frames: int, fps: int) -> str:
    seconds, frame = divmod(max(0, frames), fps)
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    clock = f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
    return f"{clock}.{frame:02d}"
