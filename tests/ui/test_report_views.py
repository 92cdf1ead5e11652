"""The sales journal (search and reprint), a member's history, and the Export buttons, driven
through the real till window with the keys a person uses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook  # type: ignore[import-untyped]
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from db.engine import read_session
from db.models import AuditEvent
from hardware.printing.escpos_decoder import decode
from pos_app.domain.sale_request import LineRequest, SaleRequest, TenderRequest
from pos_app.services import shifts
from pos_app.services.checkout import SaleResult, sell
from pos_app.ui import sheets_view
from pos_app.ui.journal_view import JournalDialog
from pos_app.ui.member_history_view import MemberHistoryDialog
from pos_app.ui.store_figures_view import LiabilitiesDialog, SalesAnalysisDialog
from tests.ui.conftest import MEMBER_CARD, MEMBER_MOBILE, Till


def _sell(till: Till, code: str, qty: int = 1, card: str | None = None) -> SaleResult:
    request = SaleRequest(
        lines=(LineRequest(code, qty),), tenders=(TenderRequest("cash"),), card_no=card
    )
    return sell(till.store.ctx, till.store.cashier, request)


def _f3(till: Till, login: str) -> Any:
    till.sign_in_as(login)
    till.qtbot.keyClick(till.window, Qt.Key.Key_F3)
    return till.window.shift_screen


def _active(kind: type) -> Any:
    dialog = QApplication.activeModalWidget()
    assert isinstance(dialog, kind), dialog
    return dialog


@pytest.fixture
def saving_to(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The save dialog answers with this file (a real dialog would wait for a person)."""
    target = tmp_path / "export.xlsx"
    monkeypatch.setattr(sheets_view, "ask_export_path", lambda parent, suggested: target)
    return target


def test_journal_finds_a_receipt_by_member_and_reprints_it(till: Till) -> None:
    shifts.open_shift(till.store.ctx, till.store.cashier, 0)
    walk_in = _sell(till, "D001", 2)
    member = _sell(till, "S001", 1, card=MEMBER_CARD)
    _f3(till, "cashier")
    till.qtbot.keyClick(till.window, Qt.Key.Key_J, Qt.KeyboardModifier.ControlModifier)
    dialog = _active(JournalDialog)
    till.wait_idle()
    assert dialog.page is not None
    assert [x.receipt_no for x in dialog.page.lines] == [member.receipt_no, walk_in.receipt_no]

    till.qtbot.keyClicks(dialog.member_field, MEMBER_MOBILE)
    till.qtbot.keyClick(dialog.member_field, Qt.Key.Key_Return)
    till.wait_idle()
    assert dialog.table.rowCount() == 1
    assert dialog.table.item(0, 0).text() == member.receipt_no
    assert dialog.table.item(0, 5).text() == "¥7.50"

    sink = till.printer_sink()
    till.qtbot.mouseClick(dialog.reprint_button, Qt.MouseButton.LeftButton)
    till.wait_idle()
    jobs = sink.wait_for_jobs(1, timeout=5)
    texts = [decode(data, "gb18030", columns=48).text for data in jobs]
    assert any("补打" in t and member.receipt_no in t for t in texts)
    with read_session(till.store.ctx.engine) as s:
        targets = [e.target for e in s.query(AuditEvent).filter_by(action="sale.reprint")]
    assert targets == [member.receipt_no]


def test_journal_refuses_a_bad_amount_and_exports_what_it_found(
    till: Till, saving_to: Path
) -> None:
    shifts.open_shift(till.store.ctx, till.store.cashier, 0)
    sold = _sell(till, "D001", 3)
    _f3(till, "cashier")
    till.qtbot.keyClick(till.window, Qt.Key.Key_J, Qt.KeyboardModifier.ControlModifier)
    dialog = _active(JournalDialog)
    till.wait_idle()
    till.qtbot.keyClicks(dialog.amount_field, "abc")
    till.qtbot.keyClick(dialog.amount_field, Qt.Key.Key_Return)
    assert dialog.error_label.isVisible()
    dialog.amount_field.clear()
    till.qtbot.keyClicks(dialog.amount_field, "6")
    till.qtbot.keyClick(dialog.amount_field, Qt.Key.Key_Return)
    till.wait_idle()
    assert dialog.table.rowCount() == 1 and not dialog.error_label.isVisible()
    till.qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    till.wait_idle()
    rows = list(load_workbook(saving_to).active.iter_rows(values_only=True))
    assert rows[1][0] == sold.receipt_no and rows[1][7] == 6


