"""Where a served engine is and how a client proves it may use it: `HOST:PORT`, and the token in a token file.

Shared by `istar serve` (engine.service.tcp), the `istar` job commands and the studio's engine setting. The token
file is readable by its owner only: whoever reads it can use the engine.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import secrets
from pathlib import Path

from engine.atomic import write_text_atomic

log = logging.getLogger("istar.engine")
DEFAULT_PORT = 7860


def parse_address(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) < 65536 or not host:
        raise ValueError(f"an engine address is HOST:PORT such as 127.0.0.1:{DEFAULT_PORT}, got {text!r}")
    return host.strip("[]"), int(port)


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def read_token(path: Path, create: bool = False) -> str:
    """The token in `path`; with `create`, a new random one is written there (readable by its owner only) first
    when the file does not exist. A token file that others may read or change is refused: whoever reads it can
    use the engine."""
    if create and not path.exists():
        try:
            write_text_atomic(path, secrets.token_urlsafe(32) + "\n", mode=0o600)
        except OSError as err:
            raise ValueError(f"cannot write a new token to {path}: {err}") from None
        log.info("wrote a new token to %s", path)
    _refuse_shared(path)
    try:
        token = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as err:
        raise ValueError(f"cannot read the token file {path}: {err}") from None
    if len(token) < 16:
        raise ValueError(f"the token in {path} is too short to be safe: use at least 16 characters")
    return token


def _refuse_shared(path: Path) -> None:
    if os.name == "nt":  # access there is by ACLs, which the mode bits do not show
        return
    try:
        mode = path.stat().st_mode & 0o777
    except OSError:
        return  # reading it says what is wrong
    if mode & 0o077:
        raise ValueError(f"the token file {path} can be read or changed by other users (mode {mode:o}): make it "
                         f"private with `chmod 600 {path}`, and write a new token if someone else may have read it")
