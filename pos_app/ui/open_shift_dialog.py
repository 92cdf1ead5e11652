"""开班 at sign-in: no shift is open, so the cashier counts the float into the drawer and opens
one (or chooses "Later": the till then refuses sales until a shift is open).

交接班: when the open shift is another cashier's, the one signing in never lands in it. They
count the drawer first: the count closes the other cashier's shift (its Z report prints),
and the dialog then asks for the float of their own shift, suggesting the cash counted."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

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
from pos_app.domain.money import MAX_DRAWER_FEN, fen_to_yuan_text, format_fen, parse_yuan
from pos_app.domain.report_text import ReportHeading
from pos_app.services.auth import Actor
from pos_app.services.context import StoreContext
from pos_app.services.report_printing import report_heading, report_print_document
from pos_app.services.shifts import ShiftReport, ShiftView, close_shift, current_shift, open_shift
from pos_app.ui.error_text import describe_error, error_label
from pos_app.ui.operations import ServiceOp
from pos_app.ui.till_session import TillSession
from pos_app.ui.translations import fill

T = TypeVar("T")

DEFAULT_FLOAT_FEN = 50_000  # ¥500.00, what most stores start a drawer with


def _handed_over(
    ctx: StoreContext, actor: Actor, counted_fen: int
) -> tuple[ShiftReport, ReportHeading]:
    """Database worker: close the other cashier's shift with this count, and the Z report's
    heading (it reads the store) for printing."""
    report = close_shift(ctx, actor, counted_fen)
    return report, report_heading(ctx, report)


class OpenShiftDialog(QDialog):
    """Asks for the float and opens the shift; emits the shift, or None for "Later". Given
    another cashier's open shift (`held`), asks for the drawer's count first (交接班)."""

    sig_done = Signal(object)
    """The cashier is through: the opened ShiftView, or None when they chose "Later"."""

    sig_handed_over = Signal(object)
    """The other cashier's shift was closed with this operator's count (its ShiftReport)."""

    def __init__(
        self,
        session: TillSession,
        actor: Actor,
        parent: QWidget | None = None,
        held: ShiftView | None = None,
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.actor = actor
        self.held = held
        self._busy = False
        self._finished = False
        self._shift: ShiftView | None = None
        self.setWindowTitle(self.tr("Open a shift"))
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setMinimumWidth(480)

        self.title_label = QLabel(self.tr("No shift is open"), self)
        self.title_label.setProperty("role", "title")
        self.title_label.setWordWrap(True)
        self.explain_label = QLabel(
            self.tr("Count the cash in the drawer and type the float to open a shift."), self
        )
        self.explain_label.setWordWrap(True)
        self.counted_field = QLineEdit(self)
        self.counted_field.setAccessibleName(self.tr("Cash counted (yuan)"))
        self.counted_field.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.counted_field.setMaximumWidth(200)
        self.counted_row = QWidget(self)
        counted_layout = QHBoxLayout(self.counted_row)
        counted_layout.setContentsMargins(0, 0, 0, 0)
        counted_layout.addWidget(QLabel(self.tr("Cash counted in the drawer (¥)"), self))
        counted_layout.addWidget(self.counted_field)
        counted_layout.addStretch(1)
        self.float_field = QLineEdit(fen_to_yuan_text(DEFAULT_FLOAT_FEN), self)
        self.float_field.setAccessibleName(self.tr("Float (yuan)"))
        self.float_field.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.float_field.setMaximumWidth(200)
        self.float_row = QWidget(self)
        float_row = QHBoxLayout(self.float_row)
        float_row.setContentsMargins(0, 0, 0, 0)
        float_row.addWidget(QLabel(self.tr("Float in the drawer (¥)"), self))
        float_row.addWidget(self.float_field)
        float_row.addStretch(1)
        self.error_label = error_label(self)

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
        layout.addWidget(self.title_label)
        layout.addWidget(self.explain_label)
        layout.addWidget(self.counted_row)
        layout.addWidget(self.float_row)
        layout.addWidget(self.error_label)
        layout.addLayout(buttons)
        self.float_field.returnPressed.connect(self.open_the_shift)
        self.counted_field.returnPressed.connect(self.hand_over)
        self.counted_field.textEdited.connect(lambda _text: self.error_label.hide())
        self.float_field.textEdited.connect(lambda _text: self.error_label.hide())
        if held is not None:
            self._ask_for_count(held)
        else:
            self.counted_row.hide()

    @property
    def handing_over(self) -> bool:
        """Still waiting for the count that closes the other cashier's shift."""
        return self.held is not None

    def _ask_for_count(self, held: ShiftView) -> None:
        who = f"{held.cashier}（{held.opened_by}）" if held.cashier else held.opened_by
        self.setWindowTitle(self.tr("Hand over the shift"))
        self.title_label.setText(
            fill(self.tr("Shift %1 of %2 is still open"), str(held.shift_no), who)
        )
        self.explain_label.setText(
            fill(
                self.tr(
                    "The drawer is %1's. Count the cash in it: your count closes their shift "
                    "(交班) and its Z report prints. Then you open your own shift."
                ),
                who,
            )
        )
        self.float_row.hide()
        self.open_button.setText(self.tr("Hand over (Enter)"))

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        field = self.counted_field if self.handing_over else self.float_field
        field.setFocus()
        field.selectAll()  # typing replaces the suggested float

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

    def hand_over(self) -> None:
        """Close the other cashier's shift with the typed count, on the database worker."""
        if self.held is None:
            return
        counted_fen = self._amount(self.counted_field, "")
        if counted_fen is None:
            return
        ctx, actor = self.session.ctx, self.actor
        self._start(
            lambda: _handed_over(ctx, actor, counted_fen),
            self.tr("Closing the shift…"),
            self._closed_for_hand_over,
            lambda exc: self._show_error(exc, self.counted_field),
        )

    def _amount(self, field: QLineEdit, empty: str) -> int | None:
        """The amount typed in `field` (an empty field reads as `empty`), or None when it is
        not one (the error is shown) or work is already running."""
        if self._busy:
            return None
        try:
            return parse_yuan(field.text() or empty, allow_zero=True, max_fen=MAX_DRAWER_FEN)
        except DomainError as exc:
            self._show_error(exc, field)
            return None

    def _start(
        self,
        work: Callable[[], T],
        busy_text: str,
        done: Callable[[T], None],
        failed: Callable[[BaseException], None],
    ) -> None:
        self._busy = True
        self.open_button.setEnabled(False)
        self.error_label.hide()
        ServiceOp(self, work, busy_text=busy_text).success(done).failure(failed).finally_(
            self._not_busy
        ).run()

    def _closed_for_hand_over(self, shown: tuple[ShiftReport, ReportHeading]) -> None:
        report, heading = shown
        self.held = None
        self.sig_handed_over.emit(report)
        hub = self.session.devices
        if hub.has_printer:
            doc = report_print_document(report, heading, hub.settings.profile, hub.lang)
            ServiceOp(self, lambda: hub.print_document(doc), kind="io").run()
        over_short = report.figures.cash.over_short_fen or 0
        self.setWindowTitle(self.tr("Open a shift"))
        self.title_label.setText(
            fill(
                self.tr("Shift %1 closed: %2 over (+) / short (-)"),
                str(report.shift.shift_no),
                ("+" if over_short > 0 else "") + format_fen(over_short),
            )
        )
        self.explain_label.setText(
            self.tr("Now type the float you keep in the drawer to open your own shift.")
        )
        self.counted_row.hide()
        self.float_row.show()
        self.float_field.setText(fen_to_yuan_text(report.figures.cash.counted_fen or 0))
        self.open_button.setText(self.tr("Open shift (Enter)"))
        self.float_field.setFocus()
        self.float_field.selectAll()

    def open_the_shift(self) -> None:
        """Open the shift with the typed float, on the database worker (or, while another
        cashier's shift is still open, hand it over first)."""
        if self.handing_over:
            self.hand_over()
            return
        float_fen = self._amount(self.float_field, "0")
        if float_fen is None:
            return
        ctx, actor = self.session.ctx, self.actor
        self._start(
            lambda: open_shift(ctx, actor, float_fen),
            self.tr("Opening the shift…"),
            self._opened,
            self._refused,
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
            # This operator's own shift is open already (opened elsewhere): work in it.
            ctx, actor = self.session.ctx, self.actor
            ServiceOp(self, lambda: current_shift(ctx, actor)).success(self._found).failure(
                lambda error: self._show_error(error, self.float_field)
            ).run()
            return
        self._show_error(exc, self.float_field)

    def _found(self, shift: ShiftView | None) -> None:
        if shift is not None and shift.opened_by == self.actor.login:
            self._opened(shift)

    def _show_error(self, exc: BaseException, field: QLineEdit) -> None:
        self.error_label.setText(describe_error(exc, self.session.lang))
        self.error_label.show()
        field.setFocus()
        field.selectAll()
