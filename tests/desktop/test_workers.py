"""desktop.workers, the one way the desktop runs work off the GUI thread: results, errors and progress reach the GUI
thread; queued work can be cancelled; pools and loops stop and join; quitting the app leaves no thread running; and
no other desktop module starts a thread of its own.

Waits are budgets (qtbot waits, Event.wait timeouts that only fail a hung test), never assertions on speed."""

from __future__ import annotations

import ast
import logging
import os
import queue
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QObject
from shiboken6 import isValid

from desktop.workers import Cancelled, Worker, WorkerPool, current_task, run_in_background, run_on_gui

BUDGET_MS = 10_000
BUDGET_S = BUDGET_MS / 1000
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def pool():
    pool = WorkerPool(1, name="test-pool")
    yield pool
    pool.close(timeout=BUDGET_S)


def test_the_result_arrives_on_the_gui_thread_and_the_work_runs_off_it(qtbot):
    gui = threading.current_thread()
    ran_on = []

    def work(a, b):
        ran_on.append(threading.current_thread())
        return a + b

    with qtbot.waitCallback(timeout=BUDGET_MS) as done:
        task = run_in_background(work, 2, 3, on_done=lambda value: done(value, threading.current_thread()))
    assert done.args == [5, gui]
    assert ran_on and ran_on[0] is not gui
    assert task.done() and task.result() == 5 and not task.cancelled()


def test_an_exception_reaches_on_error_on_the_gui_thread(qtbot):
    gui = threading.current_thread()

    def work():
        raise ValueError("the file is damaged")

    with qtbot.waitCallback(timeout=BUDGET_MS) as failed:
        task = run_in_background(work, on_done=lambda _: pytest.fail("no result was made"),
                                 on_error=lambda error: failed(error, threading.current_thread()))
    error, thread = failed.args
    assert isinstance(error, ValueError) and str(error) == "the file is damaged" and thread is gui
    assert error.__traceback__ is not None  # where it happened stays with it
    with pytest.raises(ValueError, match="damaged"):
        task.result()


def test_an_exception_without_on_error_is_logged_with_its_traceback(qtbot, caplog):
    def work():
        raise KeyError("missing")

    with caplog.at_level(logging.ERROR, logger="desktop.workers"):
        run_in_background(work)
        qtbot.waitUntil(lambda: any(r.exc_info for r in caplog.records), timeout=BUDGET_MS)
    record = next(r for r in caplog.records if r.exc_info)
    assert record.exc_info[0] is KeyError and "missing" in record.getMessage()


def test_progress_arrives_in_order_on_the_gui_thread_before_the_result(qtbot):
    gui = threading.current_thread()
    seen = []

    def work():
        task = current_task()
        for step in range(5):
            task.progress(step)
        return "done"

    with qtbot.waitCallback(timeout=BUDGET_MS) as done:
        run_in_background(work, on_progress=lambda value: seen.append((value, threading.current_thread())),
                          on_done=done)
    assert seen == [(step, gui) for step in range(5)] and done.args == ["done"]


def test_a_queued_task_cancelled_never_runs_and_only_says_so(qtbot, pool):
    gate, started = threading.Event(), threading.Event()
    ran = []

    def block():
        started.set()
        gate.wait(BUDGET_S)

    pool.submit(block)
    assert started.wait(BUDGET_S)
    with qtbot.waitCallback(timeout=BUDGET_MS) as said:
        queued = pool.submit(ran.append, "queued", on_done=lambda _: pytest.fail("it ran"),
                             on_error=lambda _: pytest.fail("it failed"), on_cancelled=said)
        assert queued.cancel()
    gate.set()
    assert queued.cancelled() and queued.done()
    with pytest.raises(Cancelled):
        queued.result()
    pool.submit(ran.append, "after").result(BUDGET_S)
    assert ran == ["after"]


def test_a_running_task_sees_cancel_requested_and_still_reports(qtbot):
    started = threading.Event()

    def work():
        started.set()
        task = current_task()
        for _ in range(100_000):
            if task.cancel_requested():
                raise RuntimeError("stopped early")
            threading.Event().wait(0.01)
        return "ran to the end"

    with qtbot.waitCallback(timeout=BUDGET_MS) as failed:
        task = run_in_background(work, on_error=failed)
        assert started.wait(BUDGET_S)
        assert not task.cancel()  # too late to drop it: it is asked to stop instead
    assert str(failed.args[0]) == "stopped early" and not task.cancelled()


