"""The monitor's preview quality: frames rendered at a fraction of the project's frame size.

Rendering smaller is what saves time: each clip's picture is converted from the decoder's YUV straight to the
smaller size, the layers are laid over each other on a canvas with a half or a quarter of the pixels per side, and
the QImage made of it and painted is that much smaller. Decoding the media costs the same at any size. Scaling a
full-size frame down afterwards would add work, not save it. Clip transforms are fractions of the frame
(desktop.project.transform), so the smaller frame shows the same picture as the full one. Export never uses this: it
renders at the size its settings say.
"""

from __future__ import annotations

import copy

import numpy as np

from desktop.media.render import TimelineRenderer
from desktop.project.live import LiveClips
from desktop.project.model import Project

PREVIEW_SCALES: dict[str, float] = {"Full": 1.0, "Half": 0.5, "Quarter": 0.25}


def preview_size(width: int, height: int, scale: float) -> tuple[int, int]:
    return max(1, round(width * scale)), max(1, round(height * scale))


class ScaledPreview:
    """Frames of `project` at `scale` times its size, with `live`'s clips over it. It renders a shallow copy of the
    project (sharing its media and tracks) whose size is set from the project's before every frame, so an edit, a
    new format or a reopened track list is seen as the project itself would be. Thread safe, as its renderer is."""

    def __init__(self, project: Project, scale: float, live: LiveClips | None = None) -> None:
        self.project, self.scale = project, scale
        self._copy = copy.copy(project)
        self._sync()
        self._renderer = TimelineRenderer(self._copy, live=live)

    def _sync(self) -> None:
        width, height = preview_size(self.project.width, self.project.height, self.scale)
        vars(self._copy).update({**vars(self.project), "width": width, "height": height})  # one update: never half

    def frame(self, index: int) -> np.ndarray:
        """uint8 RGB [height, width, 3] of timeline frame `index` at the preview's size."""
        self._sync()
        return self._renderer.frame(index)

    def close(self) -> None:
        self._renderer.close()
