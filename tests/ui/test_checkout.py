"""The checkout screen driven as a cashier does: typed and scanned codes, the member panel
from a card tap or a mobile, discounts explained, hold/recall, void, cancel, refusals."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget
from shiboken6 import isValid

from hardware.events import CardPresented, CardReadFailed
from pos_app.domain.coupons import TemplateSpec
from pos_app.domain.money import format_fen
from pos_app.services import coupons, held_sales, shifts
from pos_app.services.audit import list_audit
from pos_app.services.members import register_member
from pos_app.services.sale_records import reprint
from pos_app.services.stored_value import top_up
from pos_app.ui.approval_dialog import current_approval_dialog
from pos_app.ui.checkout_screen import MINUS_SETTLE_MS, CheckoutScreen
from pos_app.ui.tender_dialog import current_tender_dialog
from tests.conftest import PASSWORD
from tests.ui.conftest import LOST_CARD, MEMBER_CARD, Till

VEG8 = TemplateSpec(
    code="VEG8",
    name="蔬菜满20减8",
    kind="amount_off",
    threshold_fen=2000,
    amount_off_fen=800,
    categories=("蔬菜",),
    valid_days=30,
)


@pytest.fixture
def open_till(make_till: Callable[..., Till]) -> Callable[..., Till]:
    """make_till with a shift open and the cashier signed in, on the checkout screen."""

    def make(language: str = "zh_CN") -> Till:
        till = make_till(language=language)
        shifts.open_shift(till.store.ctx, till.store.cashier, 50_000)
        till.sign_in_as("cashier")
        assert till.window.stack.currentWidget() is till.window.checkout_screen
        return till

    return make


@pytest.fixture
def till_zh(open_till: Callable[..., Till]) -> Till:
    return open_till()


def screen_of(till: Till) -> CheckoutScreen:
    return till.window.checkout_screen


def type_in(till: Till, text: str) -> None:
    """Type into the scan field and press Enter, then wait for the answer."""
    field = screen_of(till).scan_field
    if text:
        till.qtbot.keyClicks(field, text)
    till.qtbot.keyClick(field, Qt.Key.Key_Return)
    till.wait_idle()


def key(till: Till, k: Qt.Key, text: str = "") -> None:
    till.qtbot.keyClick(screen_of(till).scan_field, k)
    till.wait_idle()


def table(till: Till) -> list[tuple[str, ...]]:
    """The cart table's rows as shown."""
    model = screen_of(till).cart_view.cart_model
    return [
        tuple(model.data(model.index(r, c)) for c in range(model.columnCount()))
        for r in range(model.rowCount())
    ]


def shown(dialog: object) -> bool:
    """A dialog the screen keeps a reference to is on screen."""
    return dialog is not None and isValid(dialog) and dialog.isVisible()


def line_rows(till: Till) -> list[tuple[str, ...]]:
    return [row for row in table(till) if row[0]]


def test_typed_codes_fill_the_cart_and_the_totals_are_the_quotes(till_zh: Till) -> None:
    till = till_zh
    screen = screen_of(till)
    assert screen.scan_field.hasFocus()
    assert not screen.shift_hint.isVisible()
    type_in(till, "V001")
    type_in(till, "S001")
    type_in(till, "v001")  # the same product again: one line, quantity 2
    rows = line_rows(till)
    assert [(r[1], r[2]) for r in rows] == [("有机菠菜500g", "2"), ("乐事薯片", "1")]
    assert rows[0][3:5] == ("¥6.80", "¥13.60")
    q = screen.current_quote
    assert q is not None and q.total_fen == 6_80 * 2 + 7_50
    assert screen.total_label.text() == format_fen(q.total_fen) == "¥21.10"
    assert "¥21.10" in screen.pay_button.text()
    assert [(line.code, line.qty) for line in screen.current_request().lines] == [
        ("V001", 2),
        ("S001", 1),
    ]
    assert screen.scan_field.text() == "" and screen.scan_field.hasFocus()


