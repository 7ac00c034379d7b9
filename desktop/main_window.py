"""The studio's main window: menus, status bar, and a page that says what this build can do."""

from importlib.metadata import PackageNotFoundError, version

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QMessageBox

APP_NAME = "InfinityStar Studio"
DEFAULT_SIZE = QSize(1100, 700)

STATUS_TEXT = """\
<h1>InfinityStar Studio</h1>
<p>Text-to-video and image generation with a local InfinityStar model, plus a timeline editor.
Everything runs on this computer, offline.</p>
<h3>What works in this build</h3>
<ul>
<li>This window: <b>File &gt; Quit</b> and <b>Help &gt; About</b>.</li>
<li>Generating from the terminal with the built-in <i>toyworld</i> demo model or an installed InfinityStar model:
<code>istar generate --model toyworld --prompt "a red circle moves to the right" --duration 2 -o out.mp4</code></li>
</ul>
<h3>Not here yet</h3>
<ul>
<li>Generating video or images from this window (the engine process it talks to comes next).</li>
<li>The timeline editor, preview monitor and export.</li>
</ul>
"""


def app_version() -> str:
    try:
        return version("infinitystar-studio")
    except PackageNotFoundError:
        return "unknown (package not installed)"


def about_text() -> str:
    return (
        f"<b>{APP_NAME}</b> {app_version()}<p>Text-to-video and image generation with a local InfinityStar "
        "model, plus a timeline editor. Runs offline.</p><p>This is an early build: only the window shell "
        "is in place.</p>"
    )


class MainWindow(QMainWindow):
    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle(APP_NAME)
        self.resize(DEFAULT_SIZE)
        self._build_menus()

        page = QLabel(STATUS_TEXT)
        page.setObjectName("statusPage")
        page.setTextFormat(Qt.TextFormat.RichText)
        page.setWordWrap(True)
        page.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        page.setContentsMargins(32, 24, 32, 24)
        self.setCentralWidget(page)

        self.statusBar().showMessage(
            f"{APP_NAME} {app_version()}: no engine connected, generation is not available yet"
        )

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)

        help_menu = self.menuBar().addMenu("&Help")
        about_action = QAction(f"&About {APP_NAME}", self)
        about_action.triggered.connect(self.show_about)
        help_menu.addAction(about_action)

    def show_about(self) -> None:
        QMessageBox.about(self, f"About {APP_NAME}", about_text())
