"""`istar generate | storyboard | continue | bridge | serve`: jobs sent to an engine process, with a progress bar.

The command is a client like the studio: it starts a local engine (or reaches `--engine HOST:PORT`), submits one
job and shows its events. Ctrl-C cancels the job at its next pass; nothing half-made is left behind.
"""

from __future__ import annotations

import argparse
import logging
import queue
import secrets
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from engine.api import protocol as p
from engine.api.client import EngineClient
from engine.api.jobs import GUIDANCE_SCALE, MAX_VIDEO_SECONDS, TAU, JobInputError, JobSpec
from engine.api.transport import LocalEngine, RemoteEngine, Transport
from engine.home import engine_log
from engine.media.layout import bits_path, find_bits, is_bits_file
from engine.runtime.precision import PRECISIONS
from engine.service.served_files import DEFAULT_KEEP_HOURS

BAR = 24
DEFAULT_MODEL = "toyworld"
FLAGS = {"seed": "--seed", "guidance_scale": "--guidance-scale", "tau_image": "--tau-image", "tau_video": "--tau-video",
         "crossfade_seconds": "--crossfade"}  # the job field each sets; "seconds": --duration or --seconds


def _connect(args: argparse.Namespace) -> Callable[[], Transport]:
    if args.engine is None:
        return lambda: LocalEngine(engine_log())
    from engine.api.server_address import parse_address, read_token

    if args.token_file is None:
        raise JobInputError("--engine needs --token-file: the file holding the server's token")
    host, port = parse_address(args.engine)
    token = read_token(args.token_file)
    return lambda: RemoteEngine(host, port, token)