def test_quantity_form_and_a_wedge_style_barcode_scan(till_zh: Till) -> None:
    till = till_zh
    type_in(till, "3*V001")
    assert [(r[1], r[2]) for r in line_rows(till)] == [("有机菠菜500g", "3")]
    till.session.devices.sig_card.emit(
        CardPresented("barcode", "6921168509256", "6921168509256", "sim:card", 0.0)
    )
    till.wait_idle()
    assert [(r[1], r[2]) for r in line_rows(till)] == [
        ("有机菠菜500g", "3"),
        ("农夫山泉550ml", "1"),
    ]
    assert screen_of(till).current_quote.total_fen == 3 * 6_80 + 2_00


def test_the_quantity_form_takes_fullwidth_digits_and_no_other_script(till_zh: Till) -> None:
    till = till_zh
    field = screen_of(till).scan_field
    # QTest types ASCII keys only; an input method commits text into the field like this.
    field.insert("３＊V001")  # full-width, as a Chinese input method types it
    type_in(till, "")
    assert [(r[1], r[2]) for r in line_rows(till)] == [("有机菠菜500g", "3")]
    before = table(till)
    field.insert("٣*V001")  # an Arabic-Indic three was taken as 3
    type_in(till, "")
    assert table(till) == before and "没有这个商品" in till.window.alert_bar.text


def test_member_card_tap_fills_the_panel_and_member_prices_are_explained(
    till_zh: Till,
) -> None:
    till = till_zh
    screen = screen_of(till)
    assert "会员卡" in screen.member_view.empty_label.text()
    type_in(till, "D002")  # 可口可乐 ¥3.50, member price ¥3.00
    assert screen.current_quote.total_fen == 3_50
    with till.qtbot.waitSignal(screen.sig_member_loaded, timeout=5000) as loaded:
        till.present_card(MEMBER_CARD)
    till.wait_idle()
    panel = screen.member_view
    assert loaded.args[0].member.name == "张三"
    assert panel.name_label.text() == "张三"
    assert panel.tier_label.text() == "普通会员"
    assert "138****8000" in panel.mobile_label.text()
    assert panel.stored_value_label.text() == "¥550.00"
    assert "¥500.00" in panel.balance_detail_label.text()
    assert "¥50.00" in panel.balance_detail_label.text()
    assert panel.points_label.text() == "0"
    assert panel.alert_labels == []
    # The member price applies, explained on a grey row under the line.
    assert screen.current_request().card_no == MEMBER_CARD
    assert screen.current_quote.total_fen == 3_00
    rows = table(till)
    assert rows[0][1] == "可口可乐330ml" and rows[0][5] == "-¥0.50" and rows[0][6] == "¥3.00"
    assert "会员价 ¥3.00" in rows[1][1] and rows[1][5] == "-¥0.50"
    assert screen.total_label.text() == "¥3.00"
    # F11 takes the member off: the list price comes back.
    till.qtbot.keyClick(screen.scan_field, Qt.Key.Key_F11)
    till.wait_idle()
    assert screen.member_view.panel is None and screen.current_quote.total_fen == 3_50


def test_a_lost_card_shows_the_member_with_a_red_alert(till_zh: Till) -> None:
    till = till_zh
    screen = screen_of(till)
    with till.qtbot.waitSignal(screen.sig_member_loaded, timeout=5000):
        till.present_card(LOST_CARD)
    till.wait_idle()
    panel = screen.member_view
    assert panel.name_label.text() == "李四"
    (alert,) = panel.alert_labels
    assert alert.property("alert") == "card_lost" and "已挂失" in alert.text()
    assert panel.cannot_pay_label.isVisible()
    # Selling on it is refused by the services, with their reason in the alert bar.
    type_in(till, "V001")
    assert "已挂失" in till.window.alert_bar.text
    assert screen.current_quote is None and not screen.pay_button.isEnabled()


def test_a_card_read_failure_asks_to_try_again(till_zh: Till) -> None:
    till = till_zh
    till.session.devices.sig_card_failed.emit(
        CardReadFailed(
            "sim:card", "读卡失败，请重新刷卡", "Could not read the card: swipe again", 0
        )
    )
    assert "重新刷卡" in till.window.alert_bar.text


