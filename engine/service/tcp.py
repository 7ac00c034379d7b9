"""`istar serve`: the engine protocol over TCP, for an engine on another machine (a GPU box).

The first line of a connection must be a Hello carrying the token from the server's token file; anything else is
refused, logged and the connection closed. One client is served at a time (others wait); loaded models stay
between connections. Loopback is the default address: listening on a network address is an explicit choice.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import secrets
import socket
from pathlib import Path

from engine.api import protocol as p
from engine.atomic import write_text_atomic
from engine.service.runner import JobRunner
from engine.service.server import EngineServer
from engine.weights.store import ModelStore

log = logging.getLogger("istar.engine")
HELLO_TIMEOUT = 10.0


def parse_address(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) < 65536 or not host:
        raise ValueError(f"--listen must be HOST:PORT such as 127.0.0.1:7860, got {text!r}")
    return host.strip("[]"), int(port)


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def read_token(path: Path, create: bool = False) -> str:
    """The token in `path`; with `create`, a new random one is written there (readable by its owner only) first
    when the file does not exist."""
    if create and not path.exists():
        write_text_atomic(path, secrets.token_urlsafe(32) + "\n", mode=0o600)
        log.info("wrote a new token to %s", path)
    try:
        token = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as err:
        raise ValueError(f"cannot read the token file {path}: {err}") from None
    if len(token) < 16:
        raise ValueError(f"the token in {path} is too short to be safe: use at least 16 characters")
    return token


def _greeted(stream, token: str, peer: str) -> bool:
    """Whether the connection's first line is a Hello with the token; refusals are logged and answered."""
    try:
        message = p.decode(stream.readline(p.MAX_LINE_BYTES))
    except (p.ProtocolError, OSError, TimeoutError) as err:
        reason = f"no valid hello ({err})"
    else:
        if isinstance(message, p.Hello) and hmac.compare_digest(message.token.encode(), token.encode()):
            return True
        reason = "wrong token" if isinstance(message, p.Hello) else f"a {message.type!r} before the hello"
    log.warning("refused the connection from %s: %s", peer, reason)
    try:
        stream.write(p.encode(p.Failed(None, "bad_input", f"connection refused: {reason}")))
        stream.flush()
    except OSError:
        pass
    return False


def serve_tcp(host: str, port: int, token: str, store: ModelStore, ready: callable = None) -> None:
    """Serve clients one at a time until interrupted. `ready(port)` is called once listening (port 0 picks one)."""
    if not is_loopback(host):
        log.warning("listening on %s: anyone on that network who has the token can use this engine", host)
    runners: list[JobRunner] = []

    def runner(emit):  # one runner (and its loaded models) for every connection
        if not runners:
            runners.append(JobRunner(store, emit))
        runners[0].emit = emit
        return runners[0]

    with socket.create_server((host, port)) as server:
        bound = server.getsockname()[1]
        log.info("engine listening on %s:%d", host, bound)
        if ready is not None:
            ready(bound)
        while True:
            conn, address = server.accept()
            peer = f"{address[0]}:{address[1]}"
            with conn, conn.makefile("rwb") as stream:
                conn.settimeout(HELLO_TIMEOUT)
                if not _greeted(stream, token, peer):
                    continue
                conn.settimeout(None)
                log.info("serving %s", peer)

                def write(line: bytes, stream=stream) -> None:
                    stream.write(line)
                    stream.flush()

                EngineServer(runner, write, os.getpid()).serve(stream)
                log.info("%s disconnected", peer)
