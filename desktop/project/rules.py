"""What makes a clip valid where it sits, and the limits of a project; the edit commands, the project file loader,
importing a picture and placing one all hold to them."""

from __future__ import annotations

import math

from desktop.project.grade import GradeProblem
from desktop.project.model import FRAME_SLACK, Clip, Project, ProjectError, Track
from desktop.project.transform import TransformProblem
from desktop.project.volume import keys_problem

# The frame: H.264 encodes even sides only; 8192 is past 8K UHD (7680), and one such frame is 200 MB of RGB
MIN_FRAME_SIDE = 16
MAX_FRAME_SIDE = 8192
MAX_PROJECT_FPS = 240
# A picture imports when it has at most the pixels of a square of this side (805 MB as RGB, which every render of it
# decodes): any camera's photo, not a 20,000 px square
MAX_PICTURE_SQUARE = 16384
MAX_PICTURE_PIXELS = MAX_PICTURE_SQUARE * MAX_PICTURE_SQUARE
# Every clip ends within this much of the start: at 240 fps and the timeline's closest zoom (48 px a frame) that end
# is still inside Qt's 32-bit coordinates
MAX_TIMELINE_HOURS = 24
MIN_SAMPLE_RATE, MAX_SAMPLE_RATE = 8000, 96000  # what the AAC encoder of an export takes
MAX_MARKER_NAME = 200  # characters of a marker's name: a chapter title, not a script
# A clip's speed: 5 % (a 1 s generated clip as 20 s of slow motion) to 20x (a minute as 3 s)
MIN_SPEED, MAX_SPEED = 0.05, 20.0


def max_timeline_frames(fps: int) -> int:
    """The last frame a clip may end at, at `fps`."""
    return MAX_TIMELINE_HOURS * 3600 * fps


def frame_side_problem(side: int) -> str | None:
    """Why `side` pixels cannot be a side of the frame, or None."""
    if MIN_FRAME_SIDE <= side <= MAX_FRAME_SIDE and side % 2 == 0:
        return None
    return f"should be an even number of pixels from {MIN_FRAME_SIDE} to {MAX_FRAME_SIDE}, not {side}"


def picture_size_problem(width: int, height: int) -> str | None:
    """Why a picture of `width` x `height` cannot be imported, or None."""
    if width * height <= MAX_PICTURE_PIXELS:
        return None
    square = f"{MAX_PICTURE_SQUARE}x{MAX_PICTURE_SQUARE}"
    return (
        f"is {width}x{height} pixels ({width * height / 1e6:.0f} megapixels), over the limit of "
        f"{MAX_PICTURE_PIXELS / 1e6:.0f} megapixels ({square}) for a picture: scale it down to import it"
    )


class ClipProblem(ProjectError):
    """A clip that cannot be where it is; `field` names the Clip attribute at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def check_clip(project: Project, track: Track, clip: Clip) -> None:
    """Raise ClipProblem unless `clip` may sit on `track`. Overlaps with other clips are `Track.fits`' business."""
    media = project.media.get(clip.media_id)
    if media is None:
        raise ClipProblem("media_id", f"the clip uses media {clip.media_id}, which the project does not have")
    if media.track_kind != track.kind:
        raise ClipProblem("media_id", f"{media.name} is {media.kind}; it cannot go on {track.kind} track {track.name}")
    if clip.length < 1:
        raise ClipProblem("length", f"a clip lasts at least 1 frame; this one would last {clip.length}")
    if clip.start < 0:
        raise ClipProblem("start", f"the clip would start at frame {clip.start}, before the timeline begins")
    if clip.source_in < 0:
        raise ClipProblem("source_in", f"the clip would start before the beginning of {media.name}")
    if not (math.isfinite(clip.speed) and MIN_SPEED <= clip.speed <= MAX_SPEED):
        raise ClipProblem("speed", f"the clip's speed {clip.speed} is not from {MIN_SPEED} to {MAX_SPEED}")
    room = project.media_room(clip)
    if room is None and clip.speed != 1:
        raise ClipProblem("speed", f"{media.name} is a still picture: it has no pace to change, only speed 1")
    if room is None and clip.reverse:
        raise ClipProblem("reverse", f"{media.name} is a still picture: it has no direction to play backwards")
    if room is not None and min(room) < 0:  # past its media's end, on whichever side its direction puts that
        raise ClipProblem(
            "length",
            f"{media.name} has {project.source_frames(media)} frames; the clip would need frames up to "
            f"{math.ceil(clip.source_end - FRAME_SLACK)}" + (f" at speed {clip.speed:g}" if clip.speed != 1 else ""),
        )
    limit = max_timeline_frames(project.fps)
    if clip.end > limit:
        field = "start" if clip.start >= limit else "length"
        raise ClipProblem(
            field,
            f"the clip would end at frame {clip.end}, past the end of the longest timeline: {MAX_TIMELINE_HOURS} h "
            f"({limit} frames at {project.fps} fps)",
        )
    if clip.source_in > limit:
        raise ClipProblem(
            "source_in", f"the clip would start {clip.source_in:g} frames into {media.name}, more than "
            f"{MAX_TIMELINE_HOURS} h ({limit} frames at {project.fps} fps)",
        )
    if not (math.isfinite(clip.gain) and clip.gain >= 0):
        raise ClipProblem("gain", f"the clip's gain {clip.gain} is not a volume (a finite number from 0)")
    problem = keys_problem(clip.volume, clip.length)
    if problem is not None:
        raise ClipProblem("volume", problem)
    try:
        clip.transform.check()
    except TransformProblem as problem:
        raise ClipProblem(f"transform.{problem.field}", str(problem)) from None
    try:
        clip.grade.check()
    except GradeProblem as problem:
        raise ClipProblem(f"grade.{problem.field}", str(problem)) from None
    if not clip.grade.neutral and media.kind in ("audio", "title"):
        why = "is sound: it has no picture to grade" if media.kind == "audio" else \
            "is a title: set its colours in the title rather than grade it"
        raise ClipProblem("grade", f"{media.name} {why}")
    for name in ("fade_in", "fade_out", "dissolve_in"):
        frames = getattr(clip, name)
        if not 0 <= frames <= limit:
            what = name.replace("_", "-").replace("dissolve-in", "cross-dissolve")
            raise ClipProblem(name, f"the clip's {what} of {frames} frames is not a length from 0 to {limit} frames")