def test_mobile_and_its_last_four_digits_find_the_member(till_zh: Till) -> None:
    till = till_zh
    screen = screen_of(till)
    type_in(till, "13900139000")
    assert screen.member_view.name_label.text() == "李四"
    assert screen.current_request().member_no is not None  # found by mobile: no card shown
    assert screen.current_request().card_no is None
    type_in(till, "8000")
    assert screen.member_view.name_label.text() == "张三"
    # Two members ending in the same digits: pick from a list.
    register_member(till.store.ctx, till.store.cashier, "13700008000", "王五")
    type_in(till, "8000")
    till.qtbot.waitUntil(lambda: shown(screen.pick_dialog))
    dialog = screen.pick_dialog
    assert dialog.list.count() == 2
    loaded: list[object] = []
    screen.sig_member_loaded.connect(loaded.append)
    till.qtbot.keyClick(dialog.list, Qt.Key.Key_Down)
    till.qtbot.keyClick(dialog.list, Qt.Key.Key_Return)
    till.wait_idle()
    assert screen.member_view.name_label.text() == "王五"
    assert len(loaded) == 1  # picked once, loaded once
    type_in(till, "1234")
    assert "1234" in till.window.alert_bar.text


def test_hold_then_recall_brings_the_same_cart_back(till_zh: Till) -> None:
    till = till_zh
    screen = screen_of(till)
    till.present_card(MEMBER_CARD)
    till.qtbot.waitUntil(lambda: screen.member_view.panel is not None)
    type_in(till, "2*V001")
    type_in(till, "D002")
    before = line_rows(till)
    till.qtbot.keyClick(screen.scan_field, Qt.Key.Key_F6)
    till.wait_idle()
    assert screen.cart_is_empty() and line_rows(till) == []
    assert screen.member_view.panel is None
    assert "挂单 1" in till.window.alert_bar.text
    (held,) = held_sales.held_sales(till.store.ctx, till.store.cashier)
    assert held.line_count == 2 and held.has_member
    till.qtbot.keyClick(screen.scan_field, Qt.Key.Key_F7)
    till.qtbot.waitUntil(lambda: shown(screen.held_dialog))
    dialog = screen.held_dialog
    till.wait_idle()
    assert dialog.table.rowCount() == 1 and dialog.table.item(0, 0).text() == "挂单 1"
    till.qtbot.keyClick(dialog.table, Qt.Key.Key_Return)
    till.wait_idle()
    till.qtbot.waitUntil(lambda: screen.member_view.panel is not None)
    till.wait_idle()
    assert line_rows(till) == before
    assert screen.member_view.name_label.text() == "张三"
    assert held_sales.held_sales(till.store.ctx, till.store.cashier) == []
    assert screen.scan_field.hasFocus()


def test_a_held_sale_can_be_discarded_after_a_confirmation(till_zh: Till) -> None:
    till = till_zh
    screen = screen_of(till)
    type_in(till, "V001")
    till.qtbot.keyClick(screen.scan_field, Qt.Key.Key_F6)
    till.wait_idle()
    till.qtbot.keyClick(screen.scan_field, Qt.Key.Key_F7)
    till.qtbot.waitUntil(lambda: shown(screen.held_dialog))
    till.wait_idle()
    dialog = screen.held_dialog
    till.qtbot.keyClick(dialog.table, Qt.Key.Key_Delete)
    till.qtbot.waitUntil(lambda: shown(dialog.confirm_box))
    dialog.confirm_box.defaultButton().click()
    till.wait_idle()
    assert held_sales.held_sales(till.store.ctx, till.store.cashier) == []
    till.qtbot.waitUntil(lambda: dialog.empty_label.isVisible())


def test_void_a_line_under_the_limit_is_audited(till_zh: Till) -> None:
    till = till_zh
    screen = screen_of(till)
    type_in(till, "V001")
    type_in(till, "S001")
    type_in(till, "D001")
    key(till, Qt.Key.Key_Up)  # from the last line (D001) up to S001
    assert screen.cart_view.selected_row().sku == "S001"
    key(till, Qt.Key.Key_Delete)
    assert [r[1] for r in line_rows(till)] == ["有机菠菜500g", "农夫山泉550ml"]
    assert screen.current_quote.total_fen == 6_80 + 2_00
    audit = list_audit(till.store.ctx, till.store.manager, limit=5)
    assert audit[0].action == "sale.void_line" and audit[0].target == "¥7.50"
    # F8 does the same on the selected line.
    key(till, Qt.Key.Key_F8)
    assert len(line_rows(till)) == 1


