"""`istar serve`: the engine protocol over TCP, for an engine on another machine (a GPU box).

The first line of a connection must be a Hello carrying the token from the server's token file; anything else is
refused, logged and the connection closed. The whole hello must come within HELLO_TIMEOUT seconds and
MAX_HELLO_BYTES bytes, however it is split, and at most MAX_WAITING connections may be waiting for theirs: one more
cuts off the one that has waited longest, so idle or trickling sockets cannot keep a client with the token out.

Each connection is served on a thread of its own; all of them share one queue, whose jobs run one at a time on the
device (engine.service.server.JobQueue), and each gets the replies to its own messages and the events of its own
jobs. Events go out through a sender thread per connection, so a client that reads slowly or vanished never holds
up the jobs: its previews are skipped while others wait to be sent, and it is cut off once MAX_BACKLOG bytes wait.
A client that goes away, asked or not, never stops the server: its jobs are let go (the running one is cancelled at
its next pass) and the next connection is served. Loaded models stay between connections. Loopback is the default
address: listening on a network address is an explicit choice.

A client never names a path here: its input files come in upload messages and its jobs' files go back to it in
file_data messages, read from disk by the connection's sender as their turn comes, so a big video never waits in
memory. They live in the jobs folder (engine.service.served_files), swept of what was not used for its keep time.
"""

from __future__ import annotations

import collections
import contextlib
import hmac
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from engine.api import protocol as p
from engine.api.server_address import is_loopback
from engine.home import studio_home
from engine.service.bounded_lines import bounded_lines
from engine.service.runner import JobRunner
from engine.service.served_files import DEFAULT_KEEP_HOURS, ConnectionFiles, JobsFolder
from engine.service.server import EngineServer, JobQueue
from engine.service.shared_jobs import SharedJobs
from engine.weights.store import ModelStore

log = logging.getLogger("istar.engine")
HELLO_TIMEOUT = 10.0  # seconds for the whole hello, over all its reads
MAX_HELLO_BYTES = 16 * 1024  # a hello is under 100 bytes with a generated token
MAX_WAITING = 32  # connections waiting for their hello at once
PREVIEW_BACKLOG = 4 * 1024 * 1024  # bytes waiting to go to a client, over which its previews are skipped
MAX_BACKLOG = 64 * 1024 * 1024  # bytes waiting to go to a client, over which it is cut off
SWEEP_INTERVAL = 600.0  # seconds between sweeps of the jobs folder (at most; a short keep time sweeps more often)
REFUSAL_SEND_TIMEOUT = 1.0


class _NoHello(Exception):
    pass


class _Door:
    """The connections still owing their hello: each has `timeout` seconds (by `clock`) and MAX_HELLO_BYTES for
    the whole of it, and at most `limit` wait at once: one more cuts off the one that has waited longest."""

    def __init__(self, token: str, timeout: float, limit: int, clock: Callable[[], float]) -> None:
        self._token = token.encode()
        self._timeout, self._limit, self._clock = timeout, limit, clock
        self._lock = threading.Lock()
        self._waiting: collections.OrderedDict[socket.socket, None] = collections.OrderedDict()
        self._cut: set[socket.socket] = set()

    def arrive(self, conn: socket.socket) -> None:
        with self._lock:
            self._waiting[conn] = None
            if len(self._waiting) <= self._limit:
                return
            oldest, _ = self._waiting.popitem(last=False)
            self._cut.add(oldest)
        with contextlib.suppress(OSError):  # its reader wakes up to an end of input
            oldest.shutdown(socket.SHUT_RDWR)

    def greet(self, conn: socket.socket, peer: str) -> bytes | None:
        """The bytes that came after a good hello, or None: the connection was refused (logged and answered)."""
        try:
            rest, reason = self._hello(conn), ""
        except _NoHello as refused:
            rest, reason = None, str(refused)
        with self._lock:
            self._waiting.pop(conn, None)
            if conn in self._cut:  # cut off to let a newer one in, maybe just as its hello came
                self._cut.discard(conn)
                rest, reason = None, "too many connections were waiting for their hello"
        if rest is not None:
            return rest
        log.warning("refused the connection from %s: %s", peer, reason)
        with contextlib.suppress(OSError):
            conn.settimeout(REFUSAL_SEND_TIMEOUT)
            conn.sendall(p.encode(p.Failed(None, "bad_input", f"connection refused: {reason}")))
        return None

    def _hello(self, conn: socket.socket) -> bytes:
        deadline = self._clock() + self._timeout
        data = b""
        while b"\n" not in data:
            if len(data) > MAX_HELLO_BYTES:
                raise _NoHello(f"no hello in its first {MAX_HELLO_BYTES} bytes")
            left = deadline - self._clock()
            if left <= 0:
                raise _NoHello(f"no hello within {self._timeout:g} s")
            try:
                conn.settimeout(left)
                chunk = conn.recv(MAX_HELLO_BYTES + 1 - len(data))
            except TimeoutError:
                continue
            except OSError as err:
                raise _NoHello(f"no hello ({err})") from None
            if not chunk:
                raise _NoHello("the connection closed before its hello")
            data += chunk
        line, _, rest = data.partition(b"\n")
        if len(line) > MAX_HELLO_BYTES:
            raise _NoHello(f"no hello in its first {MAX_HELLO_BYTES} bytes")
        try:
            message = p.decode(line)
        except p.ProtocolError as err:
            raise _NoHello(f"no valid hello ({err})") from None
        if not isinstance(message, p.Hello):
            raise _NoHello(f"a {message.type!r} before the hello")
        if not hmac.compare_digest(message.token.encode(), self._token):
            raise _NoHello("wrong token")
        return rest


