"""The engine protocol: typed messages as JSON lines, each carrying the protocol version. No torch, no Qt.

A line is one JSON object `{"v": PROTOCOL_VERSION, "type": ..., <fields>}`. Decoding checks the version, the type,
and every field's presence and JSON type, so a bad line is refused with a message that names what was wrong; it is
read by engine.api.json_text, so a line nested too deep or holding NaN or Infinity is refused like any other.

Big data travels as files. An engine the studio spawns shares its disk: jobs name files by path. An engine served
over the network (`istar serve`) never takes a path from its client: the client sends its input files in `upload`
chunks and its jobs name them `upload:<sha256><suffix>`; the engine sends each output file in `file_data` chunks
just before the event that names it, by its path relative to the job's output folder (engine.api.remote_files and
engine.service.served_files). Preview images are small and travel inline as base64 RGB.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import json
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO, ClassVar

from engine.api.json_text import JSONTextError, loads_limited
from engine.api.records import DeviceSummary, GenerationRecord, ModelInfo, RecordError

# 2: models, devices and generation records are typed records (engine.api.records)
# 3: files travel over network connections (upload, file_data)
PROTOCOL_VERSION = 3
MAX_LINE_BYTES = 4 * 1024 * 1024  # a preview of a 720p video is ~0.3 MB in base64; nothing legitimate is near this
CHUNK_BYTES = 1024 * 1024  # bytes of a file in one upload or file_data message: 1.4 MB of base64, under the line limit


class ProtocolError(ValueError):
    """A line that is not a message of this protocol; the message says what was wrong."""


class ConnectionLost(Exception):
    """The other side is gone: nothing more can be sent."""


@dataclass(frozen=True)
class Message:
    type: ClassVar[str]


# Client -> engine


@dataclass(frozen=True)
class Hello(Message):
    """The first message on a TCP connection: the shared secret from the server's token file."""

    type: ClassVar[str] = "hello"
    token: str = ""


@dataclass(frozen=True)
class Submit(Message):
    """Queue a job; `job` is a JobSpec as a dict (engine.api.jobs)."""

    type: ClassVar[str] = "submit"
    job: dict[str, Any]


@dataclass(frozen=True)
class Cancel(Message):
    """Cancel a queued job, or the running one at its next pass boundary."""

    type: ClassVar[str] = "cancel"
    job_id: str


@dataclass(frozen=True)
class Move(Message):
    """Move a queued job just before queued job `before` (null, or a job no longer queued: to the end)."""

    type: ClassVar[str] = "move"
    job_id: str
    before: str | None


@dataclass(frozen=True)
class ListModels(Message):
    """Ask for the installed models and their load plans on `device` for videos of `seconds`."""

    type: ClassVar[str] = "list_models"
    device: str = "auto"
    seconds: int = 5


@dataclass(frozen=True)
class Upload(Message):
    """Part of an input file, over a network connection only: `data` (base64, at most CHUNK_BYTES) goes at `offset`
    of the file whose SHA-256 is `sha256`; the chunks come in order and `last` ends the file. `name` is the file's
    name on the client, of which the engine keeps only the suffix. A job then names the file
    `upload:<sha256><suffix>` (`upload_reference`)."""

    type: ClassVar[str] = "upload"
    sha256: str
    name: str
    offset: int
    data: str
    last: bool


@dataclass(frozen=True)
class Shutdown(Message):
    """Finish nothing more: cancel the running job, drop the queue, exit."""

    type: ClassVar[str] = "shutdown"


# Engine -> client


@dataclass(frozen=True)
class Ready(Message):
    """The engine is up and reads messages of `protocol`."""

    type: ClassVar[str] = "ready"
    protocol: int
    engine_version: str
    pid: int


@dataclass(frozen=True)
class Accepted(Message):
    """The job is queued; `ahead` jobs (the running one included) come before it."""

    type: ClassVar[str] = "accepted"
    job_id: str
    ahead: int


@dataclass(frozen=True)
class Started(Message):
    """The job's model is loaded and sampling begins: `frames` frames of `width` x `height` at `fps` will come."""

    type: ClassVar[str] = "started"
    job_id: str
    passes: int
    clips: int
    frames: int
    width: int
    height: int
    fps: int
    precision: str
    device: str
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Progress(Message):
    """Pass `index` (0-based) of `total` is done, in `seconds`; `eta_seconds` is null until one was sampled."""

    type: ClassVar[str] = "progress"
    job_id: str
    index: int
    total: int
    clip: int
    seconds: float
    eta_seconds: float | None


