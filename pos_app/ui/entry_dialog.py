"""A small dialog for one value the cashier types at the till (a price, a weight, a discount):
a title, what it is about, the field, the reason a value is refused, OK and Cancel.

Subclasses read the field (`read_value`, raising a DomainError with the reason) and the
dialog emits the value; the caller applies it. Window-modal, opened with `open()`.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent, QShowEvent
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from pos_app.domain.errors import DomainError
from pos_app.ui.error_text import describe_error, error_label
from pos_app.ui.wedge_filter import disable_input_method


class EntryDialog(QDialog):
    """One typed value; emits it with `sig_entered` when it reads, or shows why not."""

    sig_entered = Signal(object)
    """The value the cashier confirmed (what `read_value` returned)."""

    def __init__(self, lang: str, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.lang = lang
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setMinimumWidth(420)
        self.heading = QLabel(self)
        self.heading.setProperty("role", "title")
        self.explain_label = QLabel(self)
        self.explain_label.setWordWrap(True)
        self.field = self.make_field()
        disable_input_method(self.field)
        self.field.returnPressed.connect(self.confirm)
        row = QHBoxLayout()
        self.field_label = QLabel(self)
        row.addWidget(self.field_label)
        row.addWidget(self.field, 1)
        self.error_label = error_label(self)
        self.ok_button = QPushButton(self.tr("OK (Enter)"), self)
        self.ok_button.setProperty("primary", True)
        self.ok_button.setAutoDefault(False)
        self.ok_button.clicked.connect(self.confirm)
        self.cancel_button = QPushButton(self.tr("Cancel (Esc)"), self)
        self.cancel_button.setAutoDefault(False)
        self.cancel_button.clicked.connect(self.reject)
        self.buttons = QHBoxLayout()
        self.buttons.addStretch(1)
        self.buttons.addWidget(self.cancel_button)
        self.buttons.addWidget(self.ok_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.setSpacing(12)
        layout.addWidget(self.heading)
        layout.addWidget(self.explain_label)
        layout.addLayout(row)
        layout.addWidget(self.error_label)
        layout.addLayout(self.buttons)

    def set_texts(self, title: str, explain: str, label: str) -> None:
        """The dialog's title, what it is about, and the field's name."""
        self.setWindowTitle(title)
        self.heading.setText(title)
        self.explain_label.setText(explain)
        self.field_label.setText(label)
        self.field.setAccessibleName(label)

    def make_field(self) -> QLineEdit:
        """The field the value is typed in (a plain line edit unless a subclass says)."""
        return QLineEdit(self)

    def read_value(self) -> object:
        """The value in the field; raises a DomainError saying why it is refused."""
        raise NotImplementedError

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        self.field.setFocus()
        self.field.selectAll()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt's name)
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            return  # the field's Enter confirms; no button presses itself
        super().keyPressEvent(event)

    def confirm(self) -> None:
        """Read the field; a good value is emitted and the dialog closes."""
        try:
            value = self.read_value()
        except DomainError as exc:
            self.show_error(describe_error(exc, self.lang))
            return
        self.accept()
        self.sig_entered.emit(value)

    def show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.show()
        self.field.setFocus()
        self.field.selectAll()
