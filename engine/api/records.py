"""Typed records that cross the boundary between the studio and the engine. No torch, no Qt.

- ModelInfo: what a model makes (fps, clip length, trained length, aspects, precisions) and its plan on a device;
  its `clip_times` are where each model clip of a video starts, the one place the studio learns them.
- GenerationRecord: what made a video (model, exact weights, settings, inputs and the prompt of each clip), stored
  in the video's metadata as JSON; `read_provenance` is the one parser of that JSON, for every version written.
- BitsHeader: the first record of a bits file.

Each record is a frozen dataclass with `to_json()` (plain JSON types) and `from_json(body)`, which raises
RecordError naming the field that is wrong. The protocol carries records as those JSON objects.
"""

from __future__ import annotations

import math
import re
from collections.abc import Container
from dataclasses import asdict, dataclass, field
from typing import Any

from engine.api.json_text import JSONTextError, loads_limited


class RecordError(ValueError):
    """A record's JSON is not what it should be; the message names the field."""


def take(body: dict[str, Any], name: str, kind: type | tuple[type, ...], where: str, default: Any = ...) -> Any:
    """`body[name]` checked to be of `kind` (a number also finite); `default` when it is missing or null, when
    given. RecordError names the field and `where` it is."""
    if name not in body or body[name] is None and default is not ...:
        if default is ...:
            raise RecordError(f"{where} needs the field {name!r}")
        return default
    value = body[name]
    numeric = kind in (int, float) or kind == (int, float)
    if isinstance(value, bool) and kind is not bool or not isinstance(value, kind):
        raise RecordError(f"field {name!r} of {where} should be {_names(kind)}, not {value!r:.60}")
    if numeric and isinstance(value, float) and not math.isfinite(value):
        raise RecordError(f"field {name!r} of {where} should be a finite number, not {value!r}")
    return value


def _names(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join({"str": "text", "int": "a whole number", "float": "a number", "bool": "true or false",
                        "list": "a list", "dict": "an object"}.get(k.__name__, k.__name__) for k in kinds)


def json_object(body: Any, where: str) -> dict[str, Any]:
    """`body` when it is a JSON object; RecordError naming `where` otherwise."""
    if not isinstance(body, dict):
        raise RecordError(f"{where} should be a JSON object, not {type(body).__name__}")
    return body


def _strings(values: Any, name: str, where: str) -> tuple[str, ...]:
    if not isinstance(values, list | tuple) or not all(isinstance(v, str) for v in values):
        raise RecordError(f"field {name!r} of {where} should be a list of texts, not {values!r:.60}")
    return tuple(values)


@dataclass(frozen=True)
class DeviceSummary:
    """The device a model would run on: its name and memory, and the host's."""

    device: str  # "cpu", "cuda:0", ...
    name: str
    total_bytes: int
    free_bytes: int
    host_total_bytes: int
    host_available_bytes: int

    @property
    def is_cuda(self) -> bool:
        return self.device.startswith("cuda")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, body: Any) -> DeviceSummary:
        body, where = json_object(body, "a device"), "a device"
        return cls(take(body, "device", str, where), take(body, "name", str, where),
                   *(take(body, n, int, where) for n in ("total_bytes", "free_bytes", "host_total_bytes",
                                                         "host_available_bytes")))


@dataclass(frozen=True)
class PlanSummary:
    """How a model would load on a device: whether it fits, at which precision, its planned peak and the plan's
    lines for a person to read."""

    fits: bool
    precision: str
    peak_gb: float
    lines: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "lines": list(self.lines)}

    @classmethod
    def from_json(cls, body: Any) -> PlanSummary:
        body, where = json_object(body, "a plan"), "a plan"
        return cls(take(body, "fits", bool, where), take(body, "precision", str, where),
                   float(take(body, "peak_gb", (int, float), where)),
                   _strings(body.get("lines", []), "lines", where))