@dataclass(frozen=True)
class Preview(Message):
    """The running sum of clip `clip` after pass `index`, as `width` x `height` RGB bytes in base64."""

    type: ClassVar[str] = "preview"
    job_id: str
    index: int
    total: int
    clip: int
    width: int
    height: int
    rgb: str

    @classmethod
    def from_image(cls, job_id: str, index: int, total: int, clip: int, image: Any) -> Preview:
        """`image`: a uint8 array [h, w, 3]."""
        height, width = image.shape[:2]
        rgb = base64.b64encode(image.tobytes()).decode("ascii")
        return cls(job_id, index, total, clip, width, height, rgb)

    def pixels(self) -> bytes:
        """The raw RGB bytes, row-major, `height * width * 3` of them."""
        return base64.b64decode(self.rgb)


@dataclass(frozen=True)
class ClipReady(Message):
    """Clip `clip` is decoded: `video` holds its frames (from frame `frame_start` of the job's video), `bits`
    its bits and those of the clips before it a continuation reads (continue from them), `record` what made it."""

    type: ClassVar[str] = "clip_ready"
    job_id: str
    clip: int
    frame_start: int
    frames: int
    video: str
    bits: str
    record: GenerationRecord


@dataclass(frozen=True)
class Finished(Message):
    """The job's whole video is at `video`, its bits at `bits`."""

    type: ClassVar[str] = "finished"
    job_id: str
    video: str
    bits: str
    record: GenerationRecord
    seconds: float
    sampling_seconds: float
    decode_seconds: float


@dataclass(frozen=True)
class FileData(Message):
    """Part of an output file of job `job_id`, over a network connection only, sent just before the event that names
    the file: `data` (base64) goes at `offset` of `name`, the file's path relative to the job's output folder
    (`out.mp4`, `out.bits`, `out.clips/clip_01.mp4`); `last` ends the file. `missing` says the file could not be
    read on the engine's side (then `data` is empty and `last` true)."""

    type: ClassVar[str] = "file_data"
    job_id: str
    name: str
    offset: int
    data: str
    last: bool
    missing: str = ""


@dataclass(frozen=True)
class Models(Message):
    """The answer to ListModels: the device and each model, installed ones first, then the catalogue's models not
    installed yet with the plan they would have."""

    type: ClassVar[str] = "models"
    device: DeviceSummary
    models: list[ModelInfo]


FAILURE_KINDS = ("out_of_memory", "bad_input", "bad_checkpoint", "crashed", "cancelled")


@dataclass(frozen=True)
class Failed(Message):
    """The job failed (`job_id` null: a message that named no job). `hint` says what the user can do. `video` and
    `bits` hold the clips it finished before it failed, when it finished any."""

    type: ClassVar[str] = "failed"
    job_id: str | None
    kind: str
    message: str
    hint: str = ""
    video: str | None = None
    bits: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in FAILURE_KINDS:
            raise ProtocolError(f"failure kind must be one of {', '.join(FAILURE_KINDS)}, got {self.kind!r}")


@dataclass(frozen=True)
class Cancelled(Message):
    """The job stopped because it was cancelled. `video` and `bits` hold the clips it finished before, as one video
    (null when none was)."""

    type: ClassVar[str] = "cancelled"
    job_id: str
    video: str | None = None
    bits: str | None = None


MESSAGES: dict[str, type[Message]] = {
    m.type: m
    for m in (Hello, Submit, Cancel, Move, ListModels, Upload, Shutdown, Ready, Accepted, Started, Progress, Preview,
              ClipReady, FileData, Finished, Models, Failed, Cancelled)
}
TERMINAL = (Finished, Failed, Cancelled)
UPLOAD_PREFIX = "upload:"


def file_chunks(file: BinaryIO) -> Iterator[tuple[int, str, bool]]:
    """A file's bytes as upload and file_data messages carry them: (offset, at most CHUNK_BYTES in base64, whether
    it is the last chunk); an empty file is one empty last chunk."""
    offset = 0
    while True:
        chunk = file.read(CHUNK_BYTES)
        last = len(chunk) < CHUNK_BYTES
        yield offset, base64.b64encode(chunk).decode("ascii"), last
        offset += len(chunk)
        if last:
            return


def upload_reference(sha256: str, suffix: str) -> str:
    """How a job names an uploaded file: `upload:<sha256><suffix>`."""
    return f"{UPLOAD_PREFIX}{sha256}{suffix}"


def version_of(line: bytes | str) -> int | None:
    """The protocol version a line says it speaks, if it says one: to tell a peer of another version from noise."""
    try:
        body = loads_limited(line, "the line", max_bytes=MAX_LINE_BYTES, finite=False)
    except JSONTextError:
        return None
    version = body.get("v") if isinstance(body, dict) else None
    return version if isinstance(version, int) and not isinstance(version, bool) else None
