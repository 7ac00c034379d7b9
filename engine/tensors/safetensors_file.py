"""Read and write safetensors files with bounded memory.

Reading uses plain file reads into tensors allocated at their final dtype (no mmap), so a process
loading a checkpoint holds the model's bytes plus one bounded staging buffer, not a second copy of
the file in mapped pages. Every header is checked against the file's size before any tensor is
allocated: a truncated or foreign file fails at open with its name.
"""

from __future__ import annotations

import json
import math
import os
import re
import struct
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import save_file

from engine.api.json_text import loads_limited
from engine.atomic import fsync_dir
from engine.tensors.errors import CheckpointError
from engine.tensors.validate import dims

DTYPES = {
    "F64": torch.float64,
    "F32": torch.float32,
    "F16": torch.float16,
    "BF16": torch.bfloat16,
    "I64": torch.int64,
    "I32": torch.int32,
    "I16": torch.int16,
    "I8": torch.int8,
    "U8": torch.uint8,
    "BOOL": torch.bool,
}
MAX_HEADER_BYTES = 100 * 2**20
STAGING_BYTES = 64 * 2**20  # dtype conversion streams through a buffer of this size


@dataclass(frozen=True)
class TensorEntry:
    name: str
    dtype: torch.dtype
    shape: tuple[int, ...]
    offset: int  # absolute byte offset of the data in the file
    nbytes: int


class SafetensorsFile:
    """The header of one safetensors file, validated; tensors are read on demand."""

    def __init__(self, path: Path, entries: dict[str, TensorEntry], metadata: dict[str, str]) -> None:
        self.path = path
        self.entries = entries
        self.metadata = metadata

    @classmethod
    def open(cls, path: str | Path) -> SafetensorsFile:
        path = Path(path)
        if not path.is_file():
            raise CheckpointError(f"{path} does not exist")
        size = path.stat().st_size
        with open(path, "rb") as f:
            prefix = f.read(8)
            if len(prefix) < 8:
                raise CheckpointError(f"{path} is {size} bytes: too short to be a safetensors file")
            (header_len,) = struct.unpack("<Q", prefix)
            if header_len > min(MAX_HEADER_BYTES, size - 8):
                raise CheckpointError(
                    f"{path} is not a safetensors file (its first 8 bytes announce a {header_len}-byte header "
                    f"in a {size}-byte file)"
                )
            raw = f.read(header_len)
        try:
            header = loads_limited(raw, "the header", max_bytes=MAX_HEADER_BYTES)
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise CheckpointError(f"{path} is not a safetensors file: its header is not JSON ({err})") from None
        if not isinstance(header, dict):
            raise CheckpointError(f"{path} is not a safetensors file: its header is not a JSON object")
        metadata = header.pop("__metadata__", None) or {}
        data_start = 8 + header_len
        entries = {name: _entry(path, name, info, data_start) for name, info in header.items()}
        end = max((e.offset + e.nbytes for e in entries.values()), default=data_start)
        if end > size:
            raise CheckpointError(
                f"{path} is truncated: it is {size:,} bytes but its header describes {end:,} bytes of tensors"
            )
        return cls(path, entries, metadata)

    def shapes(self) -> dict[str, tuple[int, ...]]:
        return {name: e.shape for name, e in self.entries.items()}

    @property
    def data_bytes(self) -> int:
        return sum(e.nbytes for e in self.entries.values())

    def read(
        self, name: str, dtype: torch.dtype | None = None, device: str | torch.device = "cpu"
    ) -> torch.Tensor:
        """One tensor, converted to `dtype` on the way in (through a bounded buffer), then moved to `device`."""
        entry = self.entries[name]
        dtype = dtype or entry.dtype
        with open(self.path, "rb") as f:
            f.seek(entry.offset)
            if dtype == entry.dtype:
                out = torch.empty(entry.nbytes, dtype=torch.uint8)
                _read_into(f, out, self.path, name)
                out = out.view(entry.dtype)
            else:
                out = _read_converted(f, entry, dtype, self.path)
        out = out.reshape(entry.shape)
        return out if torch.device(device).type == "cpu" else out.to(device)


