"""Shift & reports (F3, PRODUCT §9): the open shift, paid-in and paid-out, the X report,
closing the shift with a cash count (the Z report, printed), opening the next one, the
day-end (日结) and reports over any dates.

Reports show as the printer lays them out (`ReportView`) and print with Ctrl+P; the Z
report of a closed shift prints by itself when a printer is set up. Every figure comes from
the services; this screen only asks and shows.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from pos_app.domain.errors import DomainError
from pos_app.domain.money import MAX_DRAWER_FEN, format_fen, parse_yuan
from pos_app.domain.permissions import Permission
from pos_app.domain.report_text import ReportHeading
from pos_app.services import reports, shifts
from pos_app.services.context import StoreContext
from pos_app.services.report_printing import (
    AnyReport,
    report_as_text,
    report_heading,
    report_print_document,
)
from pos_app.services.shifts import CashMove, ShiftReport, ShiftView
from pos_app.ui.approval_dialog import run_with_approval
from pos_app.ui.backup_schedule import run_backup
from pos_app.ui.error_text import describe_error, error_label
from pos_app.ui.journal_view import open_journal
from pos_app.ui.money_input import MoneyInput
from pos_app.ui.operations import ServiceOp
from pos_app.ui.report_view import ReportView
from pos_app.ui.store_figures_view import export_report, open_liabilities, open_sales_analysis
from pos_app.ui.till_session import TillSession
from pos_app.ui.translations import fill
from pos_app.ui.voucher_output import print_voucher

SCREEN_COLUMNS = 48  # reports show as 80 mm paper prints them
# Notes and coins a drawer holds, in fen (count × face = total, in whole fen).
DENOMINATIONS_FEN = (10_000, 5_000, 2_000, 1_000, 500, 100, 50, 10)
MAX_PIECES = 99_999

ShownReport = tuple[AnyReport, ReportHeading]


def _press(button: QPushButton) -> None:
    """A key does what clicking the button does, and nothing while the button is disabled."""
    if button.isEnabled():
        button.click()


def _with_heading(ctx: StoreContext, report: AnyReport) -> ShownReport:
    """A report and its heading, made together on the worker (the heading reads the store)."""
    return report, report_heading(ctx, report)


class AmountDialog(QDialog):
    """An amount in yuan, and a reason when one is asked for: the float of a new shift, a
    paid-in or a paid-out. The screen records it and closes the dialog, or shows why not."""

    sig_submitted = Signal(int, str)
    """The cashier confirmed (amount in fen, reason)."""

    def __init__(
        self,
        parent: QWidget,
        title: str,
        prompt: str,
        confirm: str,
        *,
        with_reason: bool,
        allow_zero: bool,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(460)
        layout = QVBoxLayout(self)
        heading = QLabel(prompt, self)
        heading.setWordWrap(True)
        layout.addWidget(heading)
        form = QFormLayout()
        self.amount_field = MoneyInput(self, allow_zero=allow_zero, max_fen=MAX_DRAWER_FEN)
        form.addRow(self.tr("Amount (¥)"), self.amount_field)
        self.reason_field = QLineEdit(self)
        self.reason_field.setMaxLength(shifts.MAX_REASON_CHARS)
        self.reason_field.setPlaceholderText(self.tr("For example: change from the bank"))
        if with_reason:
            form.addRow(self.tr("Reason"), self.reason_field)
        else:
            self.reason_field.hide()
        layout.addLayout(form)
        self.error_label = error_label(self)
        layout.addWidget(self.error_label)
        buttons = QDialogButtonBox(self)
        self.ok_button = buttons.addButton(confirm, QDialogButtonBox.ButtonRole.AcceptRole)
        self.ok_button.setProperty("primary", True)
        self.ok_button.setDefault(True)
        cancel = buttons.addButton(self.tr("Cancel"), QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self._submit)
        cancel.clicked.connect(self.reject)
        layout.addWidget(buttons)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        self.amount_field.setFocus()

    def _submit(self) -> None:
        try:
            fen = self.amount_field.fen()
        except DomainError as exc:
            self.show_error(exc.message(_lang_of(self)))
            self.amount_field.setFocus()
            self.amount_field.selectAll()
            return
        self.error_label.hide()
        self.set_busy(True)
        self.sig_submitted.emit(fen, self.reason_field.text())

    def show_error(self, text: str) -> None:
        """Why it was refused, in red under the fields; the dialog stays open."""
        self.error_label.setText(text)
        self.error_label.show()

    def set_busy(self, busy: bool) -> None:
        """While the service works, a second Enter does not send it again."""
        self.ok_button.setEnabled(not busy)


class CashCountDialog(QDialog):
    """交班点钞: the cash in the drawer, counted note by note (count × face, added up as the
    cashier types) or typed as one total. What the drawer should hold is not shown: the
    count is blind, the Z report compares."""

    sig_counted = Signal(int)
    """The cashier confirmed the count (fen)."""

    def __init__(self, parent: QWidget, shift_no: int) -> None:
        super().__init__(parent)
        self.setWindowTitle(fill(self.tr("Close shift %1"), shift_no))
        self.setMinimumWidth(520)
        layout = QVBoxLayout(self)
        intro = QLabel(
            self.tr(
                "Count the cash in the drawer, float included. Type how many of each note "
                "and coin, or the total."
            ),
            self,
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.tabs = QTabWidget(self)
        self.tabs.addTab(self._make_grid(), self.tr("By note and coin"))
        total_page = QWidget(self.tabs)
        total_form = QFormLayout(total_page)
        self.total_field = MoneyInput(total_page, allow_zero=True, max_fen=MAX_DRAWER_FEN)
        total_form.addRow(self.tr("Cash counted (¥)"), self.total_field)
        self.tabs.addTab(total_page, self.tr("Total"))
        layout.addWidget(self.tabs)
        self.total_label = QLabel(self)
        self.total_label.setProperty("role", "big")
        self.total_label.setAlignment(Qt.AlignmentFlag.AlignRight)
        layout.addWidget(self.total_label)
        self.error_label = error_label(self)
        layout.addWidget(self.error_label)
        buttons = QDialogButtonBox(self)
        self.ok_button = buttons.addButton(
            self.tr("Close the shift"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.ok_button.setProperty("danger", True)
        self.ok_button.setDefault(True)
        cancel = buttons.addButton(self.tr("Cancel"), QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self._submit)
        cancel.clicked.connect(self.reject)
        layout.addWidget(buttons)
        self.total_field.textChanged.connect(self._update_total)
        self.tabs.currentChanged.connect(self._on_tab)
        self._update_total()

    def _make_grid(self) -> QWidget:
        page = QWidget(self)
        # Under the till's style sheet a spin box without buttons still keeps their room in
        # its padding box, which leaves its text field 1 px wide: nothing typed shows.
        page.setStyleSheet(
            "QSpinBox::up-button, QSpinBox::down-button { subcontrol-origin: border; width: 0; }"
        )
        grid = QGridLayout(page)
        self.count_boxes: dict[int, QSpinBox] = {}
        self.subtotal_labels: dict[int, QLabel] = {}
        grid.setColumnStretch(4, 1)
        grid.setVerticalSpacing(4)
        for row, face in enumerate(DENOMINATIONS_FEN):
            face_label = QLabel(format_fen(face), page)
            face_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            box = QSpinBox(page)
            box.setRange(0, MAX_PIECES)
            box.setAccessibleName(fill(self.tr("Pieces of %1"), format_fen(face)))
            box.setMinimumWidth(140)
            # Typed, not clicked: arrows this small only get in the way (↑/↓ still count).
            box.setButtonSymbols(QSpinBox.ButtonSymbols.NoButtons)
            box.setAlignment(Qt.AlignmentFlag.AlignRight)
            box.valueChanged.connect(self._update_total)
            subtotal = QLabel(page)
            subtotal.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            subtotal.setMinimumWidth(120)
            grid.addWidget(face_label, row, 0)
            grid.addWidget(QLabel("×", page), row, 1)
            grid.addWidget(box, row, 2)
            grid.addWidget(QLabel("=", page), row, 3)
            grid.addWidget(subtotal, row, 4)
            self.count_boxes[face] = box
            self.subtotal_labels[face] = subtotal
        return page

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        self._focus_first()

    def _on_tab(self, _index: int) -> None:
        self._update_total()
        self._focus_first()

    def _focus_first(self) -> None:
        if self.tabs.currentIndex() == 0:
            first = self.count_boxes[DENOMINATIONS_FEN[0]]
            first.setFocus()
            first.selectAll()
        else:
            self.total_field.setFocus()

    def by_denomination(self) -> bool:
        """Whether the count is by note and coin (else a typed total)."""
        return self.tabs.currentIndex() == 0

    def counted_fen(self) -> int:
        """The total counted, in fen; raises InvalidInput for a total that is not an amount."""
        if self.by_denomination():
            return sum(face * box.value() for face, box in self.count_boxes.items())
        # parse_yuan, not fen(): no red frame while typing
        return parse_yuan(self.total_field.text(), allow_zero=True, max_fen=MAX_DRAWER_FEN)

    def _update_total(self) -> None:
        for face, box in self.count_boxes.items():
            self.subtotal_labels[face].setText(format_fen(face * box.value()))
        try:
            total = format_fen(self.counted_fen())
        except DomainError:
            total = "—"
        self.total_label.setText(fill(self.tr("Counted: %1"), total))

    def _submit(self) -> None:
        try:
            fen = self.counted_fen()
        except DomainError as exc:
            self.show_error(exc.message(_lang_of(self)))
            return
        self.error_label.hide()
        self.set_busy(True)
        self.sig_counted.emit(fen)

    def show_error(self, text: str) -> None:
        """Why it was refused, in red under the fields; the dialog stays open."""
        self.error_label.setText(text)
        self.error_label.show()

    def set_busy(self, busy: bool) -> None:
        """While the service works, a second Enter does not send it again."""
        self.ok_button.setEnabled(not busy)


class ConfirmDialog(QDialog):
    """A yes/no question: Enter confirms, Esc backs out."""

    def __init__(self, parent: QWidget, title: str, text: str, confirm: str) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(440)
        layout = QVBoxLayout(self)
        label = QLabel(text, self)
        label.setWordWrap(True)
        layout.addWidget(label)
        buttons = QDialogButtonBox(self)
        self.ok_button = buttons.addButton(confirm, QDialogButtonBox.ButtonRole.AcceptRole)
        self.ok_button.setProperty("primary", True)
        self.ok_button.setDefault(True)
        cancel = buttons.addButton(self.tr("Cancel"), QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self.accept)
        cancel.clicked.connect(self.reject)
        layout.addWidget(buttons)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        self.ok_button.setFocus()


class RangeDialog(QDialog):
    """Two dates for a period report, with the usual periods one key away."""

    sig_chosen = Signal(object, object)
    """The first and last day (datetime.date) of the period asked for."""

    def __init__(self, parent: QWidget, today: date) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Report by dates"))
        self.setMinimumWidth(480)
        self._today = today
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.from_edit = self._date_edit()
        self.to_edit = self._date_edit()
        form.addRow(self.tr("From"), self.from_edit)
        form.addRow(self.tr("To"), self.to_edit)
        layout.addLayout(form)
        quick = QHBoxLayout()
        first_of_month = today.replace(day=1)
        last_month_end = date.fromordinal(first_of_month.toordinal() - 1)
        for text, first, last in (
            (self.tr("&Today"), today, today),
            (self.tr("This &month"), first_of_month, today),
            (self.tr("&Last month"), last_month_end.replace(day=1), last_month_end),
            (self.tr("This &year"), today.replace(month=1, day=1), today),
        ):
            button = QPushButton(text, self)
            button.setAutoDefault(False)
            button.clicked.connect(lambda _=False, a=first, b=last: self.set_period(a, b))
            quick.addWidget(button)
        layout.addLayout(quick)
        buttons = QDialogButtonBox(self)
        self.ok_button = buttons.addButton(
            self.tr("Show the report"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.ok_button.setProperty("primary", True)
        self.ok_button.setDefault(True)
        cancel = buttons.addButton(self.tr("Cancel"), QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self._choose)
        cancel.clicked.connect(self.reject)
        layout.addWidget(buttons)
        self.set_period(first_of_month, today)

    def _date_edit(self) -> QDateEdit:
        edit = QDateEdit(self)
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("yyyy-MM-dd")
        edit.setMinimumHeight(36)
        return edit

    def set_period(self, first: date, last: date) -> None:
        """Show the period first..last in the date fields."""
        self.from_edit.setDate(QDate(first.year, first.month, first.day))
        self.to_edit.setDate(QDate(last.year, last.month, last.day))

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        self.from_edit.setFocus()

    def _choose(self) -> None:
        first, last = self.from_edit.date(), self.to_edit.date()
        self.accept()
        self.sig_chosen.emit(
            date(first.year(), first.month(), first.day()),
            date(last.year(), last.month(), last.day()),
        )


def _lang_of(widget: QWidget) -> str:
    """The services' language of the window `widget` is in."""
    parent = widget.parentWidget()
    while parent is not None:
        session = getattr(parent, "session", None)
        if isinstance(session, TillSession):
            return session.lang
        parent = parent.parentWidget()
    return "zh"


