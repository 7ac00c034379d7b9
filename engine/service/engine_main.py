"""The engine process the studio spawns: the protocol on its stdin and stdout, its log on stderr.

Started as `python -m engine.service.engine_main`. Anything a library prints would corrupt the protocol, so the
protocol keeps a private copy of stdout and file descriptor 1 is pointed at stderr before anything else runs.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def _protocol_out() -> Callable[[bytes], None]:
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    sys.stdout.flush()
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())

    def write(line: bytes) -> None:
        out.write(line)
        out.flush()

    return write


def main() -> None:
    write = _protocol_out()
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT, stream=sys.stderr)
    from engine.service.runner import JobRunner
    from engine.service.server import EngineServer
    from engine.weights.store import ModelStore

    store = ModelStore()
    server = EngineServer(lambda emit: JobRunner(store, emit), write, os.getpid())
    server.serve(sys.stdin.buffer)
    logging.getLogger("istar.engine").info("engine %d stops", os.getpid())


if __name__ == "__main__":
    main()
