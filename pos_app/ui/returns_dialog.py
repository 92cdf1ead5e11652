"""Returns (退货) by the original receipt: find the sale, pick lines and quantities, refund.

The cashier types or scans the receipt number (the QR code on the receipt), ticks the lines
coming back and sets how many of each (up to what is still returnable), and presses Enter.
`sale_refund.refund_sale` decides the amounts and where the money goes back; above the
cashier's limit it asks for a manager (the approval dialog opens). The refund receipt
prints, and the dialog shows what goes back by which tender.

Keys: Enter finds the receipt, then refunds; Space ticks a line; + / − change its quantity;
Ctrl+A ticks every line; Esc closes.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, Slot
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from hardware.events import CardPresented
from pos_app.domain.errors import ApprovalRequired
from pos_app.domain.money import format_fen
from pos_app.domain.permissions import Permission
from pos_app.domain.receipt import ReceiptTender
from pos_app.domain.sale_request import LineRequest
from pos_app.services.auth import Approval
from pos_app.services.checkout import SaleResult
from pos_app.services.sale_lookup import SaleForReturn, sale_for_return
from pos_app.services.sale_refund import refund_sale
from pos_app.ui.approval_dialog import ask_approval
from pos_app.ui.error_text import ERROR_STYLE, describe_error
from pos_app.ui.operations import ServiceOp
from pos_app.ui.receipt_output import SCANNED_KINDS, print_after_sale
from pos_app.ui.till_session import TillSession
from pos_app.ui.translations import fill
from pos_app.ui.wedge_filter import disable_input_method

COL_PICK, COL_ITEM, COL_SOLD, COL_LEFT, COL_QTY, COL_AMOUNT = range(6)

_open_dialogs: list[ReturnsDialog] = []  # newest last; tests find the open one here


def current_returns_dialog() -> ReturnsDialog | None:
    """The returns dialog on screen now, if any."""
    live = [d for d in _open_dialogs if isValid(d) and d.isVisible()]
    return live[-1] if live else None


class ReturnsDialog(QDialog):
    """Find a sale by its receipt number and return some or all of its lines."""

    CHOOSE, DONE = 0, 1

    def __init__(self, session: TillSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.sale: SaleForReturn | None = None
        self.sale_result: SaleResult | None = None
        self.spin_boxes: list[QSpinBox] = []
        self._busy = False
        self._finished = False
        self.setWindowTitle(self.tr("Return goods"))
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setMinimumSize(820, 560)

        self.stack = QStackedWidget(self)
        self.stack.addWidget(self._make_choose_page())
        self.stack.addWidget(self._make_done_page())
        layout = QVBoxLayout(self)
        layout.addWidget(self.stack)
        select_all = QShortcut(QKeySequence("Ctrl+A"), self)
        select_all.activated.connect(self._toggle_all_key)
        session.devices.sig_card.connect(self._on_scan)
        _open_dialogs.append(self)

    # -- building ----------------------------------------------------------------------------

    def _make_choose_page(self) -> QWidget:
        page = QWidget(self)
        title = QLabel(self.tr("Return goods"), page)
        title.setProperty("role", "title")
        self.receipt_field = QLineEdit(page)
        self.receipt_field.setPlaceholderText(self.tr("Type or scan the receipt number"))
        disable_input_method(self.receipt_field)
        self.find_button = QPushButton(self.tr("Find (Enter)"), page)
        self.find_button.setAutoDefault(False)
        self.find_button.clicked.connect(self.find_sale)
        find_row = QHBoxLayout()
        find_row.addWidget(QLabel(self.tr("Receipt number"), page))
        find_row.addWidget(self.receipt_field, 1)
        find_row.addWidget(self.find_button)

        self.sale_label = QLabel(page)
        self.sale_label.setWordWrap(True)
        self.table = QTableWidget(0, 6, page)
        self.table.setHorizontalHeaderLabels(
            [
                self.tr("Return"),
                self.tr("Item"),
                self.tr("Sold"),
                self.tr("Returnable"),
                self.tr("Quantity"),
                self.tr("Line amount"),
            ]
        )
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(46)  # room for the quantity boxes
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COL_ITEM, QHeaderView.ResizeMode.Stretch)
        self.table.itemChanged.connect(self._on_item_changed)
        self.table.installEventFilter(self)
        self.all_box = QCheckBox(self.tr("All lines (Ctrl+A)"), page)
        self.all_box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.all_box.clicked.connect(self.select_all)

        self.error_label = QLabel(page)
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(ERROR_STYLE)
        self.error_label.hide()
        cancel = QPushButton(self.tr("Close (Esc)"), page)
        cancel.setAutoDefault(False)
        cancel.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        cancel.clicked.connect(self.reject)
        self.refund_button = QPushButton(self.tr("Refund the ticked lines (Enter)"), page)
        self.refund_button.setProperty("primary", True)
        self.refund_button.setAutoDefault(False)
        self.refund_button.setMinimumHeight(52)
        self.refund_button.setEnabled(False)
        self.refund_button.clicked.connect(self.refund)
        buttons = QHBoxLayout()
        buttons.addWidget(cancel)
        buttons.addStretch(1)
        buttons.addWidget(self.refund_button)

        layout = QVBoxLayout(page)
        layout.addWidget(title)
        layout.addLayout(find_row)
        layout.addWidget(self.sale_label)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.all_box)
        layout.addWidget(self.error_label)
        layout.addLayout(buttons)
        return page

    def _make_done_page(self) -> QWidget:
        page = QWidget(self)
        title = QLabel(self.tr("Refund recorded"), page)
        title.setProperty("role", "title")
        self.refund_no_label = QLabel(page)
        self.back_caption = QLabel(self.tr("Give back"), page)
        self.back_caption.setStyleSheet("font-size: 20pt;")
        self.back_caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.back_label = QLabel(page)
        self.back_label.setStyleSheet("font-size: 48pt; font-weight: bold; color: #1a7f37;")
        self.back_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.tenders_label = QLabel(page)
        self.tenders_label.setStyleSheet("font-size: 16pt;")
        self.tenders_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.tenders_label.setWordWrap(True)
        self.close_button = QPushButton(self.tr("Done (Enter)"), page)
        self.close_button.setProperty("primary", True)
        self.close_button.setAutoDefault(False)
        self.close_button.setMinimumHeight(52)
        self.close_button.clicked.connect(self.accept)
        layout = QVBoxLayout(page)
        layout.addWidget(title)
        layout.addWidget(self.refund_no_label)
        layout.addStretch(1)
        layout.addWidget(self.back_caption)
        layout.addWidget(self.back_label)
        layout.addWidget(self.tenders_label)
        layout.addStretch(1)
        layout.addWidget(self.close_button)
        return page

    # -- finding the sale --------------------------------------------------------------------

    @Slot(object)
    def _on_scan(self, event: CardPresented) -> None:
        if not self.session.devices.cards_are_for(self) or event.kind not in SCANNED_KINDS:
            return
        if self.stack.currentIndex() != self.CHOOSE or self._busy:
            return
        self.receipt_field.setText(event.raw.strip())
        self.find_sale()

    def find_sale(self) -> None:
        """Look up the receipt number in the field and list its lines."""
        number = self.receipt_field.text().strip()
        if self._busy:
            return
        if not number:
            self._show_error(self.tr("Type or scan a receipt number"))
            self.receipt_field.setFocus()
            return
        ctx, actor = self.session.ctx, self.session.require_actor()
        self._set_busy(True)
        self._clear_error()
        (
            ServiceOp(
                self,
                lambda: sale_for_return(ctx, actor, number),
                busy_text=self.tr("Finding the receipt…"),
            )
            .success(self._show_sale)
            .failure(self._on_find_failed)
            .finally_(lambda: self._set_busy(False))
            .run()
        )

    def _on_find_failed(self, exc: BaseException) -> None:
        self.sale = None
        self.table.setRowCount(0)
        self.spin_boxes = []
        self.sale_label.clear()
        self._show_error(describe_error(exc, self.session.lang))
        self.receipt_field.selectAll()
        self.receipt_field.setFocus()

    def _show_sale(self, sale: SaleForReturn) -> None:
        self.sale = sale
        doc = sale.receipt
        paid = "  ".join(self._tender_text(t) for t in doc.tenders)
        text = fill(
            self.tr("Receipt %1, %2, total %3, paid by %4"),
            doc.receipt_no,
            doc.business_time,
            format_fen(doc.total_fen),
            paid,
        )
        if doc.member is not None:
            text += "\n" + fill(
                self.tr("Member %1 (%2)"), doc.member.name, doc.member.masked_mobile
            )
        if sale.refunded_fen:
            text += "\n" + fill(self.tr("Already refunded: %1"), format_fen(sale.refunded_fen))
        self.sale_label.setText(text)
        self.table.blockSignals(True)
        self.table.setRowCount(len(sale.lines))
        self.spin_boxes = []
        for row, line in enumerate(sale.lines):
            pick = QTableWidgetItem()
            returnable = line.returnable_qty > 0
            flags = Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsUserCheckable
            if returnable:
                flags |= Qt.ItemFlag.ItemIsEnabled
            pick.setFlags(flags)
            pick.setCheckState(Qt.CheckState.Unchecked)
            self.table.setItem(row, COL_PICK, pick)
            self._set_text(row, COL_ITEM, f"{line.name}  {line.sku}")
            self._set_text(row, COL_SOLD, str(line.qty), right=True)
            self._set_text(row, COL_LEFT, str(line.returnable_qty), right=True)
            self._set_text(row, COL_AMOUNT, format_fen(line.net_fen), right=True)
            spin = QSpinBox(self.table)
            spin.setMinimumWidth(96)
            spin.setRange(0, line.returnable_qty)
            spin.setValue(line.returnable_qty)
            spin.setEnabled(False)
            spin.valueChanged.connect(lambda value, r=row: self._on_qty_changed(r, value))
            self.table.setCellWidget(row, COL_QTY, spin)
            self.spin_boxes.append(spin)
        self.table.blockSignals(False)
        self.all_box.setChecked(False)
        self._update_refund_button()
        if sale.anything_returnable:
            first = next(i for i, x in enumerate(sale.lines) if x.returnable_qty > 0)
            self.table.setCurrentCell(first, COL_PICK)
            self.table.setFocus()
        else:
            self._show_error(self.tr("Everything on this receipt has been returned already"))
            self.receipt_field.selectAll()
            self.receipt_field.setFocus()

    def _set_text(self, row: int, column: int, text: str, *, right: bool = False) -> None:
        item = QTableWidgetItem(text)
        item.setFlags(Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled)
        if right:
            item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.table.setItem(row, column, item)

    def _tender_text(self, tender: ReceiptTender) -> str:
        label = tender.label_en if self.session.lang == "en" else tender.label_zh
        return f"{label} {format_fen(abs(tender.amount_fen))}"

    # -- choosing lines ----------------------------------------------------------------------

    def is_picked(self, row: int) -> bool:
        """Whether line `row` is ticked for return."""
        item = self.table.item(row, COL_PICK)
        return item is not None and item.checkState() == Qt.CheckState.Checked

    def set_picked(self, row: int, picked: bool) -> None:
        """Tick or untick line `row` (as a tap on its box does)."""
        item = self.table.item(row, COL_PICK)
        if item is not None and item.flags() & Qt.ItemFlag.ItemIsEnabled:
            item.setCheckState(Qt.CheckState.Checked if picked else Qt.CheckState.Unchecked)

    def select_all(self, checked: bool = True) -> None:
        """Tick (or untick) every line that can still be returned."""
        for row in range(self.table.rowCount()):
            self.set_picked(row, checked)
        self.all_box.setChecked(checked)

    def _toggle_all_key(self) -> None:
        if self.stack.currentIndex() == self.CHOOSE and self.sale is not None:
            self.select_all(not self.all_box.isChecked())

    @Slot(QTableWidgetItem)
    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        if item.column() != COL_PICK or item.row() >= len(self.spin_boxes):
            return
        spin = self.spin_boxes[item.row()]
        picked = item.checkState() == Qt.CheckState.Checked
        spin.setEnabled(picked)
        if picked and spin.value() == 0:
            spin.setValue(spin.maximum())
        self._update_refund_button()

    def _on_qty_changed(self, row: int, value: int) -> None:
        if value == 0 and self.is_picked(row):
            self.set_picked(row, False)
        self._update_refund_button()

    def picked_lines(self) -> tuple[LineRequest, ...]:
        """The ticked lines with their quantities, as the refund service takes them."""
        if self.sale is None:
            return ()
        return tuple(
            LineRequest(line.sku, self.spin_boxes[row].value())
            for row, line in enumerate(self.sale.lines)
            if self.is_picked(row) and self.spin_boxes[row].value() > 0
        )

    def _update_refund_button(self) -> None:
        self.refund_button.setEnabled(not self._busy and bool(self.picked_lines()))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        # + and − change the current line's quantity; the table would take them for a search.
        if watched is self.table and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            row = self.table.currentRow()
            if event.key() in (Qt.Key.Key_Plus, Qt.Key.Key_Minus) and 0 <= row < len(
                self.spin_boxes
            ):
                spin = self.spin_boxes[row]
                if event.key() == Qt.Key.Key_Plus:
                    self.set_picked(row, True)
                    spin.stepUp()
                else:
                    spin.stepDown()
                return True
        return super().eventFilter(watched, event)

    # -- refunding ---------------------------------------------------------------------------

    def refund(self) -> None:
        """Refund the ticked lines (Enter); a manager approves above the cashier's limit."""
        if self._busy or self.sale is None:
            return
        lines = self.picked_lines()
        if not lines:
            self._show_error(self.tr("Tick the lines that come back"))
            self.table.setFocus()
            return
        self._set_busy(True)
        self._clear_error()
        self._attempt_refund(self.sale.receipt_no, lines, None)

    def _attempt_refund(
        self, receipt_no: str, lines: tuple[LineRequest, ...], approval: Approval | None
    ) -> None:
        # As approval_dialog.run_with_approval, plus a way back when the approval is
        # cancelled: the dialog stays busy (no second refund queued) until then.
        ctx, actor = self.session.ctx, self.session.require_actor()

        def failed(exc: BaseException) -> None:
            if isinstance(exc, ApprovalRequired) and approval is None:
                ask_approval(
                    self,
                    self.session,
                    Permission.SALE_OVER_LIMIT,
                    lambda given: self._attempt_refund(receipt_no, lines, given),
                    on_cancel=lambda: self._set_busy(False),
                )
            else:
                self._on_refund_failed(exc)

        (
            ServiceOp(
                self,
                lambda: refund_sale(ctx, actor, receipt_no, lines, approval),
                busy_text=self.tr("Recording the refund…"),
            )
            .success(self._on_refunded)
            .failure(failed)
            .run()
        )

    def _on_refunded(self, result: SaleResult) -> None:
        self.sale_result = result
        self._set_busy(False)
        print_after_sale(self, self.session, result)
        self.refund_no_label.setText(
            fill(
                self.tr("Refund %1 for receipt %2"),
                result.receipt_no,
                result.receipt.original_receipt_no or "",
            )
        )
        self.back_label.setText(format_fen(-result.total_fen))
        self.tenders_label.setText("\n".join(self._tender_text(t) for t in result.receipt.tenders))
        self.stack.setCurrentIndex(self.DONE)
        self.close_button.setFocus()

    def _on_refund_failed(self, exc: BaseException) -> None:
        # Over-returning and the like: the service's message says what is wrong.
        self._set_busy(False)
        self._show_error(describe_error(exc, self.session.lang))
        self.table.setFocus()

    # -- keys and closing --------------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt's name)
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if self.stack.currentIndex() == self.DONE:
                self.accept()
            elif self.receipt_field.hasFocus() or self.sale is None:
                self.find_sale()
            else:
                self.refund()
            return
        super().keyPressEvent(event)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        self.session.devices.claim_cards(self)
        self.receipt_field.setFocus()

    def reject(self) -> None:
        """Esc: close (never while a refund is being recorded)."""
        if self._busy:
            return
        super().reject()

    def done(self, result: int) -> None:
        self.session.devices.release_cards(self)
        if self._finished:
            return
        self._finished = True
        if self in _open_dialogs:
            _open_dialogs.remove(self)
        super().done(result)

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.find_button.setEnabled(not busy)
        self._update_refund_button()

    def _show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.show()

    def _clear_error(self) -> None:
        self.error_label.hide()
        self.error_label.clear()


def open_returns_dialog(parent: QWidget, session: TillSession) -> ReturnsDialog:
    """Open the returns dialog (F9 at checkout; window-modal, returns at once)."""
    dialog = ReturnsDialog(session, parent)
    dialog.open()
    return dialog
