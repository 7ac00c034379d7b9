"""A generation's bits in one file beside its video, appended clip by clip, so continuing it never needs a pixel round
trip and a long video is never held or rewritten whole.

Layout: the magic bytes, then records. A record is a little-endian u32 JSON length, a u64 payload length, the JSON,
the payload, and a u32 CRC-32 of JSON and payload. The first record is the video's header (model, aspect, fps: no
payload); every later one is one clip (`ClipBits`), its passes' bits packed 8 to a byte. A writer appends one whole
record per clip and syncs it, so a job that is cancelled or dies mid-clip leaves every finished clip readable: a
reader takes the complete records and ignores a cut-off last one.

The older single-file format (a safetensors file of every pass, `.bits.safetensors`) is still read.
"""

from __future__ import annotations

import json
import os
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import torch

from engine.api.json_text import loads_limited
from engine.api.records import BitsHeader, RecordError
from engine.atomic import atomic_writer, fsync_dir
from engine.config import ScheduleConfig
from engine.pipeline.errors import PipelineInputError
from engine.schedule import build_schedule
from engine.tensors.safetensors_file import SafetensorsFile

MAGIC = b"ISTBITS\x01"
_LENGTHS = struct.Struct("<IQ")
_CRC = struct.Struct("<I")
MAX_JSON_BYTES = 2**20  # a clip record's JSON names its prompt and pass shapes: far below this


@dataclass(frozen=True)
class ClipBits:
    """One clip of a video as the sampler made it: `clip` is its number in the whole video (0: the first frame),
    `frame` its first latent frame there, `t` its latent frames, `bits` one [1, t, h, w, d] uint8 tensor per pass.
    `prompt` is what its passes read (None: given text features), tagged for a video of `tag_seconds`.
    `context` marks a clip copied from the video a continuation extends: seen, not part of this file's video."""

    clip: int
    frame: int
    t: int
    prompt: str | None
    tag_seconds: int
    bits: list[torch.Tensor] = field(repr=False)
    context: bool = False

    def end_seconds(self, cfg: ScheduleConfig) -> int:
        """Seconds of the whole video up to this clip's end."""
        return round((self.frame + self.t - 1) * cfg.frames_per_latent / cfg.fps)


def _pack(bits: torch.Tensor) -> bytes:
    if bits.shape[-1] % 8:
        raise ValueError(f"bits with {bits.shape[-1]} per token cannot be packed 8 to a byte")
    return np.packbits(bits.cpu().numpy(), axis=-1).tobytes()


def _record(body: dict[str, Any], payload: bytes = b"") -> bytes:
    text = json.dumps(body, sort_keys=True).encode()
    return _LENGTHS.pack(len(text), len(payload)) + text + payload + _CRC.pack(zlib.crc32(payload, zlib.crc32(text)))


def _clip_record(clip: ClipBits) -> bytes:
    body = {
        "clip": clip.clip, "frame": clip.frame, "t": clip.t, "prompt": clip.prompt, "tag_seconds": clip.tag_seconds,
        "context": clip.context, "passes": [list(b.shape) for b in clip.bits],
    }
    return _record(body, b"".join(_pack(b) for b in clip.bits))


class BitsWriter:
    """Appends clips to a bits file. The file appears with its header; each `append` adds one synced record."""

    def __init__(self, path: str | Path, header: BitsHeader) -> None:
        self.path = Path(path)
        with atomic_writer(self.path) as f:
            f.write(MAGIC + _record(header.to_json()))
        self._file: BinaryIO | None = open(self.path, "ab")  # noqa: SIM115 - held open across appends, closed below

    def append(self, clip: ClipBits) -> None:
        if self._file is None:
            raise ValueError(f"{self.path} is closed")
        self._file.write(_clip_record(clip))
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
            fsync_dir(self.path.parent)

    def __enter__(self) -> BitsWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_bits(path: str | Path, header: BitsHeader, clips: Sequence[ClipBits]) -> None:
    """A whole bits file at once (atomically): a few clips, like those a clip's own file holds."""
    with atomic_writer(path) as f:
        f.write(MAGIC + _record(header.to_json()) + b"".join(_clip_record(c) for c in clips))


@dataclass
class _Entry:
    body: dict[str, Any]
    text: bytes
    offset: int  # of the payload
    size: int


