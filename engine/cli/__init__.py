"""The `istar` command line: presets, plans and self-tests (main), jobs (jobs), and the model store (models)."""

from __future__ import annotations

from engine.farm import FarmError

# What a command reports as a message and exit code 2 rather than a traceback (ConfigError, ModelStoreError and
# the records' errors are ValueErrors; OSError: a full disk, a read-only store, a missing or unreadable file;
# FarmError: a farm that cannot be used as asked)
REPORTED_ERRORS: tuple[type[Exception], ...] = (ValueError, OSError, FarmError)


def describe_error(err: Exception) -> str:
    """One line for a reported error: an OS error as '<path>: <cause>' ('<from> -> <to>: <cause>' for a rename),
    not Python's '[Errno 28] ...'; any other error as its message."""
    if isinstance(err, OSError) and err.strerror:
        if err.filename is None:
            return err.strerror
        where = f"{err.filename}" if err.filename2 is None else f"{err.filename} -> {err.filename2}"
        return f"{where}: {err.strerror}"
    return str(err)
