"""What must never run on the GUI thread while the studio works with an engine: the calls that block.

Tests used to time the event loop (no gap over 100 ms while a job ran), which a loaded machine fails however right
the code is. Instead they count: `blocking_calls_on_gui_thread` records every call of the engine client, of its
transports (start an engine process, write to it, read from it, wait for it), of the job book's file writes, and of
the blocking primitives (sleep, a process wait, a thread join, a socket connect) that happens on the GUI thread, and
the test asserts there were none. The same on a fast machine and a slow one.
"""

from __future__ import annotations

import contextlib
import functools
import socket
import subprocess
import threading
import time
from collections.abc import Iterator

import pytest

from engine.api import job_book
from engine.api.client import EngineClient
from engine.api.transport import LocalEngine, RemoteEngine

BLOCKING: list[tuple[object, str]] = [
    *((EngineClient, name) for name in ("submit", "cancel", "retry", "resume", "move", "list_models", "close")),
    *((LocalEngine, name) for name in ("__init__", "send", "lines", "close", "gone_reason")),
    *((RemoteEngine, name) for name in ("__init__", "send", "lines", "close")),
    (job_book, "write_text_atomic"),
    (time, "sleep"),
    (subprocess.Popen, "wait"),
    (subprocess.Popen, "communicate"),
    (threading.Thread, "join"),
    (socket, "create_connection"),
]


@contextlib.contextmanager
def blocking_calls_on_gui_thread() -> Iterator[list[str]]:
    """The names of the BLOCKING calls made on the GUI (main) thread inside the block; put back after it."""
    gui = threading.main_thread()
    calls: list[str] = []

    def watched(real, name: str):
        @functools.wraps(real)
        def call(*args, **kwargs):
            if threading.current_thread() is gui:
                calls.append(name)
            return real(*args, **kwargs)

        return call

    with pytest.MonkeyPatch.context() as patch:
        for owner, name in BLOCKING:
            label = f"{getattr(owner, '__name__', owner)}.{name}"
            patch.setattr(owner, name, watched(getattr(owner, name), label))
        yield calls
