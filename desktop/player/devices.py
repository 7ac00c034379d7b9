"""Opening sound streams on the default devices, with one error for every way there may be none."""

from __future__ import annotations

from typing import Any, Literal


class NoAudioDevice(RuntimeError):
    """Sound cannot be played or recorded here: no such device, or no PortAudio library."""


def open_stream(kind: Literal["output", "input"], **settings: Any) -> Any:
    """A sounddevice OutputStream or InputStream (not started) on the default device; raises NoAudioDevice."""
    try:
        import sounddevice as sd  # importing fails on a machine without the PortAudio library
    except OSError as error:
        raise NoAudioDevice(f"no PortAudio library: {error}") from None
    stream_class = sd.OutputStream if kind == "output" else sd.InputStream
    try:
        return stream_class(**settings)
    except sd.PortAudioError as error:
        raise NoAudioDevice(str(error)) from None
