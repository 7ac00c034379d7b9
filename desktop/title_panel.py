"""The inspector's Title section: what the selected title clip shows (desktop.project.title), each change one edit
(`changed`).

Typing is one edit per pause: the text is sent when typing stops for TYPING_PAUSE_MS or the box loses focus, and the
edits of one stay in the box carry the same merge key, so they undo as one. The size and outline boxes merge the
steps of one drag the same way. The widgets stay while the same title is shown, so an edit's refresh does not take
the focus or the cursor from the box in use.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QColor, QFocusEvent, QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QColorDialog,
    QComboBox,
    QDoubleSpinBox,
    QFontComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QPlainTextEdit,
    QPushButton,
    QWidget,
)

from desktop.fields import scaled_box
from desktop.project.title import ALIGNMENTS, NUMBERS, SAFE_WIDTH, Title

TYPING_PAUSE_MS = 600
ALIGN_NAMES = {"left": "Left", "center": "Centre", "right": "Right"}
# field: (label, shown as value x factor with this suffix, step, decimals)
BOXES = {"size": ("Size", 100, " % of height", 0.5, 1), "outline_width": ("Outline", 100, " %", 0.1, 2),
         "box_opacity": ("Box opacity", 100, " %", 5, 0), "wrap_width": ("Wrap width", 100, " % of width", 5, 0)}


class _TextBox(QPlainTextEdit):
    left = Signal()

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        self.left.emit()


class ColourButton(QPushButton):
    """A swatch of a colour; a click picks another (`picked`)."""

    picked = Signal(str)  # #rrggbb

    def __init__(self, what: str) -> None:
        super().__init__()
        self.what = what
        self.colour = "#ffffff"
        self.setAccessibleName(what)
        self.setToolTip(f"Pick the {what.lower()}")
        self.clicked.connect(self._pick)

    def show_colour(self, colour: str) -> None:
        self.colour = colour
        self.setText(colour)
        text = "#000000" if QColor(colour).lightness() > 128 else "#ffffff"
        self.setStyleSheet(f"background-color: {colour}; color: {text};")

    def _pick(self) -> None:
        chosen = QColorDialog.getColor(QColor(self.colour), self, self.what)
        if chosen.isValid():
            self.picked.emit(chosen.name())


class TitlePanel(QGroupBox):
    changed = Signal(str, object, str, object)  # media id, new Title, what changed (for the undo text), merge key

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Title", parent)
        self.media_id: str | None = None
        self.title = Title()
        self._session = 0  # counts finished edits: the merge key's part that ends a typing run or a drag
        self.text = _TextBox()
        self.text.setAccessibleName("Title text")
        self.text.setToolTip("The title's text; a new line starts a new line of the title")
        self.text.setFixedHeight(self.text.fontMetrics().lineSpacing() * 4 + 12)
        self.text.textChanged.connect(self._typed)
        self.text.left.connect(self.commit_text)
        self._typing = QTimer(self)
        self._typing.setSingleShot(True)
        self._typing.setInterval(TYPING_PAUSE_MS)
        self._typing.timeout.connect(self._send_text)
        self.font_box = QFontComboBox()
        self.font_box.setAccessibleName("Font")
        self.font_box.currentFontChanged.connect(lambda font: self._set("font", font.family(), "title font"))
        self.bold = QCheckBox("Bold")
        self.bold.toggled.connect(lambda on: self._set("bold", on, "title font"))
        self.boxes: dict[str, QDoubleSpinBox] = {}
        for name, (label, factor, suffix, step, decimals) in BOXES.items():
            box = scaled_box(NUMBERS[name], factor, suffix, step, decimals)
            box.setAccessibleName(label)
            box.valueChanged.connect(lambda value, name=name, factor=factor, label=label: self._set(
                name, round(value / factor, 6), f"title {label.lower()}", (name, self._session)))
            box.editingFinished.connect(self._finish)
            self.boxes[name] = box
        self.boxes["size"].setToolTip("The text's size as a share of the frame's height, so it keeps its look at "
                                      "any project format")
        self.boxes["outline_width"].setToolTip("The outline's width as a share of the frame's height; 0: none")
        self.boxes["wrap_width"].setToolTip("A line longer than this share of the frame's width goes on in the next "
                                            f"line; {SAFE_WIDTH:.0%} keeps it in the title-safe area")
        self.colour = ColourButton("Text colour")
        self.outline_colour = ColourButton("Outline colour")
        self.box_colour = ColourButton("Box colour")
        for button, name in ((self.colour, "colour"), (self.outline_colour, "outline_colour"),
                             (self.box_colour, "box_colour")):
            button.picked.connect(lambda colour, name=name: self._set(name, colour, "title colour"))
        self.box = QCheckBox("Box behind")
        self.box.setToolTip("A box of colour behind the text, so it reads over any picture")
        self.box.toggled.connect(lambda on: self._set("box", on, "title box"))
        self.align = QComboBox()
        for align in ALIGNMENTS:
            self.align.addItem(ALIGN_NAMES[align], align)
        self.align.setToolTip("How the lines line up with each other; the clip's position places the whole block")
        self.align.currentIndexChanged.connect(lambda i: self._set("align", self.align.itemData(i), "title alignment"))
        form = QFormLayout(self)
        form.addRow("Text", self.text)
        font_row = QHBoxLayout()
        font_row.addWidget(self.font_box, 1)
        font_row.addWidget(self.bold)
        form.addRow("Font", font_row)
        form.addRow("Size", self.boxes["size"])
        form.addRow("Wrap at", self.boxes["wrap_width"])
        form.addRow("Colour", self.colour)
        outline = QHBoxLayout()
        outline.addWidget(self.boxes["outline_width"], 1)
        outline.addWidget(self.outline_colour)
        form.addRow("Outline", outline)
        box = QHBoxLayout()
        box.addWidget(self.box)
        box.addWidget(self.boxes["box_opacity"], 1)
        box.addWidget(self.box_colour)
        form.addRow("Box", box)
        form.addRow("Align", self.align)

    def show_title(self, media_id: str, title: Title, editable: bool) -> None:
        """Show `title` (of title media `media_id`); `editable` False (a locked track) shows it greyed."""
        if media_id != self.media_id:
            self.commit_text()  # what was typed into the last title goes to it
            self._session += 1  # another title: nothing merges across
        self.media_id = media_id
        self.title = title
        self.setEnabled(editable)
        widgets = [self.text, self.font_box, self.bold, self.align, self.box, *self.boxes.values()]
        for widget in widgets:
            widget.blockSignals(True)
        if self.text.toPlainText() != title.text and not self._typing.isActive():
            self.text.setPlainText(title.text)
        self.font_box.setCurrentFont(QFont(title.font))
        self.bold.setChecked(title.bold)
        self.align.setCurrentIndex(ALIGNMENTS.index(title.align))
        self.box.setChecked(title.box)
        for name, box in self.boxes.items():
            box.setValue(getattr(title, name) * BOXES[name][1])
        for widget in widgets:
            widget.blockSignals(False)
        self.colour.show_colour(title.colour)
        self.outline_colour.show_colour(title.outline_colour)
        self.box_colour.show_colour(title.box_colour)

    def _typed(self) -> None:
        self._typing.start()

    def _send_text(self) -> None:
        text = self.text.toPlainText()
        if text.strip():  # an empty title is not one: the box keeps it until text comes back
            self._set("text", text, "title text", ("text", self._session))

    def commit_text(self) -> None:
        """Send what is typed now and end the typing run: the next keystroke starts a new undo step."""
        if self._typing.isActive():
            self._typing.stop()
            self._send_text()
        self._session += 1

    def _finish(self) -> None:
        self._session += 1

    def _set(self, name: str, value: object, what: str, merge_key: object = None) -> None:
        title = replace(self.title, **{name: value})
        if self.media_id is None or title == self.title:
            return
        self.title = title
        self.changed.emit(self.media_id, title, what, merge_key)
