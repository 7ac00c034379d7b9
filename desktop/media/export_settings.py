"""How a timeline is exported: the output size, rate and encoding, checked before any frame is rendered; which video
codecs this PyAV build encodes; an estimate of the file's size; the time left of a running export.

The export renders a copy of the project in the output format, converted as Project settings converts it
(desktop.project.commands.SetFormat): clips are placed relative to the frame, so at another size each lands where
it does in the project's own frame; at another frame rate each clip keeps its time and the part of its media it
shows, and a clip slower than that rate repeats its frames, or with smooth motion on gains frames made between
them. A project whose clips cannot all keep their place at that rate is rendered at its own, its frames repeated
or dropped on time (`source_frame`).
"""

from __future__ import annotations

import copy
import functools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from fractions import Fraction

import av

from desktop.project.commands import SetFormat
from desktop.project.model import Project, ProjectError
from desktop.project.rules import MAX_PROJECT_FPS, frame_side_problem
from engine.media.mp4 import h264_options

H264, H265 = "libx264", "libx265"
CODEC_NAMES = {H264: "H.264", H265: "H.265 (HEVC)"}
DEFAULT_CRF = 20  # visually close to the source at a fraction of its size
CRF_RANGE = (0, 51)  # x264's and x265's scale: lower is better and larger, +5 about halves the size
# Encoder speed: CPU time a frame against the file's size at a CRF (the quality). Measured on 150 rendered 1080p
# frames of bench/timeline_export.py (docs/benchmarks.md, "A finished 60 s 1080p30 timeline"), H.264 at CRF 20:
# - fast, the default: superfast's motion search (diamond, subpixel refinement 1, no inter partitions) with
#   veryfast's rate control (macroblock tree over 10 frames of lookahead): veryfast's size, PSNR and SSIM in 50-60 %
#   of its CPU time. A whole 1080p30 export (render, encode, sound) then takes 1.65 CPU seconds a second of video
#   against veryfast's 2.3, under the 2 a 2-core CPU has.
# - fastest: ultrafast with CABAC and the deblocking filter put back (a quarter smaller than ultrafast for 10-30 %
#   more time): about a third of veryfast's time, for drafts; its file is larger at a CRF.
# - thorough: x264's veryfast, which searches motion more widely (hexagon, subpixel refinement 2, inter partitions);
#   the same size as fast on generated-like footage, where little moves fast.
# H.265 encodes in 2-11x fast's CPU time at these presets, x265's ultrafast, veryfast (what it had before the
# choice) and medium.
FASTEST, FAST, THOROUGH = "fastest", "fast", "thorough"
SPEED_NAMES = {FASTEST: "Fastest (drafts)", FAST: "Fast", THOROUGH: "Thorough (slower)"}
DEFAULT_SPEED = FAST
ENCODER_SPEEDS: dict[str, dict[str, tuple[str, str]]] = {  # speed -> codec -> (preset, extra encoder parameters)
    FASTEST: {H264: ("ultrafast", "cabac=1:deblock=0,0"), H265: ("ultrafast", "")},
    FAST: {H264: ("superfast", "mbtree=1:rc-lookahead=10"), H265: ("veryfast", "")},
    THOROUGH: {H264: ("veryfast", ""), H265: ("medium", "")},
}
DEFAULT_AUDIO_BITRATE = 192_000
AUDIO_BITRATES = (96_000, 128_000, 160_000, 192_000, 256_000, 320_000)
VIDEO_BITRATE_RANGE = (100_000, 200_000_000)  # bits per second
# Output sizes offered besides the project's own (None); the first frame side is the width
SIZE_PRESETS: dict[str, tuple[int, int] | None] = {
    "Project": None,
    "1080p (1920x1080)": (1920, 1080),
    "720p (1280x720)": (1280, 720),
    "Vertical (1080x1920)": (1080, 1920),
}
FPS_CHOICES = (16, 24, 25, 30, 60)

# The size estimate at a CRF: video bits per pixel-second at CRF_REFERENCE, halving every CRF_HALVING steps up.
# Calibrated with bench/export_estimate.py (docs/benchmarks.md, "Export size estimate") on generated-like footage;
# footage with more detail or motion is larger, flat titles and stills smaller: ESTIMATE_FACTOR is how far off it
# may be either way.
CRF_REFERENCE = 20
BITS_PER_PIXEL_SECOND = {H264: 1.2, H265: 0.5}
CRF_HALVING = 5.2
# The size at a CRF of each speed against the veryfast preset calibrated above, measured on the frames that
# ENCODER_SPEEDS was measured on (H.265 on their first 60; its faster presets lose more quality at a CRF)
SPEED_SIZE = {FASTEST: {H264: 1.4, H265: 0.5}, FAST: {H264: 1.0, H265: 1.0}, THOROUGH: {H264: 1.0, H265: 1.1}}
CONTAINER_OVERHEAD = 1.02  # MP4 boxes and the index, a share of the streams
SILENCE_BITRATE = 16_000  # what AAC makes of a silent track, at any bitrate asked
ESTIMATE_FACTOR = 3


