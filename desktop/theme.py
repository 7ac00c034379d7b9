"""The studio's look: Qt's Fusion style with a dark palette."""

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

_WINDOW = QColor(45, 45, 48)
_BASE = QColor(30, 30, 32)
_TEXT = QColor(225, 225, 228)
_DISABLED_TEXT = QColor(125, 125, 130)
_ACCENT = QColor(70, 140, 220)


def dark_palette() -> QPalette:
    """A dark palette with one blue accent for selection and links."""
    palette = QPalette()
    for role, color in (
        (QPalette.ColorRole.Window, _WINDOW),
        (QPalette.ColorRole.WindowText, _TEXT),
        (QPalette.ColorRole.Base, _BASE),
        (QPalette.ColorRole.AlternateBase, _WINDOW),
        (QPalette.ColorRole.ToolTipBase, _BASE),
        (QPalette.ColorRole.ToolTipText, _TEXT),
        (QPalette.ColorRole.PlaceholderText, _DISABLED_TEXT),
        (QPalette.ColorRole.Text, _TEXT),
        (QPalette.ColorRole.Button, _WINDOW),
        (QPalette.ColorRole.ButtonText, _TEXT),
        (QPalette.ColorRole.BrightText, QColor(255, 90, 90)),
        (QPalette.ColorRole.Highlight, _ACCENT),
        (QPalette.ColorRole.HighlightedText, QColor(255, 255, 255)),
        (QPalette.ColorRole.Link, _ACCENT.lighter(130)),
    ):
        palette.setColor(role, color)
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, _DISABLED_TEXT)
    return palette


def apply_dark_theme(app: QApplication) -> None:
    app.setStyle("Fusion")
    app.setPalette(dark_palette())
