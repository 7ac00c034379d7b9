"""The files of the jobs that clients of `istar serve` submit, in the engine's own folder: no path from the network.

A network client sends each input file in `upload` chunks; the engine keeps it by its SHA-256 (the same file sent
twice is kept once) and a job names it `upload:<sha256><suffix>`. A job's output goes to a folder of the engine's
choosing, under the file name the client gave, and every output file goes back to the client in `file_data` chunks
just before the event that names it, named by its path relative to that folder.

    <jobs folder>/uploads/<sha256><suffix>   input files
    <jobs folder>/jobs/<key>/out.mp4, ...     a job's video, bits and clips; key: from the job id

`JobsFolder.sweep` removes what has not been used for the folder's keep time, except the files of queued and
running jobs. Error messages going back to a client name its own file names, never the engine's paths.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import dataclasses
import hashlib
import logging
import os
import re
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from engine.api import protocol as p
from engine.api.jobs import JobInputError, JobSpec
from engine.api.remote_files import INPUT_FIELDS, upload_suffix
from engine.atomic import fsync_dir, temp_path

log = logging.getLogger("istar.engine")
MAX_UPLOAD_BYTES = 16 * 1024**3  # the longest video a bridge could head for is far smaller
MAX_OPEN_UPLOADS = 8  # uploads one connection may have begun and not finished
DEFAULT_KEEP_HOURS = 24.0
_SHA256 = re.compile(r"[0-9a-f]{64}")
_REFERENCE = re.compile(re.escape(p.UPLOAD_PREFIX) + r"([0-9a-f]{64})((?:\.[a-z0-9]{1,12}){0,2})")
_OUTPUT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._()+-]{0,150}\.mp4")
FILE_EVENTS = (p.ClipReady, p.Finished, p.Failed, p.Cancelled)


class UploadError(ValueError):
    """An upload that cannot be taken; the message names the file as the client named it."""


class JobsFolder:
    """The engine's folder for its network clients' files. `keep_seconds`: how long a file not used is kept."""

    def __init__(self, root: Path, keep_seconds: float, clock: Callable[[], float] = time.time) -> None:
        self.root = root
        self.keep_seconds = keep_seconds
        self._clock = clock
        self.uploads = root / "uploads"
        self.jobs = root / "jobs"
        for folder in (root, self.uploads, self.jobs):
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)

    def upload(self, sha256: str, suffix: str) -> Path:
        return self.uploads / f"{sha256}{suffix}"

    def job_folder(self, job_id: str) -> Path:
        """A job's own folder: named from its id, so the same job submitted by two connections shares it."""
        return self.jobs / hashlib.sha256(job_id.encode()).hexdigest()[:32]

    def touch(self, path: Path) -> None:
        """Mark `path` used now, so a sweep keeps it for the keep time from now."""
        now = self._clock()
        with contextlib.suppress(OSError):
            os.utime(path, (now, now))

    def sweep(self, busy: Iterable[Path] = ()) -> list[Path]:
        """Remove the uploads and job folders not used for the keep time, except `busy` ones; the removed paths."""
        keep = {Path(b) for b in busy}
        oldest = self._clock() - self.keep_seconds
        removed = []
        for folder in (self.uploads, self.jobs):
            try:
                entries = list(os.scandir(folder))
            except OSError as err:
                log.warning("cannot look in %s: %s", folder, err)
                continue
            for entry in entries:
                path = Path(entry.path)
                if path in keep or _last_used(entry) > oldest:
                    continue
                try:
                    if entry.is_dir(follow_symlinks=False):
                        shutil.rmtree(path)
                    else:
                        path.unlink()
                except OSError as err:
                    log.warning("cannot remove %s: %s", path, err)
                    continue
                removed.append(path)
        if removed:
            log.info("removed %d served file(s) not used for %g h", len(removed), self.keep_seconds / 3600)
        return removed


