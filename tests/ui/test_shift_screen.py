"""Shift & reports (F3): X report, paid-in/out, closing with a cash count (the Z report on
screen and on paper), opening a shift, day-end and period reports, each driven by keys."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import Qt

from hardware.printing.escpos_decoder import decode
from pos_app.domain.money import format_fen
from pos_app.domain.sale_request import LineRequest, SaleRequest, TenderRequest
from pos_app.services import reports, shifts
from pos_app.services.backups import list_backups
from pos_app.services.checkout import sell
from pos_app.ui.shift_screen import ShiftScreen
from tests.ui.conftest import Till


def _open_and_sell(till: Till) -> int:
    """A shift with a ¥500 float and one cash sale (two V001); returns the sale's total."""
    ctx, cashier = till.store.ctx, till.store.cashier
    shifts.open_shift(ctx, cashier, 50_000)
    request = SaleRequest(lines=(LineRequest("V001", 2),), tenders=(TenderRequest("cash"),))
    return sell(ctx, cashier, request).total_fen


def _screen(till: Till, login: str) -> ShiftScreen:
    till.sign_in_as(login)
    till.qtbot.keyClick(till.window, Qt.Key.Key_F3)
    screen = till.window.shift_screen
    assert till.window.stack.currentWidget() is screen
    return screen


def _key(till: Till, key: Qt.Key) -> None:
    till.qtbot.keyClick(till.window, key)


def test_x_report_shows_the_shifts_sales(till: Till) -> None:
    total = _open_and_sell(till)
    screen = _screen(till, "cashier")
    assert "¥500.00" in screen.shift_label.text()  # the float of the open shift
    _key(till, Qt.Key.Key_F5)
    till.wait_idle()
    text = screen.report_view.text()
    assert "X 报表（班中）" in text
    sales_line = next(line for line in text.splitlines() if "销售额" in line)
    assert sales_line.endswith(format_fen(total))
    count_line = next(line for line in text.splitlines() if "销售笔数" in line)
    assert count_line.endswith(" 1")
    assert "第 2 班" in screen.report_title.text()  # the first one took the member's top-up
    assert screen.print_button.isEnabled()


def test_paid_out_with_its_reason_shows_in_the_x_report(till: Till) -> None:
    _open_and_sell(till)
    screen = _screen(till, "cashier")
    _key(till, Qt.Key.Key_F7)
    dialog = screen.amount_dialog
    assert dialog is not None and dialog.isVisible()
    till.qtbot.keyClicks(dialog.amount_field, "20")
    dialog.reason_field.insert("买胶带")  # as a Chinese input method commits it
    till.qtbot.keyClick(dialog.reason_field, Qt.Key.Key_Return)
    till.wait_idle()
    assert not dialog.isVisible()
    assert "¥20.00" in till.window.alert_bar.text and "买胶带" in till.window.alert_bar.text
    # The drawer opens for the cash and the 支出凭证 prints, with the reason, for the count.
    jobs = [decode(j, "gb18030", columns=48) for j in till.printer_sink().wait_for_jobs(2, 5)]
    assert [k for job in jobs for k in job.drawer_kicks] == [2]
    (voucher,) = [job for job in jobs if job.lines]
    assert "支出凭证" in voucher.text and "买胶带" in voucher.text and "20.00" in voucher.text
    x = reports.x_report(till.store.ctx, till.store.cashier)
    assert (x.figures.cash.paid_out_count, x.figures.cash.paid_out_fen) == (1, 2_000)
    _key(till, Qt.Key.Key_F5)
    till.wait_idle()
    paid_out = next(line for line in screen.report_view.text().splitlines() if "支出" in line)
    assert "1 笔" in paid_out and paid_out.endswith("-¥20.00")
    # The drawer opened for the cash to come out.
    jobs = till.printer_sink().wait_for_jobs(1, timeout=5)
    assert any(decode(job, "gb18030").drawer_kicks for job in jobs)


def test_a_paid_in_without_a_reason_is_refused_in_the_dialog(till: Till) -> None:
    _open_and_sell(till)
    screen = _screen(till, "cashier")
    _key(till, Qt.Key.Key_F6)
    dialog = screen.amount_dialog
    till.qtbot.keyClicks(dialog.amount_field, "50")
    till.qtbot.keyClick(dialog.amount_field, Qt.Key.Key_Return)
    till.wait_idle()
    assert dialog.isVisible()
    assert dialog.error_label.text() == "请填写原因"
    x = reports.x_report(till.store.ctx, till.store.cashier)
    assert x.figures.cash.paid_in_count == 0