def _clock(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes // 60}:{minutes % 60:02d}:{secs:02d}" if minutes >= 60 else f"{minutes}:{secs:02d}"


def progress_line(event: p.Progress, clips: int) -> str:
    done = event.index + 1
    filled = BAR * done // event.total
    eta = "--:--" if event.eta_seconds is None else _clock(event.eta_seconds)
    return (f"[{'#' * filled}{'.' * (BAR - filled)}] pass {done}/{event.total}  clip {event.clip + 1} of {clips}  "
            f"{event.seconds:.2f} s/pass  ETA {eta}")


def _show(line: str, out: TextIO) -> None:
    if out.isatty():
        out.write(f"\r{line}\033[K")
        out.flush()
    else:
        print(line, file=out)


def _report(message: p.Message, clips: int, err: TextIO) -> int:
    """Print one event; the number of clips once known."""
    if isinstance(message, p.Started):
        for note in message.notes:
            print(f"note: {note}", file=err)
        frames = f"{message.frames} frame{'s' if message.frames > 1 else ''}"
        print(f"{frames} of {message.width}x{message.height} at {message.fps} fps, {message.passes} passes "
              f"({message.precision} on {message.device})", file=err)
        return message.clips
    if isinstance(message, p.Progress):
        _show(progress_line(message, clips), err)
    elif isinstance(message, p.Failed) and message.job_id is None:
        print(f"engine: {message.message}", file=err)
    return clips


def _end(message: p.Message, spec: JobSpec, err: TextIO) -> int:
    if err.isatty():
        print(file=err)
    if isinstance(message, p.Finished):
        print(f"seed {spec.seed}: done in {message.seconds:.1f} s (sampling {message.sampling_seconds:.1f} s, decoding "
              f"{message.decode_seconds:.1f} s); bits to continue from: {message.bits}", file=err)
        print(message.video)
        return 0
    kept = (f"the clips finished before are in {message.video} (bits to continue from: {message.bits})"
            if message.video else f"{spec.output} was not written")
    if isinstance(message, p.Cancelled):
        print(f"cancelled; {kept}", file=err)
        return 130
    print(f"error ({message.kind}): {message.message}", file=err)
    if message.hint:
        print(f"hint: {message.hint}", file=err)
    if message.video:
        print(kept, file=err)
    return 2 if message.kind == "bad_input" else 1  # 2, as for bad arguments


def run_job(spec: JobSpec, connect: Callable[[], Transport], err: TextIO | None = None) -> int:
    """Submit `spec`, show its progress on `err` (default: stderr) until it ends; the exit code."""
    err = err or sys.stderr
    events: queue.Queue[p.Message] = queue.Queue()
    client = EngineClient(connect, events.put)
    clips = 1
    try:
        client.submit(spec)
        while True:
            try:
                message = events.get(timeout=0.2)
            except queue.Empty:
                continue
            except KeyboardInterrupt:
                print("\ncancelling...", file=err)
                client.cancel(spec.id)
                continue
            if isinstance(message, p.TERMINAL) and message.job_id == spec.id:
                return _end(message, spec, err)
            clips = _report(message, clips, err)
    finally:
        client.close()


def _continued_bits(path: Path) -> str:
    """The bits of the video at `path` (an MP4 the studio made, or its bits file itself)."""
    bits = path if is_bits_file(path) else find_bits(path)
    if bits is None or not bits.is_file():
        raise JobInputError(
            f"{path} has no bits beside it ({bits_path(path)}); only videos the studio made can be continued"
        )
    return str(bits)


def _spec(args: argparse.Namespace) -> JobSpec:
    """The job the arguments ask for; a value out of its range is refused naming the option that gave it."""
    try:
        return _job(args)
    except JobInputError as err:
        seconds = "--duration" if args.command in ("generate", "storyboard") else "--seconds"
        flag = {**FLAGS, "seconds": seconds}.get(err.field or "")
        if flag is None:
            raise
        raise JobInputError(f"{flag} {err.problem}", err.field, err.problem) from None


def _job(args: argparse.Namespace) -> JobSpec:
    common = {
        "model": args.model, "output": str(args.output.resolve()), "precision": args.precision, "device": args.device,
        "seed": secrets.randbelow(2**31) if args.seed is None else args.seed, "guidance_scale": args.guidance_scale,
        "tau_image": args.tau_image, "tau_video": args.tau_video,
    }
    if args.command in ("generate", "storyboard"):
        prompts = tuple(args.prompt or ())
        image = str(args.image.resolve()) if getattr(args, "image", None) else None
        features = str(args.text_features.resolve()) if getattr(args, "text_features", None) else None
        return JobSpec(kind=args.command, prompts=prompts, seconds=args.duration, aspect=args.aspect, image=image,
                       text_features=features, **common)
    prompts = (args.prompt,) if args.prompt else ()
    bridge = {}
    if args.command == "bridge":
        bridge = {"bridge_to": str(args.to.resolve()), "crossfade_seconds": args.crossfade}
    return JobSpec(kind=args.command, prompts=prompts, seconds=args.seconds,
                   continue_from=_continued_bits(args.source.resolve()), **bridge, **common)


def _run(args: argparse.Namespace) -> int:
    spec = _spec(args)
    if not Path(spec.output).parent.is_dir():
        raise JobInputError(f"cannot write {spec.output}: the folder {Path(spec.output).parent} does not exist")
    return run_job(spec, _connect(args))


def _serve(args: argparse.Namespace) -> int:
    from engine.api.server_address import parse_address, read_token
    from engine.service.engine_main import LOG_FORMAT
    from engine.service.served_files import JobsFolder
    from engine.service.tcp import default_jobs_folder, serve_tcp
    from engine.weights.store import ModelStore

    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT, stream=sys.stderr)
    host, port = parse_address(args.listen)
    token = read_token(args.token_file, create=True)
    if not 0 < args.keep_hours <= 24 * 365:
        raise JobInputError(f"--keep-hours must be above 0 and at most a year (8760), got {args.keep_hours:g}")
    folder = JobsFolder(args.jobs_folder or default_jobs_folder(), args.keep_hours * 3600)
    try:
        serve_tcp(host, port, token, ModelStore(), jobs_folder=folder)
    except KeyboardInterrupt:
        return 0
    return 0


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", default=DEFAULT_MODEL, help=f"an installed model id (default {DEFAULT_MODEL}; "
                                                          "see `istar models list`)")
    p.add_argument("--seed", type=int, default=None, help="same seed and settings, same video (default: random)")
    p.add_argument("--precision", choices=PRECISIONS, default=None, help="default: what the load plan chooses")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda[:N]")
    p.add_argument("--guidance-scale", type=float, default=None,
                   help=f"override the model's guidance scale ({GUIDANCE_SCALE.describe()})")
    p.add_argument("--tau-image", type=float, default=None,
                   help=f"override the first frame's sampling temperature ({TAU.describe()})")
    p.add_argument("--tau-video", type=float, default=None,
                   help=f"override the video clips' sampling temperature ({TAU.describe()})")
    p.add_argument("--engine", default=None, help="HOST:PORT of an `istar serve` engine (default: start one here)")
    p.add_argument("--token-file", type=Path, default=None, help="with --engine: the file holding its token")
    p.add_argument("-o", "--output", type=Path, required=True, help="the MP4 to write")
    p.set_defaults(run=_run)


