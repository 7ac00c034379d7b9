"""`istar serve` with many clients: one that leaves mid-job never stops the server, idle or trickling sockets never
keep a client with the token out, and clients served at once share one queue, each hearing only of its own jobs.

Real sockets on 127.0.0.1 and the real toyworld runner, wrapped to record every event it emitted (delivered or not)
and how many jobs ran at once, and to hold a job at a chosen pass boundary so a test decides when a client leaves.
Waits are budgets of steps; socket timeouts only keep a broken server from hanging the tests.
"""

from __future__ import annotations

import base64
import collections
import itertools
import logging
import queue
import socket
import struct
import threading
import time
from pathlib import Path

import pytest
from engine_session import Session, toyworld_job

from engine.api import protocol as p
from engine.api.server_address import read_token
from engine.api.transport import RemoteEngine
from engine.service import tcp
from engine.service.runner import JobRunner
from engine.service.tcp import serve_tcp
from engine.weights.store import ModelStore

STEP = 0.01
STEPS = 6000  # at most a minute of steps for anything a test waits for
HANG_GUARD = 120.0  # seconds a client's read may block before the test fails rather than hangs


def _within_budget(done) -> bool:
    for _ in range(STEPS):
        if done():
            return True
        time.sleep(STEP)
    return False


class Recorder:
    """What the runner did: every event it emitted, the most jobs it ran at once, and where a job is held."""

    def __init__(self) -> None:
        self.events: list[p.Message] = []
        self.lock = threading.Lock()
        self.running = 0
        self.most_at_once = 0
        self.hold_before_pass: int | None = None  # each job waits before this pass until released or cancelled
        self.release = threading.Event()
        self.held = threading.Event()

    def ended(self, job_id: str) -> p.Message | None:
        return next((e for e in self.events if isinstance(e, p.TERMINAL) and e.job_id == job_id), None)

    def passes(self, job_id: str) -> list[int]:
        return [e.index for e in self.events if isinstance(e, p.Progress) and e.job_id == job_id]


class RecordedRunner(JobRunner):
    def __init__(self, store: ModelStore, emit, recorder: Recorder) -> None:
        def recorded(message: p.Message) -> None:
            recorder.events.append(message)
            emit(message)

        super().__init__(store, recorded)
        self.recorder = recorder

    def run(self, spec, cancelled) -> None:
        rec = self.recorder
        boundary = itertools.count()

        def checked() -> bool:  # the sampler asks before every pass
            if next(boundary) == rec.hold_before_pass:
                rec.held.set()
                _within_budget(lambda: rec.release.is_set() or cancelled())
            return cancelled()

        with rec.lock:
            rec.running += 1
            rec.most_at_once = max(rec.most_at_once, rec.running)
        try:
            super().run(spec, checked)
        finally:
            with rec.lock:
                rec.running -= 1


