"""The engine process the studio spawns: the protocol on its stdin and stdout, its log on stderr.

Started as `python -m engine.service.engine_main`. It stops when its input ends, a Shutdown comes or its output is
gone (the studio with it), once the running job has stopped. Anything a library prints would corrupt the protocol,
so the protocol keeps a private copy of stdout and file descriptor 1 is pointed at stderr before anything else runs.
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
    from engine.service.bounded_lines import bounded_lines
    from engine.service.runner import JobRunner
    from engine.service.server import EngineServer
    from engine.weights.store import ModelStore

    store = ModelStore()
    server = EngineServer(lambda emit: JobRunner(store, emit), write, os.getpid())
    server.serve(bounded_lines(sys.stdin.buffer))
    logging.getLogger("istar.engine").info("engine %d stops", os.getpid())
    # When the studio's end of stdout went first, the reader is still blocked on stdin, which nothing can interrupt,
    # and an interpreter finishing under it aborts: leave at once. Every event was flushed as it was written.
    logging.shutdown()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
