"""What a job asks the engine to make. Plain data checked without torch, so the desktop can build and queue jobs.

Kinds:
- generate: a video of `seconds` from one prompt (0 s: an image); `image` makes it image-to-video.
- storyboard: one prompt per video clip, any number of them (`seconds` None: one full clip each).
- continue: `seconds` more of the video whose bits are in `continue_from`, with `prompts` (default: its last);
  the output holds the new part only, which plays on from the continued video's last frame.
- bridge: `seconds` that start where `continue_from`'s video ends and head toward `bridge_to`'s video (prompted with
  `prompts`, default `bridge_to`'s own prompt); the output is the bridge alone, its last `crossfade_seconds`
  (default 1 s) fading into the first frames of `bridge_to`, which then plays on from after them.
`text_features` (a safetensors file) stands in for the prompt's encoding, for models without a text encoder.
No job is longer than MAX_VIDEO_SECONDS; a longer video is continued by another job.
"""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from typing import Any

KINDS = ("generate", "storyboard", "continue", "bridge")
MAX_PROMPT_CHARS = 4000  # far beyond what any text encoder reads (flan-t5-xl: 512 tokens); more is a mistake
MAX_PROMPTS = 10_000  # a storyboard of 1 s clips at the longest job has 600
DEFAULT_CROSSFADE_SECONDS = 1.0
# The longest video one job makes. Memory does not grow with length (each clip sees only the one before), so this
# is a bound on one job's time and disk, not on what the model can do: a longer video is continued by another job.
MAX_VIDEO_SECONDS = 600
MAX_SEED = 2**63 - 1  # what the device's generators take


@dataclass(frozen=True)
class NumberRange:
    """The values a numeric job field takes: finite, from `low` (excluded when `low_open`) up to `high`. The one
    place these ranges are set: the job's check, the CLI and the studio's spin boxes all read them from here."""

    low: float
    high: float
    low_open: bool = False

    def __contains__(self, value: object) -> bool:
        # Comparisons only, so NaN (never in range), infinities and integers too large for a float are all handled.
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        return (self.low < value if self.low_open else self.low <= value) and value <= self.high

    def describe(self) -> str:
        """"above 0 and up to 50", "from 0 up to 600"."""
        low = f"above {self.low:g} and" if self.low_open else f"from {self.low:g}"
        return f"{low} up to {self.high:g}"


GUIDANCE_SCALE = NumberRange(0, 50, low_open=True)  # models ship 3 to 34; far above that the video is noise
TAU = NumberRange(0, 5, low_open=True)  # sampling temperature, of the first frame and of the video clips
NUMBER_FIELDS = {"guidance_scale": GUIDANCE_SCALE, "tau_image": TAU, "tau_video": TAU}


def crossfade_range(seconds: int | None) -> NumberRange:
    """A bridge's fade is part of it: from 0 up to its length."""
    return NumberRange(0, MAX_VIDEO_SECONDS if seconds is None else seconds)


class JobInputError(ValueError):
    """A job that cannot run as given; the message names the field and what was expected. `field` is the job field
    at fault (None when the fault is not one field's) and `problem` what is wrong with its value."""

    def __init__(self, message: str, field: str | None = None, problem: str = "") -> None:
        super().__init__(message)
        self.field, self.problem = field, problem


def _field_error(name: str, problem: str) -> JobInputError:
    return JobInputError(f"job field {name!r} {problem}", name, problem)


