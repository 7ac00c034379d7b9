"""Background work in the desktop: the one module that starts threads. Nothing else in desktop/ may create a
thread, a QThread or an executor (tests/desktop/test_workers.py checks the source).

- `run_in_background(fn, *args, on_done=, on_error=, on_progress=, on_cancelled=)`: a one-shot call on a shared
  pool; returns its `Task`. The callbacks run on the GUI thread (queued through a Qt signal), never on the worker,
  so they may touch widgets. Inside `fn`, `current_task()` gives `progress(value)` and `cancel_requested()`.
- `WorkerPool(workers, newest_first=)`: work with its own threads and queue order. `submit` returns a Task that
  can be waited on (`result()`), dropped while queued (`cancel()`) or given GUI-thread callbacks (`then`).
  Oldest first keeps requests in order (frames, engine calls); newest first serves what is on screen now.
- `Worker(loop, *args)`: a long-lived loop on its own thread (the audio feeder, the recorder's writer).
  `loop(stop, *args)` runs until it returns and should return soon after the `stop` event is set; `stop()` sets
  it (and calls `wake` to unblock a loop waiting on a queue), `join()` waits for the thread.

Errors are never silent: a task's exception goes to its `on_error` on the GUI thread (for `run_in_background`
without one, it is logged with its traceback), and `result()` raises it; a Worker logs its loop's exception, keeps it
in `error` and hands it to `on_error`. A task cancelled before it ran calls only `on_cancelled`.
`shutdown()`, connected to the application's aboutToQuit, drops queued tasks, asks running ones to cancel, stops
every Worker and joins every thread, so no work outlives the app.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QCoreApplication, QObject, Qt, Signal, Slot
from shiboken6 import isValid

log = logging.getLogger(__name__)

T = TypeVar("T")
IDLE_SECONDS = 10.0  # a pool's thread with nothing to do for this long ends; the next submit starts one again
SHUTDOWN_SECONDS = 10.0
DEFAULT_WORKERS = 4


class Cancelled(Exception):
    """What `Task.result()` raises for a task cancelled before it ran."""


# -- the GUI thread ---------------------------------------------------------------------------------------------


class _Relay(QObject):
    """Lives on the GUI thread; a call emitted from any thread runs there, in the order emitted."""

    call = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.call.connect(self._run, Qt.ConnectionType.QueuedConnection)

    @Slot(object)
    def _run(self, job: tuple[Callable[..., Any], tuple, QObject | None]) -> None:
        fn, args, context = job
        if context is None or isValid(context):  # a widget deleted meanwhile gets nothing
            fn(*args)


_relay_lock = threading.Lock()
_relay: _Relay | None = None
_relay_app: QCoreApplication | None = None


def _gui_relay() -> _Relay:
    global _relay, _relay_app
    app = QCoreApplication.instance()
    if app is None:
        raise RuntimeError("callbacks on the GUI thread need a QApplication")
    with _relay_lock:
        if _relay is None or _relay_app is not app or not isValid(_relay):
            relay = _Relay()
            relay.moveToThread(app.thread())
            app.aboutToQuit.connect(shutdown)
            _relay, _relay_app = relay, app
        return _relay


def _watch_quit() -> None:
    """Have `shutdown` run when the application quits (there is none in a script or a plain test)."""
    if QCoreApplication.instance() is not None:
        _gui_relay()


def run_on_gui(fn: Callable[..., Any], *args: Any, context: QObject | None = None) -> None:
    """Call `fn(*args)` on the GUI thread, after what was queued before (also when called on the GUI thread).
    Skipped if `context` has been deleted by then."""
    _gui_relay().call.emit((fn, args, context))


# -- tasks --------------------------------------------------------------------------------------------------------


class _State(enum.Enum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class _Callbacks:
    on_done: Callable[[Any], None] | None
    on_error: Callable[[Exception], None] | None
    on_progress: Callable[[Any], None] | None
    on_cancelled: Callable[[], None] | None
    context: QObject | None


_local = threading.local()


def current_task() -> Task | None:
    """The Task running on this thread (None outside a pool's task)."""
    return getattr(_local, "task", None)


class Task(Generic[T]):
    """One call queued on a WorkerPool. Thread safe."""

    def __init__(self, pool: WorkerPool, fn: Callable[..., T], args: tuple) -> None:
        self._pool = pool
        self._call: tuple[Callable[..., T], tuple] | None = (fn, args)
        self.name = getattr(fn, "__qualname__", repr(fn))
        self._state = _State.PENDING
        self._lock = threading.Lock()
        self._finished = threading.Event()
        self._cancel = threading.Event()
        self._result: T | None = None
        self._error: Exception | None = None
        self._callbacks: list[_Callbacks] = []

    def __repr__(self) -> str:
        return f"<Task {self.name} {self._state.value}>"

    def then(self, on_done: Callable[[T], None] | None = None, on_error: Callable[[Exception], None] | None = None,
             *, on_progress: Callable[[Any], None] | None = None, on_cancelled: Callable[[], None] | None = None,
             context: QObject | None = None) -> Task[T]:
        """Call these on the GUI thread: `on_done(result)`, `on_error(exception)`, `on_progress(value)` for each
        `progress(value)`, `on_cancelled()` if it is cancelled before it runs. A task already finished calls them
        soon. None is called once `context` is deleted."""
        callbacks = _Callbacks(on_done, on_error, on_progress, on_cancelled, context)
        _gui_relay()  # fail here, where the caller can see it, rather than on the worker
        with self._lock:
            if self._state in (_State.PENDING, _State.RUNNING):
                self._callbacks.append(callbacks)
                return self
        self._deliver([callbacks])
        return self

    # on the worker

    def progress(self, value: Any) -> None:
        """Hand `value` to the `on_progress` callbacks (on the GUI thread)."""
        with self._lock:
            callbacks = [c for c in self._callbacks if c.on_progress is not None]
        for c in callbacks:
            _post(c.on_progress, value, context=c.context)

    def cancel_requested(self) -> bool:
        """Whether `cancel()` was called: long work asks this between steps and stops early."""
        return self._cancel.is_set()

    # anywhere

    def cancel(self) -> bool:
        """Ask the task to stop. True if it was still queued: it will not run and only `on_cancelled` is called;
        False if it is running (it sees `cancel_requested()`) or finished."""
        self._cancel.set()
        with self._pool._cond:
            if self._state is not _State.PENDING:
                return False
            self._pool._pending.pop(self, None)
            self._finish(_State.CANCELLED)
        return True

    def result(self, timeout: float | None = None) -> T:
        """Wait for the result; raises the task's exception, Cancelled, or TimeoutError after `timeout` seconds."""
        if not self._finished.wait(timeout):
            raise TimeoutError(f"{self.name} did not finish in {timeout} s")
        if self._state is _State.CANCELLED:
            raise Cancelled(f"{self.name} was cancelled before it ran")
        if self._error is not None:
            raise self._error
        return self._result  # type: ignore[return-value]

    def done(self) -> bool:
        """Finished: with a result, an exception, or cancelled before it ran."""
        return self._finished.is_set()

    def cancelled(self) -> bool:
        """Cancelled before it ran."""
        return self._state is _State.CANCELLED

    def running(self) -> bool:
        return self._state is _State.RUNNING

    def _run(self) -> None:
        fn, args = self._call  # type: ignore[misc]
        self._call = None  # the arguments (frames, media) are not kept once used
        _local.task = self
        try:
            value = fn(*args)
        except Exception as error:  # noqa: BLE001 - handed to on_error / result()
            self._error = error
            self._finish(_State.FAILED)
        else:
            self._result = value
            self._finish(_State.DONE)
        finally:
            _local.task = None

    def _finish(self, state: _State) -> None:
        with self._lock:
            self._state = state
            callbacks, self._callbacks = self._callbacks, []
        if state is _State.CANCELLED:
            self._call = None
        self._finished.set()
        self._deliver(callbacks)

    def _deliver(self, callbacks: list[_Callbacks]) -> None:
        for c in callbacks:
            if self._state is _State.DONE and c.on_done is not None:
                _post(c.on_done, self._result, context=c.context)
            elif self._state is _State.FAILED and c.on_error is not None:
                _post(c.on_error, self._error, context=c.context)
            elif self._state is _State.CANCELLED and c.on_cancelled is not None:
                _post(c.on_cancelled, context=c.context)


def _post(fn: Callable[..., Any], *args: Any, context: QObject | None) -> None:
    try:
        run_on_gui(fn, *args, context=context)
    except RuntimeError as error:  # the application has gone: nobody is left to tell but the log
        log.error("%s could not be called on the GUI thread: %s", fn, error)


def _log_failure(error: Exception) -> None:
    log.error("background work failed: %s", error, exc_info=error)


# -- pools --------------------------------------------------------------------------------------------------------

_live_lock = threading.Lock()
_live_pools: weakref.WeakSet[WorkerPool] = weakref.WeakSet()
_live_workers: weakref.WeakSet[Worker] = weakref.WeakSet()


class WorkerPool:
    """Up to `workers` threads running submitted calls, oldest first (or `newest_first`). Threads start on demand
    and end after IDLE_SECONDS without work. `close()` ends it; nothing can be submitted after."""

    def __init__(self, workers: int = 1, *, name: str = "worker", newest_first: bool = False,
                 idle_seconds: float = IDLE_SECONDS) -> None:
        self.name = name
        self._workers = workers
        self._newest_first = newest_first
        self._idle_seconds = idle_seconds
        self._cond = threading.Condition()
        self._pending: OrderedDict[Task, None] = OrderedDict()
        self._running: set[Task] = set()
        self._threads: set[threading.Thread] = set()
        self._idle = 0
        self._started = 0
        self._closed = False
        with _live_lock:
            _live_pools.add(self)
        _watch_quit()

    @property
    def closed(self) -> bool:
        return self._closed

    def submit(self, fn: Callable[..., T], *args: Any, on_done: Callable[[T], None] | None = None,
               on_error: Callable[[Exception], None] | None = None, on_progress: Callable[[Any], None] | None = None,
               on_cancelled: Callable[[], None] | None = None, context: QObject | None = None) -> Task[T]:
        """Queue `fn(*args)`; the callbacks, if any, as in `Task.then`. RuntimeError once the pool is closed."""
        task: Task[T] = Task(self, fn, args)
        if on_done or on_error or on_progress or on_cancelled:
            task.then(on_done, on_error, on_progress=on_progress, on_cancelled=on_cancelled, context=context)
        thread = None
        with self._cond:
            if self._closed:
                raise RuntimeError(f"the {self.name} pool is closed: it takes no more work")
            self._pending[task] = None
            if len(self._pending) > self._idle and len(self._threads) < self._workers:
                self._started += 1
                thread = threading.Thread(target=self._work, name=f"{self.name}-{self._started}", daemon=True)
                self._threads.add(thread)
            self._cond.notify()
        if thread is not None:
            thread.start()  # outside the lock, so the new thread takes its task at once
        return task

    def close(self, *, cancel: bool = True, wait: bool = True, timeout: float | None = None) -> None:
        """Stop taking work. `cancel`: drop queued tasks and ask running ones to stop; else finish the queue first.
        `wait`: join the threads (a pool's own task closing it is not waited for)."""
        with self._cond:
            self._closed = True
            if cancel:
                dropped, self._pending = list(self._pending), OrderedDict()
                for task in [*dropped, *self._running]:
                    task._cancel.set()
                for task in dropped:
                    task._finish(_State.CANCELLED)
            threads = list(self._threads)
            self._cond.notify_all()
        if wait:
            _join(threads, timeout)

    def _work(self) -> None:
        me = threading.current_thread()
        while True:
            with self._cond:
                while not self._pending and not self._closed:
                    self._idle += 1
                    woken = self._cond.wait(self._idle_seconds)
                    self._idle -= 1
                    if not woken and not self._pending:
                        break
                if not self._pending:  # idle too long, or closed with nothing left to do
                    self._threads.discard(me)
                    return
                task, _ = self._pending.popitem(last=self._newest_first)
                task._state = _State.RUNNING
                self._running.add(task)
            try:
                task._run()
            finally:
                with self._cond:
                    self._running.discard(task)


def _join(threads: list[threading.Thread], timeout: float | None) -> list[threading.Thread]:
    """Join `threads` within `timeout` seconds in all; returns those still running."""
    deadline = None if timeout is None else time.monotonic() + timeout
    me = threading.current_thread()
    for thread in threads:
        if thread is not me and thread.ident is not None:  # one not started yet finds its pool closed and ends
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
    return [t for t in threads if t.is_alive() and t is not me]


_default_lock = threading.Lock()
_default_pool: WorkerPool | None = None


def run_in_background(fn: Callable[..., T], *args: Any, on_done: Callable[[T], None] | None = None,
                      on_error: Callable[[Exception], None] | None = None,
                      on_progress: Callable[[Any], None] | None = None, on_cancelled: Callable[[], None] | None = None,
                      context: QObject | None = None) -> Task[T]:
    """Run `fn(*args)` on the shared pool; callbacks on the GUI thread as in `Task.then`. Without `on_error` an
    exception is logged with its traceback."""
    global _default_pool
    with _default_lock:
        if _default_pool is None or _default_pool.closed:
            _default_pool = WorkerPool(DEFAULT_WORKERS, name="background")
        pool = _default_pool
    return pool.submit(fn, *args, on_done=on_done, on_error=on_error or _log_failure, on_progress=on_progress,
                       on_cancelled=on_cancelled, context=context)


# -- long-lived loops ---------------------------------------------------------------------------------------------


class Worker:
    """`loop(stop, *args)` on a thread of its own, from `start()` until it returns. `stop` is a threading.Event the
    loop checks; `wake` (optional, any thread) unblocks a loop that waits on something else, such as a queue.
    The loop's own code is untouched: a real-time path keeps its timing. An exception ending the loop is logged
    with its traceback, kept in `error` and handed to `on_error` on the GUI thread (when there is an application)."""

    def __init__(self, loop: Callable[..., None], *args: Any, name: str,
                 on_error: Callable[[Exception], None] | None = None, wake: Callable[[], None] | None = None) -> None:
        self.name = name
        self.error: Exception | None = None
        self._loop, self._args = loop, args
        self._on_error, self._wake = on_error, wake
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Worker:
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        with _live_lock:
            _live_workers.add(self)
        _watch_quit()
        self._thread.start()
        return self

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self) -> None:
        """Ask the loop to end (it does not wait: `join()` does)."""
        if self._stop.is_set():
            return
        self._stop.set()
        if self._wake is not None:
            self._wake()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the loop to end; True once it has (or never started)."""
        if self._thread is None or self._thread is threading.current_thread():
            return self._thread is None
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        try:
            self._loop(self._stop, *self._args)
        except Exception as error:  # noqa: BLE001 - reported below, never lost
            self.error = error
            log.error("%s stopped: %s", self.name, error, exc_info=error)
            if self._on_error is not None and QCoreApplication.instance() is not None:
                _post(self._on_error, error, context=None)
        finally:
            with _live_lock:
                _live_workers.discard(self)


# -- quitting -----------------------------------------------------------------------------------------------------


def shutdown(timeout: float = SHUTDOWN_SECONDS) -> list[str]:
    """Close every pool (queued tasks dropped, running ones asked to cancel) and stop every Worker, then join all
    their threads within `timeout` seconds. Returns the names of threads still running (logged as well)."""
    with _live_lock:
        pools, workers = list(_live_pools), list(_live_workers)
    threads: list[threading.Thread] = []
    for worker in workers:
        worker.stop()
        if worker._thread is not None:
            threads.append(worker._thread)
    for pool in pools:
        with pool._cond:
            threads.extend(pool._threads)
        pool.close(wait=False)
    left = [thread.name for thread in _join(threads, timeout)]
    if left:
        log.warning("background threads still running after %s s: %s", timeout, ", ".join(left))
    return left
