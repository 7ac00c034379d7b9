"""The monitor: the timeline's picture at the playhead, rendered on a worker thread, with a one-line message below.

Frames come from a FramePool (desktop.media.frames) that renders only the latest request's window, so a fast scrub
does not queue up every frame it passed; each is made a QImage on the worker too, and arrives on the GUI thread
through the task's callbacks (desktop.workers). A frame that arrives after a newer one has been shown is dropped.
At a preview scale under 1 the frames are rendered smaller (desktop.player.preview) and painted as large as before.
"""

from __future__ import annotations

import logging

import numpy as np
from PySide6.QtCore import QRect, QSize, Qt, Signal
from PySide6.QtGui import QCloseEvent, QColor, QImage, QPainter, QPaintEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from desktop.media.errors import MediaReadError
from desktop.media.frames import FramePool
from desktop.media.render import TimelineRenderer
from desktop.player.preview import ScaledPreview
from desktop.project.model import Project, ProjectError

log = logging.getLogger(__name__)


def _image(rgb: np.ndarray) -> QImage:
    height, width = rgb.shape[:2]
    return QImage(np.ascontiguousarray(rgb).data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()


class _Screen(QWidget):
    """The picture, as large as fits with its aspect kept, black around it; or why there is no picture."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.image: QImage | None = None
        self.error = ""
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)

    def sizeHint(self) -> QSize:
        return QSize(480, 270)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(0, 0, 0))
        if self.error:
            painter.setPen(QColor(230, 120, 110))
            painter.drawText(self.rect().adjusted(12, 12, -12, -12),
                             Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.error)
        elif self.image is not None:
            size = self.image.size().scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio)
            target = QRect((self.width() - size.width()) // 2, (self.height() - size.height()) // 2,
                           size.width(), size.height())
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            painter.drawImage(target, self.image)


class Monitor(QWidget):
    """`frame_shown(frame)` once the picture of `frame` is on screen. Closing it stops rendering and closes the
    media files."""

    frame_shown = Signal(int)

    def __init__(self, project: Project, renderer: TimelineRenderer | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.project = project
        self.renderer = renderer if renderer is not None else TimelineRenderer(project)
        self._pool = FramePool(self._render)
        self._requests = 0
        self._shown_request = 0
        self._wanted = 0
        self._closed = False
        self._preview_caption = ""
        self.preview_scale = 1.0
        self._scaled: ScaledPreview | None = None
        self.screen = _Screen(self)
        self.message = QLabel(self)
        self.message.setObjectName("monitorMessage")
        self.message.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.screen, 1)
        layout.addWidget(self.message)

    @property
    def image(self) -> QImage | None:
        return self.screen.image

    def show_frame(self, frame: int, playing: bool = False) -> None:
        """Show timeline frame `frame` as soon as it is rendered; `playing` renders the frames after it ahead."""
        if self._closed:
            return  # signals may still arrive from parts closing after it
        self._wanted = frame
        self._requests += 1
        request = self._requests
        self._pool.request(frame, prefetch=playing).then(lambda image: self._show(request, frame, image),
                                                         lambda error: self._failed(request, frame, error),
                                                         context=self)

    def refresh(self) -> None:
        """Render the shown frame again (after an edit)."""
        self._pool.invalidate()
        self.show_frame(self._wanted)

    def set_preview_scale(self, scale: float) -> None:
        """Render the frames it shows at `scale` times the project's size (1: full size), and the shown one again."""
        if scale == self.preview_scale:
            return
        self.preview_scale = scale
        self._pool.invalidate()
        old = self._scaled
        self._scaled = ScaledPreview(self.project, scale, self.renderer.live) if scale < 1 else None
        if old is not None:
            old.close()
        self.refresh()

    def show_image(self, image: QImage, caption: str) -> None:
        """Show a picture that is not a timeline frame (a generation's preview) with a caption, until the next
        frame is shown."""
        self._requests += 1  # a frame rendered for an older request must not replace it
        self._shown_request = self._requests
        self._paint(image)
        self.show_message(caption)
        self._preview_caption = caption

    def _paint(self, image: QImage) -> None:
        self.screen.error = ""
        self.screen.image = image
        self.screen.repaint()

    def show_message(self, text: str) -> None:
        """One line under the picture; "" hides it."""
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def closeEvent(self, event: QCloseEvent) -> None:
        self._closed = True
        self._pool.close()
        self.renderer.close()
        if self._scaled is not None:
            self._scaled.close()
        super().closeEvent(event)

    def _render(self, frame: int) -> QImage:
        """On the worker thread: the picture, made a QImage here to spare the GUI thread."""
        scaled = self._scaled
        return _image(scaled.frame(frame) if scaled is not None else self.renderer.frame(frame))

    def _failed(self, request: int, frame: int, error: Exception) -> None:
        """Why there is no picture, in its place: a file that cannot be read, or (logged too) a bug."""
        if not isinstance(error, (MediaReadError, ProjectError)):
            log.error("frame %d could not be rendered", frame, exc_info=error)
            error = f"frame {frame} could not be shown: {type(error).__name__}: {error}"
        self._show(request, frame, str(error))

    def _show(self, request: int, frame: int, result: QImage | str) -> None:
        if request < self._shown_request:
            return
        self._shown_request = request
        if isinstance(result, str):
            self.screen.error = result
            self.screen.repaint()
            return
        self._paint(result)
        if self._preview_caption and self.message.text() == self._preview_caption:
            self.show_message("")  # the preview's label goes with it; a playback message stays
        self._preview_caption = ""
        self.frame_shown.emit(frame)