def test_plus_and_minus_change_the_selected_quantity(till_zh: Till) -> None:
    till = till_zh
    screen = screen_of(till)
    type_in(till, "V001")
    till.qtbot.keyClicks(screen.scan_field, "+")
    till.wait_idle()
    till.qtbot.keyClicks(screen.scan_field, "+")
    till.wait_idle()
    assert line_rows(till)[0][2] == "3" and screen.scan_field.text() == ""
    till.qtbot.keyClicks(screen.scan_field, "-")  # acts once nothing follows it ...
    till.qtbot.waitUntil(lambda: line_rows(till)[0][2] == "2")
    till.wait_idle()
    assert screen.current_quote.total_fen == 2 * 6_80 and screen.scan_field.text() == ""
    type_in(till, "-")  # ... or at once with Enter
    assert line_rows(till)[0][2] == "1"


def test_esc_cancels_the_sale_after_a_confirmation(till_zh: Till) -> None:
    till = till_zh
    screen = screen_of(till)
    type_in(till, "V001")
    till.qtbot.keyClicks(screen.scan_field, "S0")
    key(till, Qt.Key.Key_Escape)  # first Esc clears the typing
    assert screen.scan_field.text() == "" and not screen.cart_is_empty()
    key(till, Qt.Key.Key_Escape)
    till.qtbot.waitUntil(lambda: shown(screen.confirm_box))
    buttons = {b.text(): b for b in screen.confirm_box.buttons()}
    buttons["继续收银"].click()  # keep selling: nothing happens
    till.wait_idle()
    assert not screen.cart_is_empty()
    key(till, Qt.Key.Key_Escape)
    till.qtbot.waitUntil(lambda: shown(screen.confirm_box))
    screen.confirm_box.defaultButton().click()
    till.wait_idle()
    assert screen.cart_is_empty() and line_rows(till) == []
    assert screen.total_label.text() == "¥0.00"
    audit = list_audit(till.store.ctx, till.store.manager, limit=5)
    assert audit[0].action == "sale.cancelled"
    assert screen.scan_field.hasFocus()


def test_an_unknown_code_is_refused_and_the_cart_is_unchanged(till_zh: Till) -> None:
    till = till_zh
    screen = screen_of(till)
    type_in(till, "V001")
    before = table(till)
    type_in(till, "ZZ9999")
    assert "没有这个商品" in till.window.alert_bar.text and "ZZ9999" in till.window.alert_bar.text
    assert table(till) == before
    assert screen.scan_field.text() == "" and screen.scan_field.hasFocus()
    type_in(till, "0*V001")  # a quantity out of range is refused too
    assert table(till) == before and "数量" in till.window.alert_bar.text


def test_a_name_opens_the_product_search_and_enter_adds_the_product(till_zh: Till) -> None:
    till = till_zh
    screen = screen_of(till)
    type_in(till, "apple")
    till.qtbot.waitUntil(lambda: shown(screen.search_dialog))
    dialog = screen.search_dialog
    assert dialog.results[0].sku == "F001" and dialog.field.text() == "apple"
    till.qtbot.keyClick(dialog.field, Qt.Key.Key_Return)
    till.wait_idle()
    assert [r[1] for r in line_rows(till)] == ["红富士苹果"]


def test_no_shift_shows_the_hint(make_till: Callable[..., Till]) -> None:
    till = make_till()
    till.sign_in_as("cashier")
    screen = screen_of(till)
    assert screen.shift_hint.isVisible()
    till.session.set_shift(shifts.open_shift(till.store.ctx, till.store.cashier, 0))
    assert not screen.shift_hint.isVisible()


def test_sign_out_is_refused_while_a_sale_is_open(till_zh: Till) -> None:
    till = till_zh
    type_in(till, "V001")
    till.window.sign_out()
    assert till.session.actor is not None
    assert "挂单" in till.window.alert_bar.text or "F6" in till.window.alert_bar.text


