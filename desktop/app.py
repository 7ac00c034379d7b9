"""Entry point of the `istar-studio` command: builds the application and the main window; with --render, exports a
project with neither (desktop.render_cli)."""

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QBuffer, QIODevice, QSettings, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from desktop.engine_settings import engine_connector
from desktop.first_run import first_run_due
from desktop.main_window import APP_NAME, MainWindow, app_version
from desktop.theme import apply_dark_theme
from engine.api.job_book import JobBook
from engine.atomic import write_bytes_atomic
from engine.home import studio_home

SETTLE_MS = 800  # after the engine has listed its models: thumbnails and the first frame load meanwhile
ENGINE_WAIT_MS = 30_000


def when_settled(window: MainWindow, then: Callable[[], None]) -> None:
    """Call `then` once the engine has answered (or after ENGINE_WAIT_MS) and the window has had time to draw."""
    waited = time.monotonic()

    def check() -> None:
        if window.models or (time.monotonic() - waited) * 1000 > ENGINE_WAIT_MS:
            QTimer.singleShot(SETTLE_MS, then)
        else:
            QTimer.singleShot(100, check)

    QTimer.singleShot(100, check)


def open_queue() -> JobBook:
    """The job queue of earlier sessions; a queue file that cannot be read is set aside (and said so), never fatal."""
    queue, problem = JobBook.open_or_set_aside(studio_home() / "queue.json")
    if problem:
        QMessageBox.warning(None, "Job queue", problem)
    return queue


def parse_args(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    """Split our own options from the rest, which go to Qt (e.g. -platform offscreen)."""
    parser = argparse.ArgumentParser(prog="istar-studio", description=f"{APP_NAME} desktop app")
    parser.add_argument("project", nargs="?", type=Path, help="a project file (.istar) to open")
    parser.add_argument("--version", action="version", version=f"%(prog)s {app_version()}")
    parser.add_argument(
        "--screenshot", metavar="PATH", type=Path, help="save a PNG of the window once it has settled, then exit"
    )
    parser.add_argument(
        "--self-check", action="store_true",
        help="with the window open, generate 1 s of toyworld and export it; exit 0 only if both worked",
    )
    render = parser.add_argument_group(
        "rendering without a window",
        "istar-studio --render PROJECT.istar -o OUT.mp4 [--size WxH] [--fps N] [--crf N] [--codec h264|h265] "
        "[--speed fastest|fast|thorough] [--from SECONDS] [--to SECONDS]: export the project's timeline (or that "
        "part of it) and exit; no display needed. Exit 0 when written, 2 when the project cannot be rendered (said "
        "why), 1 when the file cannot be written.",
    )
    render.add_argument("--render", metavar="PROJECT", type=Path, help="the project file (.istar) to render")
    render.add_argument("-o", "--output", metavar="OUT", type=Path, help="the MP4 file to write")
    render.add_argument("--size", metavar="WxH", help="the output size, such as 1920x1080 (default: the project's)")
    render.add_argument("--fps", type=int, help="the output frame rate (default: the project's)")
    render.add_argument("--crf", type=int, help="quality, 0 (best) to 51 (smallest); default 20")
    render.add_argument("--codec", choices=["h264", "h265"], default="h264", help="default h264")
    render.add_argument("--speed", default="fast", metavar="fastest|fast|thorough",
                        help="the encoder's time on each frame against the file's size and quality; default fast")
    render.add_argument("--from", dest="start", type=float, metavar="SECONDS",
                        help="render from this time of the timeline (default: its start)")
    render.add_argument("--to", dest="end", type=float, metavar="SECONDS",
                        help="render up to this time of the timeline (default: its end)")
    return parser.parse_known_args(argv)


def save_screenshot(window: QWidget, path: Path) -> None:
    """Render the window to PNG and write it atomically (temp file, fsync, rename)."""
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not window.grab().save(buffer, "PNG"):
        raise OSError(f"could not encode a screenshot of the window for {path}")
    write_bytes_atomic(path, buffer.data().data())


def main(argv: list[str] | None = None) -> int:
    args, qt_args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.render is not None or args.output is not None:
        from desktop.render_cli import render_command

        return render_command(args, qt_args)
    app = QApplication([sys.argv[0], *qt_args])
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(app_version())
    apply_dark_theme(app)

    # Settings live beside the queue and models in the studio folder, so ISTAR_HOME isolates a whole session.
    settings = QSettings(str(studio_home() / "settings.ini"), QSettings.Format.IniFormat)
    # The engine: a process of our own, or a served one (Edit > Engine...); a server setting that cannot be used
    # falls back to this computer, said in the status bar.
    connect, engine_name, engine_problem = engine_connector(settings)
    window = MainWindow(settings, connect, open_queue(), engine_name=engine_name)
    window.show()
    if engine_problem:
        window.statusBar().showMessage(engine_problem, 30_000)
        window.engine_label.setToolTip(engine_problem)  # the whole of it, which the status bar may cut
    if args.screenshot is None and not args.self_check:
        window.open_project(args.project)
        if first_run_due(settings):
            window.show_setup()
    elif args.project is not None:
        window.open_project(args.project, ask=False)

    if args.self_check:
        from desktop.self_check import run_self_check

        return run_self_check(app, window)

    if args.screenshot is not None:

        def take_screenshot() -> None:
            app.processEvents()
            try:
                save_screenshot(window, args.screenshot)
            except OSError as e:
                print(f"istar-studio: {e}", file=sys.stderr)
                app.exit(1)
                return
            print(f"istar-studio: wrote {args.screenshot} ({window.width()}x{window.height()})")
            window.close()
            app.exit(0)

        when_settled(window, take_screenshot)

    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
