"""The cash count at the close of a shift (交班点钞): every note and coin box shows what is
typed into it, at the till's style and the smallest screen the till supports."""

from __future__ import annotations

from PySide6.QtCore import Qt

from pos_app.ui.shift_screen import MAX_PIECES
from tests.ui.conftest import Till
from tests.ui.test_shift_screen import _key, _open_and_sell, _screen


def test_every_count_box_is_wide_enough_for_its_digits(till: Till) -> None:
    _open_and_sell(till)
    till.window.resize(1024, 768)
    screen = _screen(till, "cashier")
    _key(till, Qt.Key.Key_F8)
    dialog = screen.count_dialog
    assert dialog is not None
    till.qtbot.waitExposed(dialog)
    widest = str(MAX_PIECES)
    for face, box in dialog.count_boxes.items():
        field = box.lineEdit()
        field.selectAll()
        till.qtbot.keyClicks(box, widest)
        assert field.text() == widest and box.value() == MAX_PIECES
        # The text field inside the box (not only the box's frame) holds all five digits.
        needed = field.fontMetrics().horizontalAdvance(widest)
        assert field.width() >= needed, (face, field.width(), needed)
        assert field.isVisible() and box.rect().contains(field.geometry())