def test_english_ui_shows_english_labels(open_till: Callable[..., Till]) -> None:
    till = open_till("en")
    screen = screen_of(till)
    assert screen.buttons["hold"].text() == "Hold (F6)"
    assert "member card" in screen.member_view.empty_label.text()
    type_in(till, "V001")
    assert screen.cart_view.cart_model.headers[1] == "Item"
    assert line_rows(till)[0][1] == "Organic spinach 500g"
    till.present_card(MEMBER_CARD)
    till.qtbot.waitUntil(lambda: screen.member_view.panel is not None)
    till.wait_idle()
    assert screen.member_view.tier_label.text() == "Regular"
    assert screen.member_view.balance_detail_label.text() == "principal ¥500.00 + bonus ¥50.00"
    type_in(till, "ZZ9999")
    assert "No such product" in till.window.alert_bar.text


def test_enter_on_an_empty_field_pays_and_a_sold_cart_makes_room_for_the_next(
    till_zh: Till,
) -> None:
    till = till_zh
    screen = screen_of(till)
    type_in(till, "")  # Enter on an empty cart: nothing to pay
    assert "购物车是空的" in till.window.alert_bar.text and screen.tender_dialog is None
    till.present_card(MEMBER_CARD)
    till.qtbot.waitUntil(lambda: screen.member_view.panel is not None)
    type_in(till, "D002")
    type_in(till, "")
    till.qtbot.waitUntil(lambda: current_tender_dialog() is not None)
    dialog = current_tender_dialog()
    assert dialog is screen.tender_dialog
    assert dialog.request == screen.current_request() and dialog.quote is screen.current_quote
    dialog.select_tender("cash")
    dialog.add_current()
    with till.qtbot.waitSignal(screen.sig_sale_completed, timeout=5000) as sold:
        dialog.complete()
    till.wait_idle()
    result = sold.args[0]
    assert result.total_fen == 3_00  # the member price, as quoted
    assert screen.cart_is_empty() and screen.member_view.panel is None
    assert screen.total_label.text() == "¥0.00"
    doc = reprint(till.store.ctx, till.store.cashier, result.receipt_no)
    assert doc.total_fen == 3_00 and doc.member is not None


def test_a_tier_discount_is_explained_under_its_line(till_zh: Till) -> None:
    till = till_zh
    screen = screen_of(till)
    top_up(till.store.ctx, till.store.cashier, MEMBER_CARD, 100_000, "cash")  # → 银卡
    till.present_card(MEMBER_CARD)
    till.qtbot.waitUntil(lambda: screen.member_view.panel is not None)
    type_in(till, "V001")
    assert screen.member_view.tier_label.text() == "银卡"
    (line,) = screen.current_quote.lines
    (adj,) = line.adjustments
    assert adj.kind == "tier"
    rows = table(till)
    assert rows[1][1].strip() == adj.label_zh and "银卡" in rows[1][1]
    assert rows[1][5] == format_fen(-adj.amount_fen) and adj.amount_fen > 0
    assert screen.total_label.text() == format_fen(6_80 - adj.amount_fen)