@dataclass(frozen=True)
class JobSpec:
    kind: str
    model: str
    output: str
    prompts: tuple[str, ...] = ()
    seconds: int | None = 5
    seed: int = 0
    precision: str | None = None
    device: str = "auto"
    aspect: str | None = None
    guidance_scale: float | None = None
    tau_image: float | None = None
    tau_video: float | None = None
    image: str | None = None
    continue_from: str | None = None
    bridge_to: str | None = None
    text_features: str | None = None
    crossfade_seconds: float | None = None
    id: str = dataclasses.field(default_factory=lambda: uuid.uuid4().hex)

    def __post_init__(self) -> None:
        object.__setattr__(self, "prompts", tuple(self.prompts))
        self._check_types()
        self._check_kind()

    def _check_types(self) -> None:
        for name in ("kind", "model", "output", "device", "id"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise JobInputError(f"job field {name!r} must be non-empty text, got {value!r:.80}")
        for name in ("precision", "aspect", "image", "continue_from", "bridge_to", "text_features"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise JobInputError(f"job field {name!r} must be non-empty text or absent, got {value!r:.80}")
        for name, allowed in NUMBER_FIELDS.items():
            value = getattr(self, name)
            if value is not None and value not in allowed:
                raise _field_error(name, f"must be a number {allowed.describe()}, got {value!r:.80}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or not 0 <= self.seed <= MAX_SEED:
            raise _field_error("seed", f"must be a whole number from 0 to 2^63 - 1, got {self.seed!r:.80}")
        seconds = self.seconds
        if seconds is not None and (isinstance(seconds, bool) or not isinstance(seconds, int)
                                    or not 0 <= seconds <= MAX_VIDEO_SECONDS):
            raise _field_error(
                "seconds", f"must be whole seconds from 0 to {MAX_VIDEO_SECONDS} (10 minutes, the longest one job "
                f"makes; continue the video for more), got {seconds!r:.80}"
            )
        fade = self.crossfade_seconds
        longest = f"the job's {seconds} s (the fade is part of it)" if seconds is not None else MAX_VIDEO_SECONDS
        if fade is not None and fade not in crossfade_range(seconds):
            raise _field_error("crossfade_seconds", f"must be a number from 0 up to {longest}, got {fade!r:.80}")
        if len(self.prompts) > MAX_PROMPTS:
            raise JobInputError(f"a job has at most {MAX_PROMPTS} prompts, got {len(self.prompts)}")
        for i, prompt in enumerate(self.prompts):
            if not isinstance(prompt, str) or not prompt.strip():
                raise JobInputError(f"prompt {i + 1} is empty; describe what the video should show")
            if len(prompt) > MAX_PROMPT_CHARS:
                raise JobInputError(
                    f"prompt {i + 1} has {len(prompt)} characters; the limit is {MAX_PROMPT_CHARS} "
                    "(models read far fewer)"
                )

    def _check_kind(self) -> None:
        if self.kind not in KINDS:
            raise JobInputError(f"job kind must be one of {', '.join(KINDS)}, got {self.kind!r}")
        continuing = self.kind in ("continue", "bridge")
        if continuing and self.continue_from is None:
            raise JobInputError(f"a {self.kind} job needs 'continue_from': the bits file of the video to extend")
        if not continuing and self.continue_from is not None:
            raise JobInputError(f"a {self.kind} job takes no 'continue_from'; use a continue job")
        if (self.kind == "bridge") != (self.bridge_to is not None):
            raise JobInputError("'bridge_to' (the video to bridge toward) is needed by, and only by, a bridge job")
        if self.image is not None and self.kind != "generate":
            raise JobInputError("'image' (a first frame) is for generate jobs only")
        if self.kind in ("generate", "storyboard") and not self.prompts and self.text_features is None:
            raise JobInputError(f"a {self.kind} job needs a prompt: what the video should show")
        if self.kind == "generate" and len(self.prompts) > 1:
            raise JobInputError("a generate job takes one prompt; give one per clip in a storyboard job")
        if self.seconds is None and self.kind != "storyboard":
            raise JobInputError(f"a {self.kind} job needs 'seconds'; only a storyboard takes one clip per prompt")
        if continuing and self.seconds < 1:
            raise JobInputError(f"a {self.kind} job adds at least 1 s, got {self.seconds}")
        if self.crossfade_seconds is not None and self.kind != "bridge":
            raise JobInputError("'crossfade_seconds' is for bridge jobs only")

    def to_json(self) -> dict[str, Any]:
        body = dataclasses.asdict(self)
        body["prompts"] = list(self.prompts)
        return body

    @classmethod
    def from_json(cls, body: Any) -> JobSpec:
        if not isinstance(body, dict):
            raise JobInputError(f"a job must be a JSON object, got {type(body).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        if unknown := sorted(set(body) - known):
            raise JobInputError(f"a job has no field {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        missing = [name for name in ("kind", "model", "output") if name not in body]
        if missing:
            raise JobInputError(f"a job needs the field(s) {', '.join(missing)}")
        prompts = body.get("prompts", ())
        if not isinstance(prompts, list | tuple):
            raise JobInputError(f"job field 'prompts' must be a list of prompts, got {prompts!r:.80}")
        return cls(**{**body, "prompts": tuple(prompts)})
