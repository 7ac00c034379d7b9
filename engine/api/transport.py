"""Ways to reach an engine: a process of our own over its pipes, or a server over TCP. No torch, no Qt.

A process of our own shares our disk, so its jobs name files by path. A server does not: its jobs' files travel
over the connection (engine.api.remote_files), and its events reach the client with the paths the files landed at.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from engine.api import protocol as p
from engine.api.jobs import JobSpec
from engine.api.remote_files import RemoteFiles

LOG_TAIL_LINES = 6


class Transport(Protocol):
    def send(self, line: bytes) -> None: ...

    def lines(self) -> Iterator[bytes]:
        """The engine's lines until it is gone."""
        ...

    def close(self, timeout: float) -> None:
        """Let the engine go: after `timeout` seconds of waiting it is stopped by force."""
        ...

    def gone_reason(self) -> str:
        """Once `lines` has ended: how the engine went, for the user."""
        ...

    def job_message(self, spec: JobSpec) -> p.Submit:
        """The message that submits `spec` (sending what the engine needs of it first); JobInputError names an input
        that cannot be sent."""
        ...

    def arrived(self, message: p.Message) -> p.Message | None:
        """`message` as the client gets it (None: taken in by the transport)."""
        ...


def _tail(path: Path, count: int = LOG_TAIL_LINES) -> list[str]:
    try:
        with path.open("rb") as f:
            f.seek(max(0, f.seek(0, os.SEEK_END) - 8192))
            return [line.decode(errors="replace") for line in f.read().splitlines()[-count:]]
    except OSError:
        return []


class LocalEngine:
    """An engine process of our own (`python -m engine.service.engine_main`), its log appended to `log_path`."""

    def __init__(self, log_path: Path, python: str = sys.executable, env: dict[str, str] | None = None) -> None:
        self.log_path = log_path
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = log_path.open("ab")
        # A frozen studio has no Python to run -m with: its own executable is the engine when given
        # --engine-process (installer/pyinstaller/istar_studio.py).
        if getattr(sys, "frozen", False):
            command = [sys.executable, "--engine-process"]
        else:
            command = [python, "-m", "engine.service.engine_main"]
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log,
            env=env, cwd=Path(__file__).resolve().parents[2],
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def send(self, line: bytes) -> None:
        try:
            self.process.stdin.write(line)
            self.process.stdin.flush()
        except (OSError, ValueError) as err:
            raise p.ConnectionLost(f"the engine process is gone ({err})") from None

    def lines(self) -> Iterator[bytes]:
        yield from self.process.stdout

    def close(self, timeout: float) -> None:
        with contextlib.suppress(OSError):
            self.process.stdin.close()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process.stdout.close()
        self._log.close()

    def gone_reason(self) -> str:
        try:
            code = self.process.wait(2)
        except subprocess.TimeoutExpired:
            return "the engine process stopped answering"
        if code < 0:
            name = signal.Signals(-code).name if -code in signal.valid_signals() else f"signal {-code}"
            reason = f"the engine process was killed ({name})"
            if -code == signal.SIGKILL:
                reason += "; if nobody stopped it, the system may have run out of memory"
        else:
            reason = f"the engine process exited with code {code}"
        tail = [line for line in _tail(self.log_path) if line.strip()]
        return reason + (f"; its log ({self.log_path}) ends:\n  " + "\n  ".join(tail) if tail else "")

    def job_message(self, spec: JobSpec) -> p.Submit:
        return p.Submit(spec.to_json())

    def arrived(self, message: p.Message) -> p.Message | None:
        return message


class RemoteEngine:
    """An engine served by `istar serve` at `host:port`, reached with the token from its token file. Its jobs' files
    travel over the connection."""

    def __init__(self, host: str, port: int, token: str, timeout: float = 10.0,
                 read_timeout: float | None = None) -> None:
        """`timeout`: seconds to connect; `read_timeout`: seconds each read may wait before the lines end (None: for
        ever, as a client waiting for a long job's next event must)."""
        self.address = f"{host}:{port}"
        try:
            self._sock = socket.create_connection((host, port), timeout=timeout)
        except OSError as err:
            raise p.ConnectionLost(f"cannot reach the engine at {self.address}: {err}") from None
        self._sock.settimeout(read_timeout)
        self._file = self._sock.makefile("rwb")
        self.files = RemoteFiles(self.send, self.address)
        self.send(p.encode(p.Hello(token)))

    def send(self, line: bytes) -> None:
        try:
            self._file.write(line)
            self._file.flush()
        except (OSError, ValueError) as err:
            raise p.ConnectionLost(f"the connection to {self.address} is gone ({err})") from None

    def lines(self) -> Iterator[bytes]:
        try:
            yield from self._file
        except (OSError, ValueError):  # reset, or closed by `close` while reading
            return

    def close(self, timeout: float) -> None:
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):  # a write still buffered for a connection already gone
            self._file.close()
        self._sock.close()
        self.files.close()

    def gone_reason(self) -> str:
        return f"the connection to the engine at {self.address} closed"

    def job_message(self, spec: JobSpec) -> p.Submit:
        return self.files.submit(spec)

    def arrived(self, message: p.Message) -> p.Message | None:
        return self.files.arrived(message)
