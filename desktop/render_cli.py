"""`istar-studio --render PROJECT.istar -o OUT.mp4 [--size WxH] [--fps N] [--crf N] [--codec h264|h265] [--speed
fastest|fast|thorough] [--from SECONDS] [--to SECONDS]`: the export the studio's export dialog makes, of the whole
timeline or the part between --from and --to, without a window, for batches and render machines. Needs no display:
the export uses no Qt widget, and titles' fonts come from an offscreen QGuiApplication.

A progress bar on stderr (rewritten in place on a terminal, a line every tenth otherwise); the written file's path
on stdout. Exit 0 when the file is written; 2 when the project cannot be rendered as asked (a project file that
cannot be read, media missing or unreadable, an empty timeline, a setting out of range), said on stderr with what
to fix; 1 when the file cannot be written; 130 after Ctrl+C. Only a complete file ever appears at OUT: otherwise
a file already there is left as it was.

Titles are drawn with Qt's fonts, as in the studio, so that an export from here matches one from the window: for a
project with titles that QGuiApplication is made first (desktop.media.titles.text_support).
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from desktop.media.errors import MediaReadError
from desktop.media.export import ExportCancelled, export_video
from desktop.media.export_settings import (
    CODEC_NAMES,
    DEFAULT_SPEED,
    H264,
    H265,
    ExportSettings,
    ExportSettingsError,
    TimeLeft,
    clock_text,
    parse_size,
    size_text,
)
from desktop.media.titles import text_support
from desktop.project.file import load_project
from desktop.project.model import Project, ProjectError

EXIT_OK, EXIT_FAILED, EXIT_CANNOT_RENDER, EXIT_INTERRUPTED = 0, 1, 2, 130
BAR = 24
CODEC_CHOICES = {"h264": H264, "h265": H265}


class CannotRender(Exception):
    """The project cannot be rendered as asked; the message says what and what to do (exit 2)."""


def settings_from(size: tuple[int, int] | None, fps: int | None, crf: int | None, codec: str,
                  speed: str = DEFAULT_SPEED) -> ExportSettings:
    """The export settings of the command's options, checked (CannotRender naming the option)."""
    settings = ExportSettings(size=size, fps=fps, codec=CODEC_CHOICES[codec], speed=speed,
                              **({} if crf is None else {"crf": crf}))
    try:
        settings.check()
    except ExportSettingsError as err:
        if err.field in ("width", "height"):
            raise CannotRender(f"--size: the {err.field} {err.problem}") from None
        option = err.field if err.field in ("fps", "crf", "speed") else "codec"
        raise CannotRender(f"--{option}: {err.problem}") from None
    return settings


def used_media_problems(project: Project) -> list[str]:
    """The media files that the clips of unmuted tracks use and that are not where the project says, each named
    with where it was looked for."""
    used = {clip.media_id for track in project.tracks if not track.muted for clip in track.clips}
    return [f"{item.name} (not found at {item.path})" for media_id, item in project.media.items()
            if media_id in used and item.on_disk and not item.path.is_file()]


def renderable_project(path: Path) -> Project:
    """The project at `path`, or CannotRender saying why it cannot be rendered."""
    try:
        project = load_project(path)
    except ProjectError as err:  # ProjectFileError: names the file and the field
        raise CannotRender(f"cannot read the project: {err}") from None
    missing = used_media_problems(project)
    if missing:
        raise CannotRender(f"{path.name} uses media that is missing: {'; '.join(missing)}. Open the project in "
                           "the studio to relink them, or put the files back.")
    if project.duration == 0:
        raise CannotRender(f"{path.name} has an empty timeline: there is nothing to render")
    return project


def progress_line(done: float, frames: int, left: float | None) -> str:
    """Such as `[##########..............]  42%  frame 110/264  0:12 left`."""
    filled = int(BAR * done)
    eta = "--:--" if left is None else clock_text(left)
    return (f"[{'#' * filled}{'.' * (BAR - filled)}] {int(done * 100):3d}%  frame {round(done * frames)}/{frames}  "
            f"{eta} left")


class ProgressBar:
    """Shows progress on `out`: rewritten in place on a terminal at each new percent, else a line each tenth."""

    def __init__(self, out: TextIO, frames: int, clock: Callable[[], float]) -> None:
        self.out, self.frames = out, frames
        self.left = TimeLeft(clock)
        self.tty = out.isatty()
        self._shown = -1

    def __call__(self, done: float) -> None:
        step = int(done * 100) if self.tty else int(done * 10) * 10
        if step == self._shown:
            return
        self._shown = step
        line = progress_line(done, self.frames, self.left(done))
        if self.tty:
            self.out.write(f"\r{line}\033[K")
            self.out.flush()
        else:
            print(line, file=self.out, flush=True)

    def end(self) -> None:
        if self.tty:
            print(file=self.out)