class ExportSettingsError(ProjectError):
    """Settings an export cannot use; `field` names the setting ("width", "fps", "crf", ...), and so does the
    message."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


@functools.cache
def codec_available(codec: str) -> bool:
    """Whether this PyAV build can open the `codec` encoder (a build may list a codec it cannot open)."""
    if codec not in av.codecs_available:
        return False
    try:
        context = av.CodecContext.create(codec, "w")
        context.width, context.height, context.pix_fmt = 64, 64, "yuv420p"
        context.time_base = Fraction(1, 16)
        context.options = _codec_options(codec, crf=DEFAULT_CRF)
        context.open()
    except (av.FFmpegError, ValueError):
        return False
    return True


def available_codecs() -> list[str]:
    """The video codecs an export can use here, H.264 first."""
    return [codec for codec in CODEC_NAMES if codec_available(codec)]


def _codec_options(codec: str, crf: int | None, speed: str = DEFAULT_SPEED) -> dict[str, str]:
    preset, extra = ENCODER_SPEEDS[speed][codec]
    options = {"preset": preset} if crf is None else {"preset": preset, "crf": str(crf)}
    if codec == H264:
        options = h264_options(**options)
        params = [part for part in (extra, options.get("x264-params", "")) if part]
        return {**options, "x264-params": ":".join(params)} if params else options
    # x265 otherwise writes a report of every file to stderr
    return {**options, "x265-params": ":".join(part for part in (extra, "log-level=error") if part)}


@dataclass(frozen=True)
class ExportSettings:
    """None for `size` and `fps` means the project's. Quality is `crf` (constant quality) unless `video_bitrate`
    (bits per second) is given. `span`: the project frames [first, end) to export, None for the whole timeline."""

    size: tuple[int, int] | None = None
    fps: int | None = None
    codec: str = H264
    crf: int = DEFAULT_CRF
    video_bitrate: int | None = None
    audio_bitrate: int = DEFAULT_AUDIO_BITRATE
    speed: str = DEFAULT_SPEED
    span: tuple[int, int] | None = None

    def check(self) -> None:
        """Raise ExportSettingsError naming the first setting that cannot be used."""
        if self.size is not None:
            for field, side in zip(("width", "height"), self.size, strict=True):
                problem = frame_side_problem(side)
                if problem:
                    raise ExportSettingsError(field, problem)
        if self.fps is not None and not 1 <= self.fps <= MAX_PROJECT_FPS:
            raise ExportSettingsError("fps", f"should be a whole number from 1 to {MAX_PROJECT_FPS}, not {self.fps}")
        if self.codec not in CODEC_NAMES:
            raise ExportSettingsError("codec", f"should be one of {', '.join(CODEC_NAMES)}, not {self.codec}")
        if not codec_available(self.codec):
            raise ExportSettingsError("codec", f"{CODEC_NAMES[self.codec]} ({self.codec}) is not in this PyAV build")
        low, high = CRF_RANGE
        if not low <= self.crf <= high:
            raise ExportSettingsError("crf", f"should be from {low} (best) to {high} (smallest), not {self.crf}")
        if self.speed not in ENCODER_SPEEDS:
            raise ExportSettingsError("speed", f"should be one of {', '.join(ENCODER_SPEEDS)}, not {self.speed}")
        if self.video_bitrate is not None:
            low, high = VIDEO_BITRATE_RANGE
            if not low <= self.video_bitrate <= high:
                raise ExportSettingsError(
                    "video bitrate", f"should be from {low // 1000} to {high // 1000} kb/s, not "
                    f"{self.video_bitrate / 1000:g} kb/s")
        if self.span is not None and not 0 <= self.span[0] < self.span[1]:
            raise ExportSettingsError("range", f"should start at frame 0 or later and end after it starts, not run "
                                      f"from frame {self.span[0]} to {self.span[1]}")
        if self.audio_bitrate not in AUDIO_BITRATES:
            choices = ", ".join(str(rate // 1000) for rate in AUDIO_BITRATES)
            raise ExportSettingsError("audio bitrate", f"should be one of {choices} kb/s, not "
                                      f"{self.audio_bitrate / 1000:g} kb/s")

    def size_for(self, project: Project) -> tuple[int, int]:
        return self.size if self.size is not None else (project.width, project.height)

    def fps_for(self, project: Project) -> int:
        return self.fps if self.fps is not None else project.fps

    def output_project(self, project: Project) -> Project:
        """`project` as the export renders it: at the output size (sharing its media and tracks, which the export
        only reads), and at the output fps a converted copy, or the project at its own fps when its clips cannot all
        keep their place at that rate."""
        width, height = self.size_for(project)
        fps = self.fps_for(project)
        if fps != project.fps:
            converted = copy.deepcopy(project)
            try:
                SetFormat(width, height, fps).do(converted)
            except ProjectError:
                pass
            else:
                return converted
        if (width, height) == (project.width, project.height):
            return project
        return replace(project, width=width, height=height)

    def frames_for(self, project: Project) -> int:
        """How many frames the export of `project` has."""
        first, end = self.output_span(project)
        return end - first

    def output_span(self, project: Project) -> tuple[int, int]:
        """The output frames [first, end) the export writes: the whole timeline, or the frames showing `span`."""
        fps = self.fps_for(project)
        if self.span is None:
            return 0, output_frames(self.output_project(project), fps)
        first, end = self.span
        return -(-first * fps // project.fps), -(-min(end, project.duration) * fps // project.fps)

    def video_options(self) -> dict[str, str]:
        """The encoder's options: the preset and parameters of its speed, and the CRF unless a bitrate is set."""
        return _codec_options(self.codec, None if self.video_bitrate is not None else self.crf, self.speed)


