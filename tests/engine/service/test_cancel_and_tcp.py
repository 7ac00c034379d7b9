"""Cancel takes effect at the next pass; the TCP server refuses a wrong token and serves the right one; a closed
input ends the engine quietly, and so does a closed output, once its job is cancelled."""

from __future__ import annotations

import logging
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from engine_session import Session, toyworld_job

from engine.api import protocol as p
from engine.api.server_address import read_token
from engine.api.transport import RemoteEngine
from engine.service.runner import JobRunner
from engine.service.server import EngineServer
from engine.service.tcp import serve_tcp
from engine.weights.store import ModelStore


class InProcessEngine:
    """An EngineServer in this process fed by a queue of lines; `on_event` may answer an event on the spot, as the
    reader thread would when a message arrives right after that event was sent."""

    def __init__(self) -> None:
        self.lines: queue.Queue[bytes | None] = queue.Queue()
        self.events: list[p.Message] = []
        self.on_event = lambda event: None
        store = ModelStore()
        self.server = EngineServer(lambda emit: JobRunner(store, emit), self._write, pid=0)
        self.thread = threading.Thread(target=self.server.serve, args=(iter(self.lines.get, None),), daemon=True)
        self.thread.start()

    def _write(self, line: bytes) -> None:
        event = p.decode(line)
        self.events.append(event)
        self.on_event(event)

    def send(self, message: p.Message) -> None:
        self.lines.put(p.encode(message))

    def wait_for(self, job_id: str, timeout: float = 120) -> p.Message:
        for _ in range(int(timeout * 20)):
            ends = [e for e in self.events if isinstance(e, p.TERMINAL) and e.job_id == job_id]
            if ends:
                return ends[0]
            time.sleep(0.05)
        raise TimeoutError(job_id)

    def stop(self) -> None:
        self.lines.put(None)
        self.thread.join(30)


def test_cancel_stops_the_running_job_at_the_next_pass_and_a_queued_job_at_once(home, tmp_path):
    engine = InProcessEngine()
    try:
        long, behind = toyworld_job(tmp_path, "long", seconds=6), toyworld_job(tmp_path, "behind")
        cancel_after = 9

        def cancel_mid_job(event: p.Message) -> None:
            if isinstance(event, p.Progress) and event.job_id == long.id and event.index == cancel_after:
                engine.server.handle(p.encode(p.Cancel(long.id)))

        engine.on_event = cancel_mid_job
        engine.send(p.Submit(long.to_json()))
        engine.send(p.Submit(behind.to_json()))
        engine.send(p.Cancel(behind.id))
        assert isinstance(engine.wait_for(behind.id), p.Cancelled)
        assert isinstance(engine.wait_for(long.id), p.Cancelled)
        passes = [e.index for e in engine.events if isinstance(e, p.Progress) and e.job_id == long.id]
        assert max(passes) == cancel_after  # the pass after the cancel never started
        assert not any(isinstance(e, p.Started) and e.job_id == behind.id for e in engine.events)
        assert not (tmp_path / "long.mp4").exists()

        engine.on_event = lambda event: None
        after = toyworld_job(tmp_path, "after")
        engine.send(p.Submit(after.to_json()))
        assert isinstance(engine.wait_for(after.id), p.Finished)
    finally:
        engine.stop()


@pytest.fixture
def server(home, tmp_path):
    token_file = tmp_path / "token"
    token = read_token(token_file, create=True)
    ports: queue.Queue[int] = queue.Queue()
    thread = threading.Thread(target=serve_tcp, args=("127.0.0.1", 0, token, ModelStore(), ports.put), daemon=True)
    thread.start()
    return ports.get(timeout=30), token, token_file


def test_a_new_token_file_is_private_and_long(server):
    _, token, token_file = server
    assert len(token) >= 32 and token_file.stat().st_mode & 0o777 == 0o600


def test_a_wrong_token_is_refused_and_logged(server, caplog):
    port, token, _ = server
    with caplog.at_level(logging.WARNING, logger="istar.engine"):
        engine = RemoteEngine("127.0.0.1", port, "not-the-token-" + token[:8])
        replies = [p.decode(line) for line in engine.lines()]
        engine.close(1)
    assert len(replies) == 1 and isinstance(replies[0], p.Failed)
    assert replies[0].message == "connection refused: wrong token"
    assert any("refused the connection from 127.0.0.1" in r.message and "wrong token" in r.message
               for r in caplog.records)


def test_the_right_token_gets_the_same_service_over_tcp(server, tmp_path):
    port, token, _ = server
    session = Session(tmp_path / "unused.log", connect=lambda: RemoteEngine("127.0.0.1", port, token))
    try:
        spec = toyworld_job(tmp_path, "remote")
        session.client.submit(spec)
        events = session.until_end(spec.id)
        assert isinstance(events[0], p.Ready) and isinstance(events[-1], p.Finished)
        assert (tmp_path / "remote.mp4").is_file()
    finally:
        session.close()


def test_an_input_closed_under_the_reader_ends_the_engine_like_end_of_input(home, tmp_path, monkeypatch):
    """Shutdown closes the engine's input from another thread; the reader then reads a closed file, which must end
    the engine quietly, not kill the reader thread with an exception."""
    crashes = []
    monkeypatch.setattr(threading, "excepthook", crashes.append)
    closed = (tmp_path / "input").open("wb+")
    closed.close()
    written = []
    server = EngineServer(lambda emit: JobRunner(ModelStore(), emit), written.append, pid=0)
    serving = threading.Thread(target=server.serve, args=(closed,), daemon=True)
    serving.start()
    serving.join(30)
    assert not serving.is_alive() and crashes == []
    assert isinstance(p.decode(written[0]), p.Ready)


def test_an_engine_whose_studio_is_gone_mid_job_cancels_it_and_exits_cleanly(home, tmp_path):
    """The studio's end of the engine's output closes (it quit or died) while its end of the input stays open: the
    engine cancels the job at its next pass and exits with 0, not with a broken pipe or an abort."""
    log = tmp_path / "engine.log"
    with log.open("wb") as err:
        engine = subprocess.Popen([sys.executable, "-m", "engine.service.engine_main"], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=err, cwd=Path(__file__).resolve().parents[3])
    spec = toyworld_job(tmp_path, "orphan", seconds=6)
    engine.stdin.write(p.encode(p.Submit(spec.to_json())))
    engine.stdin.flush()
    for line in engine.stdout:
        if isinstance(p.decode(line), p.Progress):
            break
    engine.stdout.close()
    try:
        assert engine.wait(120) == 0
    finally:
        engine.kill()
        engine.stdin.close()
    text = log.read_text()
    assert f"cancelling job {spec.id} at its next pass" in text
    assert "Fatal" not in text and "Traceback" not in text