class Client:
    """A raw protocol client on a socket of its own."""

    def __init__(self, port: int, token: str) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=HANG_GUARD)
        self.file = self.sock.makefile("rwb")
        self.events: list[p.Message] = []
        self.send(p.Hello(token))

    def send(self, message: p.Message) -> None:
        self.file.write(p.encode(message))
        self.file.flush()

    def submit(self, spec) -> None:
        """Submit `spec` as a network client does: its output by file name, never a path on the server."""
        self.send(p.Submit({**spec.to_json(), "output": Path(spec.output).name}))

    def received(self, name: str) -> bytes:
        """The file `name` as the server sent it in file_data messages."""
        return b"".join(base64.b64decode(e.data) for e in self.events if isinstance(e, p.FileData) and e.name == name)

    def next(self) -> p.Message:
        line = self.file.readline()
        if not line:
            raise EOFError("the server closed the connection")
        self.events.append(p.decode(line))
        return self.events[-1]

    def until(self, wanted) -> p.Message:
        while not wanted(event := self.next()):
            pass
        return event

    def until_end(self, job_id: str) -> p.Message:
        return self.until(lambda e: isinstance(e, p.TERMINAL) and e.job_id == job_id)

    def reset(self) -> None:
        """Go away at once, as a killed client does: the server's next read or write fails."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.file.close()
        self.sock.close()

    def close(self) -> None:
        self.file.close()
        self.sock.close()


@pytest.fixture
def crashes(monkeypatch):
    """Exceptions that ended a thread of the server (none should)."""
    found = []
    monkeypatch.setattr(threading, "excepthook", found.append)
    return found


@pytest.fixture
def start(home, tmp_path, monkeypatch):
    """start(**serve_tcp options) -> (port, token, recorder, server thread)."""
    recorder = Recorder()
    monkeypatch.setattr(tcp, "JobRunner", lambda store, emit: RecordedRunner(store, emit, recorder))
    token = read_token(tmp_path / "token", create=True)

    def started(**options):
        ports: queue.Queue[int] = queue.Queue()
        thread = threading.Thread(target=serve_tcp, args=("127.0.0.1", 0, token, ModelStore(), ports.put),
                                  kwargs=options, daemon=True)
        thread.start()
        return ports.get(timeout=30), token, recorder, thread

    return started


def test_a_client_leaving_mid_job_has_its_job_cancelled_and_the_server_serves_the_next(start, tmp_path, crashes,
                                                                                         caplog):
    port, token, rec, server = start()
    rec.hold_before_pass = 2
    caplog.set_level(logging.INFO, logger="istar.engine")

    killed = Client(port, token)  # a client killed mid-job: its connection is reset
    left = toyworld_job(tmp_path, "killed", seconds=2)
    killed.submit(left)
    killed.until(lambda e: isinstance(e, p.Progress) and e.index == 1)
    killed.reset()
    assert _within_budget(lambda: rec.ended(left.id) is not None)
    assert isinstance(rec.ended(left.id), p.Cancelled) and rec.passes(left.id) == [0, 1]  # no pass after it left
    assert any(f"cancelling job {left.id}" in r.message and "gone" in r.message for r in caplog.records)

    # the studio's own client quitting mid-job: it sends a shutdown and closes
    studio = Session(tmp_path / "unused.log", connect=lambda: RemoteEngine("127.0.0.1", port, token))
    rec.held.clear()
    quit_mid_job = toyworld_job(tmp_path, "quit", seconds=2)
    studio.client.submit(quit_mid_job)
    assert _within_budget(rec.held.is_set)
    studio.close()
    assert _within_budget(lambda: rec.ended(quit_mid_job.id) is not None)
    assert isinstance(rec.ended(quit_mid_job.id), p.Cancelled) and rec.passes(quit_mid_job.id) == [0, 1]

    rec.hold_before_pass = None
    after = Client(port, token)
    spec = toyworld_job(tmp_path, "after")
    after.submit(spec)
    assert isinstance(after.until_end(spec.id), p.Finished)
    assert after.received("after.mp4")[4:8] == b"ftyp"  # the video came over the connection
    after.close()
    assert server.is_alive() and crashes == []


def test_a_job_another_client_still_wants_goes_on_when_its_first_client_leaves(start, tmp_path, crashes, caplog):
    port, token, rec, _ = start()
    caplog.set_level(logging.INFO, logger="istar.engine")
    rec.hold_before_pass = 2
    first, second = Client(port, token), Client(port, token)
    spec = toyworld_job(tmp_path, "shared", seconds=2)
    first.submit(spec)
    first.until(lambda e: isinstance(e, p.Progress) and e.index == 1)

    second.submit(spec)  # the same job, as a client sends again after a reconnect
    accepted = second.until(lambda e: isinstance(e, p.Accepted))
    started = second.next()  # told what it joined
    assert accepted.ahead == 0 and isinstance(started, p.Started) and started.job_id == spec.id
    first_peer = f"127.0.0.1:{first.sock.getsockname()[1]}"
    first.reset()
    assert _within_budget(lambda: any(r.message == f"{first_peer} disconnected" for r in caplog.records))
    rec.release.set()

    assert isinstance(second.until_end(spec.id), p.Finished)
    assert rec.passes(spec.id) == list(range(started.passes))
    second.close()
    assert crashes == []


def test_idle_sockets_and_a_trickling_hello_do_not_keep_a_client_with_the_token_out(start, tmp_path, crashes):
    port, token, rec, server = start()
    idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(50)]
    trickling = socket.create_connection(("127.0.0.1", port))
    stop = threading.Event()

    def trickle() -> None:  # a byte at a time, never a whole line
        with trickling:
            for byte in itertools.islice(itertools.cycle(b'{"v":3,"type":"hello","token":"'), STEPS):
                if stop.wait(5 * STEP):
                    return
                try:
                    trickling.send(bytes([byte]))
                except OSError:
                    return

    trickler = threading.Thread(target=trickle, daemon=True)
    trickler.start()
    try:
        good = Client(port, token)
        spec = toyworld_job(tmp_path, "good")
        good.submit(spec)
        assert isinstance(good.until_end(spec.id), p.Finished)
        good.close()
    finally:
        stop.set()
        for sock in idle:
            sock.close()
    assert server.is_alive() and crashes == []


def _answered_or_closed(sock: socket.socket) -> bool:
    """Whether the server has answered or closed the connection, without waiting."""
    sock.setblocking(False)
    try:
        sock.recv(4096)
        return True  # a refusal, or the end
    except BlockingIOError:
        return False
    except OSError:
        return True  # reset
    finally:
        sock.setblocking(True)


def test_a_hello_trickled_past_its_bound_is_cut_off_even_with_the_right_token(start, caplog):
    ticks = itertools.count()  # each look at the clock is a second later: the bound is 5 reads, whatever their pace
    port, token, _, _ = start(hello_timeout=5, clock=lambda: float(next(ticks)))
    hello = p.encode(p.Hello(token))
    sent = 0
    caplog.set_level(logging.WARNING, logger="istar.engine")
    with socket.create_connection(("127.0.0.1", port)) as sock:
        while sent < len(hello) and not _answered_or_closed(sock):
            try:
                sock.send(hello[sent:sent + 1])
            except OSError:
                break
            sent += 1
            time.sleep(2 * STEP)  # each byte a read of its own
    assert sent < len(hello) // 2
    assert any("refused the connection from 127.0.0.1" in r.message and r.message.endswith("no hello within 5 s")
               for r in caplog.records)


def test_a_first_line_over_the_hello_size_is_refused(start):
    port, token, _, _ = start()
    with socket.create_connection(("127.0.0.1", port), timeout=HANG_GUARD) as sock, sock.makefile("rwb") as stream:
        stream.write(b'{"v":3,"type":"hello","token":"' + b"x" * tcp.MAX_HELLO_BYTES)
        stream.flush()
        refusal = p.decode(stream.readline())
    assert refusal.message == f"connection refused: no hello in its first {tcp.MAX_HELLO_BYTES} bytes"


def test_clients_served_at_once_share_one_queue_and_hear_only_of_their_own_jobs(start, tmp_path, crashes):
    port, token, rec, _ = start()
    clients = {"a": Client(port, token), "b": Client(port, token)}
    jobs = {name: [toyworld_job(tmp_path, f"{name}{i}", seed=i) for i in range(2)] for name in clients}
    clients["a"].send(p.ListModels("cpu", 1))
    for i in range(2):
        for name, client in clients.items():
            client.submit(jobs[name][i])

    ends: dict[str, list[p.Message]] = collections.defaultdict(list)
    readers = [threading.Thread(target=lambda n=name, c=client: ends[n].extend(c.until_end(j.id) for j in jobs[n]))
               for name, client in clients.items()]
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join(HANG_GUARD)

    for name, client in clients.items():
        own = {j.id for j in jobs[name]}
        assert [type(e) for e in ends[name]] == [p.Finished, p.Finished]
        assert {getattr(e, "job_id", None) for e in client.events} - {None} == own
        accepted = [e.job_id for e in client.events if isinstance(e, p.Accepted)]
        assert accepted == [j.id for j in jobs[name]]
        client.close()
    assert [type(e) for e in clients["a"].events if isinstance(e, p.Models | p.Failed)] == [p.Models]
    assert not any(isinstance(e, p.Models) for e in clients["b"].events)
    assert rec.most_at_once == 1
    assert crashes == []


def test_a_token_file_others_can_read_is_refused_with_how_to_fix_it(tmp_path):
    token_file = tmp_path / "token"
    read_token(token_file, create=True)
    for mode in (0o644, 0o640, 0o604):
        token_file.chmod(mode)
        with pytest.raises(ValueError, match=r"can be read or changed by other users .*chmod 600"):
            read_token(token_file, create=True)
        with pytest.raises(ValueError, match=f"mode {mode:o}"):
            read_token(token_file)
    token_file.chmod(0o600)
    assert len(read_token(token_file)) >= 32


class StuckSocket:
    """A client that never reads: a send blocks until the connection is shut down, then fails."""

    def __init__(self) -> None:
        self.shut = threading.Event()
        self.offered: list[bytes] = []

    def sendall(self, line: bytes) -> None:
        self.offered.append(line)
        self.shut.wait(HANG_GUARD)
        raise OSError("the connection was reset")

    def shutdown(self, how: int) -> None:
        self.shut.set()


def test_a_client_that_reads_nothing_gets_fewer_previews_then_is_cut_off_and_never_holds_up_the_engine(monkeypatch):
    monkeypatch.setattr(tcp, "PREVIEW_BACKLOG", 150)
    monkeypatch.setattr(tcp, "MAX_BACKLOG", 1000)
    stuck = StuckSocket()
    outbox = tcp._Outbox(stuck, "127.0.0.1:1")
    outbox.write(b"a" * 99 + b"\n")
    assert _within_budget(lambda: stuck.offered)  # the sender is stuck on it
    outbox.write_preview(b"p" * 99 + b"\n")  # 100 bytes wait: sent in time
    outbox.write_preview(b"q" * 99 + b"\n")  # 200 wait: skipped
    written = 0
    with pytest.raises(p.ConnectionLost, match="reads too slowly"):
        for _ in range(20):  # every write returns at once, until the client is cut off
            outbox.write(b"e" * 99 + b"\n")
            written += 1
    assert written == 8 and stuck.shut.is_set()
    with pytest.raises(p.ConnectionLost):
        outbox.write(b"late\n")
    outbox.finish()
    assert stuck.offered == [b"a" * 99 + b"\n"]
