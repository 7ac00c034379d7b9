"""`istar models ...`: list, install, download, verify, remove and quantise the models in the store."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from engine.api.install_events import InstallDone, InstallEvent, InstallFailed, encode_event, human_bytes
from engine.cli import REPORTED_ERRORS, describe_error
from engine.runtime.precision import QUANTIZED_PRECISIONS
from engine.weights.catalogue import CATALOGUE
from engine.weights.install import Progress
from engine.weights.manifest import Manifest
from engine.weights.store import ModelStore, print_step


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


def _installing(args: argparse.Namespace, store: ModelStore, run: Callable[[Progress], Manifest]) -> int:
    """Run an install or download: each step's line and a summary, or with --events one JSON event a line (the
    steps, then InstallDone, or InstallFailed and exit code 2 for what main() would report)."""
    if not args.events:
        manifest = run(print_step)
        size = sum(f.bytes for f in manifest.files)
        print(f"installed {manifest.model_id} ({manifest.preset}, {manifest.release_precision}) in "
              f"{store.folder(args.model)}: {len(manifest.files)} files, {human_bytes(size)}")
        return 0

    def emit(event: InstallEvent) -> None:
        print(encode_event(event), flush=True)

    try:
        manifest = run(emit)
    except REPORTED_ERRORS as err:
        emit(InstallFailed(describe_error(err)))
        return 2
    emit(InstallDone(manifest.model_id, len(manifest.files), sum(f.bytes for f in manifest.files),
                     str(store.folder(args.model))))
    return 0


def _install(args: argparse.Namespace) -> int:
    store = ModelStore()
    return _installing(args, store, lambda progress: store.install(args.model, args.source, progress))


def _download(args: argparse.Namespace) -> int:
    store = ModelStore()
    return _installing(args, store, lambda progress: store.download(args.model, args.revision, progress))


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


EVENTS_HELP = ("print one JSON event a line (engine.api.install_events): each step, then the end; a failure is an "
               "event too (exit code 2)")


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
    p.add_argument("--events", action="store_true", help=EVENTS_HELP)
    p.set_defaults(run=_install)

    p = commands.add_parser("download", help="download a model from the Hugging Face hub (resumable)")
    p.add_argument("model")
    p.add_argument("--revision", default=None, help="branch, tag or commit (default: main)")
    p.add_argument("--events", action="store_true", help=EVENTS_HELP)
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
