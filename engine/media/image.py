"""Still images as uint8 RGB [H, W, 3]: read any common format (e.g. the first frame of image-to-video), write PNG."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from engine.atomic import write_bytes_atomic
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


def write_png(path: str | Path, rgb: np.ndarray) -> None:
    """Write uint8 RGB [H, W, 3] as a PNG, atomically."""
    ok, data = cv2.imencode(".png", np.ascontiguousarray(rgb[..., ::-1]))
    if not ok:
        raise MediaError(f"cannot encode a {rgb.shape} {rgb.dtype} image as PNG")
    write_bytes_atomic(path, data.tobytes())