@dataclass(frozen=True)
class ModelInfo:
    """One model the engine knows: installed, or in its catalogue to install. `precisions` are those a job may ask
    for (a quantised one is made on first use); `variants` those already in the store."""

    id: str
    preset: str
    description: str
    builtin: bool
    installed: bool
    verified: bool
    needs_text_features: bool
    fps: int
    frames_per_latent: int  # video frames per latent frame after the first
    clip_latents: int  # latent frames of one full video clip
    trained_seconds: float  # the longest video its weights saw; longer ones are made clip by clip past it
    max_seconds: int  # the longest one job makes
    aspects: dict[str, float]  # each aspect a job may ask for ("16:9", width:height), its height over width
    default_aspect: str
    guidance_scale: float
    tau_video: float
    plan: PlanSummary
    precisions: tuple[str, ...] = ()
    variants: tuple[str, ...] = ()
    vocabulary: tuple[str, ...] | None = None  # the words a model with a fixed vocabulary reads; None: any text

    def unknown_words(self, prompt: str) -> list[str]:
        """The words of `prompt` this model does not know and leaves out, in order, once each (none for a model that
        reads any text)."""
        return [] if self.vocabulary is None else words_outside(prompt, set(self.vocabulary))

    def aspect_of(self, h_over_w: float, tolerance: float = 0.06) -> str | None:
        """The aspect a recorded height over width is, within the tolerance the engine picks its templates by."""
        return next((name for name, value in self.aspects.items() if abs(value / h_over_w - 1) < tolerance), None)

    @property
    def clip_seconds(self) -> float:
        """Seconds of one full video clip: where a storyboard's prompts change."""
        return self.clip_latents * self.frames_per_latent / self.fps

    def clip_times(self, seconds: int, first_frame: bool = True) -> list[float]:
        """Seconds into a `seconds` long video where each video clip starts, then where the video ends. A new
        video (`first_frame`) shows its first frame before its first clip, so that clip is one frame longer; a
        continuation or a bridge has no first frame of its own. An image: [0.0]."""
        if not 0 <= seconds <= self.max_seconds:
            raise RecordError(f"{self.id} makes 0 to {self.max_seconds} s in one job, not {seconds}")
        full, rest = divmod(seconds * self.fps // self.frames_per_latent, self.clip_latents)
        frames, starts = int(first_frame), [0]
        for latents in (self.clip_latents,) * full + ((rest,) if rest else ()):
            frames += latents * self.frames_per_latent
            starts.append(frames)
        return [frame / self.fps for frame in starts]

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "aspects": dict(self.aspects), "plan": self.plan.to_json(),
                "precisions": list(self.precisions), "variants": list(self.variants),
                "vocabulary": None if self.vocabulary is None else list(self.vocabulary)}

    @classmethod
    def from_json(cls, body: Any) -> ModelInfo:
        body = json_object(body, "a model")
        where = f"model {body.get('id')!r}"
        return cls(
            id=take(body, "id", str, where), preset=take(body, "preset", str, where),
            description=take(body, "description", str, where, ""), builtin=take(body, "builtin", bool, where),
            installed=take(body, "installed", bool, where), verified=take(body, "verified", bool, where, False),
            needs_text_features=take(body, "needs_text_features", bool, where, False),
            fps=take(body, "fps", int, where), frames_per_latent=take(body, "frames_per_latent", int, where),
            clip_latents=take(body, "clip_latents", int, where),
            trained_seconds=float(take(body, "trained_seconds", (int, float), where)),
            max_seconds=take(body, "max_seconds", int, where),
            aspects=_aspects(take(body, "aspects", dict, where), where),
            default_aspect=take(body, "default_aspect", str, where),
            guidance_scale=float(take(body, "guidance_scale", (int, float), where)),
            tau_video=float(take(body, "tau_video", (int, float), where)),
            plan=PlanSummary.from_json(take(body, "plan", dict, where)),
            precisions=_strings(body.get("precisions", []), "precisions", where),
            variants=_strings(body.get("variants", []), "variants", where),
            vocabulary=None if body.get("vocabulary") is None else _strings(body["vocabulary"], "vocabulary", where),
        )


def split_words(text: str) -> list[str]:
    """The words of a prompt as a word-vocabulary model reads them: lower case, punctuation turned into spaces."""
    return re.sub(r"[^\w\s]|_", " ", text.lower()).split()


def words_outside(prompt: str, known: Container[str]) -> list[str]:
    """The words of `prompt` not in `known`, in order, once each: what a word-vocabulary model leaves out."""
    return list(dict.fromkeys(w for w in split_words(prompt) if w not in known))