def output_frames(project: Project, fps: int) -> int:
    """How many frames the timeline of `project` (at its own fps) lasts at `fps`: its whole length, the last frame
    shown to its end."""
    return -(-project.duration * fps // project.fps)


def source_frame(project: Project, fps: int, index: int) -> int:
    """The project frame shown at output frame `index` of a file at `fps`."""
    return index * project.fps // fps


def has_sound(project: Project) -> bool:
    """Whether any clip of an unmuted track brings sound (an export of none carries a silent track)."""
    return any(project.media_of(clip).kind == "audio" or project.media_of(clip).has_audio
               for track in project.tracks if not track.muted for clip in track.clips)


def estimate_bytes(seconds: float, size: tuple[int, int], settings: ExportSettings, sound: bool = True) -> int:
    """About how large an export of `seconds` at `size` is, with `sound` or a silent track: for a video bitrate
    close (the encoder keeps to it over the whole file), for a CRF an estimate within ESTIMATE_FACTOR either way,
    from the calibration above."""
    if settings.video_bitrate is not None:
        video_bits = settings.video_bitrate * seconds
    else:
        per_pixel_second = (BITS_PER_PIXEL_SECOND[settings.codec] * SPEED_SIZE[settings.speed][settings.codec]
                            * 2 ** ((CRF_REFERENCE - settings.crf) / CRF_HALVING))
        video_bits = per_pixel_second * size[0] * size[1] * seconds
    audio_bits = (settings.audio_bitrate if sound else SILENCE_BITRATE) * seconds
    return math.ceil((video_bits + audio_bits) / 8 * CONTAINER_OVERHEAD)


class TimeLeft:
    """The time left of work from how much of it is done and how long that took, on `clock` (seconds; injected so
    a test need not wait). Starts counting when made."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._started = clock()

    def __call__(self, done: float) -> float | None:
        """Seconds left once fraction `done` (0..1) is done; None before anything is."""
        elapsed = self._clock() - self._started
        if done <= 0 or elapsed <= 0:
            return None
        return elapsed * (1 - min(done, 1.0)) / done


def clock_text(seconds: float) -> str:
    """`seconds` as m:ss, or h:mm:ss from an hour."""
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes // 60}:{minutes % 60:02d}:{secs:02d}" if minutes >= 60 else f"{minutes}:{secs:02d}"


def size_text(size_bytes: float) -> str:
    """A file size for people: KB under a megabyte, MB under a gigabyte, then GB (powers of 1000)."""
    if size_bytes < 1e6:
        return f"{size_bytes / 1e3:.0f} KB"
    if size_bytes < 1e9:
        return f"{size_bytes / 1e6:.1f} MB"
    return f"{size_bytes / 1e9:.2f} GB"


def parse_size(text: str) -> tuple[int, int]:
    """'1920x1080' as (1920, 1080); ExportSettingsError naming "size" for anything else. The sides are checked by
    ExportSettings.check."""
    parts = text.lower().replace("×", "x").split("x")
    if len(parts) != 2 or not all(part.strip().isdigit() for part in parts):
        raise ExportSettingsError("size", f"should be WIDTHxHEIGHT in pixels, such as 1920x1080, not {text!r}")
    return int(parts[0]), int(parts[1])
