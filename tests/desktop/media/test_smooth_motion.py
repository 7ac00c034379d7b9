"""Smooth motion: a 16 fps clip in a 32 fps project shows, between two of its frames, a frame made by optical flow
with a moving square halfway between where the two frames have it; without it a frame of the clip is repeated."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from desktop.media.probe import probe_media
from desktop.media.render import TimelineRenderer
from desktop.project.commands import SetClipSmoothMotion
from desktop.project.model import Clip, MediaItem, Project, ProjectError, Track, new_id
from desktop.project.schema import project_from_json, project_to_json

STEP = 4  # pixels the square moves right each frame of the clip
SIDE = 12


def square_at(frame: int) -> float:
    """The x of the square's centre in the clip's frame `frame`."""
    return 8 + STEP * frame + SIDE / 2


def write_moving_square(path: Path, frames: int = 16, fps: int = 16) -> MediaItem:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps, options={"crf": "10", "g": "4"})
        stream.width, stream.height = 96, 64
        stream.pix_fmt = "yuv420p"
        for k in range(frames):
            picture = np.full((64, 96, 3), 20, np.uint8)
            left = round(square_at(k) - SIDE / 2)
            picture[26 : 26 + SIDE, left : left + SIDE] = 235
            container.mux(stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")))
        container.mux(stream.encode(None))
    return probe_media(path)


def centre_x(picture: np.ndarray) -> float:
    """Where the bright square's centre is across the picture, by the brightness above the background."""
    weight = np.clip(picture[..., 1].astype(float) - 40, 0, None)
    return float((weight.sum(axis=0) * (np.arange(picture.shape[1]) + 0.5)).sum() / weight.sum())


@pytest.fixture
def project(tmp_path: Path) -> Project:
    media = write_moving_square(tmp_path / "square.mp4")
    project = Project(fps=32, width=96, height=64)
    project.media[media.id] = media
    project.tracks = [Track(new_id(), "video", "Video 1", clips=[Clip("clip", media.id, 0, 30)])]
    return project


def test_frames_between_a_slow_clips_own_show_the_motion_halfway(project: Project) -> None:
    renderer = TimelineRenderer(project)
    repeated = [centre_x(renderer.frame(index)) for index in range(2, 12)]
    SetClipSmoothMotion("clip", True).do(project)
    made = [renderer.frame(index) for index in range(2, 12)]
    smooth = [centre_x(picture) for picture in made]
    renderer.close()
    # a square moved, not two faded into each other: across its middle row, its whole width is bright
    assert all(np.count_nonzero(picture[32, :, 1] > 200) >= SIDE - 1 for picture in made)
    for index, (held, made_x) in enumerate(zip(repeated, smooth, strict=True), start=2):
        own = index / 2  # the clip's frames at this timeline frame: its own, or halfway between two
        if index % 2 == 1:  # at exactly halfway the repeated frame is the later one
            assert made_x == pytest.approx((square_at(int(own)) + square_at(int(own) + 1)) / 2, abs=0.75)
            assert held == pytest.approx(square_at(int(own) + 1), abs=0.5)
        else:
            assert held == pytest.approx(square_at(int(own)), abs=0.5)
            assert made_x == pytest.approx(held, abs=0.25)


def test_smooth_motion_is_an_undoable_edit_saved_with_the_clip(project: Project) -> None:
    command = SetClipSmoothMotion("clip", True)
    command.do(project)
    assert project.find_clip("clip")[1].smooth_motion
    saved = project_to_json(project, Path("/footage"))
    assert project_from_json(saved, Path("/footage")).find_clip("clip")[1].smooth_motion
    command.undo(project)
    assert not project.find_clip("clip")[1].smooth_motion
    project.media["still"] = MediaItem("still", Path("/still.png"), "image", 0.0, None, 8, 8)
    project.tracks[0].place(Clip("pic", "still", 40, 8))
    with pytest.raises(ProjectError, match="not a video"):
        SetClipSmoothMotion("pic", True).do(project)
