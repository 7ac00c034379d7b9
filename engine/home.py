"""Where the studio keeps its data: `$ISTAR_HOME`, else the platform's user data folder. No torch, no Qt."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs


def studio_home() -> Path:
    home = os.environ.get("ISTAR_HOME")
    return Path(home) if home else Path(platformdirs.user_data_dir("InfinityStarStudio", appauthor=False))


def engine_log() -> Path:
    """The local engine process's log, which the studio and `istar` append to."""
    return studio_home() / "logs" / "engine.log"