def register(sub: argparse._SubParsersAction) -> None:
    g = sub.add_parser("generate", help="make a video (or an image, --duration 0) from a prompt into an MP4")
    g.add_argument("--prompt", action="append", help="what the video should show")
    g.add_argument("--text-features", type=Path, default=None,
                   help="for models without a text encoder: a safetensors file with one [tokens, channels] tensor")
    g.add_argument("--duration", type=int, default=5, help=f"seconds, 0 for an image, at most {MAX_VIDEO_SECONDS}")
    g.add_argument("--aspect", default=None, help="W:H such as 16:9, or h/w as a number (default: the model's)")
    g.add_argument("--image", type=Path, default=None, help="first frame: make the video from this picture")
    _common(g)

    s = sub.add_parser("storyboard", help="make a video with one prompt per clip, any number of clips")
    s.add_argument("--prompt", action="append", required=True, help="a clip's prompt; give one per clip, in order")
    s.add_argument("--duration", type=int, default=None, help="seconds (default: one full clip per prompt)")
    s.add_argument("--aspect", default=None, help="W:H such as 16:9 (default: the model's)")
    _common(s)

    c = sub.add_parser("continue", help="make the next part of a video, from the bits stored beside it")
    c.add_argument("source", type=Path, help="an MP4 the studio made (or its bits file)")
    c.add_argument("--seconds", type=int, default=5, help=f"seconds to add, at most {MAX_VIDEO_SECONDS}; the output "
                                                          "holds the new part, which plays on from SOURCE's end")
    c.add_argument("--prompt", default=None, help="what the new part shows (default: the video's last prompt)")
    _common(c)

    b = sub.add_parser("bridge", help="the generated middle between two videos: it plays on from SOURCE's end and "
                                      "fades into the first frames of --to")
    b.add_argument("source", type=Path, help="the first video: an MP4 the studio made (or its bits file)")
    b.add_argument("--to", type=Path, required=True, help="the video to bridge toward")
    b.add_argument("--seconds", type=int, default=2, help=f"length of the bridge, at most {MAX_VIDEO_SECONDS}")
    b.add_argument("--crossfade", type=float, default=None,
                   help="seconds of the bridge's end that fade into --to's first frames (default 1; 0: a cut); "
                        "--to then plays on from after them")
    b.add_argument("--prompt", default=None, help="what the bridge shows (default: the --to video's first prompt)")
    _common(b)

    v = sub.add_parser("serve", help="serve the engine over TCP (for a GPU on another machine)")
    v.add_argument("--listen", default="127.0.0.1:7860", help="HOST:PORT (default 127.0.0.1:7860, this machine only)")
    v.add_argument("--token-file", type=Path, required=True,
                   help="clients must send the token in this file; a new one is written if it does not exist")
    v.add_argument("--jobs-folder", type=Path, default=None,
                   help="where the clients' input files and their jobs' outputs are kept (default: served/ in the "
                        "studio folder); clients never name a path on this machine")
    v.add_argument("--keep-hours", type=float, default=DEFAULT_KEEP_HOURS,
                   help=f"remove the files of jobs not used for this long (default {DEFAULT_KEEP_HOURS:g})")
    v.set_defaults(run=_serve)
