"""Frames of media files as pictures: decoders fast for playback and exact on random access, an LRU cache of
decoded frames under a byte cap, and a pool that renders frames on a worker thread ahead of the play head.

A picture is uint8 RGB [h, w, 3], or for a still with transparency uint8 RGBA [h, w, 4] with its colour premultiplied
by its alpha (so scaling it blends colours by how much of each shows, and laying it over another is one add).
Scaling uses area averaging to shrink and a cubic or Lanczos filter to enlarge, never nearest-neighbour blocks."""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

import av
import cv2
import numpy as np

from desktop.media import motion
from desktop.media.errors import MediaReadError
from desktop.project.model import MediaItem
from desktop.workers import Task, WorkerPool
from engine.media.errors import MediaError
from engine.media.image import read_rgb

DEFAULT_CACHE_BYTES = 512 * 2**20
FORWARD_SECONDS = 1.0  # a frame at most this far ahead is reached by decoding on; farther, seeking is cheaper
SMOOTH_SNAP = 0.02  # this near a video's own frame (as a fraction of a frame), smooth motion shows that frame
FLOWS_KEPT = 4  # pairs of frames whose optical flow is kept: the made frames between a pair come one after another

Size = tuple[int, int]  # (width, height)
# media id (with "~" and the thousandths of the way to the next frame, for a frame made between two), frame index
# in the media's own rate, the size it was scaled to
FrameKey = tuple[str, int, Size]
Rendered = TypeVar("Rendered")  # what a FramePool's render function makes of a frame index
Timed = tuple[float, av.VideoFrame]  # a decoded frame and its time in seconds


class FrameCache:
    """Decoded frames, least recently used dropped first once they hold more than `max_bytes`. Thread safe;
    frames are stored read-only so no caller can change another's picture."""

    def __init__(self, max_bytes: int = DEFAULT_CACHE_BYTES) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self._frames: OrderedDict[FrameKey, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._frames)

    def get(self, key: FrameKey) -> np.ndarray | None:
        with self._lock:
            frame = self._frames.get(key)
            if frame is not None:
                self._frames.move_to_end(key)
            return frame

    def put(self, key: FrameKey, frame: np.ndarray) -> None:
        if frame.nbytes > self.max_bytes:
            return
        frame.flags.writeable = False
        with self._lock:
            old = self._frames.pop(key, None)
            self.bytes += frame.nbytes - (old.nbytes if old is not None else 0)
            self._frames[key] = frame
            while self.bytes > self.max_bytes:
                self.bytes -= self._frames.popitem(last=False)[1].nbytes

    def clear(self) -> None:
        with self._lock:
            self._frames.clear()
            self.bytes = 0


def fit(width: int, height: int, box: Size) -> Size:
    """The largest size with the aspect of width x height that fits in `box`."""
    scale = min(box[0] / width, box[1] / height)
    return min(box[0], max(1, round(width * scale))), min(box[1], max(1, round(height * scale)))


