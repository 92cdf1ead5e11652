"""Pay (收款): the tender dialog — split tender, the card PIN pad, the change due, large.

The fast path is two keys: the dialog opens with cash prefilled with the amount due and the
cursor in the amount field, so Enter adds the cash and Enter again records the sale. Typing
over the prefilled amount takes what the customer hands over; the change shows large.

For a member with stored value, stored value comes first, prefilled with what it can pay;
whatever is left is prefilled as cash next. Bank card, WeChat Pay and Alipay take an optional
reference. The services decide everything: the amounts shown here are only what the cashier
entered; `checkout.sell` plans the tenders again, asks for the PIN (PinRequired), refuses a
wrong one (WrongPin) and after five locks the member's tenders — stored value, points and
service cards (PinLocked). A card locked already is shown as such when the dialog opens.

Keys: F5 cash, F6 bank card, F7 WeChat Pay, F8 Alipay, F9 stored value, F10 points, F11 service
card; F4 removes the selected (or last) tender; Enter adds / completes; Esc backs out.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QKeyEvent, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from pos_app.domain.card_lifecycle import mask_card_no
from pos_app.domain.errors import InvalidInput, PinLocked, PinRequired, WrongPin
from pos_app.domain.money import format_fen
from pos_app.domain.sale_request import TENDER_NAMES, SaleRequest, TenderRequest
from pos_app.services.auth import Approval
from pos_app.services.checkout import Quote, SaleResult, sell
from pos_app.ui.error_text import ERROR_STYLE, describe_error
from pos_app.ui.money_input import MoneyInput
from pos_app.ui.operations import ServiceOp
from pos_app.ui.pin_pad import PinPad
from pos_app.ui.receipt_output import print_after_sale
from pos_app.ui.till_session import TillSession
from pos_app.ui.translations import fill
from pos_app.ui.wedge_filter import disable_input_method

TENDER_KEYS = {
    "cash": Qt.Key.Key_F5,
    "bank": Qt.Key.Key_F6,
    "wechat": Qt.Key.Key_F7,
    "alipay": Qt.Key.Key_F8,
    "stored_value": Qt.Key.Key_F9,
    "points": Qt.Key.Key_F10,
    "count_card": Qt.Key.Key_F11,
}
REMOVE_KEY = Qt.Key.Key_F4
_KEY_TENDERS: dict[int, str] = {int(key): tender for tender, key in TENDER_KEYS.items()}


def key_name(key: Qt.Key) -> str:
    """ "F5" for Qt.Key.Key_F5: the key as printed on the keyboard, for button labels."""
    return QKeySequence(key).toString()


WITH_REFERENCE = ("bank", "wechat", "alipay")
# The member's own value: all locked together when wrong PINs locked the card.
MEMBER_TENDERS = ("stored_value", "points", "count_card")
BIG_STYLE = "font-size: 30pt; font-weight: bold;"
CHANGE_STYLE = "font-size: 34pt; font-weight: bold; color: #1a7f37;"
HUGE_CHANGE_STYLE = "font-size: 64pt; font-weight: bold; color: #1a7f37;"
# The tender being entered stands out among the tender buttons.
CHECKED_TENDER_STYLE = (
    "QPushButton:checked { background: #d7e6fd; border: 2px solid #1f6feb; font-weight: bold; }"
)

_open_dialogs: list[TenderDialog] = []  # newest last; tests and the screen find it here


def current_tender_dialog() -> TenderDialog | None:
    """The tender dialog on screen now, if any."""
    live = [d for d in _open_dialogs if isValid(d) and d.isVisible()]
    return live[-1] if live else None


@dataclass(frozen=True)
class TenderLine:
    """One tender the cashier added: for cash, the amount handed over."""

    tender: str
    amount_fen: int
    reference: str | None = None

    def request(self) -> TenderRequest:
        # A service card pays for its service lines: the services work out how much.
        amount = None if self.tender == "count_card" else self.amount_fen
        return TenderRequest(self.tender, amount, self.reference)


class TenderDialog(QDialog):
    """Takes the tenders for one priced cart and records the sale."""

    sig_sold = Signal(object)
    """The sale was committed (a SaleResult); the receipt is printing."""

    sig_cancelled = Signal()
    """The cashier backed out before anything was sold."""

    PAY, PIN, DONE = 0, 1, 2

    def __init__(
        self,
        session: TillSession,
        request: SaleRequest,
        quote: Quote,
        on_sold: Callable[[SaleResult], None],
        member: object | None = None,
        parent: QWidget | None = None,
        approval: Approval | None = None,
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.request = request
        self.approval = approval  # a manager's approval of the cart's manual changes
        self.quote = quote
        self.total_fen = quote.total_fen
        self._on_sold_callback = on_sold
        self.lines: list[TenderLine] = []
        self.current: str | None = None
        self.sale_result: SaleResult | None = None
        # Wrong PINs locked the card (already, or during this payment): no member tender.
        self.member_tenders_locked = quote.member_tenders_locked
        self._busy = False
        self._finished = False
        self.setWindowTitle(self.tr("Payment"))
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setMinimumSize(860, 620)

        self.stack = QStackedWidget(self)
        self.stack.addWidget(self._make_pay_page(member))
        self.stack.addWidget(self._make_pin_page())
        self.stack.addWidget(self._make_done_page())
        layout = QVBoxLayout(self)
        layout.addWidget(self.stack)
        self._start()
        _open_dialogs.append(self)

    # -- building ----------------------------------------------------------------------------

    def _tender_name(self, tender: str) -> str:
        zh, en = TENDER_NAMES[tender]
        return en if self.session.lang == "en" else zh

    def _make_pay_page(self, member: object | None) -> QWidget:
        page = QWidget(self)
        title = QLabel(self.tr("Payment"), page)
        title.setProperty("role", "title")
        self.member_label = QLabel(page)
        self.member_label.setProperty("role", "muted")
        # The checkout's member panel is read defensively: only the member's name is shown.
        name = getattr(member, "name", None) or getattr(
            getattr(member, "member", None), "name", None
        )
        if self.request.card_no:
            card = mask_card_no(self.request.card_no)
            self.member_label.setText(
                fill(self.tr("Member %1, card %2"), str(name), card)
                if name
                else fill(self.tr("Member card %1"), card)
            )
        header = QHBoxLayout()
        header.addWidget(title)
        header.addStretch(1)
        header.addWidget(self.member_label)
        self.lock_label = QLabel(self._lock_text(), page)
        self.lock_label.setWordWrap(True)
        self.lock_label.setStyleSheet(ERROR_STYLE)
        self.lock_label.setVisible(self.member_tenders_locked)

        self.total_label = QLabel(format_fen(self.total_fen), page)
        self.total_label.setStyleSheet(BIG_STYLE)
        self.left_label = QLabel(page)
        self.left_label.setStyleSheet(BIG_STYLE)
        self.change_caption = QLabel(self.tr("Change due"), page)
        self.change_label = QLabel(page)
        self.change_label.setStyleSheet(CHANGE_STYLE)
        figures = QGridLayout()
        figures.addWidget(QLabel(self.tr("Total due"), page), 0, 0)
        figures.addWidget(QLabel(self.tr("Left to pay"), page), 0, 1)
        figures.addWidget(self.change_caption, 0, 2)
        figures.addWidget(self.total_label, 1, 0)
        figures.addWidget(self.left_label, 1, 1)
        figures.addWidget(self.change_label, 1, 2)
        for column in range(3):
            figures.setColumnStretch(column, 1)

        self.tender_group = QButtonGroup(self)
        self.tender_group.setExclusive(True)
        self.tender_buttons: dict[str, QPushButton] = {}
        tender_row = QHBoxLayout()
        for tender in self._offered_tenders():
            button = QPushButton(
                f"{self._tender_name(tender)}\n{key_name(TENDER_KEYS[tender])}", page
            )
            button.setCheckable(True)
            button.setAutoDefault(False)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.setMinimumHeight(60)
            button.setStyleSheet(CHECKED_TENDER_STYLE)
            button.clicked.connect(lambda _=False, t=tender: self._tender_key(t))
            self.tender_group.addButton(button)
            self.tender_buttons[tender] = button
            tender_row.addWidget(button)

        self.tender_name_label = QLabel(page)
        self.tender_name_label.setStyleSheet("font-size: 16pt; font-weight: bold;")
        self.amount_field = MoneyInput(page)
        self.amount_field.setStyleSheet("font-size: 20pt;")
        self.amount_field.setMinimumWidth(200)
        self.amount_field.setAccessibleName(self.tr("Amount"))
        self.reference_field = QLineEdit(page)
        self.reference_field.setPlaceholderText(self.tr("Reference (optional)"))
        self.reference_field.setMaxLength(64)
        disable_input_method(self.reference_field)  # often scanned from the customer's phone
        self.add_button = QPushButton(self.tr("Add (Enter)"), page)
        self.add_button.setAutoDefault(False)
        self.add_button.clicked.connect(self.add_current)
        entry = QHBoxLayout()
        entry.addWidget(self.tender_name_label)
        entry.addWidget(self.amount_field, 1)
        entry.addWidget(self.reference_field, 1)
        entry.addWidget(self.add_button)
        self.hint_label = QLabel(page)
        self.hint_label.setProperty("role", "muted")
        self.hint_label.setWordWrap(True)

        self.tender_table = QTableWidget(0, 3, page)
        self.tender_table.setHorizontalHeaderLabels(
            [self.tr("Tender"), self.tr("Amount"), self.tr("Reference")]
        )
        self.tender_table.verticalHeader().hide()
        self.tender_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.tender_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.tender_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tender_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.remove_button = QPushButton(fill(self.tr("Remove (%1)"), key_name(REMOVE_KEY)), page)
        self.remove_button.setAutoDefault(False)
        self.remove_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.remove_button.clicked.connect(self.remove_tender)
        tenders_row = QHBoxLayout()
        tenders_row.addWidget(self.tender_table, 1)
        side = QVBoxLayout()
        side.addWidget(self.remove_button)
        side.addStretch(1)
        tenders_row.addLayout(side)

        self.error_label = QLabel(page)
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(ERROR_STYLE)
        self.error_label.hide()
        self.cancel_button = QPushButton(self.tr("Cancel (Esc)"), page)
        self.cancel_button.setAutoDefault(False)
        self.cancel_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.cancel_button.clicked.connect(self.reject)
        self.complete_button = QPushButton(self.tr("Complete sale (Enter)"), page)
        self.complete_button.setProperty("primary", True)
        self.complete_button.setAutoDefault(False)
        self.complete_button.setMinimumHeight(56)
        self.complete_button.clicked.connect(self.complete)
        buttons = QHBoxLayout()
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        buttons.addWidget(self.complete_button)

        layout = QVBoxLayout(page)
        layout.addLayout(header)
        layout.addWidget(self.lock_label)
        layout.addLayout(figures)
        layout.addLayout(tender_row)
        layout.addLayout(entry)
        layout.addWidget(self.hint_label)
        layout.addLayout(tenders_row, 1)
        layout.addWidget(self.error_label)
        layout.addLayout(buttons)
        return page

    def _make_pin_page(self) -> QWidget:
        page = QWidget(self)
        title = QLabel(self.tr("Card PIN"), page)
        title.setProperty("role", "title")
        self.pin_prompt = QLabel(page)
        self.pin_prompt.setWordWrap(True)
        self.pin_pad = PinPad(page)
        self.pin_pad.setMaximumWidth(360)
        self.pin_error_label = QLabel(page)
        self.pin_error_label.setWordWrap(True)
        self.pin_error_label.setStyleSheet(ERROR_STYLE)
        self.pin_error_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.pin_error_label.hide()
        back = QPushButton(self.tr("Back (Esc)"), page)
        back.setAutoDefault(False)
        back.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        back.clicked.connect(self._back_to_pay)
        self.pin_ok_button = QPushButton(self.tr("Pay (Enter)"), page)
        self.pin_ok_button.setProperty("primary", True)
        self.pin_ok_button.setAutoDefault(False)
        self.pin_ok_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.pin_ok_button.clicked.connect(self.submit_pin)
        buttons = QHBoxLayout()
        buttons.addWidget(back)
        buttons.addStretch(1)
        buttons.addWidget(self.pin_ok_button)
        pad_row = QHBoxLayout()
        pad_row.addStretch(1)
        pad_row.addWidget(self.pin_pad)
        pad_row.addStretch(1)
        layout = QVBoxLayout(page)
        layout.addWidget(title)
        layout.addWidget(self.pin_prompt)
        layout.addLayout(pad_row)
        layout.addWidget(self.pin_error_label)
        layout.addStretch(1)
        layout.addLayout(buttons)
        return page

    def _make_done_page(self) -> QWidget:
        page = QWidget(self)
        title = QLabel(self.tr("Sale complete"), page)
        title.setProperty("role", "title")
        self.receipt_label = QLabel(page)
        self.done_caption = QLabel(self.tr("Change due"), page)
        self.done_caption.setStyleSheet("font-size: 20pt;")
        self.done_caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.done_change_label = QLabel(page)
        self.done_change_label.setStyleSheet(HUGE_CHANGE_STYLE)
        self.done_change_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.given_label = QLabel(page)
        self.given_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.given_label.setStyleSheet("font-size: 16pt;")
        self.next_button = QPushButton(self.tr("Next sale (Enter)"), page)
        self.next_button.setProperty("primary", True)
        self.next_button.setAutoDefault(False)
        self.next_button.setMinimumHeight(56)
        self.next_button.clicked.connect(self.accept)
        layout = QVBoxLayout(page)
        layout.addWidget(title)
        layout.addWidget(self.receipt_label)
        layout.addStretch(1)
        layout.addWidget(self.done_caption)
        layout.addWidget(self.done_change_label)
        layout.addWidget(self.given_label)
        layout.addStretch(1)
        layout.addWidget(self.next_button)
        return page

    def _offered_tenders(self) -> list[str]:
        offered = ["cash", "bank", "wechat", "alipay"]
        if self.request.card_no and (self.quote.stored_value_fen or 0) > 0:
            offered.append("stored_value")
        if self.quote.points_max_fen > 0:
            offered.append("points")
        if self.quote.pass_cover_fen > 0:
            offered.append("count_card")
        return offered

    # -- the figures -------------------------------------------------------------------------

    def paid_fen(self, tender: str) -> int:
        """What the tenders of one kind added so far pay (cash: what was handed over)."""
        return sum(line.amount_fen for line in self.lines if line.tender == tender)

    def left_fen(self) -> int:
        """What is still to pay."""
        others = sum(line.amount_fen for line in self.lines if line.tender != "cash")
        return max(0, self.total_fen - others - self.paid_fen("cash"))

    def change_fen(self) -> int:
        """Cash handed over beyond what the cash had to pay."""
        others = sum(line.amount_fen for line in self.lines if line.tender != "cash")
        return max(0, self.paid_fen("cash") - max(0, self.total_fen - others))

    def covered(self) -> bool:
        """Whether the tenders added pay the whole bill."""
        return self.left_fen() == 0 and (bool(self.lines) or self.total_fen == 0)

    def _can_pay(self, tender: str) -> int:
        """The most a tender could still pay, as far as the quote knows."""
        left = self.left_fen()
        if tender == "stored_value":
            return min(left, max(0, (self.quote.stored_value_fen or 0) - self.paid_fen(tender)))
        if tender == "points":
            return min(left, max(0, self.quote.points_max_fen - self.paid_fen(tender)))
        if tender == "count_card":
            return 0 if self.paid_fen(tender) else min(left, self.quote.pass_cover_fen)
        return left

    # -- the flow ----------------------------------------------------------------------------

    def _lock_text(self) -> str:
        return self.tr(
            "The card is locked after wrong PINs: stored value, points and service cards "
            "cannot pay until a manager resets the PIN. Take another tender."
        )

    def _member_tender_usable(self, tender: str) -> bool:
        return tender in self.tender_buttons and not (
            self.member_tenders_locked and tender in MEMBER_TENDERS
        )

    def _start(self) -> None:
        # A service card the member holds pays for its own service lines first.
        if self._member_tender_usable("count_card"):
            self.lines.append(TenderLine("count_card", self._can_pay("count_card")))
        if self._member_tender_usable("stored_value") and self._can_pay("stored_value") > 0:
            first = "stored_value"
        else:
            first = "cash"
        self._refresh()
        if not self.covered():
            self.select_tender(first)

    def select_tender(self, tender: str) -> None:
        """Make `tender` the one being added, its amount prefilled with what it can pay."""
        if self.covered():
            return
        button = self.tender_buttons.get(tender)
        if button is None or not button.isEnabled():
            return
        self.current = tender
        button.setChecked(True)
        self.tender_name_label.setText(self._tender_name(tender))
        self.reference_field.setVisible(tender in WITH_REFERENCE)
        self.reference_field.clear()
        self.amount_field.setReadOnly(tender == "count_card")
        self.amount_field.set_fen(self._can_pay(tender) or None)
        self.hint_label.setText(self._hint(tender))
        self.amount_field.setFocus()
        self.amount_field.selectAll()

    def _hint(self, tender: str) -> str:
        if tender == "cash":
            return self.tr("Type what the customer hands over; the change is shown.")
        if tender == "stored_value":
            on_card = (self.quote.stored_value_fen or 0) - self.paid_fen(tender)
            return fill(self.tr("Stored value on the card: %1"), format_fen(on_card))
        if tender == "points":
            return fill(
                self.tr("Points can pay up to %1 of this bill"),
                format_fen(self.quote.points_max_fen),
            )
        if tender == "count_card":
            return self.tr("The member's service cards pay for the service lines")
        return self.tr("Type or scan the payment reference if there is one (optional).")

    def add_current(self) -> None:
        """Add the tender being entered to the list (Enter)."""
        if self._busy or self.current is None or self.covered():
            return
        tender = self.current
        self._clear_error()
        try:
            amount = self._can_pay(tender) if tender == "count_card" else self.amount_field.fen()
        except InvalidInput as exc:
            self._show_error(describe_error(exc, self.session.lang))
            self.amount_field.setFocus()
            return
        can = self._can_pay(tender)
        if tender != "cash" and amount > can:
            self.amount_field.set_invalid(True)
            self._show_error(
                fill(self.tr("%1 can pay at most %2"), self._tender_name(tender), format_fen(can))
            )
            self.amount_field.setFocus()
            return
        if amount <= 0:
            return
        reference = self.reference_field.text().strip() if tender in WITH_REFERENCE else ""
        self.lines.append(TenderLine(tender, amount, reference or None))
        self._refresh()
        if not self.covered():
            self.select_tender("cash")

    def remove_tender(self) -> None:
        """Take the selected tender (or the last one) off the list."""
        if self._busy or not self.lines:
            return
        row = self.tender_table.currentRow()
        index = row if 0 <= row < len(self.lines) else len(self.lines) - 1
        del self.lines[index]
        self._clear_error()
        current = self.current
        self._refresh()
        button = self.tender_buttons.get(current or "")
        self.select_tender(current if current and button and button.isEnabled() else "cash")

    def _refresh(self) -> None:
        """Show the tenders, what is left and the change; lock the entry once paid."""
        self.tender_table.setRowCount(len(self.lines))
        for row, line in enumerate(self.lines):
            amount = format_fen(line.amount_fen)
            if line.tender == "cash" and self.change_fen():
                amount = fill(self.tr("%1 handed over"), amount)
            for column, text in enumerate(
                (self._tender_name(line.tender), amount, line.reference or "")
            ):
                item = QTableWidgetItem(text)
                if column == 1:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.tender_table.setItem(row, column, item)
        self.tender_table.clearSelection()
        self.tender_table.setCurrentCell(-1, -1)
        left = self.left_fen()
        change = self.change_fen()
        self.left_label.setText(format_fen(left))
        self.change_label.setText(format_fen(change))
        self.change_label.setVisible(change > 0)
        self.change_caption.setVisible(change > 0)
        covered = self.covered()
        for tender, button in self.tender_buttons.items():
            locked = tender in MEMBER_TENDERS and self.member_tenders_locked
            button.setEnabled(not covered and not locked and self._can_pay(tender) > 0)
            button.setToolTip(self._lock_text() if locked else "")
        self.amount_field.setEnabled(not covered)
        self.reference_field.setEnabled(not covered)
        self.add_button.setEnabled(not covered)
        self.complete_button.setEnabled(covered)
        self.remove_button.setEnabled(bool(self.lines))
        if covered:
            self.current = None
            checked = self.tender_group.checkedButton()
            if checked is not None:
                self.tender_group.setExclusive(False)
                checked.setChecked(False)
                self.tender_group.setExclusive(True)
            self.tender_name_label.setText("")
            self.amount_field.clear()
            self.reference_field.hide()
            self.hint_label.setText(self.tr("Paid in full: press Enter to complete the sale."))
            self.complete_button.setFocus()

    # -- selling -----------------------------------------------------------------------------

    def complete(self) -> None:
        """Record the sale with the tenders added (Enter once they pay the bill)."""
        if self._busy:
            return
        if not self.covered():
            self._show_error(fill(self.tr("Still to pay: %1"), format_fen(self.left_fen())))
            return
        self._sell(None)

    def _sell(self, pin: str | None) -> None:
        tenders = tuple(line.request() for line in self.lines) or (TenderRequest("cash"),)
        request = dataclasses.replace(self.request, tenders=tenders, pin=pin)
        ctx, actor = self.session.ctx, self.session.require_actor()
        self._set_busy(True)
        (
            ServiceOp(
                self,
                lambda: sell(ctx, actor, request, self.approval),
                busy_text=self.tr("Recording the sale…"),
            )
            .success(self._on_sold)
            .failure(self._on_sell_failed)
            .run()
        )

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.complete_button.setEnabled(not busy and self.covered())
        self.pin_ok_button.setEnabled(not busy)
        self.cancel_button.setEnabled(not busy)

    def _on_sold(self, result: SaleResult) -> None:
        self._set_busy(False)
        self.sale_result = result
        # The drawer opens and the receipt prints whatever the screen does with the news.
        print_after_sale(self, self.session, result)
        self._on_sold_callback(result)
        self.receipt_label.setText(fill(self.tr("Receipt %1"), result.receipt_no))
        cash_given = result.receipt.cash_given_fen
        self.done_change_label.setText(format_fen(result.change_fen))
        self.done_caption.setVisible(cash_given > 0)
        self.done_change_label.setVisible(cash_given > 0)
        self.given_label.setText(
            fill(self.tr("Cash received %1"), format_fen(cash_given))
            if cash_given
            else fill(self.tr("Total paid %1"), format_fen(result.total_fen))
        )
        self.stack.setCurrentIndex(self.DONE)
        self.next_button.setFocus()
        self.sig_sold.emit(result)

    def _on_sell_failed(self, exc: BaseException) -> None:
        self._set_busy(False)
        if isinstance(exc, PinLocked):
            self._lock_member_tenders()
        elif isinstance(exc, PinRequired | WrongPin):
            self._ask_pin(exc.message(self.session.lang) if isinstance(exc, WrongPin) else "")
        else:
            self.stack.setCurrentIndex(self.PAY)
            self._show_error(describe_error(exc, self.session.lang))
            if not self.covered():
                self.amount_field.setFocus()

    def _ask_pin(self, error: str) -> None:
        self.pin_pad.clear()
        self.pin_prompt.setText(
            fill(
                self.tr("Stored value pays %1. Ask the customer to type the card PIN."),
                format_fen(self.paid_fen("stored_value")),
            )
        )
        self.pin_error_label.setText(error)
        self.pin_error_label.setVisible(bool(error))
        self.stack.setCurrentIndex(self.PIN)
        self.pin_pad.setFocus()

    def submit_pin(self) -> None:
        """Try the sale again with the PIN typed (Enter on the PIN pad)."""
        if self._busy:
            return
        if not self.pin_pad.is_complete():
            self.pin_error_label.setText(self.tr("Type all 6 digits of the PIN"))
            self.pin_error_label.show()
            self.pin_pad.setFocus()
            return
        self._sell(self.pin_pad.take_pin())

    def _back_to_pay(self) -> None:
        if self._busy:
            return
        self.pin_pad.clear()
        self.stack.setCurrentIndex(self.PAY)
        self.complete_button.setFocus()

    def _lock_member_tenders(self) -> None:
        """Five wrong PINs: stored value, points and service cards cannot pay today; the
        cashier takes another tender."""
        self.member_tenders_locked = True
        self.pin_pad.clear()
        self.lines = [line for line in self.lines if line.tender not in MEMBER_TENDERS]
        self.stack.setCurrentIndex(self.PAY)
        self.lock_label.show()
        self._refresh()
        self.select_tender("cash")
        self._show_error(self._lock_text())

    # -- keys and closing --------------------------------------------------------------------

    def _tender_key(self, tender: str) -> None:
        if self.stack.currentIndex() == self.PAY and not self._busy:
            self.select_tender(tender)

    def _remove_key(self) -> None:
        if self.stack.currentIndex() == self.PAY and not self._busy:
            self.remove_tender()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt's name)
        # Function keys reach the dialog from every field (a line edit ignores them), so
        # they are handled here rather than as window shortcuts.
        key = event.key()
        page = self.stack.currentIndex()
        tender = _KEY_TENDERS.get(key)
        if tender is not None:
            self._tender_key(tender)
            return
        if key == REMOVE_KEY:
            self._remove_key()
            return
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if page == self.DONE:
                self.accept()
            elif page == self.PIN:
                self.submit_pin()
            elif self.covered():
                self.complete()
            else:
                self.add_current()
            return
        if key == Qt.Key.Key_Escape:
            if page == self.DONE:
                self.accept()
            elif page == self.PIN:
                self._back_to_pay()
            else:
                self.reject()
            return
        super().keyPressEvent(event)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        if self.covered():
            self.complete_button.setFocus()
        else:
            self.amount_field.setFocus()
            self.amount_field.selectAll()

    def reject(self) -> None:
        """Esc: close without selling — never while the sale is being recorded, and after
        it was recorded closing is the same as the next sale."""
        if self._busy:
            return
        if self.sale_result is not None:
            self.accept()
            return
        super().reject()

    def done(self, result: int) -> None:
        if self._finished:
            return
        self._finished = True
        self.pin_pad.clear()
        if self in _open_dialogs:
            _open_dialogs.remove(self)
        super().done(result)
        if self.sale_result is None:
            self.sig_cancelled.emit()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt's name)
        if self._busy:
            event.ignore()
            return
        super().closeEvent(event)

    # -- messages ----------------------------------------------------------------------------

    def _show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.show()

    def _clear_error(self) -> None:
        self.error_label.hide()
        self.error_label.clear()


def open_tender_dialog(
    parent: QWidget,
    session: TillSession,
    request: SaleRequest,
    quote: Quote,
    member: object | None,
    on_sold: Callable[[SaleResult], None],
    approval: Approval | None = None,
) -> TenderDialog:
    """Open the tender dialog for a priced cart (window-modal, returns at once).

    `request` is the cart as quoted (lines, card, coupons); its tenders and PIN are filled
    here. `on_sold(result)` runs as soon as the sale is committed (clear the cart then); the
    dialog itself starts the drawer, the pole display and the receipt, and shows the change.
    `member` (the checkout's member panel, if any) is only read for the member's name.
    """
    dialog = TenderDialog(session, request, quote, on_sold, member, parent, approval)
    dialog.open()
    return dialog