@dataclass(frozen=True)
class _OutFile:
    """A file to send as file_data lines when its turn comes."""

    job_id: str
    name: str
    path: Path
    size: int


class _Outbox:
    """A connection's lines out, sent by a thread of its own so that the engine never waits for a client: while
    PREVIEW_BACKLOG bytes wait, previews are skipped; once MAX_BACKLOG bytes of lines would wait, the client is cut
    off. Files wait as their paths and are read as they are sent. `finish` sends what still waits; closing the
    socket is left to its owner."""

    def __init__(self, conn: socket.socket, peer: str) -> None:
        self._conn, self._peer = conn, peer
        self._lines: collections.deque[bytes | _OutFile] = collections.deque()
        self._waiting = 0  # bytes of lines queued or being sent
        self._file_bytes = 0  # bytes of files queued or being sent
        self._changed = threading.Condition()
        self._closing = False
        self._broken: str | None = None
        self._thread = threading.Thread(target=self._send, name=f"engine-send-{peer}", daemon=True)
        self._thread.start()

    def write(self, line: bytes) -> None:
        self._put(line, skippable=False)

    def write_preview(self, line: bytes) -> None:
        self._put(line, skippable=True)

    def write_file(self, job_id: str, name: str, path: Path) -> None:
        """Send the file at `path` as job `job_id`'s `name`, after what waits already."""
        try:
            size = path.stat().st_size
        except OSError:
            size = 0  # sent as missing when its turn comes
        with self._changed:
            if self._broken is not None or self._closing:
                raise p.ConnectionLost(self._broken or f"the connection to {self._peer} is closed")
            self._lines.append(_OutFile(job_id, name, path, size))
            self._file_bytes += size
            self._changed.notify_all()

    def _put(self, line: bytes, skippable: bool) -> None:
        with self._changed:
            if self._broken is not None or self._closing:
                raise p.ConnectionLost(self._broken or f"the connection to {self._peer} is closed")
            if skippable and self._waiting + self._file_bytes > PREVIEW_BACKLOG:
                return
            if self._waiting + len(line) > MAX_BACKLOG:
                self._broken = f"{self._peer} reads too slowly: {self._waiting} bytes are waiting for it"
                self._changed.notify_all()
            else:
                self._lines.append(line)
                self._waiting += len(line)
                self._changed.notify_all()
                return
        self._hang_up()
        raise p.ConnectionLost(self._broken)

    def finish(self) -> None:
        """Send what waits (unless the client is gone), then let the socket go."""
        with self._changed:
            self._closing = True
            self._changed.notify_all()
        self._thread.join()

    def _send(self) -> None:
        try:
            while True:
                with self._changed:
                    while not self._lines and not self._closing and self._broken is None:
                        self._changed.wait()
                    if self._broken is not None or not self._lines:
                        return
                    item = self._lines.popleft()
                try:
                    if isinstance(item, _OutFile):
                        self._send_file(item)
                    else:
                        self._conn.sendall(item)
                except OSError as err:
                    with self._changed:
                        self._broken = f"the connection to {self._peer} is gone ({err})"
                    return
                finally:
                    with self._changed:
                        if isinstance(item, _OutFile):
                            self._file_bytes -= item.size
                        else:
                            self._waiting -= len(item)
        finally:
            self._hang_up()

    def _send_file(self, item: _OutFile) -> None:
        """The file's file_data lines, read a chunk at a time; one saying it is missing when it cannot be read."""
        try:
            source = item.path.open("rb")
        except OSError as err:
            log.warning("cannot send %s to %s: %s", item.path, self._peer, err)
            missing = f"the engine cannot read it ({err.strerror or err})"
            self._conn.sendall(p.encode(p.FileData(item.job_id, item.name, 0, "", True, missing)))
            return
        with source:
            for offset, data, last in p.file_chunks(source):
                self._conn.sendall(p.encode(p.FileData(item.job_id, item.name, offset, data, last)))

    def _hang_up(self) -> None:
        """Wakes the connection's reader to an end of input; the socket is closed by its owner."""
        with contextlib.suppress(OSError):
            self._conn.shutdown(socket.SHUT_RDWR)


