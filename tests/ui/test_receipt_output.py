"""After the sale: the receipt prints (or the alert bar says why not and how to reprint),
F10 reprints the last receipt marked as a reprint, or asks for a receipt number."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt

from hardware.printing.escpos_decoder import decode
from pos_app.domain.sale_request import LineRequest, SaleRequest, TenderRequest
from pos_app.services.checkout import SaleResult, sell
from pos_app.services.sale_records import reprint
from pos_app.services.shifts import open_shift
from pos_app.ui.receipt_output import (
    ReprintDialog,
    last_receipt_no,
    print_after_sale,
    reprint_last,
)
from tests.ui.conftest import Till
from tests.ui.test_tender import closed

NO_PRINTER = '[devices]\ncard_sources = ["sim:card"]\n'


def start(till: Till) -> Till:
    till.sign_in_as("cashier")
    open_shift(till.store.ctx, till.store.cashier, 50_000)
    return till


@pytest.fixture
def cashier(till: Till) -> Till:
    return start(till)


def cash_sale(till: Till, given_fen: int = 2000) -> SaleResult:
    request = SaleRequest(
        lines=(LineRequest("S001", 1),), tenders=(TenderRequest("cash", given_fen),)
    )
    return sell(till.store.ctx, till.store.cashier, request)


def texts(sink: Any, count: int) -> list[str]:
    """The text of the printed jobs once there are `count` of them."""
    jobs = sink.wait_for_jobs(count, timeout=5)
    assert len(jobs) >= count
    return [decode(data, "gb18030", columns=48).text for data in jobs]


def test_a_printed_receipt_is_noted_and_the_drawer_opens(cashier: Till) -> None:
    till = cashier
    sink = till.printer_sink()
    result = cash_sale(till)
    print_after_sale(till.window, till.session, result)
    till.wait_idle()
    assert till.window.alert_bar.text.count(result.receipt_no) == 1
    assert till.window.alert_bar.property("level") == "info"
    printed = texts(sink, 2)  # the drawer's kick, then the receipt
    assert printed[0].strip() == ""
    assert result.receipt_no in printed[1] and "合计" in printed[1]
    assert last_receipt_no(till.session) == result.receipt_no


def test_paper_out_keeps_the_sale_and_f10_reprints_once_paper_is_back(cashier: Till) -> None:
    till = cashier
    sink = till.printer_sink()
    sink.mode = "paper_out"
    result = cash_sale(till)
    print_after_sale(till.window, till.session, result)
    till.wait_idle()
    alert = till.window.alert_bar.text
    assert till.window.alert_bar.property("level") == "warning"
    assert "F10" in alert and "未打印" in alert  # not printed: say so, and how to reprint
    # Out of paper the drawer still opens (a real-time pulse), so the change can be given,
    # and the status bar says why nothing printed at once.
    assert "钱箱" not in alert
    till.qtbot.waitUntil(lambda: sink.drawer_openings == [2])
    till.qtbot.waitUntil(lambda: "请装纸" in till.window.printer_label.text())
    assert sink.jobs == []
    # The sale is recorded all the same.
    assert reprint(till.store.ctx, till.store.cashier, result.receipt_no).total_fen == 750

    sink.mode = "normal"
    reprint_last(till.window, till.session)
    till.wait_idle()
    till.qtbot.waitUntil(lambda: any("补打" in text for text in texts(sink, 1)), timeout=5000)
    copy = next(text for text in texts(sink, 1) if "补打" in text)
    assert result.receipt_no in copy
    till.qtbot.waitUntil(lambda: "已补打" in till.window.alert_bar.text)


def test_f10_without_a_last_receipt_asks_for_the_number(cashier: Till) -> None:
    till = cashier
    sink = till.printer_sink()
    result = cash_sale(till)  # sold elsewhere (the CLI, another session): not this till's last
    dialog = reprint_last(till.window, till.session)
    assert isinstance(dialog, ReprintDialog)
    till.qtbot.waitUntil(dialog.isVisible)
    till.qtbot.keyClicks(dialog.number_field, "SH01-01-260302-9999")
    till.qtbot.keyClick(dialog.number_field, Qt.Key.Key_Return)
    till.wait_idle()
    assert dialog.isVisible() and "SH01-01-260302-9999" in dialog.error_label.text()

    dialog.number_field.clear()
    till.qtbot.keyClicks(dialog.number_field, result.receipt_no)
    till.qtbot.keyClick(dialog.number_field, Qt.Key.Key_Return)
    till.qtbot.waitUntil(lambda: closed(dialog))
    till.wait_idle()
    assert any("补打" in text and result.receipt_no in text for text in texts(sink, 1))
    assert last_receipt_no(till.session) == result.receipt_no


def test_without_a_printer_the_sale_stands_and_the_bar_says_so(make_till) -> None:
    till = start(make_till(language="en", devices=NO_PRINTER))
    result = cash_sale(till)
    print_after_sale(till.window, till.session, result)
    till.wait_idle()
    assert result.receipt_no in till.window.alert_bar.text
    assert "no receipt printer" in till.window.alert_bar.text