def _entry(path: Path, name: str, info: object, data_start: int) -> TensorEntry:
    where = f"{path}: tensor {name!r}"
    if not isinstance(info, dict) or not {"dtype", "shape", "data_offsets"} <= info.keys():
        raise CheckpointError(f"{where} has no dtype, shape and data_offsets in the header")
    if info["dtype"] not in DTYPES:
        raise CheckpointError(f"{where} has dtype {info['dtype']!r}; supported: {', '.join(DTYPES)}")
    shape, offsets = info["shape"], info["data_offsets"]
    ok = isinstance(shape, list) and all(isinstance(s, int) and s >= 0 for s in shape)
    ok = ok and isinstance(offsets, list) and len(offsets) == 2 and all(isinstance(o, int) for o in offsets)
    if not ok:
        raise CheckpointError(f"{where} has a malformed shape or data_offsets in the header")
    dtype = DTYPES[info["dtype"]]
    nbytes = math.prod(shape) * dtype.itemsize
    begin, end = offsets
    if begin < 0 or end - begin != nbytes:
        raise CheckpointError(f"{where} is {dims(shape)} {info['dtype']} ({nbytes} bytes) but spans {end - begin}")
    return TensorEntry(name, dtype, tuple(shape), data_start + begin, nbytes)


def _read_into(f, out: torch.Tensor, path: Path, name: str) -> None:
    view = memoryview(out.numpy()).cast("B")
    done = 0
    while done < len(view):
        got = f.readinto(view[done:])
        if not got:
            raise CheckpointError(f"{path} ended inside tensor {name!r}: the file was truncated while being read")
        done += got


def _read_converted(f, entry: TensorEntry, dtype: torch.dtype, path: Path) -> torch.Tensor:
    out = torch.empty(entry.nbytes // entry.dtype.itemsize, dtype=dtype)
    step = max(1, STAGING_BYTES // entry.dtype.itemsize)
    staging = torch.empty(min(step, out.numel()) * entry.dtype.itemsize, dtype=torch.uint8)
    for start in range(0, out.numel(), step):
        count = min(step, out.numel() - start)
        chunk = staging[: count * entry.dtype.itemsize]
        _read_into(f, chunk, path, entry.name)
        out[start : start + count] = chunk.view(entry.dtype)
    return out


def _own_storages(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """safetensors refuses tensors that share memory (fused projections, the VAE's two quantizer names):
    a tensor that is a view, or whose storage an earlier tensor already uses, is stored as its own copy."""
    seen: set[int] = set()
    out = {}
    for name, t in tensors.items():
        t = t.detach().cpu().contiguous()
        ptr = t.untyped_storage().data_ptr()
        whole = t.untyped_storage().nbytes() == t.nbytes and t.storage_offset() == 0
        out[name] = t if whole and ptr not in seen else t.clone()
        seen.add(ptr)
    return out


def save_safetensors(
    tensors: dict[str, torch.Tensor], path: str | Path, metadata: dict[str, str] | None = None
) -> None:
    """Write atomically: a temp file in the same folder, fsync, rename. Tensors are stored contiguous.

    A failed write (a full disk, a read-only folder) raises OSError naming `path`, whatever layer failed."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        try:
            save_file(_own_storages(tensors), str(tmp), metadata=metadata)
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except (OSError, SafetensorError) as err:
            raise _write_error(err, path) from err
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def _write_error(err: OSError | SafetensorError, path: Path) -> Exception:
    """An OSError naming `path` for a failed write. safetensors reports I/O errors as SafetensorError('... (os
    error 28)') and a failed write() carries no file name; either would reach the user without the path."""
    if isinstance(err, OSError):
        code, cause = err.errno, err.strerror
    else:
        found = re.search(r"\(os error (\d+)\)", str(err))
        if found is None:
            return err
        code = int(found.group(1))
        cause = os.strerror(code)
    if code is None:
        return err
    return OSError(code, cause or os.strerror(code), str(path))
