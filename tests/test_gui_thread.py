"""The GUI-thread guard (tests/gui_thread.py) sees a blocking call on the GUI thread, and only there."""

from __future__ import annotations

import threading
import time

from gui_thread import blocking_calls_on_gui_thread


def test_the_guard_records_blocking_calls_on_the_gui_thread_only():
    with blocking_calls_on_gui_thread() as blocking:
        worker = threading.Thread(target=time.sleep, args=(0,))
        worker.start()  # its sleep is off the GUI thread: not recorded
        worker.join()  # the join is on it: recorded
        time.sleep(0)
    assert blocking == ["Thread.join", "time.sleep"]
    assert time.sleep.__module__ == "time" and not hasattr(time.sleep, "__wrapped__")  # put back after