RECORDS = (DeviceSummary, GenerationRecord, ModelInfo)


def encode(message: Message) -> bytes:
    """One line: the message as JSON with the version and type, ending in a newline."""
    body = {"v": PROTOCOL_VERSION, "type": message.type, **dataclasses.asdict(message)}
    try:
        return json.dumps(body, separators=(",", ":"), allow_nan=False).encode() + b"\n"
    except (TypeError, ValueError) as err:  # NaN or infinity in a field, or a value JSON has no form for
        raise ProtocolError(f"a {message.type!r} message cannot be sent: {err}") from None


def _matches(value: Any, hint: Any) -> bool:
    """Whether a JSON value fits a field's annotation (str, int, float, bool, list[...], dict[...], X | None)."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, arg) for arg in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if hint is Any:
        return True
    if origin is list:
        (item,) = typing.get_args(hint)
        return isinstance(value, list) and all(_matches(v, item) for v in value)
    if origin is dict:
        return isinstance(value, dict)
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, hint)


@functools.cache
def _schema(cls: type[Message]) -> tuple[tuple[str, Any, bool], ...]:
    """(name, type hint, required) of each field of `cls`, worked out once per message type: resolving the string
    annotations (typing.get_type_hints) is most of the cost of decoding a line."""
    hints = typing.get_type_hints(cls)
    return tuple(
        (f.name, hints[f.name], f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING)
        for f in dataclasses.fields(cls)
    )


def _fields(cls: type[Message], body: dict[str, Any]) -> dict[str, Any]:
    schema = _schema(cls)
    if unknown := sorted(set(body) - {name for name, _, _ in schema}):
        raise ProtocolError(f"a {cls.type!r} message has no field {', '.join(unknown)}")
    for name, hint, required in schema:
        if name not in body:
            if required:
                raise ProtocolError(f"a {cls.type!r} message needs the field {name!r}")
            continue
        body[name] = _typed(body[name], hint, name, cls)
    return body


def _typed(value: Any, hint: Any, name: str, cls: type[Message]) -> Any:
    """The field's value, a record built from its JSON where the field holds records."""
    item = typing.get_args(hint)[0] if typing.get_origin(hint) is list else None
    record = item if item in RECORDS else hint if hint in RECORDS else None
    if record is not None:
        try:
            if item is None:
                return record.from_json(value)
            if isinstance(value, list):
                return [record.from_json(v) for v in value]
        except RecordError as err:
            raise ProtocolError(f"field {name!r} of a {cls.type!r} message: {err}") from None
    elif _matches(value, hint):
        return value
    raise ProtocolError(f"field {name!r} of a {cls.type!r} message must be {hint}, got {value!r:.80}")


def decode(line: bytes | str) -> Message:
    """The message on `line`, or ProtocolError naming what is wrong with it."""
    if len(line) > MAX_LINE_BYTES:
        # the engine cuts an over-long line to the limit + 1 bytes as it reads (bounded_lines): its length is unknown
        raise ProtocolError(f"a message is longer than the limit of {MAX_LINE_BYTES} bytes")
    try:
        body = loads_limited(line, "the line", max_bytes=MAX_LINE_BYTES)
    except JSONTextError as err:  # also NaN, Infinity and nesting deep enough to exhaust the parser's stack
        raise ProtocolError(f"not a JSON message: {err}") from None
    if not isinstance(body, dict):
        raise ProtocolError(f"a message must be a JSON object, got {type(body).__name__}")
    version = body.pop("v", None)
    if version != PROTOCOL_VERSION:
        raise ProtocolError(f"protocol version {version!r} is not spoken here; this engine speaks {PROTOCOL_VERSION}")
    kind = body.pop("type", None)
    cls = MESSAGES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise ProtocolError(f"unknown message type {kind!r}; known: {', '.join(MESSAGES)}")
    return cls(**_fields(cls, body))


def job_id_of(line: bytes | str) -> str | None:
    """The job a line that failed to decode was about, when one can be read from it, so its failure names it."""
    try:  # NaN and Infinity are allowed here: the line is refused anyway, but its job can still be named
        body = loads_limited(line, "the line", max_bytes=MAX_LINE_BYTES, finite=False)
    except JSONTextError:
        return None
    if not isinstance(body, dict):
        return None
    job = body.get("job")
    candidate = body.get("job_id", job.get("id") if isinstance(job, dict) else None)
    return candidate if isinstance(candidate, str) else None
