"""The model store: installed models under one root, each a folder with its files and `manifest.json`.

Installing writes a model completely or not at all; loading goes through `resolve`, which never hands out a
file whose size or content differs from the manifest (content is re-hashed only when size or mtime changed).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from engine.api.install_events import InstallStep
from engine.config import Preset, get_preset
from engine.file_hash import sha256_file
from engine.home import studio_home
from engine.weights.catalogue import CATALOGUE, CatalogueEntry
from engine.weights.manifest import (
    MANIFEST,
    QUANTIZED_DIR,
    TEXT_ENCODER_DIR,
    FileEntry,
    Manifest,
    ModelStoreError,
    Variant,
    load_manifest,
)
from engine.weights.staging import STAGING_PREFIX

BUILTIN_ROOT = Path(__file__).resolve().parents[2] / "resources" / "models"


def default_root() -> Path:
    return studio_home() / "models"


def print_step(step: InstallStep) -> None:
    """The default progress of an install or download: each step's line, as it starts."""
    print(step.describe(), flush=True)


@dataclass(frozen=True)
class ResolvedModel:
    """Checked paths of one installed model at one precision, ready for the loaders."""

    model_id: str
    preset: Preset
    precision: str
    transformer: Path  # the release's shard index, or a quantised checkpoint's folder (for load_quantized)
    vae: Path  # converted safetensors
    text_encoder: Path | None  # the T5 folder; None for presets without a text encoder
    manifest: Manifest
    preview: Path | None = None  # the latent -> RGB preview map (engine/model/preview.py), when the model has one


@dataclass(frozen=True)
class InstalledModel:
    model_id: str
    preset: str
    variants: list[str]  # precisions, the release's first
    bytes_on_disk: int
    verified: bool  # every file has the size and mtime it had when its sha256 was last confirmed


@dataclass(frozen=True)
class Problem:
    path: str
    what: str


