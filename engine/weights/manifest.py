"""`manifest.json` of an installed model: where it came from, every file with its sha256, and its precisions."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from engine.api.json_text import loads_limited
from engine.atomic import write_text_atomic

SCHEMA = 1
MANIFEST = "manifest.json"
ROLES = ("transformer", "vae", "text_encoder", "quantized", "preview")
# Where each role's files sit in a model's folder.
TRANSFORMER_DIR = "transformer"
VAE_SAFETENSORS = "vae/infinitystar_videovae.safetensors"
TEXT_ENCODER_DIR = "text_encoder"
QUANTIZED_DIR = "quantized"


class ModelStoreError(ValueError):
    """The model store cannot do what was asked; the message names the model, the file and what was expected."""


@dataclass
class FileEntry:
    """One file of a model. `mtime_ns` is the file's mtime when its size and sha256 were last confirmed."""

    path: str  # relative to the model folder, '/'-separated
    role: str
    bytes: int
    sha256: str
    variant: str | None = None  # transformer and quantized files: the precision they belong to
    mtime_ns: int | None = None
    converted_from: dict[str, Any] | None = None  # the VAE, torch-format shards: the released file it was made from

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass
class Variant:
    """One precision of the transformer. `entry` is what its loader opens: the shard index, or the folder of a
    quantised checkpoint."""

    entry: str
    quantized_from: str | None = None
    double_quant: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass
class Manifest:
    model_id: str
    preset: str
    source: dict[str, str]  # {"folder": path} or {"repo": owner/name, "revision": commit}
    release_precision: str
    variants: dict[str, Variant]
    files: list[FileEntry] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "id": self.model_id,
            "preset": self.preset,
            "source": self.source,
            "release_precision": self.release_precision,
            "variants": {name: v.to_dict() for name, v in self.variants.items()},
            "files": [f.to_dict() for f in self.files],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Manifest:
        if data.get("schema") != SCHEMA:
            raise ValueError(f"schema {data.get('schema')!r} is not {SCHEMA} (written by another version?)")
        files = [FileEntry(**f) for f in data["files"]]
        bad_roles = sorted({f.role for f in files} - set(ROLES))
        if bad_roles:
            raise ValueError(f"unknown file roles {bad_roles}")
        return cls(
            model_id=data["id"],
            preset=data["preset"],
            source=data["source"],
            release_precision=data["release_precision"],
            variants={name: Variant(**v) for name, v in data["variants"].items()},
            files=files,
        )

    def variant_files(self, precision: str) -> list[FileEntry]:
        """What loading `precision` reads: that variant's files plus the shared VAE, text encoder and preview map."""
        return [f for f in self.files if f.variant == precision or f.role in ("vae", "text_encoder", "preview")]

    def save(self, folder: Path) -> None:
        write_text_atomic(folder / MANIFEST, json.dumps(self.to_dict(), indent=2) + "\n")


def load_manifest(folder: Path) -> Manifest:
    path = folder / MANIFEST
    try:
        return Manifest.from_dict(loads_limited(path.read_text(encoding="utf-8"), "its text"))
    except FileNotFoundError:
        problem = "is missing"
    except KeyError as err:
        problem = f"has no field {err}"
    except (ValueError, TypeError, AttributeError) as err:
        problem = f"is not a readable model manifest ({err})"
    raise ModelStoreError(f"{path} {problem}; remove the model and install it again")