def _aspects(body: dict[str, Any], where: str) -> dict[str, float]:
    for name, value in body.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < math.inf:
            raise RecordError(f"aspect {name!r} of {where} should have a positive height over width, not {value!r}")
    return {name: float(value) for name, value in body.items()}


@dataclass(frozen=True)
class GenerationSettings:
    """What the sampler ran with: enough, with the model and inputs, to make the same video again. `prompts`: the
    text of every clip the run sampled, its first frame's included."""

    seconds: int
    seed: int
    prompts: tuple[str, ...] = ()
    aspect_h_over_w: float | None = None
    resolution: str | None = None
    guidance: str | None = None
    guidance_scale: float | None = None
    apg_norm_threshold: float | None = None
    tau_image: float | None = None
    tau_video: float | None = None
    image_to_video: bool = False
    continued_from_clip: int | None = None

    @classmethod
    def from_json(cls, body: Any) -> GenerationSettings:
        body, where = json_object(body, "a generation's settings"), "the settings"
        number = (int, float)
        return cls(
            seconds=take(body, "seconds", int, where), seed=take(body, "seed", int, where),
            prompts=_strings(body.get("prompts", []), "prompts", where),
            aspect_h_over_w=_float(take(body, "aspect_h_over_w", number, where, None)),
            resolution=take(body, "resolution", str, where, None), guidance=take(body, "guidance", str, where, None),
            guidance_scale=_float(take(body, "guidance_scale", number, where, None)),
            apg_norm_threshold=_float(take(body, "apg_norm_threshold", number, where, None)),
            tau_image=_float(take(body, "tau_image", number, where, None)),
            tau_video=_float(take(body, "tau_video", number, where, None)),
            image_to_video=take(body, "image_to_video", bool, where, False),
            continued_from_clip=take(body, "continued_from_clip", int, where, None),
        )


def _float(value: int | float | None) -> float | None:
    return None if value is None else float(value)


KINDS_PLAYING_ON = ("continue", "bridge")  # jobs whose video plays on from another video's last frame


@dataclass(frozen=True)
class GenerationInputs:
    """What the job was given: its kind, the prompt of each video clip it made (an image's one prompt), and the
    sha256 of every file it read."""

    kind: str = "generate"
    prompts: tuple[str, ...] = ()
    continued_from_sha256: str | None = None
    continued_from_clip: int | None = None
    bridge_to_sha256: str | None = None
    crossfade_frames: int = 0
    first_frame_sha256: str | None = None
    text_features_sha256: str | None = None

    @property
    def plays_on(self) -> bool:
        """Whether the video starts where another one ends (a continuation or a bridge), without a first frame."""
        return self.kind in KINDS_PLAYING_ON

    @classmethod
    def from_json(cls, body: Any) -> GenerationInputs:
        body, where = json_object(body, "a generation's inputs"), "the inputs"
        if "prompts" in body:
            prompts = _strings(body["prompts"], "prompts", where)
        else:  # the first engine recorded one prompt, or none with text features
            prompt = take(body, "prompt", str, where, None)
            prompts = (prompt,) if prompt is not None else ()
        return cls(
            kind=take(body, "kind", str, where, "generate"), prompts=prompts,
            continued_from_sha256=take(body, "continued_from_sha256", str, where, None),
            continued_from_clip=take(body, "continued_from_clip", int, where, None),
            bridge_to_sha256=take(body, "bridge_to_sha256", str, where, None),
            crossfade_frames=take(body, "crossfade_frames", int, where, 0),
            first_frame_sha256=take(body, "first_frame_sha256", str, where, None),
            text_features_sha256=take(body, "text_features_sha256", str, where, None),
        )


APP = "InfinityStar Studio"


@dataclass(frozen=True)
class GenerationRecord:
    """What made a video: the app and engine, the model and the digest of the exact files it loaded, the settings
    and the inputs. Written into every video the engine makes."""

    model: str
    preset: str
    precision: str
    settings: GenerationSettings
    inputs: GenerationInputs = field(default_factory=GenerationInputs)
    weights_sha256: str = ""
    engine_version: str = "unknown"
    app: str = APP

    @property
    def prompts(self) -> tuple[str, ...]:
        return self.inputs.prompts

    def to_json(self) -> dict[str, Any]:
        return asdict(self) | {"settings": {**asdict(self.settings), "prompts": list(self.settings.prompts)},
                               "inputs": {**asdict(self.inputs), "prompts": list(self.inputs.prompts)}}

    @classmethod
    def from_json(cls, body: Any) -> GenerationRecord:
        body, where = json_object(body, "a generation record"), "the generation record"
        return cls(
            model=take(body, "model", str, where), preset=take(body, "preset", str, where),
            precision=take(body, "precision", str, where),
            settings=GenerationSettings.from_json(take(body, "settings", dict, where)),
            inputs=GenerationInputs.from_json(take(body, "inputs", dict, where, {})),
            weights_sha256=take(body, "weights_sha256", str, where, ""),
            engine_version=take(body, "engine_version", str, where, "unknown"), app=take(body, "app", str, where, APP),
        )


