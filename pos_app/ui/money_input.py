"""A field for an amount of money typed in yuan ("12.5", "100"), read back as integer fen.

Only digits and one decimal point with up to two decimals can be typed; `fen()` parses with
the domain's `parse_yuan`, so the till and the CLI accept and refuse exactly the same
amounts, and a refusal carries the domain's bilingual message.
"""

from __future__ import annotations

from PySide6.QtCore import QRegularExpression, Qt, Signal, Slot
from PySide6.QtGui import QFocusEvent, QRegularExpressionValidator
from PySide6.QtWidgets import QLineEdit, QWidget

from pos_app.domain.errors import InvalidInput
from pos_app.domain.money import MAX_AMOUNT_FEN, fen_to_yuan_text, parse_yuan
from pos_app.ui.wedge_filter import disable_input_method

# Up to 9 digits of yuan (¥999,999,999 is above any single amount) and two decimals.
_AMOUNT_PATTERN = r"[0-9]{0,9}(\.[0-9]{0,2})?"
_INVALID_STYLE = "border: 2px solid #d64545;"


class MoneyInput(QLineEdit):
    """A QLineEdit for yuan: `fen()` → int fen, `set_fen(fen)` shows "12.30" selected so
    that typing replaces it."""

    sig_fen_changed = Signal(object)
    """The amount changed as typed: fen (int), or None when the field holds no amount."""

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        allow_zero: bool = False,
        max_fen: int = MAX_AMOUNT_FEN,
    ) -> None:
        super().__init__(parent)
        self.allow_zero = allow_zero
        self.max_fen = max_fen
        self.setValidator(QRegularExpressionValidator(QRegularExpression(_AMOUNT_PATTERN), self))
        self.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.setPlaceholderText("0.00")
        # Amounts are digits: a Chinese input method would only get in the way.
        disable_input_method(self)
        self.textChanged.connect(self._on_text_changed)

    def fen(self) -> int:
        """The amount in fen; raises InvalidInput (with its message in both languages) when
        the field is empty or holds no valid amount, and marks the field red."""
        try:
            value = parse_yuan(self.text(), allow_zero=self.allow_zero, max_fen=self.max_fen)
        except InvalidInput:
            self.set_invalid(True)
            raise
        return value

    def fen_or_none(self) -> int | None:
        """The amount in fen, or None when the field is empty or not a valid amount."""
        try:
            return parse_yuan(self.text(), allow_zero=self.allow_zero, max_fen=self.max_fen)
        except InvalidInput:
            return None

    def set_fen(self, fen: int | None) -> None:
        """Show an amount (None: empty), selected so that the next keys replace it."""
        self.setText("" if fen is None else fen_to_yuan_text(fen))
        self.selectAll()

    def set_invalid(self, invalid: bool) -> None:
        """Mark the field as holding a refused amount (a red frame) or clear the mark."""
        self.setProperty("invalid", invalid)
        self.setStyleSheet(_INVALID_STYLE if invalid else "")

    def focusInEvent(self, event: QFocusEvent) -> None:  # noqa: N802 (Qt's name)
        super().focusInEvent(event)
        # A prefilled amount is a suggestion: select it so the cashier can type over it.
        self.selectAll()

    @Slot(str)
    def _on_text_changed(self, _text: str) -> None:
        if self.property("invalid"):
            self.set_invalid(False)
        self.sig_fen_changed.emit(self.fen_or_none())
