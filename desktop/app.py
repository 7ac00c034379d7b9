"""Entry point of the `istar-studio` command: builds the application and the main window."""

import argparse
import sys
from pathlib import Path

from PySide6.QtCore import QBuffer, QIODevice, QTimer
from PySide6.QtWidgets import QApplication, QWidget

from desktop.main_window import APP_NAME, MainWindow, app_version
from desktop.theme import apply_dark_theme
from engine.atomic import write_bytes_atomic

SCREENSHOT_DELAY_MS = 500


def parse_args(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    """Split our own options from the rest, which go to Qt (e.g. -platform offscreen)."""
    parser = argparse.ArgumentParser(prog="istar-studio", description=f"{APP_NAME} desktop app")
    parser.add_argument("--version", action="version", version=f"%(prog)s {app_version()}")
    parser.add_argument(
        "--screenshot", metavar="PATH", type=Path, help="save a PNG of the window once it has settled, then exit"
    )
    parser.add_argument(
        "--self-check", action="store_true",
        help="with the window open, generate 1 s of toyworld and export it; exit 0 only if both worked",
    )
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
    app = QApplication([sys.argv[0], *qt_args])
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(app_version())
    apply_dark_theme(app)

    window = MainWindow()
    window.show()

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
            app.exit(0)

        QTimer.singleShot(SCREENSHOT_DELAY_MS, take_screenshot)

    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
