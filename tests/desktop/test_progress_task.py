"""Long work (export) runs on a thread under a progress dialog: the dialog is only ever touched on the GUI thread
(touching it from the worker crashed the app mid-export), its value follows the work, and Cancel reaches it."""

from __future__ import annotations

import threading

from PySide6.QtWidgets import QPushButton, QWidget

from desktop.dialogs import ProgressTask


def test_progress_reaches_the_dialog_on_the_gui_thread(qtbot):
    parent = QWidget()
    qtbot.addWidget(parent)
    gui = threading.current_thread()
    work_threads, dialog_threads, values = [], [], []

    def work(progress, cancelled):
        work_threads.append(threading.current_thread())
        for step in range(1, 5):
            progress(step / 4)

    task = ProgressTask(parent, "Working...", work)
    set_value = task.dialog.setValue
    task.dialog.setValue = lambda value: (dialog_threads.append(threading.current_thread()),
                                          values.append(value), set_value(value))
    with qtbot.waitSignal(task.finished, timeout=10_000) as finished:
        task.start()
    assert finished.args == [None]
    assert work_threads and work_threads[0] is not gui
    assert values[:4] == [250, 500, 750, 1000] and set(dialog_threads) == {gui}


def test_cancel_reaches_the_work(qtbot):
    parent = QWidget()
    qtbot.addWidget(parent)
    started = threading.Event()

    def work(progress, cancelled):
        started.set()
        while not cancelled():
            threading.Event().wait(0.01)
        raise RuntimeError("cancelled")

    task = ProgressTask(parent, "Working...", work)
    with qtbot.waitSignal(task.finished, timeout=10_000) as finished:
        task.start()
        started.wait(5)
        task.dialog.findChild(QPushButton).click()
    assert str(finished.args[0]) == "cancelled"