def test_newest_first_takes_the_latest_request_first():
    pool = WorkerPool(1, name="newest", newest_first=True)
    gate, started = threading.Event(), threading.Event()
    order = []
    pool.submit(lambda: (started.set(), gate.wait(BUDGET_S)))
    assert started.wait(BUDGET_S)
    tasks = [pool.submit(order.append, n) for n in range(4)]
    gate.set()
    for task in tasks:
        task.result(BUDGET_S)
    assert order == [3, 2, 1, 0]
    pool.close()


def test_oldest_first_keeps_calls_in_order_on_one_thread(pool):
    threads, order = set(), []

    def note(n):
        threads.add(threading.current_thread())
        order.append(n)

    tasks = [pool.submit(note, n) for n in range(20)]
    tasks[-1].result(BUDGET_S)
    assert order == list(range(20)) and len(threads) == 1


def test_closing_a_pool_drops_the_queue_and_joins_its_threads():
    pool = WorkerPool(2, name="closing")
    gate = threading.Event()

    def hold(started):
        started.set()
        gate.wait(BUDGET_S)
        return current_task().cancel_requested()

    running = []
    for _ in range(2):
        started = threading.Event()
        running.append(pool.submit(hold, started))
        assert started.wait(BUDGET_S)
    queued = [pool.submit(print, "never") for _ in range(3)]
    threads = list(pool._threads)
    pool.close(wait=False)
    assert all(task.cancelled() for task in queued) and not any(task.done() for task in running)
    gate.set()
    pool.close(timeout=BUDGET_S)  # again, waiting: it joins the threads
    assert [task.result() for task in running] == [True, True]  # the running tasks were asked to stop
    assert len(threads) == 2 and not any(thread.is_alive() for thread in threads)
    with pytest.raises(RuntimeError, match="closed"):
        pool.submit(print)


def test_closing_without_cancel_finishes_the_queue_first():
    pool = WorkerPool(1, name="draining")
    done = []
    for n in range(5):
        pool.submit(done.append, n)
    pool.close(cancel=False, timeout=BUDGET_S)
    assert done == [0, 1, 2, 3, 4]


def test_a_callback_for_a_deleted_widget_is_skipped(qtbot, pool):
    receiver = QObject()
    gate = threading.Event()
    called = []
    task = pool.submit(gate.wait, BUDGET_S, on_done=called.append, context=receiver)
    receiver.deleteLater()
    qtbot.waitUntil(lambda: _deleted(receiver), timeout=BUDGET_MS)
    gate.set()
    task.result(BUDGET_S)
    with qtbot.waitCallback(timeout=BUDGET_MS) as after:
        run_on_gui(after)  # queued behind the skipped delivery
    assert called == []


def _deleted(obj: QObject) -> bool:
    return not isValid(obj)


def test_a_worker_loop_runs_until_stopped_and_joins():
    ticks = []

    def loop(stop, step):
        while not stop.is_set():
            ticks.append(step)
            stop.wait(0.001)

    worker = Worker(loop, 1, name="ticker").start()
    assert worker.running
    worker.stop()
    assert worker.join(BUDGET_S) and not worker.running and worker.error is None


def test_wake_unblocks_a_loop_waiting_on_a_queue():
    items: queue.Queue[str | None] = queue.Queue()
    got = []

    def loop(_stop):
        while (item := items.get()) is not None:
            got.append(item)

    worker = Worker(loop, name="queue-reader", wake=lambda: items.put(None)).start()
    items.put("a")
    worker.stop()
    assert worker.join(BUDGET_S) and got == ["a"]


def test_a_worker_that_dies_is_logged_kept_and_reported_on_the_gui_thread(qtbot, caplog):
    gui = threading.current_thread()

    def loop(_stop):
        raise OSError("the device went away")

    with caplog.at_level(logging.ERROR, logger="desktop.workers"), qtbot.waitCallback(timeout=BUDGET_MS) as failed:
        worker = Worker(loop, name="doomed", on_error=lambda e: failed(e, threading.current_thread())).start()
    assert worker.join(BUDGET_S)
    assert isinstance(worker.error, OSError) and failed.args == [worker.error, gui]
    assert any(r.exc_info and r.exc_info[1] is worker.error for r in caplog.records)


