"""Loads values on worker threads, newest request first, and hands each result to the GUI thread as a signal.

Newest first because the newest requests are for what is on screen now; requests for a region scrolled past wait
until the visible ones are done. A key is loaded once at a time however often it is asked for.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Hashable
from typing import Any

from PySide6.QtCore import QObject, Signal

log = logging.getLogger(__name__)


class BackgroundLoader(QObject):
    """`request(key, *args)` runs `load(*args)`; `loaded(key, value)` arrives on the thread the loader lives in,
    `failed(key, message)` when load raised. Errors other than `expected_errors` are bugs: they are logged with
    their traceback, and the worker goes on with the next request."""

    loaded = Signal(object, object)
    failed = Signal(object, str)

    def __init__(self, load: Callable[..., Any], expected_errors: tuple[type[Exception], ...] = (),
                 workers: int = 1, name: str = "loader", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._load = load
        self._expected = expected_errors
        self._pending: dict[Hashable, tuple] = {}  # key -> args, in request order; popitem() takes the newest
        self._loading: set[Hashable] = set()
        self._wakeup = threading.Condition()
        self._closed = False
        self._threads = [threading.Thread(target=self._run, name=f"{name}-{i}", daemon=True) for i in range(workers)]
        for thread in self._threads:
            thread.start()

    def request(self, key: Hashable, *args: Any) -> None:
        with self._wakeup:
            if key in self._loading:
                return
            self._pending.pop(key, None)
            self._pending[key] = args
            self._wakeup.notify()

    def close(self) -> None:
        """Drop what is queued and stop the workers after their current load."""
        with self._wakeup:
            self._closed = True
            self._pending.clear()
            self._wakeup.notify_all()
        for thread in self._threads:
            thread.join()

    def _run(self) -> None:
        while True:
            with self._wakeup:
                while not self._pending and not self._closed:
                    self._wakeup.wait()
                if self._closed:
                    return
                key, args = self._pending.popitem()
                self._loading.add(key)
            try:
                value = self._load(*args)
            except Exception as error:
                if not isinstance(error, self._expected):
                    log.exception("loading %r failed", key)
                self._finish(key)
                self.failed.emit(key, str(error))
                continue
            self._finish(key)
            self.loaded.emit(key, value)

    def _finish(self, key: Hashable) -> None:
        with self._wakeup:
            self._loading.discard(key)
