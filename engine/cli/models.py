"""`istar models ...`: list, install, download, verify, remove and quantise the models in the store."""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.runtime.precision import QUANTIZED_PRECISIONS
from engine.weights.catalogue import CATALOGUE
from engine.weights.manifest import Manifest
from engine.weights.store import ModelStore


def human_bytes(n: int) -> str:
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:.2f} {unit}"
    return f"{n} B"


def _list(args: argparse.Namespace) -> int:
    store = ModelStore()
    installed = {m.model_id: m for m in store.installed()}
    print(f"models in {store.root}")
    print(f"{'model':24s} {'preset':24s} {'precisions':16s} {'size':>10s}  state")
    for model_id, entry in CATALOGUE.items():
        m = installed.get(model_id)
        if m is None:
            if not entry.for_tests:
                print(f"{model_id:24s} {entry.preset:24s} {'-':16s} {'-':>10s}  not installed")
            continue
        state = "verified" if m.verified else "changed since last verified (run verify)"
        print(f"{model_id:24s} {m.preset:24s} {', '.join(m.variants):16s} {human_bytes(m.bytes_on_disk):>10s}  {state}")
    for model_id in store.interrupted():
        print(f"{model_id}: an install stopped halfway; run it again to resume, or remove {model_id}")
    return 0


def _installed(manifest: Manifest, folder: Path) -> None:
    size = sum(f.bytes for f in manifest.files)
    print(f"installed {manifest.model_id} ({manifest.preset}, {manifest.release_precision}) in {folder}: "
          f"{len(manifest.files)} files, {human_bytes(size)}")


def _install(args: argparse.Namespace) -> int:
    store = ModelStore()
    _installed(store.install(args.model, args.source), store.folder(args.model))
    return 0


def _download(args: argparse.Namespace) -> int:
    store = ModelStore()
    _installed(store.download(args.model, args.revision), store.folder(args.model))
    return 0


def _verify(args: argparse.Namespace) -> int:
    store = ModelStore()
    problems = store.verify(args.model)
    if not problems:
        files = len(store.manifest(args.model).files)
        print(f"{args.model}: all {files} files match their manifest")
        return 0
    for p in problems:
        print(f"{args.model}: {p.path} {p.what}")
    print(f"{args.model}: {len(problems)} problem{'s' if len(problems) > 1 else ''}; "
          f"remove the model and install it again")
    return 1


def _remove(args: argparse.Namespace) -> int:
    store = ModelStore()
    freed = store.remove(args.model)
    print(f"removed {args.model} from {store.root}: freed {human_bytes(freed)}")
    return 0


def _quantize(args: argparse.Namespace) -> int:
    store = ModelStore()
    manifest = store.quantize(args.model, args.precision, double_quant=not args.no_double_quant)
    files = [f for f in manifest.files if f.variant == args.precision]
    print(f"quantised {args.model} to {args.precision}: {len(files)} files, "
          f"{human_bytes(sum(f.bytes for f in files))}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add `models` and its commands to the `istar` parser."""
    models = sub.add_parser("models", help="the model store: list, install, download, verify, remove, quantize")
    commands = models.add_subparsers(dest="models_command", required=True)

    p = commands.add_parser("list", help="the models, their precisions, size on disk and whether verified")
    p.set_defaults(run=_list)

    p = commands.add_parser("install", help="copy a model out of a folder laid out like the release")
    p.add_argument("model", help="model id (see `istar models list`)")
    p.add_argument("--from", dest="source", type=Path, required=True, metavar="DIR",
                   help="a folder laid out like the Hugging Face repo FoundationVision/InfinityStar")
    p.set_defaults(run=_install)

    p = commands.add_parser("download", help="download a model from the Hugging Face hub (resumable)")
    p.add_argument("model")
    p.add_argument("--revision", default=None, help="branch, tag or commit (default: main)")
    p.set_defaults(run=_download)

    p = commands.add_parser("verify", help="re-hash every file against the manifest (exit 1 on any problem)")
    p.add_argument("model")
    p.set_defaults(run=_verify)

    p = commands.add_parser("remove", help="delete one model from the store")
    p.add_argument("model")
    p.set_defaults(run=_remove)

    p = commands.add_parser("quantize", help="quantise the transformer once and keep it as a variant")
    p.add_argument("model")
    p.add_argument("--precision", choices=QUANTIZED_PRECISIONS, required=True)
    p.add_argument("--no-double-quant", action="store_true", help="nf4: keep the block scales in float32")
    p.set_defaults(run=_quantize)
