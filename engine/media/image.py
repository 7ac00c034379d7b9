"""Read a still image (PNG, JPEG, WebP, ...) as uint8 RGB [H, W, 3], e.g. the first frame of image-to-video."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from engine.media.errors import MediaError


def read_rgb(path: str | Path) -> np.ndarray:
    path = Path(path)
    try:
        data = np.fromfile(path, dtype=np.uint8)  # imdecode of bytes also works for non-ASCII paths on Windows
    except OSError as err:
        raise MediaError(f"cannot read the image {path}: {err.strerror or err}") from None
    image = cv2.imdecode(data, cv2.IMREAD_COLOR_RGB) if data.size else None
    if image is None:
        raise MediaError(f"{path} is not an image this build can read (PNG, JPEG, WebP, BMP, TIFF)")
    return image
