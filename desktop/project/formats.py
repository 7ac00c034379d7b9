"""A project's format: the frame size and frame rate of the video it makes, the presets a person picks from, and the
format a new project starts with. Qt-free; the dialog is desktop.project_settings.

The default is 1280x720 at 16 fps. 16 fps is the rate every InfinityStar model (toyworld included) generates at, so
generated clips play frame for frame, with no repeated or dropped frames; 720p is the frame of the 8B 720p model,
holds a 480p generation without cropping, is a common size to share, and exports at about twice the speed of 1080p
on a small CPU. A person who delivers at 24, 25 or 30 fps picks it once: a new project then starts with the format
chosen last.
"""

from __future__ import annotations

from dataclasses import dataclass

from desktop.project.model import Project
from desktop.project.rules import MAX_PROJECT_FPS, frame_side_problem


@dataclass(frozen=True)
class ProjectFormat:
    width: int
    height: int
    fps: int

    @classmethod
    def of(cls, project: Project) -> ProjectFormat:
        return cls(project.width, project.height, project.fps)

    def problem(self) -> str | None:
        """What makes this format unusable, naming the field ("Width ...", "Height ...", "Frame rate ..."), or None."""
        for name, side in (("Width", self.width), ("Height", self.height)):
            side_problem = frame_side_problem(side)
            if side_problem:
                return f"{name} {side_problem}"
        if not (type(self.fps) is int and 1 <= self.fps <= MAX_PROJECT_FPS):
            return f"Frame rate should be a whole number of frames a second from 1 to {MAX_PROJECT_FPS}, not {self.fps}"
        return None

    @property
    def text(self) -> str:
        """Such as "1280x720, 16 fps"."""
        return f"{self.width}x{self.height}, {self.fps} fps"


@dataclass(frozen=True)
class SizePreset:
    name: str
    width: int
    height: int

    @property
    def label(self) -> str:
        return f"{self.name} ({self.width}x{self.height})"


# 480p is 854x480: 480 lines at 16:9 (853.3 px) rounded to the even width H.264 needs.
SIZE_PRESETS = (
    SizePreset("1080p", 1920, 1080),
    SizePreset("720p", 1280, 720),
    SizePreset("480p", 854, 480),
    SizePreset("Vertical 9:16", 1080, 1920),
    SizePreset("Square", 1080, 1080),
)
FPS_CHOICES = (16, 24, 25, 30)
DEFAULT_FORMAT = ProjectFormat(1280, 720, 16)


def size_preset(width: int, height: int) -> SizePreset | None:
    """The preset of this frame size, or None for a custom size."""
    return next((p for p in SIZE_PRESETS if (p.width, p.height) == (width, height)), None)


def format_from_text(text: object) -> ProjectFormat | None:
    """A format stored as "WIDTHxHEIGHT@FPS" (how the studio remembers the last one chosen), or None if `text` is not
    one that can be used."""
    if not isinstance(text, str):
        return None
    size, _, fps = text.strip().partition("@")
    width, _, height = size.partition("x")
    try:
        found = ProjectFormat(int(width), int(height), int(fps))
    except ValueError:
        return None
    return found if found.problem() is None else None


def format_to_text(chosen: ProjectFormat) -> str:
    return f"{chosen.width}x{chosen.height}@{chosen.fps}"


def new_project(chosen: ProjectFormat = DEFAULT_FORMAT) -> Project:
    """An empty project (one video track, one audio track) in format `chosen`."""
    return Project.empty(width=chosen.width, height=chosen.height, fps=chosen.fps)
