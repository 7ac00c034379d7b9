"""The engine bridge under a running Qt event loop: the GUI thread never blocks on the engine, a killed engine shows
as crashed. Nothing is timed (tests/gui_thread.py): waits run out only on a hang."""

from __future__ import annotations

import os
import signal

import pytest
from gui_thread import blocking_calls_on_gui_thread
from PySide6.QtCore import QTimer

from desktop.generate.bridge import EngineBridge
from engine.api import protocol as p
from engine.api.job_book import JobBook
from engine.api.jobs import JobSpec
from engine.api.transport import LocalEngine

PROMPT = "a red circle moves to the right on a blue background"


@pytest.fixture
def bridge(tmp_path, monkeypatch):
    monkeypatch.setenv("ISTAR_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    queue = JobBook(tmp_path / "queue.json")
    b = EngineBridge(lambda: LocalEngine(tmp_path / "engine.log"), queue)
    events: list[p.Message] = []
    b.event.connect(events.append)
    b.events = events
    yield b
    b.close()


def _job(tmp_path, name: str, seconds: int) -> JobSpec:
    return JobSpec(kind="generate", model="toyworld", output=str(tmp_path / f"{name}.mp4"), prompts=(PROMPT,),
                   seconds=seconds, seed=1, device="cpu")


def _ended(events, job_id):
    return next((e for e in events if isinstance(e, p.TERMINAL) and e.job_id == job_id), None)


def test_the_gui_thread_never_waits_on_the_engine_while_a_job_runs(qtbot, bridge, tmp_path):
    ticks: list[int] = []
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(1))
    spec = _job(tmp_path, "long", seconds=6)
    with blocking_calls_on_gui_thread() as blocking:
        timer.start()
        bridge.submit(spec)  # starting the engine, writing to it: on the bridge's thread
        qtbot.waitUntil(lambda: _ended(bridge.events, spec.id) is not None, timeout=120_000)
        timer.stop()
    assert blocking == []  # the client, its engine process and the job book: none of it on the GUI thread
    assert isinstance(_ended(bridge.events, spec.id), p.Finished)
    assert sum(isinstance(e, p.Preview) for e in bridge.events) >= 5  # previews came through the loop too
    assert ticks  # and the loop ran its timers meanwhile


def test_a_killed_engine_shows_the_job_crashed_and_the_next_job_runs(qtbot, bridge, tmp_path):
    doomed, after = _job(tmp_path, "doomed", seconds=6), _job(tmp_path, "after", seconds=1)
    bridge.submit(doomed)
    qtbot.waitUntil(lambda: any(isinstance(e, p.Progress) for e in bridge.events), timeout=60_000)
    os.kill(bridge.engine_pid, signal.SIGKILL)
    qtbot.waitUntil(lambda: _ended(bridge.events, doomed.id) is not None, timeout=60_000)
    failed = _ended(bridge.events, doomed.id)
    # from the engine's exit status, not after its wait timed out: reported at once however slow the machine
    assert isinstance(failed, p.Failed) and failed.kind == "crashed" and "SIGKILL" in failed.message
    assert bridge.queue.get(doomed.id).state == "failed"
    bridge.submit(after)
    qtbot.waitUntil(lambda: _ended(bridge.events, after.id) is not None, timeout=60_000)
    assert isinstance(_ended(bridge.events, after.id), p.Finished)


def test_a_call_the_client_refuses_is_reported_on_the_gui_thread(qtbot, bridge):
    with qtbot.waitSignal(bridge.failed, timeout=10_000) as failed:
        bridge.retry("no-such-job")
    assert "nothing to retry" in failed.args[0]
    bridge.close()
    bridge.retry("no-such-job")  # after close a call is dropped, as the engine is gone