def test_close_shift_by_denomination_shows_and_prints_the_z_report(till: Till) -> None:
    total = _open_and_sell(till)
    sink = till.printer_sink()
    screen = _screen(till, "cashier")
    _key(till, Qt.Key.Key_F8)
    dialog = screen.count_dialog
    assert dialog is not None and dialog.isVisible() and dialog.by_denomination()
    hundreds = dialog.count_boxes[10_000]
    hundreds.lineEdit().selectAll()
    till.qtbot.keyClicks(hundreds, "5")
    dimes = dialog.count_boxes[10]
    dimes.lineEdit().selectAll()
    till.qtbot.keyClicks(dimes, "3")
    assert "¥500.30" in dialog.total_label.text()  # 5 × ¥100 + 3 × ¥0.10, as typed
    assert dialog.subtotal_labels[10].text() == "¥0.30"
    till.qtbot.keyClick(dimes, Qt.Key.Key_Return)
    till.wait_idle()
    assert not dialog.isVisible()
    assert till.session.shift is None
    assert shifts.current_shift(till.store.ctx, till.store.cashier) is None
    short = 50_000 + total - 50_030
    text = screen.report_view.text()
    assert "Z 报表（交班）" in text and "¥500.30" in text
    assert screen.over_short_label.isVisible()
    assert format_fen(short) in screen.over_short_label.text()
    assert "短" in screen.over_short_label.text()
    [(row, level)] = screen.report_view.highlighted().items()
    assert level == "bad" and text.splitlines()[row].endswith(format_fen(-short))
    jobs = sink.wait_for_jobs(1, timeout=5)
    printed = decode(jobs[-1], "gb18030", columns=48).text
    assert "Z 报表（交班）" in printed and "￥500.30" in printed
    assert screen.open_button.isEnabled() and not screen.x_button.isEnabled()


def test_close_shift_with_a_typed_total_that_balances(make_till) -> None:
    till = make_till(language="en")
    total = _open_and_sell(till)
    screen = _screen(till, "cashier")
    _key(till, Qt.Key.Key_F8)
    dialog = screen.count_dialog
    dialog.tabs.setCurrentIndex(1)
    till.qtbot.keyClicks(dialog.total_field, format_fen(50_000 + total, symbol=""))
    till.qtbot.keyClick(dialog.total_field, Qt.Key.Key_Return)
    till.wait_idle()
    assert till.session.shift is None
    assert "Cash balances" in screen.over_short_label.text()
    assert list(screen.report_view.highlighted().values()) == ["good"]
    assert "Z REPORT (shift close)" in screen.report_view.text()


def test_close_shift_is_refused_while_a_sale_is_on_the_checkout(till: Till) -> None:
    _open_and_sell(till)
    till.sign_in_as("cashier")
    checkout = till.window.checkout_screen
    till.qtbot.keyClicks(checkout.scan_field, "V001")
    till.qtbot.keyClick(checkout.scan_field, Qt.Key.Key_Return)
    till.wait_idle()
    till.qtbot.waitUntil(lambda: not checkout.cart_is_empty(), timeout=5000)
    _key(till, Qt.Key.Key_F3)
    screen = till.window.shift_screen
    _key(till, Qt.Key.Key_F8)
    assert screen.count_dialog is None
    assert "收银界面还有未完成的交易" in till.window.alert_bar.text
    assert till.session.shift is not None


def test_open_shift_with_a_float(till: Till) -> None:
    screen = _screen(till, "cashier")
    assert not screen.x_button.isEnabled() and screen.open_button.isEnabled()
    _key(till, Qt.Key.Key_F9)
    dialog = screen.amount_dialog
    till.qtbot.keyClicks(dialog.amount_field, "300")
    till.qtbot.keyClick(dialog.amount_field, Qt.Key.Key_Return)
    till.wait_idle()
    assert till.session.shift is not None and till.session.shift.float_fen == 30_000
    assert "¥300.00" in screen.shift_label.text()
    opened = shifts.current_shift(till.store.ctx, till.store.cashier)
    assert opened is not None and opened.float_fen == 30_000
    assert screen.x_button.isEnabled() and not screen.open_button.isEnabled()


def test_a_manager_closes_the_day_and_prints_it(till: Till) -> None:
    _open_and_sell(till)
    shifts.close_shift(till.store.ctx, till.store.cashier, 60_000)
    sink = till.printer_sink()
    screen = _screen(till, "manager")
    _key(till, Qt.Key.Key_F10)
    till.qtbot.keyClick(screen.confirm_dialog.ok_button, Qt.Key.Key_Return)
    till.wait_idle()
    text = screen.report_view.text()
    assert "日结报表" in text and "2026-03-02" in text
    assert "第 1 班 cashier" in text
    assert "账本末条" in text  # the chain's head, on paper
    assert reports.day_report(till.store.ctx, till.store.manager, date(2026, 3, 2)).closed
    # The day end is followed by a backup, made in the background.
    till.qtbot.waitUntil(lambda: list_backups(till.store.ctx) != [], timeout=10_000)
    assert [b.reason for b in list_backups(till.store.ctx)] == ["day_close"]
    till.qtbot.keyClick(till.window, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    jobs = sink.wait_for_jobs(1, timeout=5)
    assert "日结报表" in decode(jobs[-1], "gb18030", columns=48).text


def test_a_manager_sees_a_period_report(till: Till) -> None:
    _open_and_sell(till)
    screen = _screen(till, "manager")
    _key(till, Qt.Key.Key_F11)
    dialog = screen.range_dialog
    assert dialog.from_edit.date().toString("yyyy-MM-dd") == "2026-03-01"
    till.qtbot.keyClick(dialog.ok_button, Qt.Key.Key_Return)
    till.wait_idle()
    text = screen.report_view.text()
    assert "营业报表" in text and "每日净销售额" in text
    assert any(line.startswith("  2026-03-02 1 笔") for line in text.splitlines())