@dataclass(frozen=True)
class ExportedClip:
    """A generated clip of an exported timeline: where it sits in the export, the time in its generated video it
    starts at, the pace it plays at there (0.5: slow motion; below 0: backwards) and what made it."""

    track: str
    file: str
    start_s: float
    end_s: float
    source_in_s: float
    record: GenerationRecord
    speed: float = 1.0

    @property
    def video_start_s(self) -> float:
        """Where its generated video's first frame is (or would be, before a trimmed start) in the export, for a clip
        played forwards."""
        return self.start_s - self.source_in_s / self.speed

    def to_json(self) -> dict[str, Any]:
        paced = {"speed": self.speed} if self.speed != 1 else {}  # what other readers of these files need not know
        return {"track": self.track, "file": self.file, "start_s": self.start_s, "end_s": self.end_s,
                "source_in_s": self.source_in_s, **paced, "provenance": self.record.to_json()}

    @classmethod
    def from_json(cls, body: Any) -> ExportedClip:
        body, where = json_object(body, "an exported clip"), "an exported clip"
        number = (int, float)
        speed = float(take(body, "speed", number, where, 1.0))
        if speed == 0:
            raise RecordError(f"field 'speed' of {where} should not be 0")
        return cls(take(body, "track", str, where, ""), take(body, "file", str, where, ""),
                   float(take(body, "start_s", number, where)), float(take(body, "end_s", number, where)),
                   float(take(body, "source_in_s", number, where, 0)),
                   GenerationRecord.from_json(take(body, "provenance", dict, where)), speed)


@dataclass(frozen=True)
class Provenance:
    """What a media file's metadata says made it: one generation (a video the engine made), or the generated clips
    of an exported timeline."""

    generation: GenerationRecord | None = None
    clips: tuple[ExportedClip, ...] = ()

    @property
    def single(self) -> tuple[GenerationRecord, float] | None:
        """The one generation this file shows, and where its video starts in the file (seconds): the file's own,
        or the only generated clip of an exported timeline, played at its own pace (a sped one's frames are not the
        generation's, so nothing can continue from them)."""
        if self.generation is not None:
            return self.generation, 0.0
        if len(self.clips) == 1 and self.clips[0].speed == 1:
            return self.clips[0].record, self.clips[0].video_start_s
        return None


def read_provenance(body: Any) -> Provenance | None:
    """The provenance in a media file's metadata (its JSON text, or that JSON already parsed): an object is one
    generation, a list an exported timeline's clips. None for anything else, or a record of another app that
    cannot be read; a list keeps the clips it can read."""
    if isinstance(body, str):
        try:
            body = loads_limited(body, "a media file's provenance")
        except JSONTextError:
            return None
    if isinstance(body, dict) and "clips" in body and "settings" not in body:
        body = body["clips"]  # the form the studio's project file keeps an export's list in
    try:
        if isinstance(body, dict):
            return Provenance(generation=GenerationRecord.from_json(body))
    except RecordError:
        return None
    if isinstance(body, list):
        clips = []
        for entry in body:
            try:
                clips.append(ExportedClip.from_json(entry))
            except RecordError:
                continue
        return Provenance(clips=tuple(clips)) if clips else None
    return None


@dataclass(frozen=True)
class BitsHeader:
    """The first record of a bits file: which model made the video, its aspect (height over width) and rate."""

    model: str
    aspect_h_over_w: float
    fps: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, body: Any, where: str = "the bits file's header") -> BitsHeader:
        body = json_object(body, where)
        return cls(take(body, "model", str, where), float(take(body, "aspect_h_over_w", (int, float), where)),
                   take(body, "fps", int, where))