class ShiftScreen(QWidget):
    """The shift's cash and the settlement reports."""

    def __init__(self, session: TillSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.shown: ShownReport | None = None
        self.amount_dialog: AmountDialog | None = None
        self.count_dialog: CashCountDialog | None = None
        self.confirm_dialog: ConfirmDialog | None = None
        self.range_dialog: RangeDialog | None = None

        outer = QHBoxLayout(self)
        outer.setContentsMargins(16, 12, 16, 12)
        outer.setSpacing(16)
        side = QVBoxLayout()
        side.setSpacing(8)  # a 768 px screen has no height to spare in this column
        title = QLabel(self.tr("Shift"), self)
        title.setProperty("role", "title")
        side.addWidget(title)
        self.shift_label = QLabel(self)
        self.shift_label.setWordWrap(True)
        self.shift_label.setMinimumWidth(340)
        # Never squeezed below its three lines (the buttons below are fixed-height).
        self.shift_label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        side.addWidget(self.shift_label)

        self.x_button = self._action(self.tr("X report"), "F5", self.show_x_report)
        self.paid_in_button = self._action(self.tr("Paid in"), "F6", self.start_paid_in)
        self.paid_out_button = self._action(self.tr("Paid out"), "F7", self.start_paid_out)
        self.close_button = self._action(self.tr("Close shift"), "F8", self.start_close_shift)
        self.open_button = self._action(self.tr("Open shift"), "F9", self.start_open_shift)
        self.open_button.setProperty("primary", True)
        # Paid in and out share a row: on a 768 px screen the column has no height to spare.
        cash_moves = QHBoxLayout()
        cash_moves.addWidget(self.paid_in_button)
        cash_moves.addWidget(self.paid_out_button)
        side.addWidget(self.x_button)
        side.addLayout(cash_moves)
        # Only one of the two can be pressed at a time: they share a row too.
        open_close = QHBoxLayout()
        open_close.addWidget(self.close_button)
        open_close.addWidget(self.open_button)
        side.addLayout(open_close)
        store_title = QLabel(self.tr("Store reports"), self)
        store_title.setProperty("role", "muted")
        side.addWidget(store_title)
        self.day_end_button = self._action(self.tr("Day end"), "F10", self.start_day_end)
        self.range_button = self._action(self.tr("Report by dates"), "F11", self.start_range)
        side.addWidget(self.day_end_button)
        side.addWidget(self.range_button)
        self.journal_button = self._action(
            self.tr("Sales journal"), "Ctrl+J", lambda: open_journal(self, self.session)
        )
        self.analysis_button = self._action(
            self.tr("Sales analysis"), "Ctrl+G", lambda: open_sales_analysis(self, self.session)
        )
        self.liabilities_button = self._action(
            self.tr("Liabilities"), "Ctrl+L", lambda: open_liabilities(self, self.session)
        )
        journal_analysis = QHBoxLayout()
        journal_analysis.addWidget(self.journal_button)
        journal_analysis.addWidget(self.analysis_button)
        side.addLayout(journal_analysis)
        side.addWidget(self.liabilities_button)
        side.addStretch(1)
        outer.addLayout(side)

        main = QVBoxLayout()
        self.report_title = QLabel(self.tr("Reports show here"), self)
        self.report_title.setProperty("role", "muted")
        main.addWidget(self.report_title)
        self.over_short_label = QLabel(self)
        self.over_short_label.setWordWrap(True)
        self.over_short_label.hide()
        main.addWidget(self.over_short_label)
        self.report_view = ReportView(self)
        main.addWidget(self.report_view, 1)
        row = QHBoxLayout()
        row.addStretch(1)
        self.print_button = self._action(self.tr("Print"), "Ctrl+P", self.print_report)
        self.print_button.setEnabled(False)
        self.export_button = self._action(self.tr("Export"), "Ctrl+E", self.export_report)
        self.export_button.setEnabled(False)
        row.addWidget(self.export_button)
        row.addWidget(self.print_button)
        main.addLayout(row)
        outer.addLayout(main, 1)

        session.sig_shift_changed.connect(self._update_shift)
        session.sig_signed_in.connect(self._on_signed_in)
        session.sig_signed_out.connect(self._clear_report)
        self._update_shift()

    def _action(self, text: str, key: str, slot: Callable[[], None]) -> QPushButton:
        """A button with its key in its text; the key works wherever the screen is shown."""
        sequence = QKeySequence(key)
        button = QPushButton(
            f"{text}  ({sequence.toString(QKeySequence.SequenceFormat.NativeText)})", self
        )
        button.clicked.connect(slot)
        shortcut = QShortcut(sequence, self)
        shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
        shortcut.activated.connect(lambda: _press(button))
        return button

    # -- state -------------------------------------------------------------------------------

    def activate(self) -> None:
        """Shown (F3): the shift as it stands, the focus on the first thing to do."""
        self._update_shift()
        target = self.x_button if self.x_button.isEnabled() else self.open_button
        target.setFocus()

    def _on_signed_in(self, _actor: object) -> None:
        self._clear_report()
        self._update_shift()

    def _update_shift(self, *_args: object) -> None:
        shift = self.session.shift
        is_open = shift is not None and shift.is_open
        for button in (self.x_button, self.paid_in_button, self.paid_out_button):
            button.setEnabled(is_open)
        self.close_button.setEnabled(is_open)
        # The style sheet's danger colours have no disabled look: only an open shift shows red.
        self.close_button.setProperty("danger", is_open)
        self.close_button.style().unpolish(self.close_button)
        self.close_button.style().polish(self.close_button)
        self.open_button.setEnabled(self.session.actor is not None and not is_open)
        if shift is None or not is_open:
            self.shift_label.setText(self.tr("No shift is open. Open one (F9) to sell."))
            return
        self.shift_label.setText(
            fill(
                self.tr("Shift %1 (%2)\nOpened %3 by %4\nFloat %5"),
                str(shift.shift_no),
                shift.business_day,
                _local_time(self.session, shift.opened_at),
                shift.opened_by,
                format_fen(shift.float_fen),
            )
        )

    def _clear_report(self) -> None:
        self.shown = None
        self.report_view.clear()
        self.report_title.setText(self.tr("Reports show here"))
        self.over_short_label.hide()
        self.print_button.setEnabled(False)
        self.export_button.setEnabled(False)

    def _open_dialog(self, dialog: QDialog) -> None:
        dialog.finished.connect(self._back_from_dialog)
        dialog.open()

    def _back_from_dialog(self, _result: int) -> None:
        """A dialog closed: the till's window takes the keys again (F5–F11), the focus on
        what comes next."""
        self.window().activateWindow()
        if self.isVisible():
            target = self.x_button if self.x_button.isEnabled() else self.open_button
            target.setFocus()

    def _alert(self, text: str, level: str = "info") -> None:
        window = self.window()
        if hasattr(window, "show_message"):
            window.show_message(text, level)

    def _error(self, exc: BaseException) -> None:
        window = self.window()
        if hasattr(window, "show_error"):
            window.show_error(exc)

    # -- reports -----------------------------------------------------------------------------

    def show_x_report(self) -> None:
        """F5: the open shift's figures so far."""
        ctx, actor = self.session.ctx, self.session.require_actor()
        ServiceOp(
            self,
            lambda: _with_heading(ctx, reports.x_report(ctx, actor)),
            busy_text=self.tr("Reading the X report…"),
        ).success(self.show_report).run()

    def show_report(self, shown: ShownReport) -> None:
        """Show a report as it prints, with the cash count's over/short highlighted."""
        report, heading = shown
        self.shown = shown
        text = report_as_text(report, heading, SCREEN_COLUMNS, self.session.lang)
        cash = report.figures.cash
        highlights: dict[int, str] = {}
        if cash.counted_fen is not None and cash.over_short_fen is not None:
            level = "good" if cash.over_short_fen == 0 else "bad"
            lines = text.split("\n")
            closing = lines.index("=" * SCREEN_COLUMNS) if "=" * SCREEN_COLUMNS in lines else -1
            if closing > 0:
                highlights[closing - 1] = level  # render_report ends the cash with over/short
            self._show_over_short(cash.expected_fen, cash.counted_fen, cash.over_short_fen)
        else:
            self.over_short_label.hide()
        self.report_view.set_report(text, highlights)
        self.report_title.setText(self._report_title(report))
        self.print_button.setEnabled(True)
        self.export_button.setEnabled(True)

    def _report_title(self, report: AnyReport) -> str:
        if isinstance(report, ShiftReport):
            if report.final:
                return fill(self.tr("Z report: shift %1 closed"), report.shift.shift_no)
            return fill(self.tr("X report: shift %1 so far"), report.shift.shift_no)
        if isinstance(report, reports.DayReport):
            if report.closed:
                return fill(self.tr("Day end %1"), report.day.isoformat())
            return fill(self.tr("Day %1 (not closed)"), report.day.isoformat())
        return fill(
            self.tr("Report %1 – %2"), report.date_from.isoformat(), report.date_to.isoformat()
        )

    def _show_over_short(self, expected: int, counted: int, over_short: int) -> None:
        if over_short == 0:
            text = fill(
                self.tr("Cash balances: expected %1, counted %2"),
                format_fen(expected),
                format_fen(counted),
            )
            style = "background: #d8f3dc; color: #1a7f37;"
        elif over_short > 0:
            text = fill(
                self.tr("Cash over by %3: expected %1, counted %2"),
                format_fen(expected),
                format_fen(counted),
                format_fen(over_short),
            )
            style = "background: #fff4d6; color: #8a5a00;"
        else:
            text = fill(
                self.tr("Cash short by %3: expected %1, counted %2"),
                format_fen(expected),
                format_fen(counted),
                format_fen(-over_short),
            )
            style = "background: #fde2e1; color: #a61b1b;"
        self.over_short_label.setText(text)
        self.over_short_label.setStyleSheet(
            f"{style} font-size: 16pt; font-weight: bold; padding: 8px; border-radius: 4px;"
        )
        self.over_short_label.show()

    def export_report(self) -> None:
        """Ctrl+E: the report on screen to an XLSX or CSV file."""
        if self.shown is not None:
            report, heading = self.shown
            export_report(self, report, f"report-{heading.kind}-{heading.day or 'period'}")

    def print_report(self) -> None:
        """Ctrl+P: print the report on screen."""
        if self.shown is not None:
            self._print(self.shown, automatic=False)

    def _print(self, shown: ShownReport, *, automatic: bool) -> None:
        hub = self.session.devices
        report, heading = shown
        doc = report_print_document(report, heading, hub.settings.profile, hub.lang)
        self.print_button.setEnabled(False)
        ServiceOp(
            self, lambda: hub.print_document(doc), kind="io", busy_text=self.tr("Printing…")
        ).success(
            lambda _job: self._alert(
                self.tr("The Z report is printing.")
                if automatic
                else self.tr("The report is printing.")
            )
        ).finally_(lambda: self.print_button.setEnabled(self.shown is not None)).run()

    # -- cash in and out ---------------------------------------------------------------------

    def start_paid_in(self) -> None:
        """F6: cash put into the drawer that is not a sale."""
        self._start_cash_move(
            self.tr("Paid in"),
            self.tr("Cash put into the drawer that is not a sale (change from the bank, …)."),
            shifts.paid_in,
        )

    def start_paid_out(self) -> None:
        """F7: cash taken out of the drawer that is not a refund."""
        self._start_cash_move(
            self.tr("Paid out"),
            self.tr("Cash taken out of the drawer that is not a refund (a delivery paid, …)."),
            shifts.paid_out,
        )

    def _start_cash_move(self, title: str, prompt: str, move: Callable[..., CashMove]) -> None:
        dialog = AmountDialog(self, title, prompt, title, with_reason=True, allow_zero=False)
        dialog.sig_submitted.connect(
            lambda fen, reason: self._record_cash_move(dialog, move, fen, reason)
        )
        self.amount_dialog = dialog
        self._open_dialog(dialog)

    def _record_cash_move(
        self, dialog: AmountDialog, move: Callable[..., CashMove], fen: int, reason: str
    ) -> None:
        ctx, actor = self.session.ctx, self.session.require_actor()
        ServiceOp(
            self, lambda: move(ctx, actor, fen, reason), busy_text=self.tr("Recording…")
        ).success(lambda done: self._cash_moved(dialog, done)).failure(
            lambda exc: self._dialog_failed(dialog, exc)
        ).run()

    def _cash_moved(self, dialog: AmountDialog, done: CashMove) -> None:
        dialog.accept()
        amount = format_fen(done.amount_fen)
        if done.kind == "cash_paid_in":
            self._alert(fill(self.tr("Paid in %1 recorded: %2"), amount, done.reason))
        else:
            self._alert(fill(self.tr("Paid out %1 recorded: %2"), amount, done.reason))
        # The drawer opens for the cash and the 收入/支出凭证 prints for the count.
        print_voucher(self, self.session, done.entry_id, done.amount_fen)

    def _dialog_failed(self, dialog: AmountDialog | CashCountDialog, exc: BaseException) -> None:
        dialog.set_busy(False)
        dialog.show_error(describe_error(exc, self.session.lang))

    # -- opening and closing -----------------------------------------------------------------

    def start_open_shift(self) -> None:
        """F9: open a shift with the float in the drawer."""
        dialog = AmountDialog(
            self,
            self.tr("Open shift"),
            self.tr("Count the float in the drawer and type it."),
            self.tr("Open the shift"),
            with_reason=False,
            allow_zero=True,
        )
        dialog.sig_submitted.connect(lambda fen, _reason: self._open_shift(dialog, fen))
        self.amount_dialog = dialog
        self._open_dialog(dialog)

    def _open_shift(self, dialog: AmountDialog, float_fen: int) -> None:
        ctx, actor = self.session.ctx, self.session.require_actor()
        ServiceOp(
            self, lambda: shifts.open_shift(ctx, actor, float_fen), busy_text=self.tr("Opening…")
        ).success(lambda view: self._shift_opened(dialog, view)).failure(
            lambda exc: self._dialog_failed(dialog, exc)
        ).run()

    def _shift_opened(self, dialog: AmountDialog, view: ShiftView) -> None:
        dialog.accept()
        self.session.set_shift(view)
        self._alert(
            fill(
                self.tr("Shift %1 is open with a float of %2."),
                str(view.shift_no),
                format_fen(view.float_fen),
            )
        )
        self.x_button.setFocus()

    def start_close_shift(self) -> None:
        """F8: count the drawer and close the shift; the Z report shows and prints."""
        shift = self.session.shift
        if shift is None:
            return
        checkout = getattr(self.window(), "checkout_screen", None)
        cart_is_empty = getattr(checkout, "cart_is_empty", None)
        if callable(cart_is_empty) and not cart_is_empty():
            self._alert(
                self.tr(
                    "A sale is still on the checkout screen: finish it, hold it or cancel it "
                    "before closing the shift."
                ),
                "warning",
            )
            return
        dialog = CashCountDialog(self, shift.shift_no)
        dialog.sig_counted.connect(lambda fen: self._close_shift(dialog, fen))
        self.count_dialog = dialog
        self._open_dialog(dialog)

    def _close_shift(self, dialog: CashCountDialog, counted_fen: int) -> None:
        ctx, actor = self.session.ctx, self.session.require_actor()
        ServiceOp(
            self,
            lambda: _with_heading(ctx, shifts.close_shift(ctx, actor, counted_fen)),
            busy_text=self.tr("Closing the shift…"),
        ).success(lambda shown: self._shift_closed(dialog, shown)).failure(
            lambda exc: self._dialog_failed(dialog, exc)
        ).run()

    def _shift_closed(self, dialog: CashCountDialog, shown: ShownReport) -> None:
        dialog.accept()
        self.show_report(shown)
        self.session.set_shift(None)
        if self.session.devices.has_printer:
            self._print(shown, automatic=True)
        self.open_button.setFocus()

    # -- the store's reports -----------------------------------------------------------------

    def start_day_end(self) -> None:
        """F10: 日结, once the day's shifts are closed (a cashier with a manager's approval)."""
        day = self.session.ctx.business_day()
        dialog = ConfirmDialog(
            self,
            self.tr("Day end"),
            fill(
                self.tr(
                    "Close the day %1? Its figures are recorded once and cannot change; "
                    "every shift of the day must be closed first."
                ),
                day.isoformat(),
            ),
            self.tr("Close the day"),
        )
        dialog.accepted.connect(self._day_end)
        self.confirm_dialog = dialog
        self._open_dialog(dialog)

    def _day_end(self) -> None:
        ctx, actor = self.session.ctx, self.session.require_actor()

        def closed(shown: ShownReport) -> None:
            self.show_report(shown)
            # Every day end is followed by a backup, in the background.
            run_backup(self, ctx, actor, "day_close", self.session.lang)

        run_with_approval(
            self,
            self.session,
            Permission.DAY_CLOSE,
            lambda approval: _with_heading(ctx, reports.day_end(ctx, actor, None, approval)),
            closed,
            busy_text=self.tr("Closing the day…"),
        )

    def start_range(self) -> None:
        """F11: figures for any days (a cashier with a manager's approval)."""
        dialog = RangeDialog(self, self.session.ctx.business_day())
        dialog.sig_chosen.connect(self._range_report)
        self.range_dialog = dialog
        self._open_dialog(dialog)

    def _range_report(self, first: date, last: date) -> None:
        ctx, actor = self.session.ctx, self.session.require_actor()
        run_with_approval(
            self,
            self.session,
            Permission.REPORT_STORE,
            lambda approval: _with_heading(
                ctx, reports.range_report(ctx, actor, first, last, approval)
            ),
            self.show_report,
            busy_text=self.tr("Adding up the figures…"),
        )


def _local_time(session: TillSession, moment_iso: str) -> str:
    """A stored UTC time as the store's local HH:MM."""
    return datetime.fromisoformat(moment_iso).astimezone(session.ctx.tz).strftime("%H:%M")