def test_member_history_from_the_member_desk(till: Till) -> None:
    shifts.open_shift(till.store.ctx, till.store.cashier, 0)
    sold = _sell(till, "S001", 2, card=MEMBER_CARD)
    till.sign_in_as("cashier")
    till.qtbot.keyClick(till.window, Qt.Key.Key_F2)
    desk = till.window.member_desk
    till.qtbot.keyClicks(desk.search_field, MEMBER_MOBILE)
    till.qtbot.keyClick(desk.search_field, Qt.Key.Key_Return)
    till.wait_idle()
    till.qtbot.waitUntil(lambda: desk.history_button.isEnabled())
    till.qtbot.keyClick(desk, Qt.Key.Key_H, Qt.KeyboardModifier.ControlModifier)
    dialog = desk.dialog
    assert isinstance(dialog, MemberHistoryDialog)
    till.wait_idle()
    assert dialog.history is not None and "张三" in dialog.title_label.text()
    receipts = [dialog.table.item(r, 2).text() for r in range(dialog.table.rowCount())]
    amounts = [dialog.table.item(r, 3).text() for r in range(dialog.table.rowCount())]
    assert receipts == [sold.receipt_no, ""]  # the sale, then the opening top-up
    assert amounts == ["¥15.00", "¥500.00"]


def test_liabilities_view_and_its_export_button_write_a_file(till: Till, saving_to: Path) -> None:
    screen = _f3(till, "manager")
    till.qtbot.mouseClick(screen.liabilities_button, Qt.MouseButton.LeftButton)
    dialog = _active(LiabilitiesDialog)
    till.wait_idle()
    table = dialog.view.table(0)
    cells = {table.item(r, 0).text(): table.item(r, 1).text() for r in range(table.rowCount())}
    assert cells["储值本金 Stored value principal"] == "¥500.00"
    till.qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    till.wait_idle()
    rows = dict(load_workbook(saving_to).active.iter_rows(values_only=True))
    assert rows["储值本金 Stored value principal"] == 500
    assert not [p for p in saving_to.parent.iterdir() if p.name.endswith(".part")]

    sink = till.printer_sink()
    till.qtbot.mouseClick(dialog.print_button, Qt.MouseButton.LeftButton)
    till.wait_idle()
    (slip,) = [decode(data, "gb18030", columns=48).text for data in sink.wait_for_jobs(1, 5)]
    line = next(x for x in slip.splitlines() if "储值本金" in x)
    assert line.rstrip().endswith("500.00") and len(line.rstrip()) <= 48


def test_the_x_report_exports_from_f3(till: Till, saving_to: Path) -> None:
    shifts.open_shift(till.store.ctx, till.store.cashier, 0)
    _sell(till, "D001", 1)
    screen = _f3(till, "cashier")
    assert not screen.export_button.isEnabled()
    till.qtbot.keyClick(till.window, Qt.Key.Key_F5)
    till.wait_idle()
    till.qtbot.keyClick(till.window, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    till.wait_idle()
    rows = dict(load_workbook(saving_to).active.iter_rows(values_only=True))
    assert rows["销售（商品与服务） Delivered"] == 2


def test_sales_analysis_shows_top_sellers_and_each_cashier(till: Till) -> None:
    shifts.open_shift(till.store.ctx, till.store.cashier, 0)
    _sell(till, "D001", 3)
    _sell(till, "S001", 1)
    _f3(till, "manager")
    till.qtbot.keyClick(till.window, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)
    dialog = _active(SalesAnalysisDialog)
    till.wait_idle()
    titles = [dialog.view.tabText(i) for i in range(dialog.view.count())]
    assert titles[-1] == "员工业绩 Staff"
    products = dialog.view.table(titles.index("商品 Products"))
    assert [products.item(r, 0).text() for r in range(products.rowCount())] == ["S001", "D001"]
    staff = dialog.view.table(len(titles) - 1)
    assert (staff.item(0, 0).text(), staff.item(0, 2).text(), staff.item(0, 6).text()) == (
        "cashier",
        "2",
        "¥13.50",
    )
