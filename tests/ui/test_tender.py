"""The tender dialog: cash in two keys, split tender with the card PIN, the PIN lock."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget
from shiboken6 import isValid

from hardware.printing.escpos_decoder import decode
from pos_app.domain.errors import PinLocked, WrongPin
from pos_app.domain.permissions import Permission
from pos_app.domain.sale_request import LineRequest, SaleRequest, TenderRequest
from pos_app.services.checkout import SaleResult, quote, sell
from pos_app.services.points import give_participation_points
from pos_app.services.sale_records import reprint
from pos_app.services.shifts import open_shift
from pos_app.services.stored_value import balance
from pos_app.ui.tender_dialog import TenderDialog, open_tender_dialog
from tests.ui.conftest import MEMBER_CARD, MEMBER_PIN, Till


@pytest.fixture
def cashier(till: Till) -> Till:
    """The till with the cashier signed in and a shift open."""
    till.sign_in_as("cashier")
    open_shift(till.store.ctx, till.store.cashier, 50_000)
    return till


def open_dialog(till: Till, request: SaleRequest, sold: list[SaleResult]) -> TenderDialog:
    priced = quote(till.store.ctx, till.session.actor, request)
    dialog = open_tender_dialog(till.window, till.session, request, priced, None, sold.append)
    # The cashier sees the dialog once it is the active window (it then has the keyboard).
    till.qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog)
    return dialog


def closed(dialog: QWidget) -> bool:
    """Closed (and perhaps already deleted: the dialogs delete themselves on close)."""
    return not isValid(dialog) or not dialog.isVisible()


def printed_text(sink: Any, receipt_no: str) -> str:
    """The text of the printed job that carries `receipt_no` (the drawer's kick is a job too)."""
    for _ in range(50):
        for data in sink.wait_for_jobs(len(sink.jobs) + 1, timeout=0.1):
            text = decode(data, "gb18030", columns=48).text
            if receipt_no in text:
                return text
    raise AssertionError(f"no receipt {receipt_no} was printed")


def press(till: Till, dialog: TenderDialog, key: Qt.Key) -> None:
    """A key where the cashier's cursor is."""
    target: QWidget = dialog.focusWidget() or dialog
    till.qtbot.keyClick(target, key)


def type_into(till: Till, dialog: TenderDialog, text: str) -> None:
    target: QWidget = dialog.focusWidget() or dialog
    till.qtbot.keyClicks(target, text)


def test_cash_sale_with_enter_enter_shows_the_change_and_prints(cashier: Till) -> None:
    till = cashier
    sink = till.printer_sink()
    sold: list[SaleResult] = []
    dialog = open_dialog(till, SaleRequest(lines=(LineRequest("V001", 2),)), sold)
    assert dialog.focusWidget() is dialog.amount_field
    assert dialog.amount_field.text() == "13.60"  # cash prefilled with the amount due
    assert dialog.total_label.text() == "¥13.60"

    type_into(till, dialog, "20")  # the prefilled amount is selected: typing replaces it
    press(till, dialog, Qt.Key.Key_Return)
    assert dialog.change_label.text() == "¥6.40" and dialog.change_label.isVisible()
    assert dialog.left_label.text() == "¥0.00"
    press(till, dialog, Qt.Key.Key_Return)
    till.qtbot.waitUntil(lambda: len(sold) == 1)
    assert dialog.stack.currentIndex() == TenderDialog.DONE
    assert dialog.done_change_label.text() == "¥6.40"
    result = sold[0]
    assert result.change_fen == 640 and result.total_fen == 1360

    text = printed_text(sink, result.receipt_no)
    assert "合计" in text and "现金" in text
    till.wait_idle()
    assert result.receipt_no in till.window.alert_bar.text
    doc = reprint(till.store.ctx, till.store.cashier, result.receipt_no)  # it is recorded
    assert [(t.tender, t.amount_fen) for t in doc.tenders] == [("cash", 1360)]
    press(till, dialog, Qt.Key.Key_Return)  # next sale
    till.qtbot.waitUntil(lambda: closed(dialog))


def test_prefilled_cash_enter_enter_is_the_exact_amount(cashier: Till) -> None:
    till = cashier
    sold: list[SaleResult] = []
    dialog = open_dialog(till, SaleRequest(lines=(LineRequest("S001", 1),)), sold)
    press(till, dialog, Qt.Key.Key_Return)
    press(till, dialog, Qt.Key.Key_Return)
    till.qtbot.waitUntil(lambda: len(sold) == 1)
    assert sold[0].change_fen == 0 and sold[0].total_fen == 750
    till.wait_idle()


def test_escape_closes_without_selling(cashier: Till) -> None:
    till = cashier
    sold: list[SaleResult] = []
    dialog = open_dialog(till, SaleRequest(lines=(LineRequest("S001", 1),)), sold)
    cancelled: list[bool] = []
    dialog.sig_cancelled.connect(lambda: cancelled.append(True))
    press(till, dialog, Qt.Key.Key_Escape)
    till.qtbot.waitUntil(lambda: closed(dialog))
    assert cancelled == [True] and sold == []


def test_split_stored_value_with_pin_and_cash(cashier: Till) -> None:
    till = cashier
    ctx, actor = till.store.ctx, till.store.cashier
    before = balance(ctx, actor, MEMBER_CARD).stored_value_fen  # ¥550
    sold: list[SaleResult] = []
    request = SaleRequest(lines=(LineRequest("F001", 2),), card_no=MEMBER_CARD)
    dialog = open_dialog(till, request, sold)
    total = dialog.total_fen
    assert "stored_value" in dialog.tender_buttons
    assert dialog.current == "stored_value"  # a member with a balance: stored value first
    # Stored value pays ¥10 of it; the rest is prefilled as cash.
    type_into(till, dialog, "10")
    press(till, dialog, Qt.Key.Key_Return)
    assert dialog.current == "cash"
    assert dialog.amount_field.fen() == total - 1000
    press(till, dialog, Qt.Key.Key_Return)
    press(till, dialog, Qt.Key.Key_Return)  # complete: the card has a PIN → the PIN pad
    till.qtbot.waitUntil(lambda: dialog.stack.currentIndex() == TenderDialog.PIN)
    assert dialog.focusWidget() is dialog.pin_pad.field
    for digit in MEMBER_PIN[:3]:
        till.qtbot.mouseClick(dialog.pin_pad.digit_buttons[digit], Qt.MouseButton.LeftButton)
    type_into(till, dialog, MEMBER_PIN[3:])  # the rest on the keyboard
    assert dialog.pin_pad.field.echoMode() == dialog.pin_pad.field.EchoMode.Password
    press(till, dialog, Qt.Key.Key_Return)
    till.qtbot.waitUntil(lambda: len(sold) == 1)
    assert dialog.pin_pad.field.text() == ""  # the PIN is not kept
    doc = sold[0].receipt
    assert [(t.tender, t.amount_fen) for t in doc.tenders] == [
        ("stored_value", 1000),
        ("cash", total - 1000),
    ]
    assert balance(ctx, actor, MEMBER_CARD).stored_value_fen == before - 1000
    till.wait_idle()


def test_five_wrong_pins_lock_stored_value_and_cash_still_pays(cashier: Till) -> None:
    till = cashier
    ctx, actor = till.store.ctx, till.store.cashier
    sold: list[SaleResult] = []
    request = SaleRequest(lines=(LineRequest("D001", 1),), card_no=MEMBER_CARD)
    dialog = open_dialog(till, request, sold)
    press(till, dialog, Qt.Key.Key_Return)  # stored value pays it all
    press(till, dialog, Qt.Key.Key_Return)  # complete → PIN
    till.qtbot.waitUntil(lambda: dialog.stack.currentIndex() == TenderDialog.PIN)
    for attempt in range(1, 5):
        type_into(till, dialog, "000000")
        press(till, dialog, Qt.Key.Key_Return)
        till.qtbot.waitUntil(lambda a=attempt: f"{5 - a}" in dialog.pin_error_label.text())
        assert dialog.stack.currentIndex() == TenderDialog.PIN
        assert dialog.pin_pad.field.text() == ""
    type_into(till, dialog, "000000")
    press(till, dialog, Qt.Key.Key_Return)
    till.qtbot.waitUntil(lambda: dialog.stack.currentIndex() == TenderDialog.PAY)
    till.wait_idle()
    assert dialog.member_tenders_locked and dialog.lock_label.isVisible()
    assert not dialog.tender_buttons["stored_value"].isEnabled()
    assert dialog.lines == []  # the stored-value tender was taken off
    assert dialog.error_label.isVisible() and dialog.error_label.text()
    assert balance(ctx, actor, MEMBER_CARD).pin_locked
    assert sold == []
    assert dialog.current == "cash" and dialog.amount_field.fen() == dialog.total_fen
    press(till, dialog, Qt.Key.Key_Return)
    press(till, dialog, Qt.Key.Key_Return)
    till.qtbot.waitUntil(lambda: len(sold) == 1)
    assert [t.tender for t in sold[0].receipt.tenders] == ["cash"]
    till.wait_idle()


def test_wechat_with_a_reference_and_removing_a_tender(cashier: Till) -> None:
    till = cashier
    sold: list[SaleResult] = []
    dialog = open_dialog(till, SaleRequest(lines=(LineRequest("S005", 1),)), sold)
    press(till, dialog, Qt.Key.Key_F6)  # bank card
    type_into(till, dialog, "5")
    press(till, dialog, Qt.Key.Key_Return)
    assert [(x.tender, x.amount_fen) for x in dialog.lines] == [("bank", 500)]
    press(till, dialog, Qt.Key.Key_F4)  # remove it again
    assert dialog.lines == []
    press(till, dialog, Qt.Key.Key_F7)  # WeChat Pay, the whole amount prefilled
    assert dialog.reference_field.isVisible()
    assert dialog.amount_field.fen() == 2990
    type_into(till, dialog, "99")  # too much for a non-cash tender
    press(till, dialog, Qt.Key.Key_Return)
    assert dialog.lines == [] and "29.90" in dialog.error_label.text()
    dialog.amount_field.set_fen(2990)
    till.qtbot.keyClicks(dialog.reference_field, "WX20260302")
    till.qtbot.keyClick(dialog.reference_field, Qt.Key.Key_Return)
    assert dialog.covered()
    press(till, dialog, Qt.Key.Key_Return)
    till.qtbot.waitUntil(lambda: len(sold) == 1)
    tender = sold[0].receipt.tenders[0]
    assert (tender.tender, tender.amount_fen, tender.reference) == ("wechat", 2990, "WX20260302")
    assert not dialog.done_change_label.isVisible()  # no cash, no change to give
    till.wait_idle()


def test_a_service_card_pays_its_service_first_and_stored_value_the_rest(cashier: Till) -> None:
    till = cashier
    ctx, actor = till.store.ctx, till.store.cashier
    trial = SaleRequest(
        lines=(LineRequest("T001", 1),),
        tenders=(TenderRequest("cash"),),
        card_no=MEMBER_CARD,
    )
    sell(ctx, actor, trial)  # a car-wash trial card for the member
    sold: list[SaleResult] = []
    request = SaleRequest(
        lines=(LineRequest("SV01", 1), LineRequest("D001", 1)), card_no=MEMBER_CARD
    )
    dialog = open_dialog(till, request, sold)
    assert [x.tender for x in dialog.lines] == ["count_card"]  # added by itself
    assert dialog.current == "stored_value"
    assert (
        dialog.amount_field.fen()
        == dialog.left_fen()
        == dialog.total_fen - dialog.lines[0].amount_fen
    )
    press(till, dialog, Qt.Key.Key_Return)
    press(till, dialog, Qt.Key.Key_Return)
    till.qtbot.waitUntil(lambda: dialog.stack.currentIndex() == TenderDialog.PIN)
    type_into(till, dialog, MEMBER_PIN)
    press(till, dialog, Qt.Key.Key_Return)
    till.qtbot.waitUntil(lambda: len(sold) == 1)
    assert [t.tender for t in sold[0].receipt.tenders] == ["count_card", "stored_value"]
    till.wait_idle()


def test_a_card_locked_before_payment_offers_no_member_tender(cashier: Till) -> None:
    """Issue 11: the PIN lock covers points and service cards too, and the dialog says so."""
    till = cashier
    ctx, store = till.store.ctx, till.store
    member_no = balance(ctx, store.cashier, MEMBER_CARD).member_no
    give_participation_points(
        ctx, store.manager, member_no, 5000, "店庆", store.approval(Permission.POINTS_PARTICIPATION)
    )
    sell(
        ctx,
        store.cashier,
        SaleRequest((LineRequest("T001", 1),), (TenderRequest("cash"),), card_no=MEMBER_CARD),
    )
    wrong = SaleRequest(
        (LineRequest("D001", 1),), (TenderRequest("stored_value"),), MEMBER_CARD, pin="000000"
    )
    for _ in range(5):
        with contextlib.suppress(WrongPin, PinLocked):
            sell(ctx, store.cashier, wrong)
    sold: list[SaleResult] = []
    request = SaleRequest(
        lines=(LineRequest("SV01", 1), LineRequest("D001", 1)), card_no=MEMBER_CARD
    )
    dialog = open_dialog(till, request, sold)
    assert dialog.lock_label.isVisible() and "店长重置密码" in dialog.lock_label.text()
    for tender in ("stored_value", "points", "count_card"):
        assert not dialog.tender_buttons[tender].isEnabled(), tender
    assert dialog.lines == []  # the service card no longer pays by itself
    assert dialog.current == "cash" and dialog.amount_field.fen() == dialog.total_fen
    press(till, dialog, Qt.Key.Key_F10)  # points: nothing happens
    assert dialog.current == "cash"
    press(till, dialog, Qt.Key.Key_Return)
    press(till, dialog, Qt.Key.Key_Return)
    till.qtbot.waitUntil(lambda: len(sold) == 1)
    assert [t.tender for t in sold[0].receipt.tenders] == ["cash"]
    till.wait_idle()
