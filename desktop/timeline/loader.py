"""Loads values on worker threads, newest request first, and hands each result to the GUI thread as a signal.

Newest first because the newest requests are for what is on screen now; requests for a region scrolled past wait
until the visible ones are done. A key is loaded once at a time however often it is asked for.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable
from typing import Any

from PySide6.QtCore import QObject, Signal

from desktop.workers import Task, WorkerPool

log = logging.getLogger(__name__)


class BackgroundLoader(QObject):
    """`request(key, *args)` runs `load(*args)`; `loaded(key, value)` arrives on the GUI thread, `failed(key,
    message)` when load raised. Errors other than `expected_errors` are bugs: they are logged with their traceback,
    and the worker goes on with the next request. Requests and results are handled on the GUI thread."""

    loaded = Signal(object, object)
    failed = Signal(object, str)

    def __init__(self, load: Callable[..., Any], expected_errors: tuple[type[Exception], ...] = (),
                 workers: int = 1, name: str = "loader", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._load = load
        self._expected = expected_errors
        self._pool = WorkerPool(workers, name=name, newest_first=True)
        self._tasks: dict[Hashable, Task] = {}  # queued or loading; a finished one is gone once it has reported

    def request(self, key: Hashable, *args: Any) -> None:
        if self._pool.closed:
            return
        queued = self._tasks.get(key)
        if queued is not None and not queued.cancel():
            return  # loading now (or just loaded): its result is on its way
        # (re)queued as the newest request: the pool takes the newest first
        task = self._pool.submit(self._load, *args)
        self._tasks[key] = task
        task.then(lambda value: self._loaded(key, task, value), lambda error: self._failed(key, task, error),
                  context=self)

    def close(self) -> None:
        """Drop what is queued and stop the workers after their current load."""
        self._pool.close()
        self._tasks.clear()

    def _loaded(self, key: Hashable, task: Task, value: Any) -> None:
        if self._tasks.get(key) is task:
            del self._tasks[key]
        self.loaded.emit(key, value)

    def _failed(self, key: Hashable, task: Task, error: Exception) -> None:
        if self._tasks.get(key) is task:
            del self._tasks[key]
        if not isinstance(error, self._expected):
            log.error("loading %r failed", key, exc_info=error)
        self.failed.emit(key, str(error))
