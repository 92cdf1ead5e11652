"""A cashier's day through the real widgets, as the issue states it: sign in → open a shift →
scan items → tap a member card → pay part from stored value with the PIN, the rest in cash →
the printer receives a Chinese receipt with the right totals → the Z report shows the sale."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget

from hardware.printing.escpos_decoder import decode
from pos_app.domain.money import format_fen
from pos_app.services.reports import z_report
from pos_app.services.stored_value import balance
from pos_app.ui.tender_dialog import TenderDialog, current_tender_dialog
from tests.conftest import PASSWORD
from tests.ui.conftest import MEMBER_CARD, MEMBER_PIN, Till


def _keys(till: Till, widget: QWidget, text: str) -> None:
    if text:
        till.qtbot.keyClicks(widget, text)
    till.qtbot.keyClick(widget, Qt.Key.Key_Return)


def _in_focus(till: Till, dialog: QWidget) -> QWidget:
    till.qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog)
    return dialog.focusWidget() or dialog


def test_a_member_sale_from_sign_in_to_the_z_report(till: Till) -> None:
    window, ctx = till.window, till.store.ctx
    sink = till.printer_sink()

    # Sign in with the keyboard; no shift is open, so the float is asked for.
    sign_in = window.sign_in_screen
    _keys(till, sign_in.login_field, "cashier")
    _keys(till, sign_in.password_field, PASSWORD)
    till.qtbot.waitUntil(lambda: sign_in.open_shift_dialog is not None)
    float_dialog = sign_in.open_shift_dialog
    field = _in_focus(till, float_dialog)
    field.selectAll()
    _keys(till, field, "300")
    till.qtbot.waitUntil(lambda: window.stack.currentWidget() is window.checkout_screen)
    assert till.session.shift is not None and till.session.shift.float_fen == 30_000

    # Scan: two products by code, one by barcode; then the member taps their card.
    checkout = window.checkout_screen
    till.qtbot.waitUntil(checkout.scan_field.hasFocus, timeout=2000)
    for code in ("2*V001", "F001", "6921168509256"):
        _keys(till, checkout.scan_field, code)
        till.wait_idle()
    till.present_card(MEMBER_CARD)
    with till.qtbot.waitSignal(checkout.sig_member_loaded, timeout=5000):
        pass
    till.wait_idle()
    quote = checkout.current_quote
    assert [line.qty for line in quote.lines] == [2, 1, 1]
    total = quote.total_fen
    assert format_fen(total) in checkout.total_label.text()
    before = balance(ctx, till.store.cashier, MEMBER_CARD)

    # Pay: ¥10 from stored value (the PIN pad asks for the PIN), the rest in cash.
    _keys(till, checkout.scan_field, "")
    till.qtbot.waitUntil(lambda: current_tender_dialog() is not None)
    dialog = current_tender_dialog()
    assert dialog.current == "stored_value"
    field = _in_focus(till, dialog)
    field.selectAll()
    _keys(till, field, "10")
    assert dialog.current == "cash" and dialog.amount_field.fen() == total - 1000
    _keys(till, dialog.focusWidget(), "")  # the cash part
    with till.qtbot.waitSignal(checkout.sig_sale_completed, timeout=10_000) as sold:
        _keys(till, dialog.focusWidget(), "")  # complete → the PIN pad
        till.qtbot.waitUntil(lambda: dialog.stack.currentIndex() == TenderDialog.PIN)
        _keys(till, dialog.pin_pad.field, MEMBER_PIN)
    result = sold.args[0]
    assert result.total_fen == total
    after = balance(ctx, till.store.cashier, MEMBER_CARD)
    assert after.stored_value_fen == before.stored_value_fen - 1000

    # The printer received a Chinese receipt whose totals are the sale's.
    def receipt_text() -> str:
        texts = [decode(data, "gb18030", columns=48).text for data in sink.jobs]
        return next((t for t in texts if result.receipt_no in t), "")

    till.qtbot.waitUntil(lambda: receipt_text() != "", timeout=5000)  # the drawer's kick too
    text = receipt_text()
    assert "张三" not in text or "*" in text  # the member's name may show, never full numbers
    assert "合计" in text and f"￥{format_fen(total, symbol='')}" in text
    assert "储值卡" in text and "￥10.00" in text and "现金" in text
    assert MEMBER_CARD not in text
    till.wait_idle()
    assert result.receipt_no in window.alert_bar.text  # "小票 … 已打印"

    # The change-due page: Enter for the next customer.
    assert dialog.stack.currentIndex() == TenderDialog.DONE
    _keys(till, dialog.focusWidget() or dialog, "")
    till.qtbot.waitUntil(lambda: current_tender_dialog() is None)
    window.activateWindow()  # a window manager gives the window back its keys; offscreen none
    till.qtbot.waitUntil(lambda: QApplication.activeWindow() is window)

    # Close the shift on the shift screen: the Z report on screen shows the sale.
    till.qtbot.keyClick(window, Qt.Key.Key_F3)
    shift_screen = window.shift_screen
    assert window.stack.currentWidget() is shift_screen
    till.qtbot.keyClick(window, Qt.Key.Key_F8)
    count = shift_screen.count_dialog
    count.tabs.setCurrentIndex(1)  # a counted total instead of notes and coins
    cash_expected = 30_000 + total - 1000
    _keys(till, count.total_field, format_fen(cash_expected, symbol=""))
    till.wait_idle()
    assert till.session.shift is None
    report = shift_screen.report_view.text()
    assert "Z 报表（交班）" in report
    assert format_fen(total) in report
    assert format_fen(cash_expected) in report
    z = z_report(ctx, till.store.cashier)
    assert z.figures.sales_count == 1