@contextlib.contextmanager
def ctrl_c_cancels() -> Iterator[threading.Event]:
    """An event Ctrl+C sets (on the main thread; elsewhere Ctrl+C stays as it was), so the export stops between two
    frames and removes its partial file."""
    pressed = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield pressed
        return
    before = signal.signal(signal.SIGINT, lambda *_: pressed.set())
    try:
        yield pressed
    finally:
        signal.signal(signal.SIGINT, before)


def span_of(project: Project, start_s: float | None, end_s: float | None) -> tuple[int, int] | None:
    """The project frames from `start_s` to `end_s` seconds (None: the timeline's start or end); None for the whole
    timeline; CannotRender naming --from or --to when that is no part of the timeline."""
    if start_s is None and end_s is None:
        return None
    length = project.seconds(project.duration)
    first = round((start_s or 0.0) * project.fps)
    end = project.duration if end_s is None else round(end_s * project.fps)
    if first < 0 or first >= project.duration:
        raise CannotRender(f"--from: {start_s:g} s is not within the timeline, which lasts {length:g} s")
    if end <= first:
        raise CannotRender(f"--to: {end_s:g} s should come after --from ({start_s or 0:g} s)")
    return first, min(end, project.duration)


def render(project_path: Path, output: Path, settings: ExportSettings, err: TextIO = sys.stderr,
           clock: Callable[[], float] = time.monotonic, start_s: float | None = None,
           end_s: float | None = None) -> int:
    """Render the project at `project_path` (from `start_s` to `end_s` seconds where given) to `output`; the exit
    status, problems said on `err`."""
    try:
        if output.is_dir():
            raise CannotRender(f"-o {output}: is a folder; give the file to write, such as {output / 'out.mp4'}")
        if not output.parent.is_dir():
            raise CannotRender(f"-o {output}: the folder {output.parent} does not exist")
        project = renderable_project(project_path)
        settings = replace(settings, span=span_of(project, start_s, end_s))
    except CannotRender as refused:
        print(f"istar-studio --render: {refused}", file=err)
        return EXIT_CANNOT_RENDER
    width, height = settings.size_for(project)
    fps = settings.fps_for(project)
    frames = settings.frames_for(project)
    quality = (f"{settings.video_bitrate // 1000} kb/s" if settings.video_bitrate is not None
               else f"CRF {settings.crf}")
    print(f"{project_path.name}: {clock_text(frames / fps)} ({frames} frames) at {width}x{height}, {fps} fps, "
          f"{CODEC_NAMES[settings.codec]} {quality}, speed {settings.speed} -> {output}", file=err)
    if any(item.kind == "title" for item in project.media.values()):
        text_support()
    bar = ProgressBar(err, frames, clock)
    began = clock()
    try:
        with ctrl_c_cancels() as pressed:
            export_video(project, output, settings, progress=bar, cancelled=pressed.is_set)
    except ExportCancelled:
        bar.end()
        print("istar-studio --render: interrupted; nothing was written", file=err)
        return EXIT_INTERRUPTED
    except (MediaReadError, ProjectError) as problem:
        bar.end()
        print(f"istar-studio --render: cannot render {project_path.name}: {problem}", file=err)
        return EXIT_CANNOT_RENDER
    except OSError as problem:
        bar.end()
        print(f"istar-studio --render: cannot write {output}: {problem}", file=err)
        return EXIT_FAILED
    bar.end()
    print(f"wrote {output} ({size_text(output.stat().st_size)}) in {clock() - began:.1f} s", file=err)
    print(output)
    return EXIT_OK


def render_command(args: argparse.Namespace, extra: list[str], err: TextIO = sys.stderr) -> int:
    """`istar-studio --render ...` from desktop.app's parsed options (`extra`: what it did not know)."""
    problem = None
    others = [*([str(args.project)] if args.project is not None else []), *extra]
    if args.render is None:
        problem = "-o is for --render: istar-studio --render PROJECT.istar -o OUT.mp4"
    elif args.output is None:
        problem = "--render needs -o OUT.mp4, the file to write"
    elif others:
        problem = f"--render takes no other arguments: {' '.join(others)}"
    elif args.screenshot is not None or args.self_check:
        problem = "--render goes alone: not with --screenshot or --self-check"
    try:
        if problem is not None:
            raise CannotRender(problem)
        settings = settings_from(parse_size(args.size) if args.size is not None else None, args.fps, args.crf,
                                 args.codec, args.speed)
    except (CannotRender, ExportSettingsError) as refused:  # ExportSettingsError: parse_size's, "size: ..."
        print(f"istar-studio --render: {'--' if isinstance(refused, ExportSettingsError) else ''}{refused}", file=err)
        return EXIT_CANNOT_RENDER
    return render(args.render, args.output, settings, err, start_s=args.start, end_s=args.end)
