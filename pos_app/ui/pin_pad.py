"""The card PIN pad (密码键盘): a masked field and a 3×4 keypad, for touch and keyboard.

The customer (or the cashier, on the customer's word) types the card's 6-digit PIN by
tapping the keys or on the keyboard; Enter is left to the dialog that holds the pad. The PIN
lives only in the masked field until `take_pin()` hands it over and clears it: it is never
logged, kept, or shown.
"""

from __future__ import annotations

from PySide6.QtCore import QRegularExpression, Qt, Signal
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import QGridLayout, QLineEdit, QPushButton, QVBoxLayout, QWidget

from pos_app.ui.wedge_filter import disable_input_method

PIN_LENGTH = 6  # pin_policy: a card PIN is 6 digits


class PinPad(QWidget):
    """A masked PIN field over a keypad: 1–9, clear, 0, backspace."""

    sig_pin_changed = Signal(int)
    """The number of digits typed so far changed (never the digits themselves)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.field = QLineEdit(self)
        self.field.setEchoMode(QLineEdit.EchoMode.Password)
        self.field.setMaxLength(PIN_LENGTH)
        self.field.setValidator(
            QRegularExpressionValidator(QRegularExpression(f"[0-9]{{0,{PIN_LENGTH}}}"), self)
        )
        self.field.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.field.setStyleSheet("font-size: 24pt; letter-spacing: 8px;")
        self.field.setAccessibleName(self.tr("Card PIN"))
        self.field.setContextMenuPolicy(Qt.ContextMenuPolicy.NoContextMenu)  # no copy/paste
        # After setEchoMode, which turns the input method back on.
        disable_input_method(self.field)
        self.field.textChanged.connect(lambda text: self.sig_pin_changed.emit(len(text)))

        grid = QGridLayout()
        grid.setSpacing(6)
        self.digit_buttons: dict[str, QPushButton] = {}
        for index, digit in enumerate("123456789"):
            button = self._key(digit)
            button.clicked.connect(lambda _=False, d=digit: self.press(d))
            self.digit_buttons[digit] = button
            grid.addWidget(button, index // 3, index % 3)
        self.clear_button = self._key(self.tr("Clear"))
        self.clear_button.clicked.connect(self.clear)
        zero = self._key("0")
        zero.clicked.connect(lambda: self.press("0"))
        self.digit_buttons["0"] = zero
        self.back_button = self._key("⌫")
        self.back_button.setAccessibleName(self.tr("Delete the last digit"))
        self.back_button.clicked.connect(self.backspace)
        grid.addWidget(self.clear_button, 3, 0)
        grid.addWidget(zero, 3, 1)
        grid.addWidget(self.back_button, 3, 2)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.field)
        layout.addLayout(grid)
        self.setFocusProxy(self.field)  # focusing the pad puts the cursor in the field

    def _key(self, text: str) -> QPushButton:
        button = QPushButton(text, self)
        # Taps never take the focus from the field, so the keyboard keeps working.
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        button.setAutoDefault(False)
        button.setMinimumSize(72, 56)
        button.setStyleSheet("font-size: 18pt;")
        return button

    def press(self, digit: str) -> None:
        """A keypad digit was tapped: add it, as a key typed in the field would."""
        if len(self.field.text()) < PIN_LENGTH:
            self.field.setText(self.field.text() + digit)
        self.field.setFocus()

    def backspace(self) -> None:
        """Take back the last digit."""
        self.field.setText(self.field.text()[:-1])
        self.field.setFocus()

    def clear(self) -> None:
        """Forget every digit typed."""
        self.field.clear()
        self.field.setFocus()

    def is_complete(self) -> bool:
        """Whether a whole PIN has been typed."""
        return len(self.field.text()) == PIN_LENGTH

    def take_pin(self) -> str:
        """The PIN typed, handed over once: the field is cleared at the same time."""
        pin = self.field.text()
        self.field.clear()
        return pin
