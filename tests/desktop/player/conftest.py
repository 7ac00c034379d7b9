"""Sound devices for the player tests: ALSA's null device (plays and records silence), or none at all.

PortAudio reads the ALSA configuration (~/.asoundrc) when it initialises, so each fixture points HOME at a folder
with or without one and initialises PortAudio again; afterwards HOME and PortAudio are put back.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sounddevice as sd
from player_media import write_grey_video, write_tone
from PySide6.QtGui import QUndoStack

from desktop.media.probe import probe_media
from desktop.player.monitor import Monitor
from desktop.player.playback import Playback
from desktop.player.wiring import connect_player
from desktop.project.model import Clip, Project, Track
from desktop.timeline.view import TimelineView

NULL_DEVICE = "pcm.!default { type null }\n"


def _reinitialise_portaudio(home: str | None) -> None:
    if home is None:
        os.environ.pop("HOME", None)
    else:
        os.environ["HOME"] = home
    sd._terminate()
    sd._initialize()


def _sound_home(folder: Path, asoundrc: str | None):
    folder.mkdir()
    if asoundrc is not None:
        (folder / ".asoundrc").write_text(asoundrc)
    saved = os.environ.get("HOME")
    _reinitialise_portaudio(str(folder))
    try:
        yield
    finally:
        _reinitialise_portaudio(saved)


@pytest.fixture
def null_audio(tmp_path):
    yield from _sound_home(tmp_path / "null-audio-home", NULL_DEVICE)


@pytest.fixture
def no_audio(tmp_path):
    yield from _sound_home(tmp_path / "no-audio-home", None)


@pytest.fixture(scope="session")
def media_files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("player-media")
    return {"video": write_grey_video(folder / "grey.mp4", 32), "tone": write_tone(folder / "tone.wav", 2.0)}


@pytest.fixture
def project(media_files) -> Project:
    """2 s at 16 fps: the grey video on Video 1 and the tone on Audio 1, both from frame 0."""
    video, tone = probe_media(media_files["video"]), probe_media(media_files["tone"])
    project = Project(fps=16, width=64, height=64)
    project.media = {video.id: video, tone.id: tone}
    project.tracks = [
        Track("v1", "video", "Video 1", clips=[Clip("cv", video.id, 0, 32)]),
        Track("a1", "audio", "Audio 1", clips=[Clip("ca", tone.id, 0, 32)]),
    ]
    return project


@pytest.fixture
def editor(qtbot, project, monkeypatch, tmp_path):
    """A timeline, playback and a monitor connected as in the window."""
    monkeypatch.setenv("ISTAR_HOME", str(tmp_path / "studio"))  # thumbnail caches
    timeline = TimelineView(project, QUndoStack())
    monitor = Monitor(project)
    playback = Playback(project)
    for widget in (timeline, monitor):
        qtbot.addWidget(widget)
        widget.show()
    connect_player(timeline, playback, monitor)
    yield timeline, playback, monitor
    playback.close()