def _last_used(entry: os.DirEntry) -> float:
    """The newest modification time of a file, or of a folder and everything in it."""
    try:
        if not entry.is_dir(follow_symlinks=False):
            return entry.stat(follow_symlinks=False).st_mtime
        newest = entry.stat(follow_symlinks=False).st_mtime
        for folder, _, files in os.walk(entry.path):
            for name in files:
                with contextlib.suppress(OSError):
                    newest = max(newest, os.lstat(os.path.join(folder, name)).st_mtime)
        return newest
    except OSError:
        return float("inf")  # cannot tell: keep it


@dataclass
class _Upload:
    name: str
    target: Path
    temp: Path
    file: BinaryIO
    hasher: hashlib._Hash = dataclasses.field(default_factory=hashlib.sha256)
    size: int = 0


@dataclass(frozen=True)
class _Admitted:
    folder: Path  # the job's output folder
    names: dict[str, str]  # server path -> the client's name for it, for messages


class ConnectionFiles:
    """One network connection's side of the jobs folder: its uploads in, its jobs' files out through `send_file(job id,
    name relative to the job's folder, path)`, which sends the file before whatever is sent next."""

    def __init__(self, folder: JobsFolder, send_file: Callable[[str, str, Path], None]) -> None:
        self.folder = folder
        self._send_file = send_file
        self._open: dict[str, _Upload] = {}
        self._names: dict[Path, str] = {}  # uploads this connection sent -> the name it gave them
        self._jobs: dict[str, _Admitted] = {}

    # uploads in

    def receive(self, chunk: p.Upload) -> None:
        """Take one chunk of an upload; UploadError says what is wrong with it (the upload is then dropped)."""
        name = Path(chunk.name).name[:200] or "a file"
        if not _SHA256.fullmatch(chunk.sha256):
            raise UploadError(f"upload of {name}: its sha256 must be 64 lower-case hex digits, "
                              f"got {chunk.sha256!r:.80}")
        try:
            self._take(chunk, name)
        except UploadError:
            self._drop(chunk.sha256)
            raise

    def _take(self, chunk: p.Upload, name: str) -> None:
        try:
            data = base64.b64decode(chunk.data, validate=True)
        except (binascii.Error, ValueError):
            raise UploadError(f"upload of {name}: its data is not base64") from None
        if len(data) > p.CHUNK_BYTES:
            raise UploadError(f"upload of {name}: a chunk holds at most {p.CHUNK_BYTES} bytes, got {len(data)}")
        upload = self._begin(chunk, name) if chunk.offset == 0 else self._open.get(chunk.sha256)
        if upload is None:
            raise UploadError(f"upload of {name}: a chunk at byte {chunk.offset} of an upload never begun (the first "
                              "chunk is at 0)")
        if chunk.offset != upload.size:
            raise UploadError(f"upload of {name}: a chunk at byte {chunk.offset}, expected {upload.size}")
        if upload.size + len(data) > MAX_UPLOAD_BYTES:
            raise UploadError(f"upload of {name}: over the limit of {MAX_UPLOAD_BYTES // 1024**3} GiB for one file")
        try:
            upload.file.write(data)
        except OSError as err:
            raise _cannot_store(name, err) from None
        upload.hasher.update(data)
        upload.size += len(data)
        if chunk.last:
            self._finish(chunk.sha256)

    def _begin(self, chunk: p.Upload, name: str) -> _Upload:
        self._drop(chunk.sha256)
        if len(self._open) >= MAX_OPEN_UPLOADS:
            raise UploadError(f"upload of {name}: {MAX_OPEN_UPLOADS} uploads are unfinished; finish one first")
        target = self.folder.upload(chunk.sha256, upload_suffix(name))
        temp = temp_path(target)
        try:
            file = temp.open("xb")
        except OSError as err:
            raise _cannot_store(name, err) from None
        self._open[chunk.sha256] = upload = _Upload(name, target, temp, file)
        return upload

    def _finish(self, sha256: str) -> None:
        upload = self._open.pop(sha256)
        try:
            upload.file.flush()
            os.fsync(upload.file.fileno())
            upload.file.close()
            if upload.hasher.hexdigest() != sha256:
                raise UploadError(f"upload of {upload.name}: its {upload.size} bytes have SHA-256 "
                                  f"{upload.hasher.hexdigest()}, not {sha256} (damaged on the way?)")
            os.replace(upload.temp, upload.target)
            fsync_dir(upload.target.parent)
        except OSError as err:
            raise _cannot_store(upload.name, err) from None
        finally:
            upload.file.close()
            upload.temp.unlink(missing_ok=True)
        self.folder.touch(upload.target)
        self._names[upload.target] = upload.name

    def _drop(self, sha256: str) -> None:
        upload = self._open.pop(sha256, None)
        if upload is not None:
            upload.file.close()
            upload.temp.unlink(missing_ok=True)

    def close(self) -> None:
        """The connection is gone: its unfinished uploads are dropped."""
        for sha256 in list(self._open):
            self._drop(sha256)

    # jobs

    def admit(self, spec: JobSpec) -> JobSpec:
        """`spec` as the engine runs it: its output in the job's own folder, its inputs the uploads they name.
        JobInputError names a field that holds a path, or an upload the engine does not have."""
        if not isinstance(spec.output, str) or not _OUTPUT_NAME.fullmatch(spec.output):
            raise JobInputError(
                f"job field 'output' must be a file name such as clip.mp4 (letters, digits, spaces and ._()+-, ending "
                f"in .mp4): an engine served over the network writes its jobs' files in its own folder and sends them "
                f"back, so it takes no path; got {spec.output!r:.80}", "output")
        names: dict[str, str] = {}
        inputs = {}
        for field in INPUT_FIELDS:
            value = getattr(spec, field)
            if value is not None:
                path = self._uploaded(field, value)
                inputs[field] = str(path)
                names[str(path)] = self._names.get(path, value)
        folder = self.folder.job_folder(spec.id)
        try:
            folder.mkdir(mode=0o700, exist_ok=True)
        except OSError as err:
            raise JobInputError(f"the engine cannot make a folder for the job's files ({err.strerror or err})") \
                from None
        self.folder.touch(folder)
        self._jobs[spec.id] = _Admitted(folder, names)
        return dataclasses.replace(spec, output=str(folder / spec.output), **inputs)

    def _uploaded(self, field: str, value: str) -> Path:
        match = _REFERENCE.fullmatch(value)
        if match is None:
            raise JobInputError(
                f"job field {field!r} must name a file sent in upload messages, as upload:<sha256><suffix>: an engine "
                f"served over the network reads no path of its clients, got {value!r:.80}", field)
        path = self.folder.upload(match[1], match[2])
        if not path.is_file():
            raise JobInputError(f"job field {field!r} names {value[:90]}, which this engine does not have: send the "
                                "file in upload messages first", field)
        self.folder.touch(path)
        return path

    # events out

    def outgoing(self, message: p.Message) -> p.Message:
        """`message` as the client gets it: the files it names sent first (through `send_file`), and named by their
        paths relative to the job's folder; a failure's text names the client's files, not the engine's paths."""
        if not isinstance(message, FILE_EVENTS) or message.job_id is None:
            return message
        admitted = self._jobs.get(message.job_id)
        if admitted is None:
            return message
        changes: dict[str, str | None] = {}
        for field in ("video", "bits"):
            path = getattr(message, field)
            if path is not None:
                changes[field] = self._send(message.job_id, admitted.folder, Path(path))
        if isinstance(message, p.Failed):
            changes["message"] = _private(message.message, admitted)
            changes["hint"] = _private(message.hint, admitted)
        if isinstance(message, p.TERMINAL):
            del self._jobs[message.job_id]
        return dataclasses.replace(message, **changes)

    def _send(self, job_id: str, folder: Path, path: Path) -> str | None:
        try:
            name = path.relative_to(folder).as_posix()
        except ValueError:
            log.error("job %s named %s, outside its folder %s: not sent", job_id, path, folder)
            return None
        self._send_file(job_id, name, path)
        return name


def _cannot_store(name: str, err: OSError) -> UploadError:
    return UploadError(f"upload of {name}: the engine cannot store it ({err.strerror or err})")


def _private(text: str, admitted: _Admitted) -> str:
    """`text` with the engine's paths of a job's files replaced by the names its client knows them by."""
    for path, name in admitted.names.items():
        text = text.replace(path, name)
    return text.replace(str(admitted.folder) + os.sep, "")