def _keep_alive(conn: socket.socket) -> None:
    """Notice a client whose machine vanished without closing: probe an idle connection after a minute, and give up
    on one whose sent data stays unacknowledged for a minute (where the system has these options)."""
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for option, value in (("TCP_KEEPIDLE", 60), ("TCP_KEEPINTVL", 10), ("TCP_KEEPCNT", 3),
                          ("TCP_USER_TIMEOUT", 60_000)):
        if hasattr(socket, option):
            with contextlib.suppress(OSError):
                conn.setsockopt(socket.IPPROTO_TCP, getattr(socket, option), value)


def _lines(head: bytes, stream) -> Iterator[bytes]:
    """A connection's lines, when `head`, the bytes after its hello, was read already; none held longer than the
    protocol's limit (bounded_lines)."""
    return bounded_lines(stream, head)


def _serve_connection(conn: socket.socket, peer: str, door: _Door, jobs: SharedJobs, folder: JobsFolder) -> None:
    with conn:
        head = door.greet(conn, peer)
        if head is None:
            return
        conn.settimeout(None)
        _keep_alive(conn)
        log.info("serving %s", peer)
        outbox = _Outbox(conn, peer)
        try:
            with conn.makefile("rb") as stream:
                files = ConnectionFiles(folder, outbox.write_file)
                EngineServer(jobs, outbox.write, os.getpid(), outbox.write_preview, files).serve(_lines(head, stream))
        finally:
            outbox.finish()
        log.info("%s disconnected", peer)


def default_jobs_folder() -> Path:
    return studio_home() / "served"


def _sweep(folder: JobsFolder, jobs: SharedJobs) -> None:
    """Sweep the jobs folder now and then, forever."""
    while True:
        folder.sweep(jobs.busy_paths())
        time.sleep(min(SWEEP_INTERVAL, folder.keep_seconds / 4))


def serve_tcp(host: str, port: int, token: str, store: ModelStore, ready: Callable[[int], None] | None = None, *,
              jobs_folder: JobsFolder | None = None, hello_timeout: float = HELLO_TIMEOUT,
              max_waiting: int = MAX_WAITING, clock: Callable[[], float] = time.monotonic) -> None:
    """Serve clients, each on a thread of its own, until interrupted. `ready(port)` is called once listening (port
    0 picks one). The clients' files live in `jobs_folder` (default: `served` in the studio folder, kept a day).
    `clock` times the hellos."""
    jobs = JobQueue(lambda emit: JobRunner(store, emit))  # one runner and its loaded models for every connection
    threading.Thread(target=jobs.work, name="engine-jobs", daemon=True).start()
    serve_jobs(host, port, token, jobs, ready, jobs_folder=jobs_folder, hello_timeout=hello_timeout,
               max_waiting=max_waiting, clock=clock)


def serve_jobs(host: str, port: int, token: str, jobs: SharedJobs, ready: Callable[[int], None] | None = None, *,
               jobs_folder: JobsFolder | None = None, hello_timeout: float = HELLO_TIMEOUT,
               max_waiting: int = MAX_WAITING, clock: Callable[[], float] = time.monotonic) -> None:
    """Serve clients of `jobs`, which runs them (a JobQueue, or the farm's dispatcher), as `serve_tcp` does."""
    if not is_loopback(host):
        log.warning("listening on %s: anyone on that network who has the token can use this engine", host)
    folder = jobs_folder or JobsFolder(default_jobs_folder(), DEFAULT_KEEP_HOURS * 3600)
    log.info("the clients' files are kept in %s for %g h after their last use", folder.root, folder.keep_seconds / 3600)
    threading.Thread(target=_sweep, args=(folder, jobs), name="engine-sweep", daemon=True).start()
    door = _Door(token, hello_timeout, max_waiting, clock)
    with socket.create_server((host, port)) as server:
        bound = server.getsockname()[1]
        log.info("engine listening on %s:%d", host, bound)
        if ready is not None:
            ready(bound)
        while True:
            try:
                conn, address = server.accept()
            except OSError as err:  # out of file descriptors, say: the ones held will be let go
                log.warning("cannot accept a connection: %s", err)
                time.sleep(0.1)
                continue
            door.arrive(conn)
            peer = f"{address[0]}:{address[1]}"
            threading.Thread(target=_serve_connection, args=(conn, peer, door, jobs, folder),
                             name=f"engine-client-{peer}", daemon=True).start()