QUIT_SCRIPT = textwrap.dedent("""
    import threading, sys
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication
    from desktop.workers import Worker, WorkerPool, current_task, run_in_background

    app = QApplication([])
    started = threading.Event()

    def long_export():
        started.set()
        while not current_task().cancel_requested():
            threading.Event().wait(0.01)

    def feeder(stop):
        while not stop.is_set():
            stop.wait(0.01)

    run_in_background(long_export)
    Worker(feeder, name="feeder").start()
    pool = WorkerPool(1, name="frames")
    gate = threading.Event()
    pool.submit(gate.wait, 0.2)
    for n in range(10):
        pool.submit(print, "queued work ran after quit", n)
    started.wait(10)
    QTimer.singleShot(0, app.quit)
    app.exec()
    left = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
    print("LEFT", left)
""")


def test_quitting_the_app_stops_and_joins_every_thread():
    run = subprocess.run([sys.executable, "-c", QUIT_SCRIPT], cwd=ROOT, capture_output=True, text=True,
                         timeout=120, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert run.returncode == 0, run.stderr
    assert "LEFT []" in run.stdout, run.stdout + run.stderr
    assert "queued work ran after quit" not in run.stdout
    assert "QThread" not in run.stderr and "Destroyed while" not in run.stderr


# -- the pattern is the only one ------------------------------------------------------------------------------

BANNED_NAMES = {"QThread", "QThreadPool", "QRunnable", "ThreadPoolExecutor", "ProcessPoolExecutor", "moveToThread"}
BANNED_MODULES = {"concurrent.futures", "concurrent", "_thread"}
BANNED_THREADING = {"Thread", "Timer"}


def _thread_starters(path: Path, root: Path = ROOT) -> list[str]:
    """Where the module at `path` imports or uses a way to run work on a thread of its own."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        where = f"{path.relative_to(root)}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Import):
            found += [f"{where} import {a.name}" for a in node.names
                      if a.name in BANNED_MODULES or a.name.startswith("concurrent.")]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if module in BANNED_MODULES or module.startswith("concurrent."):
                found.append(f"{where} from {module} import ...")
            elif module == "threading":
                found += [f"{where} from threading import {a.name}" for a in node.names if a.name in BANNED_THREADING]
            found += [f"{where} imports {a.name}" for a in node.names if a.name in BANNED_NAMES]
        elif isinstance(node, ast.Attribute):
            if node.attr in BANNED_NAMES:
                found.append(f"{where} uses .{node.attr}")
            elif (node.attr in BANNED_THREADING and isinstance(node.value, ast.Name)
                  and node.value.id == "threading"):
                found.append(f"{where} uses threading.{node.attr}")
        elif isinstance(node, ast.Name) and node.id in BANNED_NAMES:
            found.append(f"{where} uses {node.id}")
    return found


def test_only_the_workers_module_starts_threads():
    desktop = ROOT / "desktop"
    offenders = [hit for path in sorted(desktop.rglob("*.py")) if path != desktop / "workers.py"
                 for hit in _thread_starters(path)]
    assert offenders == [], "run background work through desktop.workers:\n" + "\n".join(offenders)
    assert _thread_starters(desktop / "workers.py")  # the check does see threads where they are


def test_the_check_catches_each_way_of_starting_a_thread(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(textwrap.dedent("""
        import threading
        from threading import Thread
        from concurrent.futures import ThreadPoolExecutor
        import concurrent.futures
        from PySide6.QtCore import QThread, QThreadPool
        threading.Thread(target=print)
        threading.Timer(1, print)
        obj.moveToThread(None)
        threading.Lock()
    """))
    hits = _thread_starters(sample, tmp_path)
    lines = sorted({int(hit.split(":")[1].split()[0]) for hit in hits})
    assert lines == [3, 4, 5, 6, 7, 8, 9]  # every line but the imports of threading itself and its Lock