class VideoDecoder:
    """One video file's frames by media time (0 = its first frame). Decodes on from the last frame when the next
    asked for is a little ahead (playback), else seeks to the keyframe before and decodes forward to it.
    Not thread safe: hold `lock` around calls."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.Lock()
        self._container: av.container.InputContainer | None = None
        self._open()
        self.size: Size = (self._stream.width, self._stream.height)  # of its frames as decoded
        if 0 in self.size:  # a stream that does not say: its first frame does
            first = self.frame_at(0.0)
            self.size = (first.width, first.height)

    def _open(self) -> None:
        try:
            self._container = av.open(str(self.path))
        except av.error.FFmpegError as err:
            raise MediaReadError(f"{self.path.name} cannot be read: {err.strerror or err}") from None
        if not self._container.streams.video:
            self.close()
            raise MediaReadError(f"{self.path.name} has no video stream")
        self._stream = self._container.streams.video[0]
        self.fps = float(self._stream.average_rate or self._stream.guessed_rate or 25)
        start = self._stream.start_time
        self._start = float(start * self._stream.time_base) if start is not None else 0.0
        self._decoded = self._container.decode(self._stream)
        self._current: Timed | None = None
        self._next: Timed | None = None

    def index(self, time_s: float) -> int:
        """The frame shown at `time_s` counted at the file's own rate: the nearest one, the later one at exactly
        halfway (so that a clip at half the project's rate shows each frame twice, evenly)."""
        return max(0, math.floor(time_s * self.fps + 0.5))

    def _number(self, timed: Timed) -> int:
        """The index of a decoded frame, from its time: any timestamp jitter under half a frame gives the same."""
        return math.floor((timed[0] - self._start) * self.fps + 0.5)

    def frame_at(self, time_s: float) -> av.VideoFrame:
        """Frame `index(time_s)` (the last one past the end)."""
        if self._container is None:
            self._open()
        wanted = self.index(time_s)
        ahead = FORWARD_SECONDS * self.fps
        if self._current is None or not self._number(self._current) <= wanted <= self._number(self._current) + ahead:
            self._seek(self._start + wanted / self.fps)
            if self._current is not None and self._number(self._current) > wanted:
                self._seek(self._start)  # the reader landed past the target: start from the beginning
        while (upcoming := self._peek()) is not None and self._number(upcoming) <= wanted:
            self._current, self._next = upcoming, None
        if self._current is None:
            raise MediaReadError(f"{self.path.name} has no decodable frames")
        return self._current[1]

    def _seek(self, target: float) -> None:
        try:
            self._container.seek(int(target / self._stream.time_base), stream=self._stream, backward=True)
        except av.error.FFmpegError as err:
            raise MediaReadError(f"{self.path.name} cannot be read at {target:.2f} s: {err}") from None
        self._decoded = self._container.decode(self._stream)
        self._current = self._next = None
        self._current, self._next = self._peek(), None

    def _peek(self) -> Timed | None:
        if self._next is None:
            try:
                frame = next(self._decoded)
            except (StopIteration, av.error.FFmpegError):
                return None  # the end, or damage: what decoded before it is all there is
            if frame.time is not None:
                self._next = (frame.time, frame)
            else:  # a raw stream without timestamps: count frames
                self._next = (self._current[0] + 1 / self.fps if self._current else self._start, frame)
        return self._next

    def close(self) -> None:
        if self._container is not None:
            self._container.close()
            self._container = None


class MediaFrames:
    """The pictures of a project's media, scaled, through a FrameCache. Thread safe: each file's decoder is used by
    one thread at a time; at most `max_open` files stay open."""

    def __init__(self, cache: FrameCache, max_open: int = 8) -> None:
        self.cache = cache
        self._max_open = max_open
        self._decoders: OrderedDict[tuple[str, Path], VideoDecoder] = OrderedDict()
        self._still_sizes: dict[tuple[str, Path], Size] = {}
        self._read_stills: dict[tuple[str, Path], np.ndarray] = {}  # read for their size, until first scaled
        self._flow_cache: OrderedDict[tuple[str, int, Size], motion.Flows] = OrderedDict()
        self._lock = threading.Lock()

    def source_size(self, media: MediaItem) -> Size:
        """The size of `media`'s pictures as decoded (a still's as turned upright by its EXIF orientation)."""
        if media.kind == "video":
            return self._decoder(media).size
        if media.kind != "image":
            raise MediaReadError(f"{media.name} is audio: it has no pictures")
        key = (media.id, media.path)
        with self._lock:
            size = self._still_sizes.get(key)
        if size is None:
            picture = read_picture(media.path)
            size = (picture.shape[1], picture.shape[0])
            with self._lock:
                self._still_sizes[key] = size
                self._read_stills[key] = picture
        return size

    def scaled(self, media: MediaItem, time_s: float, size: Size) -> np.ndarray:
        """The picture of `media` at media time `time_s`, the whole of it scaled to exactly `size`."""
        if media.kind == "image":
            with self._lock:
                read = self._read_stills.pop((media.id, media.path), None)
            return self._cached((media.id, 0, size), lambda: scale_rgb(read_picture(media.path) if read is None
                                                                        else read, size))
        if media.kind != "video":
            raise MediaReadError(f"{media.name} is audio: it has no pictures")
        decoder = self._decoder(media)
        return self._cached((media.id, decoder.index(time_s), size), lambda: _scale_video(decoder, time_s, size))

    def smooth(self, media: MediaItem, time_s: float, size: Size) -> np.ndarray:
        """As `scaled` for video `media`, but between two of its frames a picture made between them by optical flow
        (desktop.media.motion) rather than the nearer frame. The flow is found at the smaller of the video's size and
        `size`; each made picture is cached under its place between the two frames."""
        decoder = self._decoder(media)
        position = time_s * decoder.fps
        first = math.floor(position + SMOOTH_SNAP)
        phase = round((position - first) * 1000)  # thousandths of the way to the next frame
        if phase <= 1000 * SMOOTH_SNAP:
            return self.scaled(media, time_s, size)
        native = decoder.size
        work = size if size[0] * size[1] < native[0] * native[1] else native

        def make() -> np.ndarray:
            a = self.scaled(media, first / decoder.fps, work)
            b = self.scaled(media, (first + 1) / decoder.fps, work)
            made = motion.between(a, b, phase / 1000, self._flows((media.id, first, work), a, b))
            if work == size:
                return made
            enlarging = size[0] > work[0] or size[1] > work[1]
            return cv2.resize(made, size, interpolation=cv2.INTER_CUBIC if enlarging else cv2.INTER_AREA)

        return self._cached((f"{media.id}~{phase}", first, size), make)

    def _flows(self, key: tuple[str, int, Size], a: np.ndarray, b: np.ndarray) -> motion.Flows:
        """The flows between two frames, kept for the few frames made between the same two."""
        with self._lock:
            found = self._flow_cache.get(key)
        if found is None:
            found = motion.flows(a, b)
            with self._lock:
                self._flow_cache[key] = found
                while len(self._flow_cache) > FLOWS_KEPT:
                    self._flow_cache.popitem(last=False)
        return found

    def fitted(self, media: MediaItem, time_s: float, box: Size) -> np.ndarray:
        """The picture of `media` at media time `time_s`, scaled to fit `box` with its aspect kept."""
        return self.scaled(media, time_s, fit(*self.source_size(media), box))

    def _cached(self, key: FrameKey, make: Callable[[], np.ndarray]) -> np.ndarray:
        frame = self.cache.get(key)
        if frame is None:
            frame = make()
            self.cache.put(key, frame)
        return frame

    def _decoder(self, media: MediaItem) -> VideoDecoder:
        key = (media.id, media.path)
        with self._lock:
            decoder = self._decoders.pop(key, None) or VideoDecoder(media.path)
            self._decoders[key] = decoder
            evicted = [self._decoders.popitem(last=False)[1] for _ in range(len(self._decoders) - self._max_open)]
        for old in evicted:
            with old.lock:
                old.close()  # a thread still holding it reopens it on its next frame
        return decoder

    def close(self) -> None:
        with self._lock:
            decoders, self._decoders = list(self._decoders.values()), OrderedDict()
            self._read_stills.clear()
            self._flow_cache.clear()
        for decoder in decoders:
            with decoder.lock:
                decoder.close()


def _scale_video(decoder: VideoDecoder, time_s: float, size: Size) -> np.ndarray:
    with decoder.lock:
        frame = decoder.frame_at(time_s)
        if (frame.width, frame.height) == size:
            return frame.to_ndarray(format="rgb24")
        enlarging = size[0] > frame.width or size[1] > frame.height
        return frame.to_ndarray(width=size[0], height=size[1], format="rgb24",
                                interpolation="BICUBIC" if enlarging else "AREA")


def read_picture(path: Path) -> np.ndarray:
    """A still as a picture: RGBA, premultiplied, when it has pixels that are not fully opaque, else RGB."""
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError as err:
        raise MediaReadError(f"{path.name} cannot be read: {err.strerror or err}") from None
    if data[:2].tobytes() != b"\xff\xd8":  # a JPEG has no alpha, and only read_rgb turns it by its EXIF
        image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
        if image is not None and image.ndim == 3 and image.shape[2] == 4 and image.dtype in (np.uint8, np.uint16):
            if image.dtype == np.uint16:
                image = (image // 257).astype(np.uint8)
            if image[..., 3].min() < 255:
                return premultiplied(cv2.cvtColor(image, cv2.COLOR_BGRA2RGBA))
    try:
        return read_rgb(path)
    except MediaError as err:
        raise MediaReadError(str(err)) from None


def premultiplied(rgba: np.ndarray) -> np.ndarray:
    """uint8 RGBA with its colour multiplied by its alpha."""
    alpha = rgba[..., 3]
    colour = cv2.multiply(rgba[..., :3], cv2.merge([alpha, alpha, alpha]), scale=1 / 255)
    return np.dstack([colour, alpha])


def scale_rgb(image: np.ndarray, size: Size) -> np.ndarray:
    """An RGB or premultiplied RGBA picture at `size`: area averaged to shrink, Lanczos to enlarge."""
    if (image.shape[1], image.shape[0]) == size:
        return image
    enlarging = size[0] > image.shape[1] or size[1] > image.shape[0]
    return cv2.resize(image, size, interpolation=cv2.INTER_LANCZOS4 if enlarging else cv2.INTER_AREA)


class FramePool(Generic[Rendered]):
    """Renders frames on a worker thread (a desktop.workers pool): `request(frame)` returns a Task at once. During
    playback (`prefetch=True`) the next `ahead` frames are queued too. A request cancels queued frames outside its
    window, so after a jump the worker does not first finish frames nobody will show.

    One worker by default: frames are then decoded in order, and a second worker taking them out of order
    would make each file's decoder seek back and forth."""

    def __init__(self, render: Callable[[int], Rendered], workers: int = 1, ahead: int = 8) -> None:
        self._render = render
        self._ahead = ahead
        self._pool = WorkerPool(workers, name="frames")
        self._tasks: dict[int, Task[Rendered]] = {}
        self._lock = threading.Lock()

    def request(self, frame: int, prefetch: bool = False) -> Task[Rendered]:
        last = frame + (self._ahead if prefetch else 0)
        with self._lock:
            for stale in [f for f in self._tasks if not frame <= f <= last]:
                self._tasks.pop(stale).cancel()
            for wanted in range(frame, last + 1):
                if wanted not in self._tasks:
                    self._tasks[wanted] = self._pool.submit(self._render, wanted)
            return self._tasks[frame]

    def invalidate(self) -> None:
        """Forget every requested frame (after an edit): the next requests render anew."""
        with self._lock:
            tasks, self._tasks = self._tasks, {}
        for task in tasks.values():
            task.cancel()

    def close(self) -> None:
        self.invalidate()
        self._pool.close()
