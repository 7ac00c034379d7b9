"""Small field builders the studio's panels and dialogs share: a number box shown scaled, a frame side box, and a
field with its button in one row."""

from __future__ import annotations

from PySide6.QtWidgets import QDoubleSpinBox, QHBoxLayout, QSpinBox, QWidget

SIDE_BOX_LIMIT = 99_999  # wider than any frame, so a size past the limits can be typed and is refused by name


def scaled_box(limits: tuple[float, float], factor: float, suffix: str, step: float, decimals: int) -> QDoubleSpinBox:
    """A box showing a value from `limits` times `factor` (a share as a percentage, say), with `suffix`. Typed digits
    are one edit, on Enter or leaving the box."""
    box = QDoubleSpinBox()
    low, high = limits
    box.setRange(low * factor, high * factor)
    box.setSuffix(suffix)
    box.setSingleStep(step)
    box.setDecimals(decimals)
    box.setKeyboardTracking(False)
    return box


def side_box(name: str, what: str) -> QSpinBox:
    """A box for a frame's width or height (`name`) in pixels, in steps of 2; `what`: whose side, for the tip."""
    box = QSpinBox()
    box.setRange(1, SIDE_BOX_LIMIT)
    box.setSingleStep(2)  # sides are even
    box.setAccessibleName(name)
    box.setToolTip(f"{name} of {what} in pixels: an even number")
    return box


def field_row(field: QWidget, button: QWidget) -> QHBoxLayout:
    """`field` stretched across a form row with `button` after it."""
    row = QHBoxLayout()
    row.setContentsMargins(0, 0, 0, 0)
    row.addWidget(field, 1)
    row.addWidget(button)
    return row