class ModelStore:
    """The models under `root` (default: `default_root()`).

    Install, download and quantize import torch and huggingface_hub when called, so listing stays quick.
    """

    def __init__(self, root: Path | None = None, builtin_root: Path = BUILTIN_ROOT) -> None:
        self.root = Path(root) if root is not None else default_root()
        self.builtin_root = builtin_root

    def is_builtin(self, model_id: str) -> bool:
        """Shipped with the studio (resources/models), read-only; a model installed under the same id wins."""
        return not (self.root / model_id).exists() and (self.builtin_root / model_id / MANIFEST).is_file()

    def entry(self, model_id: str) -> CatalogueEntry:
        try:
            return CATALOGUE[model_id]
        except KeyError:
            raise ModelStoreError(f"unknown model {model_id!r}; known models: {', '.join(CATALOGUE)}") from None

    def folder(self, model_id: str) -> Path:
        self.entry(model_id)
        return self.builtin_root / model_id if self.is_builtin(model_id) else self.root / model_id

    def manifest(self, model_id: str) -> Manifest:
        folder = self.folder(model_id)
        if not folder.is_dir():
            raise ModelStoreError(
                f"{model_id} is not installed; install it with `istar models install {model_id} --from DIR` "
                f"or `istar models download {model_id}`"
            )
        return load_manifest(folder)

    def installed(self) -> list[InstalledModel]:
        out = []
        for model_id in CATALOGUE:
            folder = self.folder(model_id)
            if not (folder / MANIFEST).is_file():
                continue
            m = load_manifest(folder)
            variants = [m.release_precision] + [v for v in m.variants if v != m.release_precision]
            size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
            # built-in files carry checkout mtimes, so their sha256 is checked each time (tens of MB)
            verified = not self.verify(model_id) if self.is_builtin(model_id) else all(
                _unchanged(folder / f.path, f) for f in m.files
            )
            out.append(InstalledModel(model_id, m.preset, variants, size, verified))
        return out

    def interrupted(self) -> list[str]:
        """Models whose install stopped halfway (running it again resumes)."""
        if not self.root.is_dir():
            return []
        return sorted(p.name.removeprefix(STAGING_PREFIX) for p in self.root.glob(f"{STAGING_PREFIX}*"))

    def install(self, model_id: str, source: Path, progress: Callable[[InstallStep], None] = print_step) -> Manifest:
        from engine.weights.install import install_from_folder

        return install_from_folder(self._new(model_id), source, self.root, progress)

    def download(self, model_id: str, revision: str | None = None,
                 progress: Callable[[InstallStep], None] = print_step) -> Manifest:
        from engine.weights.download import download

        if self.entry(model_id).builtin:
            raise ModelStoreError(f"{model_id} ships with the studio in {self.builtin_root}; nothing to download")
        return download(self._new(model_id), self.root, revision, progress)

    def _new(self, model_id: str) -> CatalogueEntry:
        """The catalogue entry of a model about to be installed; refuses one that is installed already."""
        entry = self.entry(model_id)
        if (self.root / model_id).exists():
            raise ModelStoreError(f"{model_id} is already installed in {self.root / model_id}; "
                                  f"run `istar models remove {model_id}` first to install it again")
        self.root.mkdir(parents=True, exist_ok=True)
        return entry

    def verify(self, model_id: str) -> list[Problem]:
        """Re-hash every file; each missing, truncated, changed or unlisted file is one problem."""
        m = self.manifest(model_id)
        folder = self.folder(model_id)
        confirmed = _mtimes(m)
        problems = [Problem(f.path, what) for f in m.files if (what := _check(folder / f.path, f, full=True))]
        listed = {f.path for f in m.files} | {MANIFEST}
        problems += [
            Problem(rel, "is not part of this model (not in its manifest)")
            for p in sorted(folder.rglob("*"))
            if p.is_file() and (rel := p.relative_to(folder).as_posix()) not in listed
        ]
        if _mtimes(m) != confirmed and not self.is_builtin(model_id):
            m.save(folder)
        return problems

    def remove(self, model_id: str) -> int:
        """Delete the model's folder (and any interrupted install of it); returns the bytes freed."""
        if self.is_builtin(model_id):
            raise ModelStoreError(f"{model_id} ships with the studio ({self.folder(model_id)}) and cannot be removed")
        folders = [p for p in (self.folder(model_id), self.root / f"{STAGING_PREFIX}{model_id}") if p.exists()]
        if not folders:
            raise ModelStoreError(f"{model_id} is not installed in {self.root}")
        freed = sum(p.stat().st_size for folder in folders for p in folder.rglob("*") if p.is_file())
        for folder in folders:
            shutil.rmtree(folder)
        return freed

    def resolve(self, model_id: str, precision: str | None = None) -> ResolvedModel:
        """The model's paths at `precision` (default: the release's), after checking every file it needs."""
        m = self.manifest(model_id)
        precision = precision or m.release_precision
        variant = m.variants.get(precision)
        if variant is None:
            raise ModelStoreError(
                f"{model_id} has no {precision} variant; installed: {', '.join(m.variants)} "
                f"(make one with `istar models quantize {model_id} --precision {precision}`)"
            )
        folder = self.folder(model_id)
        confirmed = _mtimes(m)
        for f in m.variant_files(precision):
            what = _check(folder / f.path, f, full=False)
            if what:
                raise ModelStoreError(
                    f"{model_id}: {f.path} {what}; refusing to load it. "
                    f"Run `istar models verify {model_id}`, then remove and install the model again"
                )
        if _mtimes(m) != confirmed and not self.is_builtin(model_id):
            m.save(folder)
        text_encoder = folder / TEXT_ENCODER_DIR if any(f.role == "text_encoder" for f in m.files) else None
        vae = next(f for f in m.files if f.role == "vae")
        preview = next((folder / f.path for f in m.files if f.role == "preview"), None)
        return ResolvedModel(
            model_id, get_preset(m.preset), precision, folder / variant.entry, folder / vae.path, text_encoder, m,
            preview,
        )

    def quantize(self, model_id: str, precision: str, double_quant: bool = True, device: str = "cpu") -> Manifest:
        """Quantise the release's transformer once and record the result as a variant of the model. `device` is
        where each layer is quantised (a GPU does it in a fraction of a CPU's time); the file has the same format."""
        from engine.weights.quantize import quantize_checkpoint

        if self.is_builtin(model_id):
            raise ModelStoreError(f"{model_id} ships with the studio and is read-only; it runs at its own precision")
        release = self.resolve(model_id)
        m, folder = release.manifest, self.root / model_id
        work = folder / f".quantizing-{precision}"
        target = folder / QUANTIZED_DIR / precision
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir()
        try:
            written = quantize_checkpoint(release.transformer, release.preset.transformer, precision, work,
                                          double_quant, device)
            self._drop_variant(m, folder, precision)
            target.parent.mkdir(exist_ok=True)
            os.replace(work, target)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        for path in (target / p.relative_to(work) for p in written):
            st = path.stat()
            rel = path.relative_to(folder).as_posix()
            m.files.append(FileEntry(rel, "quantized", st.st_size, sha256_file(path), precision, st.st_mtime_ns))
        nested = double_quant if precision == "nf4" else None
        m.variants[precision] = Variant(target.relative_to(folder).as_posix(), m.release_precision, nested)
        m.save(folder)
        return m

    def _drop_variant(self, m: Manifest, folder: Path, precision: str) -> None:
        """Forget an older quantised variant in the manifest first, then delete its files."""
        if precision not in m.variants:
            return
        del m.variants[precision]
        m.files = [f for f in m.files if f.variant != precision]
        m.save(folder)
        shutil.rmtree(folder / QUANTIZED_DIR / precision, ignore_errors=True)


def resolve(model_id: str, precision: str | None = None) -> ResolvedModel:
    """`ModelStore().resolve` on the default store."""
    return ModelStore().resolve(model_id, precision)


def _unchanged(path: Path, f: FileEntry) -> bool:
    try:
        st = path.stat()
    except OSError:
        return False
    return st.st_size == f.bytes and st.st_mtime_ns == f.mtime_ns


def _mtimes(m: Manifest) -> list[int | None]:
    return [f.mtime_ns for f in m.files]


def _check(path: Path, f: FileEntry, full: bool) -> str | None:
    """What is wrong with one file, or None; a file whose sha256 was just confirmed gets its new mtime in `f`.

    `full=False` trusts a file whose size and mtime are as recorded and re-hashes only the others.
    """
    try:
        st = path.stat()
    except FileNotFoundError:
        return f"is missing (expected {f.bytes:,} bytes)"
    if not path.is_file():
        return "is not a file"
    if st.st_size < f.bytes:
        return f"is truncated: {st.st_size:,} of {f.bytes:,} bytes"
    if st.st_size > f.bytes:
        return f"is {st.st_size:,} bytes, expected {f.bytes:,} (a different file?)"
    if not full and st.st_mtime_ns == f.mtime_ns:
        return None
    digest = sha256_file(path)
    if digest != f.sha256:
        return f"does not match its sha256 (expected {f.sha256}, found {digest}): corrupt, or a different file"
    f.mtime_ns = st.st_mtime_ns
    return None