def _entries(path: Path) -> list[_Entry]:
    """Every complete record of `path` (a cut-off last one is left out), payloads unread (and unchecked)."""
    try:
        f = open(path, "rb")  # noqa: SIM115 - closed below
    except OSError as err:
        raise PipelineInputError(f"cannot read the bits file {path}: {err.strerror or err}") from None
    with f:
        size = os.fstat(f.fileno()).st_size
        if f.read(len(MAGIC)) != MAGIC:
            raise PipelineInputError(f"{path} is not a bits file (it does not start with {MAGIC!r})")
        entries = []
        while True:
            start = f.tell()
            head = f.read(_LENGTHS.size)
            if len(head) < _LENGTHS.size:
                break
            text_len, payload_len = _LENGTHS.unpack(head)
            end = start + _LENGTHS.size + text_len + payload_len + _CRC.size
            if text_len > MAX_JSON_BYTES or end > size:
                break  # cut off while it was written
            text = f.read(text_len)
            try:
                body = loads_limited(text, f"record {len(entries)} of {path}", max_bytes=MAX_JSON_BYTES)
            except json.JSONDecodeError:
                raise PipelineInputError(f"{path} is damaged: record {len(entries)} is not JSON") from None
            entries.append(_Entry(body, text, f.tell(), payload_len))
            f.seek(end)
    if not entries:
        raise PipelineInputError(f"{path} holds no header: the file was cut off while it was first written")
    return entries


def _clip(path: Path, f: BinaryIO, entry: _Entry) -> ClipBits:
    f.seek(entry.offset)
    payload = f.read(entry.size)
    (stored,) = _CRC.unpack(f.read(_CRC.size))
    if stored != zlib.crc32(payload, zlib.crc32(entry.text)):
        raise PipelineInputError(f"{path} is damaged: the record of clip {entry.body.get('clip')} fails its checksum")
    body = entry.body
    try:
        bits, at = [], 0
        for shape in body["passes"]:
            packed = (*(int(n) for n in shape[:-1]), int(shape[-1]) // 8)
            size = int(np.prod(packed))
            raw = np.frombuffer(payload, dtype=np.uint8, count=size, offset=at).reshape(packed)
            bits.append(torch.from_numpy(np.unpackbits(raw, axis=-1)))
            at += size
        return ClipBits(int(body["clip"]), int(body["frame"]), int(body["t"]), body["prompt"],
                        int(body["tag_seconds"]), bits, bool(body["context"]))
    except (KeyError, TypeError, ValueError):
        raise PipelineInputError(f"{path}: a clip record does not say its clip, frames, prompt and passes") from None


def read_bits(path: str | Path, last: int | None = None) -> tuple[BitsHeader, list[ClipBits]]:
    """The header and the clips of `path` (only the `last` ones: continuing reads the end of a long video)."""
    path = Path(path)
    entries = _entries(path)
    try:
        header = BitsHeader.from_json(entries[0].body, f"the header of {path}")
    except RecordError as err:
        raise PipelineInputError(str(err)) from None
    records = entries[1:]
    if last is not None:
        records = records[-last:] if last else []
    with open(path, "rb") as f:
        return header, [_clip(path, f, e) for e in records]


def legacy_clips(path: str | Path, cfg: ScheduleConfig) -> tuple[BitsHeader, list[ClipBits]]:
    """The header and clips of a `.bits.safetensors` file of the older format: every pass of a whole video, its
    length, aspect and per-clip prompts in the metadata."""
    file = SafetensorsFile.open(path)
    passes = len(file.entries)
    names_ok = passes and sorted(file.entries) == [f"pass_{i:04d}" for i in range(passes)]
    if not names_ok or any(e.dtype != torch.uint8 for e in file.entries.values()):
        raise PipelineInputError(f"{file.path} holds no generation bits (uint8 tensors pass_0000, pass_0001, ...)")
    meta = file.metadata
    try:
        seconds, aspect = int(meta["seconds"]), float(meta["aspect_h_over_w"])
        prompts = loads_limited(meta["prompts"], "its prompts")
    except (KeyError, ValueError, TypeError):
        raise PipelineInputError(
            f"{file.path} does not record its video's prompts, length and aspect; it cannot be continued"
        ) from None
    schedule = build_schedule(cfg, seconds, aspect)
    if len(schedule.passes) != passes:
        raise PipelineInputError(f"{file.path} holds {passes} passes; a {seconds} s video has {len(schedule.passes)}")
    bits = [torch.from_numpy(np.unpackbits(file.read(f"pass_{i:04d}").numpy(), axis=-1)) for i in range(passes)]
    clips = []
    for clip, (start, _) in enumerate(schedule.clip_spans):
        own = [bits[p.index] for p in schedule.clip_passes(clip)]
        prompt = prompts[max(clip - 1, 0)] if prompts else None
        clips.append(ClipBits(clip, start, schedule.clip_lengths[clip], prompt, seconds, own))
    return BitsHeader(str(meta.get("model", "")), schedule.aspect, cfg.fps), clips
