"""开班 at sign-in: no shift is open, so the cashier counts the float into the drawer and opens
one (or chooses "Later": the till then refuses sales until a shift is open)."""

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

from pos_app.domain.errors import AlreadyExists, DomainError
from pos_app.domain.money import MAX_DRAWER_FEN, fen_to_yuan_text, parse_yuan
from pos_app.services.auth import Actor
from pos_app.services.shifts import ShiftView, current_shift, open_shift
from pos_app.ui.error_text import describe_error
from pos_app.ui.operations import ServiceOp
from pos_app.ui.till_session import TillSession

DEFAULT_FLOAT_FEN = 50_000  # ¥500.00, what most stores start a drawer with


class OpenShiftDialog(QDialog):
    """Asks for the float and opens the shift; emits the shift, or None for "Later"."""

    sig_done = Signal(object)
    """The cashier is through: the opened ShiftView, or None when they chose "Later"."""

    def __init__(self, session: TillSession, actor: Actor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.actor = actor
        self._busy = False
        self._finished = False
        self._shift: ShiftView | None = None
        self.setWindowTitle(self.tr("Open a shift"))
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setMinimumWidth(440)

        title = QLabel(self.tr("No shift is open"), self)
        title.setProperty("role", "title")
        explain = QLabel(
            self.tr("Count the cash in the drawer and type the float to open a shift."), self
        )
        explain.setWordWrap(True)
        self.float_field = QLineEdit(fen_to_yuan_text(DEFAULT_FLOAT_FEN), self)
        self.float_field.setAccessibleName(self.tr("Float (yuan)"))
        self.float_field.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.float_field.setMaximumWidth(200)
        float_row = QHBoxLayout()
        float_row.addWidget(QLabel(self.tr("Float in the drawer (¥)"), self))
        float_row.addWidget(self.float_field)
        float_row.addStretch(1)
        self.error_label = QLabel(self)
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #c62828; font-weight: bold;")
        self.error_label.hide()

        self.open_button = QPushButton(self.tr("Open shift (Enter)"), self)
        self.open_button.setProperty("primary", True)
        self.open_button.setAutoDefault(False)
        self.open_button.clicked.connect(self.open_the_shift)
        self.later_button = QPushButton(self.tr("Later (Esc)"), self)
        self.later_button.setAutoDefault(False)
        self.later_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.later_button)
        buttons.addWidget(self.open_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.setSpacing(12)
        layout.addWidget(title)
        layout.addWidget(explain)
        layout.addLayout(float_row)
        layout.addWidget(self.error_label)
        layout.addLayout(buttons)
        self.float_field.returnPressed.connect(self.open_the_shift)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        self.float_field.setFocus()
        self.float_field.selectAll()  # typing replaces the suggested float

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt's name)
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            return  # the field's Enter opens the shift; no button presses itself
        super().keyPressEvent(event)

    def done(self, result: int) -> None:
        """Close; "Later" and Esc sign in without a shift."""
        if self._finished:
            return
        if self._busy and result != QDialog.DialogCode.Accepted:
            return  # the shift may be opening right now: wait for the answer
        self._finished = True
        super().done(result)
        self.sig_done.emit(self._shift if result == QDialog.DialogCode.Accepted else None)

    def open_the_shift(self) -> None:
        """Open the shift with the typed float, on the database worker."""
        if self._busy:
            return
        try:
            float_fen = parse_yuan(
                self.float_field.text() or "0", allow_zero=True, max_fen=MAX_DRAWER_FEN
            )
        except DomainError as exc:
            self._show_error(exc)
            return
        ctx, actor = self.session.ctx, self.actor
        self._busy = True
        self.open_button.setEnabled(False)
        self.error_label.hide()
        (
            ServiceOp(
                self,
                lambda: open_shift(ctx, actor, float_fen),
                busy_text=self.tr("Opening the shift…"),
            )
            .success(self._opened)
            .failure(self._refused)
            .finally_(self._not_busy)
            .run()
        )

    def _not_busy(self) -> None:
        self._busy = False
        self.open_button.setEnabled(True)

    def _opened(self, shift: ShiftView) -> None:
        self._shift = shift
        self._busy = False
        self.accept()

    def _refused(self, exc: BaseException) -> None:
        if isinstance(exc, AlreadyExists):
            # Another till opened one meanwhile: work in that shift.
            ctx, actor = self.session.ctx, self.actor
            ServiceOp(self, lambda: current_shift(ctx, actor)).success(self._found).failure(
                self._show_error
            ).run()
            return
        self._show_error(exc)

    def _found(self, shift: ShiftView | None) -> None:
        if shift is not None:
            self._opened(shift)

    def _show_error(self, exc: BaseException) -> None:
        self.error_label.setText(describe_error(exc, self.session.lang))
        self.error_label.show()
        self.float_field.setFocus()
        self.float_field.selectAll()