def test_a_ticked_or_typed_coupon_takes_its_discount_off(till_zh: Till) -> None:
    till = till_zh
    screen = screen_of(till)
    ctx, manager = till.store.ctx, till.store.manager
    coupons.add_template(ctx, manager, VEG8)
    till.present_card(MEMBER_CARD)
    till.qtbot.waitUntil(lambda: screen.member_view.panel is not None)
    member_no = screen.member_view.panel.member.member_no
    coupons.issue_coupons(ctx, manager, "VEG8", member_no, count=2)
    till.present_card(MEMBER_CARD)  # read again: the wallet now holds the coupons
    till.qtbot.waitUntil(lambda: screen.member_view.coupon_list.count() == 2)
    first, second = screen.member_view.panel.coupons  # as listed: Ctrl+1 ticks the first
    type_in(till, "3*V001")
    assert screen.current_quote.total_fen == 3 * 6_80
    till.qtbot.keyClick(screen.scan_field, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    till.wait_idle()
    assert screen.current_request().coupon_codes == (first.code,)
    assert screen.current_quote.total_fen == 3 * 6_80 - 8_00
    assert "蔬菜满20减8" in screen.sale_adjustments_label.text()
    assert "-¥8.00" in screen.sale_adjustments_label.text()
    # A second coupon of a kind that does not stack is refused; the tick does not stay.
    type_in(till, second.code)
    assert "不能与其他券同时使用" in till.window.alert_bar.text
    assert screen.current_request().coupon_codes == (first.code,)
    # Untick: the full price again; the typed code alone is accepted.
    till.qtbot.keyClick(screen.scan_field, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    till.wait_idle()
    type_in(till, second.code)
    assert screen.current_request().coupon_codes == (second.code,)
    assert screen.current_quote.total_fen == 3 * 6_80 - 8_00


def test_voiding_above_the_limit_needs_a_manager(till_zh: Till) -> None:
    till = till_zh
    screen = screen_of(till)
    type_in(till, "W001")  # ¥1499, above the cashier's ¥200 limit
    type_in(till, "V001")
    # 满100送环保袋: the promotion's gift is a line of its own, explained, and cannot be voided.
    assert [r[1] for r in line_rows(till)][-1] == "环保购物袋（赠品）"
    assert any("满100送环保袋" in row[1] for row in table(till))
    key(till, Qt.Key.Key_Down)  # the last line: the gift
    key(till, Qt.Key.Key_Delete)
    assert "赠品" in till.window.alert_bar.text and len(line_rows(till)) == 3
    key(till, Qt.Key.Key_Up)
    key(till, Qt.Key.Key_Up)
    assert screen.cart_view.selected_row().sku == "W001"
    key(till, Qt.Key.Key_F8)
    till.qtbot.waitUntil(lambda: current_approval_dialog() is not None)
    dialog = current_approval_dialog()
    assert len(line_rows(till)) == 3  # nothing voided yet
    till.qtbot.keyClicks(dialog.login_field, "manager")
    till.qtbot.keyClicks(dialog.password_field, PASSWORD)
    till.qtbot.keyClick(dialog.password_field, Qt.Key.Key_Return)
    till.qtbot.waitUntil(lambda: len(line_rows(till)) == 1, timeout=10_000)
    till.wait_idle()
    assert [r[1] for r in line_rows(till)] == ["有机菠菜500g"]  # the gift went with the threshold
    voids = [a for a in list_audit(till.store.ctx, till.store.manager) if "void" in a.action]
    assert [(a.target, "approved_by" in (a.detail or "")) for a in voids] == [("¥1499.00", True)]


def test_the_total_goes_to_the_pole_display_and_a_failing_display_is_ignored(
    till_zh: Till, monkeypatch: pytest.MonkeyPatch
) -> None:
    till = till_zh
    screen = screen_of(till)
    shown_lines: list[tuple[str, str]] = []

    def display(line1: str, line2: str = "") -> None:
        shown_lines.append((line1, line2))
        if len(shown_lines) > 1:
            raise OSError("display unplugged")

    monkeypatch.setattr(till.session.devices, "show_on_display", display)
    with till.qtbot.waitSignal(screen.sig_quote_changed, timeout=5000) as priced:
        type_in(till, "V001")
    till.wait_idle()
    assert priced.args[0].total_fen == 6_80
    assert shown_lines == [("TOTAL", "¥6.80")]
    type_in(till, "V001")
    till.wait_idle()
    assert shown_lines[-1] == ("TOTAL", "¥13.60")
    assert till.window.alert_bar.text == ""  # the cashier is not bothered


def test_f9_opens_returns_and_the_scan_field_gets_the_keys_back(till_zh: Till) -> None:
    till = till_zh
    screen = screen_of(till)
    till.qtbot.keyClick(screen.scan_field, Qt.Key.Key_F9)
    till.qtbot.waitUntil(lambda: shown(screen.returns_dialog))
    screen.returns_dialog.reject()
    till.qtbot.waitUntil(lambda: screen.scan_field.hasFocus())


def focused(till: Till) -> QWidget:
    """Where a keyboard (or a scanner typing as one) sends its keys now. With no window
    active (offscreen, a dialog just closed), a window manager would activate the till's
    window, whose focus widget then takes the keys."""
    widget = QApplication.focusWidget() or till.window.focusWidget()
    assert widget is not None
    return widget


def _pay_cash_and_show_done(till: Till) -> object:
    """Sell the cart for cash; the tender dialog stays on its "Sale complete" page."""
    screen = screen_of(till)
    type_in(till, "")
    till.qtbot.waitUntil(lambda: current_tender_dialog() is not None)
    dialog = current_tender_dialog()
    dialog.select_tender("cash")
    dialog.add_current()
    with till.qtbot.waitSignal(screen.sig_sale_completed, timeout=5000):
        dialog.complete()
    till.wait_idle()
    assert dialog.isVisible() and dialog.sale_result is not None
    return dialog


def test_the_first_scan_after_a_sale_starts_the_next_one(till_zh: Till) -> None:
    till = till_zh
    screen = screen_of(till)
    type_in(till, "V001")
    dialog = _pay_cash_and_show_done(till)
    # A scanner without wedge detection types into whatever has the focus: the dialog's
    # "Next sale" page. Its code must land in the next sale, not be dropped.
    for char in "6921168509256":
        till.qtbot.keyClick(focused(till), char)
    # The change stays on screen while the code comes; it waits in the scan field.
    assert dialog.isVisible() and screen.scan_field.text() == "6921168509256"
    till.qtbot.keyClick(focused(till), Qt.Key.Key_Return)
    till.wait_idle()
    assert not isValid(dialog) or not dialog.isVisible()
    assert [(r[1], r[2]) for r in line_rows(till)] == [("农夫山泉550ml", "1")]
    assert screen.scan_field.text() == ""


def test_a_barcode_scanned_on_the_done_page_goes_into_the_next_sale(till_zh: Till) -> None:
    till = till_zh
    type_in(till, "V001")
    dialog = _pay_cash_and_show_done(till)
    till.session.devices.sig_card.emit(
        CardPresented("barcode", "6921168509256", "6921168509256", "sim:card", 0.0)
    )
    till.wait_idle()
    assert not isValid(dialog) or not dialog.isVisible()
    assert [(r[1], r[2]) for r in line_rows(till)] == [("农夫山泉550ml", "1")]


def test_a_negative_or_huge_quantity_is_refused_with_its_reason(till_zh: Till) -> None:
    till = till_zh
    screen = screen_of(till)
    type_in(till, "-3*V001")  # on an empty cart the "-" is text, not the quantity key
    assert screen.cart_is_empty()
    alert = till.window.alert_bar.text
    assert "数量必须是正数" in alert and "F9" in alert
    type_in(till, "2*V001")
    type_in(till, "-3*V001")  # with a line selected the "-" still begins the text
    assert [(r[1], r[2]) for r in line_rows(till)] == [("有机菠菜500g", "2")]
    assert "数量必须是正数" in till.window.alert_bar.text
    till.qtbot.wait(MINUS_SETTLE_MS + 100)  # nothing is taken off afterwards either
    till.wait_idle()
    assert [(r[1], r[2]) for r in line_rows(till)] == [("有机菠菜500g", "2")]
    type_in(till, "100000*V001")
    assert [(r[1], r[2]) for r in line_rows(till)] == [("有机菠菜500g", "2")]
    alert = till.window.alert_bar.text
    assert "数量太大" in alert and "9999" in alert and "没有这个商品" not in alert


def test_the_held_sales_list_shows_each_carts_items_and_total(till_zh: Till) -> None:
    till = till_zh
    screen = screen_of(till)
    totals = []
    for codes in (["2*V001", "D002"], ["3*6921168509256"]):
        for code in codes:
            type_in(till, code)
        totals.append(screen.current_quote.total_fen)
        till.qtbot.keyClick(screen.scan_field, Qt.Key.Key_F6)
        till.wait_idle()
    assert totals == [2 * 6_80 + 3_50, 3 * 2_00]
    till.qtbot.keyClick(screen.scan_field, Qt.Key.Key_F7)
    till.qtbot.waitUntil(lambda: shown(screen.held_dialog))
    dialog = screen.held_dialog
    till.wait_idle()
    rows = [
        [dialog.table.item(r, c).text() for c in range(dialog.table.columnCount())]
        for r in range(dialog.table.rowCount())
    ]
    headers = [
        dialog.table.horizontalHeaderItem(c).text() for c in range(dialog.table.columnCount())
    ]
    assert "件数" in headers and "金额" in headers
    items, total = headers.index("件数"), headers.index("金额")
    assert [(row[0], row[items], row[total]) for row in rows] == [
        ("挂单 1", "3 件（2 行）", format_fen(totals[0])),
        ("挂单 2", "3 件（1 行）", format_fen(totals[1])),
    ]
