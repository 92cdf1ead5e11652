"""Weighed goods and manual changes at the till: scale labels, the scale read through the
simulator (and a typed weight when it cannot give one), 改价 with a manager's approval,
整单折扣 and 抹零."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import select

from db.engine import read_session
from db.models import Sale
from pos_app.domain.scale_barcode import check_digit
from pos_app.services import shifts
from pos_app.ui.approval_dialog import current_approval_dialog
from pos_app.ui.checkout_screen import CheckoutScreen
from pos_app.ui.entry_dialog import EntryDialog
from pos_app.ui.weight_dialog import WeightDialog
from tests.conftest import PASSWORD
from tests.ui.conftest import DEVICES, Till

WITH_SCALE = DEVICES + 'scale = "sim:scale?grams=750"\n'


@pytest.fixture
def open_till(make_till: Callable[..., Till]) -> Callable[..., Till]:
    def make(devices: str = DEVICES) -> Till:
        till = make_till(devices=devices)
        shifts.open_shift(till.store.ctx, till.store.cashier, 50_000)
        till.sign_in_as("cashier")
        return till

    return make


def screen_of(till: Till) -> CheckoutScreen:
    return till.window.checkout_screen


def type_in(till: Till, text: str) -> None:
    field = screen_of(till).scan_field
    till.qtbot.keyClicks(field, text)
    till.qtbot.keyClick(field, Qt.Key.Key_Return)
    till.wait_idle()


def line_rows(till: Till) -> list[tuple[str, ...]]:
    model = screen_of(till).cart_view.cart_model
    rows = [
        tuple(model.data(model.index(r, c)) for c in range(model.columnCount()))
        for r in range(model.rowCount())
    ]
    return [row for row in rows if row[0]]


def entry_dialog(till: Till) -> EntryDialog:
    screen = screen_of(till)
    till.qtbot.waitUntil(
        lambda: screen.entry_dialog is not None and screen.entry_dialog.isVisible()
    )
    dialog = screen.entry_dialog
    assert dialog is not None
    return dialog


def enter(till: Till, dialog: EntryDialog, text: str) -> None:
    dialog.field.selectAll()
    till.qtbot.keyClicks(dialog.field, text)
    till.qtbot.keyClick(dialog.field, Qt.Key.Key_Return)
    till.wait_idle()


def ctrl(till: Till, key: Qt.Key) -> None:
    till.qtbot.keyClick(screen_of(till).scan_field, key, Qt.KeyboardModifier.ControlModifier)


def test_a_scanned_scale_label_adds_the_weighed_line_at_the_labels_price(open_till) -> None:
    till = open_till()
    body = "271000500960"  # PLU 10005 = F005 apples ¥12.80/kg, ¥9.60 on the label
    type_in(till, body + str(check_digit(body)))
    (row,) = line_rows(till)
    assert row[1] == "红富士苹果（散称）" and row[2] == "0.750kg" and row[3] == "¥12.80/kg"
    assert row[4] == "¥9.60"
    assert screen_of(till).current_quote.total_fen == 960
    # A misread label is refused with the reason, and the cart stays as it was.
    type_in(till, body + str((check_digit(body) + 1) % 10))
    assert "校验位" in till.window.alert_bar.text and len(line_rows(till)) == 1


def test_a_weighed_product_is_weighed_on_the_scale(open_till) -> None:
    till = open_till(WITH_SCALE)
    type_in(till, "F005")  # the sim scale holds 750 g
    till.qtbot.waitUntil(lambda: len(line_rows(till)) == 1, timeout=10_000)
    assert line_rows(till)[0][2] == "0.750kg"
    assert screen_of(till).current_quote.total_fen == 960
    # Bananas are priced per 斤, and the scale has not settled: its message, then typed.
    scale = till.session.devices.sim_scale()
    assert scale is not None
    scale.sim.stable = False
    type_in(till, "F006")
    dialog = entry_dialog(till)
    assert isinstance(dialog, WeightDialog)
    assert "未稳定" in dialog.error_label.text() and dialog.unit == "斤"
    enter(till, dialog, "1.5")
    till.qtbot.waitUntil(lambda: len(line_rows(till)) == 2)
    assert line_rows(till)[1][2] == "1.500斤"
    assert screen_of(till).current_quote.total_fen == 960 + 524


def test_without_a_scale_the_weight_is_typed_and_decimals_are_for_weighed_goods(
    open_till,
) -> None:
    till = open_till()
    type_in(till, "0.5*F005")
    assert line_rows(till)[0][2] == "0.500kg"
    type_in(till, "1.5*D001")  # water is sold by the bottle
    assert "必须是整数" in till.window.alert_bar.text and len(line_rows(till)) == 1
    type_in(till, "F006")  # no scale at this till: the cashier types the weight
    dialog = entry_dialog(till)
    assert "没有" in dialog.error_label.text() or "No scale" in dialog.error_label.text()
    enter(till, dialog, "abc")
    assert dialog.isVisible() and "重量" in dialog.error_label.text()
    enter(till, dialog, "2")
    till.qtbot.waitUntil(lambda: len(line_rows(till)) == 2)
    assert line_rows(till)[1][2] == "2.000斤"


def test_a_price_change_beyond_the_limit_needs_a_manager_and_the_sale_records_it(
    open_till,
) -> None:
    till = open_till()
    screen = screen_of(till)
    type_in(till, "H002")  # tissues ¥12.90
    ctrl(till, Qt.Key.Key_P)
    enter(till, entry_dialog(till), "10")  # a 22% cut: the cashier's limit is 10%
    till.qtbot.waitUntil(lambda: current_approval_dialog() is not None)
    approval = current_approval_dialog()
    assert approval is not None
    till.qtbot.keyClicks(approval.login_field, "manager")
    till.qtbot.keyClick(approval.login_field, Qt.Key.Key_Return)
    till.qtbot.keyClicks(approval.password_field, PASSWORD)
    till.qtbot.keyClick(approval.password_field, Qt.Key.Key_Return)
    till.wait_idle()
    till.qtbot.waitUntil(lambda: screen.current_quote is not None)
    assert screen.current_quote.total_fen == 1000
    model = screen.cart_view.cart_model
    explained = [model.data(model.index(r, 1)) or "" for r in range(model.rowCount())]
    assert any("改价 原价¥12.90" in text for text in explained)
    # Paid in cash: the sale carries the manager's approval.
    till.qtbot.keyClick(screen.scan_field, Qt.Key.Key_Return)
    till.qtbot.waitUntil(lambda: screen.tender_dialog is not None)
    dialog = screen.tender_dialog
    till.qtbot.waitUntil(lambda: dialog.focusWidget() is dialog.amount_field)
    till.qtbot.keyClick(dialog.amount_field, Qt.Key.Key_Return)
    till.qtbot.keyClick(dialog.amount_field, Qt.Key.Key_Return)
    till.qtbot.waitUntil(lambda: dialog.sale_result is not None, timeout=10_000)
    till.wait_idle()
    with read_session(till.store.ctx.engine) as s:
        sale = s.scalars(select(Sale)).one()
        assert sale.total_fen == 1000
        assert sale.approved_by_id == till.store.manager.operator_id


def test_order_discount_and_rounding_within_the_limits_need_no_manager(open_till) -> None:
    till = open_till()
    screen = screen_of(till)
    type_in(till, "H002")
    type_in(till, "2*D001")  # ¥12.90 + ¥4.00 = ¥16.90
    ctrl(till, Qt.Key.Key_T)
    enter(till, entry_dialog(till), "5%")  # 5% off = ¥0.85 → ¥16.05
    till.qtbot.waitUntil(lambda: screen.current_quote.total_fen == 1605)
    assert current_approval_dialog() is None
    assert "整单折扣 9.5折" in screen.sale_adjustments_label.text()
    ctrl(till, Qt.Key.Key_R)
    dialog = entry_dialog(till)
    till.qtbot.mouseClick(dialog.yuan_button, Qt.MouseButton.LeftButton)
    till.wait_idle()
    till.qtbot.waitUntil(lambda: screen.current_quote.total_fen == 1600)
    assert "手工抹零（元）" in screen.sale_adjustments_label.text()
    assert screen.current_request().manual_rounding is not None
