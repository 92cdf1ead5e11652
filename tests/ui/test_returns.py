"""Returns by receipt number: pick lines and quantities, money back, a refund receipt; a
manager approves a return over the cashier's limit; over-returning shows the service's no."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from pos_app.domain.sale_request import LineRequest, SaleRequest, TenderRequest
from pos_app.services.checkout import SaleResult, sell
from pos_app.services.sale_lookup import sale_for_return
from pos_app.services.sale_records import reprint
from pos_app.services.sale_refund import refund_sale
from pos_app.services.shifts import open_shift
from pos_app.ui.approval_dialog import current_approval_dialog
from pos_app.ui.returns_dialog import ReturnsDialog, open_returns_dialog
from tests.conftest import PASSWORD
from tests.ui.conftest import Till
from tests.ui.test_tender import closed, printed_text


@pytest.fixture
def cashier(till: Till) -> Till:
    till.sign_in_as("cashier")
    open_shift(till.store.ctx, till.store.cashier, 50_000)
    return till


def cash_sale(till: Till, *lines: tuple[str, int]) -> SaleResult:
    request = SaleRequest(
        lines=tuple(LineRequest(code, qty) for code, qty in lines),
        tenders=(TenderRequest("cash"),),
    )
    return sell(till.store.ctx, till.store.cashier, request)


def open_with(till: Till, receipt_no: str) -> ReturnsDialog:
    """Open the dialog and find the receipt as the cashier does: type the number, Enter."""
    dialog = open_returns_dialog(till.window, till.session)
    till.qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog)
    assert dialog.focusWidget() is dialog.receipt_field
    till.qtbot.keyClicks(dialog.receipt_field, receipt_no)
    till.qtbot.keyClick(dialog.receipt_field, Qt.Key.Key_Return)
    till.qtbot.waitUntil(lambda: dialog.table.rowCount() > 0)
    till.wait_idle()
    return dialog


def test_return_one_line_of_two_gives_the_money_back_and_prints(cashier: Till) -> None:
    till = cashier
    sink = till.printer_sink()
    sale = cash_sale(till, ("V001", 1), ("S001", 2))
    dialog = open_with(till, sale.receipt_no)
    assert dialog.table.rowCount() == 2
    assert sale.receipt_no in dialog.sale_label.text()
    assert not dialog.refund_button.isEnabled()  # nothing ticked yet

    table = dialog.table
    assert dialog.focusWidget() is table
    till.qtbot.keyClick(table, Qt.Key.Key_Down)  # to the crisps
    till.qtbot.keyClick(table, Qt.Key.Key_Space)  # tick: all 2 prefilled
    assert dialog.is_picked(1) and not dialog.is_picked(0)
    assert dialog.spin_boxes[1].value() == 2
    till.qtbot.keyClick(table, Qt.Key.Key_Minus)  # one of the two comes back
    assert dialog.picked_lines() == (LineRequest("S001", 1),)
    till.qtbot.keyClick(table, Qt.Key.Key_Return)
    till.qtbot.waitUntil(lambda: dialog.stack.currentIndex() == ReturnsDialog.DONE)
    till.wait_idle()

    result = dialog.sale_result
    assert result is not None and result.total_fen == -750
    assert dialog.back_label.text() == "¥7.50"
    assert "现金" in dialog.tenders_label.text() and "7.50" in dialog.tenders_label.text()
    text = printed_text(sink, result.receipt_no)  # the refund receipt
    assert sale.receipt_no in text
    # In the database: one crisp returned, one left; the spinach untouched.
    left = sale_for_return(till.store.ctx, till.store.cashier, sale.receipt_no)
    assert [(x.sku, x.returnable_qty) for x in left.lines] == [("V001", 1), ("S001", 1)]
    refund_doc = reprint(till.store.ctx, till.store.cashier, result.receipt_no)
    assert [(t.tender, t.amount_fen) for t in refund_doc.tenders] == [("cash", -750)]
    till.qtbot.keyClick(dialog.focusWidget() or dialog, Qt.Key.Key_Return)
    till.qtbot.waitUntil(lambda: closed(dialog))


def test_over_returning_shows_the_services_message(cashier: Till) -> None:
    till = cashier
    sale = cash_sale(till, ("D001", 2))
    dialog = open_with(till, sale.receipt_no)
    dialog.select_all()
    assert dialog.picked_lines() == (LineRequest("D001", 2),)
    # Meanwhile one bottle is returned at another till.
    refund_sale(till.store.ctx, till.store.cashier, sale.receipt_no, (LineRequest("D001", 1),))
    till.qtbot.mouseClick(dialog.refund_button, Qt.MouseButton.LeftButton)
    till.wait_idle()
    assert dialog.stack.currentIndex() == ReturnsDialog.CHOOSE
    assert "最多还可退 1 件" in dialog.error_label.text()
    assert dialog.sale_result is None


def test_an_unknown_receipt_says_so(cashier: Till) -> None:
    till = cashier
    dialog = open_returns_dialog(till.window, till.session)
    till.qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog)
    till.qtbot.keyClicks(dialog.receipt_field, "SH01-01-260302-0999")
    till.qtbot.keyClick(dialog.receipt_field, Qt.Key.Key_Return)
    till.wait_idle()
    assert "SH01-01-260302-0999" in dialog.error_label.text()
    assert dialog.table.rowCount() == 0
    till.qtbot.keyClick(dialog.receipt_field, Qt.Key.Key_Escape)
    till.qtbot.waitUntil(lambda: closed(dialog))


def test_a_return_over_the_cashiers_limit_needs_a_manager(cashier: Till) -> None:
    till = cashier
    sale = cash_sale(till, ("S005", 7))  # ¥209.30: above the ¥200 refund limit
    dialog = open_with(till, sale.receipt_no)
    till.qtbot.keyClick(dialog.table, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    # Every line, the promotion's free gift too.
    assert dialog.picked_lines() == (LineRequest("S005", 7), LineRequest("G001", 1))
    till.qtbot.keyClick(dialog.table, Qt.Key.Key_Return)
    till.qtbot.waitUntil(lambda: current_approval_dialog() is not None)
    approval = current_approval_dialog()
    assert approval is not None
    till.qtbot.keyClicks(approval.login_field, "manager")
    till.qtbot.keyClicks(approval.password_field, PASSWORD)
    till.qtbot.keyClick(approval.password_field, Qt.Key.Key_Return)
    till.qtbot.waitUntil(lambda: dialog.stack.currentIndex() == ReturnsDialog.DONE)
    till.wait_idle()
    assert dialog.sale_result is not None and dialog.sale_result.total_fen == -20930
    doc = reprint(till.store.ctx, till.store.cashier, dialog.sale_result.receipt_no)
    assert doc.approved_by_name == "李店长"


def test_a_cancelled_approval_refunds_nothing_and_lets_the_cashier_go_on(cashier: Till) -> None:
    till = cashier
    sale = cash_sale(till, ("S005", 7))
    dialog = open_with(till, sale.receipt_no)
    dialog.select_all()
    till.qtbot.keyClick(dialog.table, Qt.Key.Key_Return)
    till.qtbot.waitUntil(lambda: current_approval_dialog() is not None)
    approval = current_approval_dialog()
    assert approval is not None
    till.qtbot.keyClick(approval.login_field, Qt.Key.Key_Escape)
    till.qtbot.waitUntil(lambda: current_approval_dialog() is None)
    assert dialog.sale_result is None and dialog.refund_button.isEnabled()
    left = sale_for_return(till.store.ctx, till.store.cashier, sale.receipt_no)
    assert left.lines[0].returnable_qty == 7
