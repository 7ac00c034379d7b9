"""A scroll area for a dock's widget: as tall as the widget needs where the window has room, scrolling it where it
has not, so a long form never has its rows squeezed over each other."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QSize
from PySide6.QtWidgets import QFrame, QScrollArea, QWidget


class FittingScroll(QScrollArea):
    def __init__(self, widget: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidget(widget)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)

    def minimumSizeHint(self) -> QSize:
        # at the width it has, where word-wrapped labels take the lines they need (its plain minimum counts fewer)
        widget = self.widget()
        width = self.viewport().width()
        height = widget.heightForWidth(width) if widget.hasHeightForWidth() and width > 0 else -1
        return QSize(super().minimumSizeHint().width(), max(height, widget.minimumSizeHint().height()))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.widget() and event.type() == QEvent.Type.LayoutRequest:
            self.updateGeometry()  # the widget's rows changed: so does the height asked of the dock
        return super().eventFilter(watched, event)
