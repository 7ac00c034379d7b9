"""The client's side of an engine served over the network: its jobs' files go there and come back over the connection.

A job for such an engine names no path. Before it is submitted, each of its input files (first frame, bits to
continue, video to bridge to, text features) is sent in upload messages and the job names it by its SHA-256; its
output is named by file name only. The engine sends every output file in file_data chunks before the event that
names it; each lands, whole or not at all, where the job would have written it on a local engine (beside the job's
`output`, under the same names), and the event reaches the studio with those local paths, so nothing else can tell
a served engine from a local one. The engine never chooses a path here: a name that is not one of the job's own
files is refused.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import dataclasses
import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from engine.api import protocol as p
from engine.api.jobs import JobInputError, JobSpec
from engine.atomic import clean_stale_temps, fsync_dir, temp_path
from engine.file_hash import sha256_file

log = logging.getLogger("istar.client")
INPUT_FIELDS = ("image", "continue_from", "bridge_to", "text_features")
_CLIP_FILE = re.compile(r"clip_\d{2,6}\.(?:mp4|bits)")
_SUFFIX = re.compile(r"(?:\.[a-z0-9]{1,12}){0,2}")
# the names of a generated video's companions (out.bits, out.clips/): the client accepts only these from an engine,
# and engine.media.layout writes them
BITS_SUFFIX = ".bits"
CLIPS_SUFFIX = ".clips"


def upload_suffix(name: str) -> str:
    """The suffix an uploaded file keeps, from its name: up to two, lower case (`clip.bits.safetensors` ->
    `.bits.safetensors`), none when they are not plain. The engine stores the file under it: readers tell formats
    apart by it."""
    suffixes = "".join(Path(name).suffixes[-2:]).lower()
    return suffixes if _SUFFIX.fullmatch(suffixes) else ""


def job_file(output: Path, name: str) -> Path | None:
    """Where the file an engine names `name` (`out.mp4`, `out.bits`, `out.clips/clip_01.mp4`) lands for a job whose
    output is `output`: beside it, under one of the names its companions have; None for any other name."""
    stem = output.stem
    parts = name.split("/")
    ours = (name in (output.name, stem + BITS_SUFFIX)
            or len(parts) == 2 and parts[0] == stem + CLIPS_SUFFIX and _CLIP_FILE.fullmatch(parts[1]))
    return output.parent.joinpath(*parts) if ours else None


@dataclass
class _Incoming:
    target: Path
    temp: Path
    file: BinaryIO
    size: int = 0


class RemoteFiles:
    """Files to and from one served engine, for the jobs submitted through `submit` on the connection `send` writes."""

    def __init__(self, send: Callable[[bytes], None], where: str) -> None:
        self._send = send
        self._where = where  # the engine's address, for messages
        self._outputs: dict[str, Path] = {}  # job id -> its output on this machine
        self._incoming: dict[tuple[str, str], _Incoming] = {}
        self._arrived: dict[tuple[str, str], Path] = {}
        self._lost: dict[tuple[str, str], str] = {}  # why a file did not arrive

    def submit(self, spec: JobSpec) -> p.Submit:
        """The Submit for `spec`, its input files uploaded first. JobInputError names an input that cannot be read."""
        body = spec.to_json()
        for field in INPUT_FIELDS:
            value = getattr(spec, field)
            if value is not None:
                body[field] = self.upload(field, Path(value))
        output = Path(spec.output)
        body["output"] = output.name
        self._outputs[spec.id] = output
        for folder in (output.parent, output.with_name(output.stem + CLIPS_SUFFIX)):  # what killed clients left
            clean_stale_temps(folder)
        return p.Submit(body)

    def upload(self, field: str, path: Path) -> str:
        """Send the file at `path` in upload messages; the name a job gives it."""
        try:
            sha256 = sha256_file(path)
            with path.open("rb") as f:
                for offset, data, last in p.file_chunks(f):
                    self._send(p.encode(p.Upload(sha256, path.name, offset, data, last)))
        except OSError as err:
            raise JobInputError(f"job field {field!r}: cannot read {path} to send it to the engine at {self._where} "
                                f"({err.strerror or err})", field) from None
        return p.upload_reference(sha256, upload_suffix(path.name))

    def arrived(self, message: p.Message) -> p.Message | None:
        """`message` as the studio gets it, with the paths of the files on this machine; None for a file_data chunk,
        which is taken in here. An event whose clip did not arrive is dropped; a job whose video did not arrive
        fails, saying why."""
        if isinstance(message, p.FileData):
            self._take(message)
            return None
        if not isinstance(message, p.ClipReady | p.Finished | p.Failed | p.Cancelled) or message.job_id is None:
            return message
        job_id = message.job_id
        changes, lost = {}, []
        for field in ("video", "bits"):
            name = getattr(message, field)
            if name is None:
                continue
            local = self._arrived.pop((job_id, name), None)
            if local is None:
                lost.append(self._lost.pop((job_id, name), f"{name} never came"))
            changes[field] = None if local is None else str(local)
        if isinstance(message, p.TERMINAL):
            self._forget(job_id)
        if not lost:
            return dataclasses.replace(message, **changes)
        reason = f"the engine at {self._where} made it, but {'; '.join(lost)}"
        log.warning("job %s: %s", job_id, reason)
        if isinstance(message, p.ClipReady):
            return None  # the whole video comes at the end
        if isinstance(message, p.Finished):
            return p.Failed(job_id, "crashed", f"the video did not arrive: {reason}", "run the job again")
        return dataclasses.replace(message, video=None, bits=None)

    def _take(self, chunk: p.FileData) -> None:
        key = (chunk.job_id, chunk.name)
        if key in self._lost:
            return
        try:
            incoming = self._incoming.get(key) or self._begin(chunk)
            if chunk.missing:
                raise _Lost(f"the engine could not send {chunk.name}: {chunk.missing}")
            if chunk.offset != incoming.size:
                raise _Lost(f"{chunk.name} came with a piece at byte {chunk.offset}, expected {incoming.size}")
            try:
                data = base64.b64decode(chunk.data, validate=True)
            except (binascii.Error, ValueError):
                raise _Lost(f"{chunk.name} came with a piece that is not base64") from None
            incoming.file.write(data)
            incoming.size += len(data)
            if chunk.last:
                self._finish(key, incoming)
        except _Lost as lost:
            self._drop(key)
            self._lost[key] = str(lost)
        except (OSError, ValueError) as err:  # ValueError: the connection closed under it
            self._drop(key)
            self._lost[key] = f"{chunk.name} could not be written here ({getattr(err, 'strerror', None) or err})"

    def _begin(self, chunk: p.FileData) -> _Incoming:
        target = self._target(chunk.job_id, chunk.name)
        if chunk.offset != 0:
            raise _Lost(f"{chunk.name} came without its first piece")
        target.parent.mkdir(exist_ok=True)
        temp = temp_path(target)
        incoming = self._incoming[(chunk.job_id, chunk.name)] = _Incoming(target, temp, temp.open("xb"))
        return incoming

    def _target(self, job_id: str, name: str) -> Path:
        output = self._outputs.get(job_id)
        if output is None:
            raise _Lost(f"{name} came for a job not sent to this engine")
        target = job_file(output, name)
        if target is None:
            raise _Lost(f"the engine named a file {name[:100]!r}, which is not one of the job's files")
        return target

    def _finish(self, key: tuple[str, str], incoming: _Incoming) -> None:
        del self._incoming[key]
        with incoming.file:
            incoming.file.flush()
            os.fsync(incoming.file.fileno())
        os.replace(incoming.temp, incoming.target)
        fsync_dir(incoming.target.parent)
        self._arrived[key] = incoming.target

    def _drop(self, key: tuple[str, str]) -> None:
        incoming = self._incoming.pop(key, None)
        if incoming is not None:
            incoming.file.close()
            with contextlib.suppress(OSError):
                incoming.temp.unlink()

    def _forget(self, job_id: str) -> None:
        for key in [k for k in self._incoming if k[0] == job_id]:
            self._drop(key)
        for table in (self._arrived, self._lost):
            for key in [k for k in table if k[0] == job_id]:
                del table[key]

    def close(self) -> None:
        """The connection is gone: files half received are dropped."""
        for key in list(self._incoming):
            self._drop(key)


class _Lost(Exception):
    pass

