"""The member desk: find, register (with a card tap), top up with the bonus previewed, and the
card lifecycle (lost, found, freeze, replace with a manager's approval, cancel, PIN reset)."""

from __future__ import annotations

import contextlib
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from hardware.printing.escpos_decoder import decode
from pos_app.domain.errors import NotFound, PinLocked, WrongPin
from pos_app.services.cards import issue_card, report_card_lost
from pos_app.services.members import lookup_by_card, lookup_by_mobile, register_member
from pos_app.services.sign_in import sign_in
from pos_app.services.stored_value import balance, pay_with_stored_value
from pos_app.ui.approval_dialog import current_approval_dialog
from pos_app.ui.card_dialogs import (
    CancelCardDialog,
    ConfirmCardDialog,
    IssueCardDialog,
    ReplaceCardDialog,
    ResetPinDialog,
    TopUpDialog,
)
from pos_app.ui.member_desk import MemberDeskScreen
from pos_app.ui.member_dialogs import EditMemberDialog, RegisterMemberDialog
from tests.conftest import PASSWORD, hand_till_to
from tests.ui.conftest import LOST_CARD, MEMBER_CARD, MEMBER_MOBILE, Till

ENTER = Qt.Key.Key_Return


def open_desk(till: Till, login: str = "cashier") -> MemberDeskScreen:
    """Sign in with the operator's own shift open and press F2, as a cashier does."""
    hand_till_to(till.store.ctx, sign_in(till.store.ctx, login, PASSWORD))
    till.sign_in_as(login)
    till.qtbot.keyClick(till.window, Qt.Key.Key_F2)
    desk = till.window.member_desk
    assert till.window.stack.currentWidget() is desk
    return desk


def focused() -> QWidget:
    widget = QApplication.focusWidget()
    assert widget is not None
    return widget


def type_here(qtbot: QtBot, text: str, then_enter: bool = True) -> None:
    """Type into whatever has the focus (so the test follows the focus as a person does).
    Chinese arrives as an input method's commit, as it does from a real IME (QTest's key
    clicks know only Latin-1)."""
    widget = focused()
    if text.isascii():
        qtbot.keyClicks(widget, text)
    else:
        event = QInputMethodEvent("", [])
        event.setCommitString(text)
        QApplication.sendEvent(widget, event)
    if then_enter:
        qtbot.keyClick(focused(), ENTER)


def open_dialog(
    till: Till,
    desk: MemberDeskScreen,
    key: Qt.Key,
    kind: type,
    modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier,
) -> Any:
    """Press the desk's key for a dialog; wait until it is up and has the keyboard."""
    till.qtbot.keyClick(focused(), key, modifier)
    till.qtbot.waitUntil(lambda: isinstance(desk.dialog, kind) and desk.dialog.isVisible())
    till.qtbot.waitUntil(lambda: QApplication.activeWindow() is desk.dialog)
    return desk.dialog


def back_at_the_desk(till: Till) -> None:
    """Wait until the dialog closed and the window has the keyboard again."""
    till.wait_idle()
    till.qtbot.waitUntil(lambda: QApplication.activeWindow() is till.window)


def show_member_by_card(till: Till, desk: MemberDeskScreen, card_no: str) -> None:
    """Tap the member's card at the desk."""
    till.present_card(card_no)
    till.qtbot.waitUntil(
        lambda: (
            desk.details is not None
            and any(c.card_no == card_no for c in desk.details.member.cards)
        )
    )
    till.wait_idle()
    assert desk.selected_card_no() == card_no


def card_row_texts(desk: MemberDeskScreen) -> list[list[str]]:
    table = desk.cards_table
    return [
        [table.item(r, c).text() for c in range(table.columnCount())]
        for r in range(table.rowCount())
    ]


def approve_as_manager(till: Till) -> None:
    till.qtbot.waitUntil(lambda: current_approval_dialog() is not None)
    approval = current_approval_dialog()
    till.qtbot.waitUntil(lambda: QApplication.activeWindow() is approval)
    till.qtbot.keyClicks(approval.login_field, "manager")
    till.qtbot.keyClick(approval.login_field, ENTER)
    till.qtbot.keyClicks(approval.password_field, PASSWORD)
    till.qtbot.keyClick(approval.password_field, ENTER)


# -- finding ---------------------------------------------------------------------------------


def test_search_by_last_four_digits_then_enter_opens_the_member(till: Till) -> None:
    desk = open_desk(till)
    assert desk.search_field.hasFocus()
    type_here(till.qtbot, "8000")
    till.wait_idle()
    assert desk.details is not None and desk.details.member.name == "张三"
    assert desk.name_label.text() == "张三"
    assert desk.profile_values["mobile"].text() == "138****8000"  # a cashier sees it masked
    assert desk.profile_values["tier"].text() == "普通会员"
    rows = card_row_texts(desk)
    assert rows == [["88****01", "IC卡", "正常", "¥500.00", "¥50.00", "已设置"]]
    assert "优惠券 (0)" in desk.wallet_tabs.tabText(0)


def test_several_hits_are_listed_and_chosen_with_the_arrow_keys(till: Till) -> None:
    register_member(till.store.ctx, till.store.cashier, "13600136000", "张小明")
    desk = open_desk(till)
    type_here(till.qtbot, "王")
    till.wait_idle()
    assert desk.search_status.text() == "没有找到“王”的会员" and desk.details is None
    desk.search_field.selectAll()
    type_here(till.qtbot, "张")
    till.wait_idle()
    assert desk.results_list.count() == 2 and desk.results_list.hasFocus()
    assert desk.details is None  # two of them: the cashier chooses
    till.qtbot.keyClick(focused(), Qt.Key.Key_Down)
    till.qtbot.keyClick(focused(), ENTER)
    till.wait_idle()
    assert desk.details is not None and desk.details.member.name == "张小明"
    till.qtbot.keyClick(desk.results_list, Qt.Key.Key_Up)
    till.qtbot.keyClick(desk.results_list, Qt.Key.Key_Up)
    assert desk.search_field.hasFocus()


def test_down_from_the_search_reaches_the_cards_and_the_actions_follow_the_selection(
    till: Till,
) -> None:
    zhang = lookup_by_card(till.store.ctx, till.store.manager, MEMBER_CARD)
    issue_card(till.store.ctx, till.store.cashier, zhang.member_no, "77770030")
    desk = open_desk(till)
    type_here(till.qtbot, MEMBER_MOBILE)
    till.wait_idle()
    assert desk.selected_card_no() == MEMBER_CARD
    till.qtbot.keyClick(desk.search_field, Qt.Key.Key_Down)
    assert desk.cards_table.hasFocus()
    till.qtbot.keyClick(desk.cards_table, Qt.Key.Key_Down)
    assert desk.selected_card_no() == "77770030"
    dialog = open_dialog(till, desk, Qt.Key.Key_F7, TopUpDialog)
    assert dialog.card.card_no == "77770030" and "77****30" in dialog.intro_label.text()


def test_a_card_tapped_at_the_desk_opens_its_member(till: Till) -> None:
    desk = open_desk(till)
    show_member_by_card(till, desk, MEMBER_CARD)
    assert desk.name_label.text() == "张三"
    assert desk.topup_button.isEnabled() and desk.lost_button.text() == "挂失 (F8)"


# -- registering -----------------------------------------------------------------------------


def test_register_a_member_with_a_tapped_card_using_the_keyboard(till: Till) -> None:
    desk = open_desk(till)
    dialog = open_dialog(till, desk, Qt.Key.Key_F5, RegisterMemberDialog)
    assert dialog.mobile_field.hasFocus()
    type_here(till.qtbot, "13700137000")
    assert dialog.name_field.hasFocus()
    type_here(till.qtbot, "王五")
    assert dialog.birthday_field.hasFocus()
    type_here(till.qtbot, "19900517")
    assert dialog.gender_box.hasFocus()
    till.qtbot.keyClick(focused(), ENTER)
    assert dialog.card_field.number_field.hasFocus()
    till.present_card("77770001")
    till.qtbot.waitUntil(lambda: dialog.card_field.card_no() == "77770001")
    assert dialog.pin_field.hasFocus()
    type_here(till.qtbot, "246810")
    type_here(till.qtbot, "246810")  # Enter on the last field registers
    till.wait_idle()
    till.qtbot.waitUntil(lambda: not dialog.isVisible())

    member = lookup_by_card(till.store.ctx, till.store.manager, "77770001")
    assert (member.name, member.mobile, member.birthday) == ("王五", "13700137000", "1990-05-17")
    assert member.cards[0].state == "active" and member.cards[0].pin_set
    till.qtbot.waitUntil(lambda: desk.name_label.text() == "王五")
    assert desk.selected_card_no() == "77770001"
    assert "王五" in desk.note_label.text() and member.member_no in desk.note_label.text()


def test_register_without_a_card_takes_mobile_and_name_only(till: Till) -> None:
    desk = open_desk(till)
    dialog = open_dialog(till, desk, Qt.Key.Key_F5, RegisterMemberDialog)
    type_here(till.qtbot, "137 0013 7001")
    type_here(till.qtbot, "赵六")
    till.qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    till.wait_idle()
    assert not dialog.isVisible()
    member = lookup_by_mobile(till.store.ctx, till.store.manager, "13700137001")
    assert member.name == "赵六" and member.cards == ()
    till.qtbot.waitUntil(lambda: desk.name_label.text() == "赵六")
    assert desk.cards_table.rowCount() == 0 and not desk.topup_button.isEnabled()


def test_a_bad_mobile_is_caught_before_moving_on(till: Till) -> None:
    desk = open_desk(till)
    dialog = open_dialog(till, desk, Qt.Key.Key_F5, RegisterMemberDialog)
    type_here(till.qtbot, "1234")
    assert dialog.mobile_field.hasFocus()  # stays until it is a mobile number
    assert "手机号不正确" in dialog.error_label.text()


def test_a_mobile_already_registered_is_refused_and_the_dialog_stays(till: Till) -> None:
    desk = open_desk(till)
    dialog = open_dialog(till, desk, Qt.Key.Key_F5, RegisterMemberDialog)
    type_here(till.qtbot, MEMBER_MOBILE)
    type_here(till.qtbot, "张三丰")
    till.qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    till.wait_idle()
    assert dialog.isVisible()
    assert dialog.error_label.text() == "手机号 138****8000 已注册会员"
    assert dialog.name_field.text() == "张三丰"  # nothing typed is lost
    assert lookup_by_mobile(till.store.ctx, till.store.manager, MEMBER_MOBILE).name == "张三"


def test_a_card_refused_after_registering_is_retried_alone(till: Till) -> None:
    desk = open_desk(till)
    dialog = open_dialog(till, desk, Qt.Key.Key_F5, RegisterMemberDialog)
    type_here(till.qtbot, "13700137002")
    type_here(till.qtbot, "孙七")
    dialog.card_field.setFocus()
    till.present_card(MEMBER_CARD)  # 张三's card: registering works, the card is refused
    till.qtbot.waitUntil(lambda: dialog.card_field.card_no() == MEMBER_CARD)
    till.qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    till.wait_idle()
    assert dialog.isVisible()
    text = dialog.error_label.text()
    assert "孙七" in text and "已注册" in text and "已属于其他会员" in text
    member = lookup_by_mobile(till.store.ctx, till.store.manager, "13700137002")
    assert member.cards == ()
    assert not dialog.mobile_field.isEnabled()

    till.present_card("77770002")
    till.qtbot.waitUntil(lambda: dialog.card_field.card_no() == "77770002")
    till.qtbot.keyClick(focused(), ENTER)
    till.wait_idle()
    assert not dialog.isVisible()
    again = lookup_by_mobile(till.store.ctx, till.store.manager, "13700137002")
    assert again.member_no == member.member_no  # one member, not two
    assert [c.card_no for c in again.cards] == ["77770002"]
    till.qtbot.waitUntil(lambda: desk.name_label.text() == "孙七")


def test_edit_the_name_and_email(till: Till) -> None:
    desk = open_desk(till)
    show_member_by_card(till, desk, MEMBER_CARD)
    dialog = open_dialog(till, desk, Qt.Key.Key_F6, EditMemberDialog)
    dialog.name_field.setText("张三三")
    dialog.email_field.setText("zhang@example.com")
    till.qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    till.wait_idle()
    assert not dialog.isVisible()
    member = lookup_by_card(till.store.ctx, till.store.manager, MEMBER_CARD)
    assert (member.name, member.email) == ("张三三", "zhang@example.com")
    till.qtbot.waitUntil(lambda: desk.name_label.text() == "张三三")
    assert desk.profile_values["email"].text() == "zhang@example.com"


# -- stored value ----------------------------------------------------------------------------


def test_top_up_500_previews_the_bonus_then_adds_principal_and_bonus(till: Till) -> None:
    desk = open_desk(till)
    show_member_by_card(till, desk, MEMBER_CARD)
    before = balance(till.store.ctx, till.store.manager, MEMBER_CARD)
    dialog = open_dialog(till, desk, Qt.Key.Key_F7, TopUpDialog)
    assert dialog.amount_field.hasFocus()
    till.qtbot.keyClicks(dialog.amount_field, "500")
    till.qtbot.waitUntil(lambda: "¥50.00" in dialog.preview_label.text())
    expected_after = before.stored_value_fen + 50_000 + 5_000
    assert "¥1100.00" in dialog.preview_label.text() and expected_after == 110_000
    till.qtbot.keyClick(dialog.amount_field, ENTER)  # on to the tender: none is picked yet
    assert dialog.tender_box.hasFocus() and dialog.tender() is None
    till.qtbot.keyClick(dialog.tender_box, Qt.Key.Key_Down)  # 现金
    till.qtbot.keyClick(dialog.tender_box, ENTER)
    till.wait_idle()
    assert not dialog.isVisible()
    after = balance(till.store.ctx, till.store.manager, MEMBER_CARD)
    assert after.principal_fen == before.principal_fen + 50_000
    assert after.bonus_fen == before.bonus_fen + 5_000
    assert "¥1100.00" in desk.note_label.text()
    till.qtbot.waitUntil(lambda: card_row_texts(desk)[0][3:5] == ["¥1000.00", "¥100.00"])
    # Cash: the drawer opens, then the 充值凭证 prints with the balances after.
    jobs = [decode(j, "gb18030", columns=48) for j in till.printer_sink().wait_for_jobs(2, 5)]
    assert [k for job in jobs for k in job.drawer_kicks] == [2]
    (voucher,) = [job for job in jobs if job.lines]
    assert "充值凭证" in voucher.text and "赠送金" in voucher.text
    assert any(line.startswith("卡内余额") and "1100.00" in line for line in voucher.lines)


def test_a_top_up_below_the_minimum_is_refused_with_the_rules_message(till: Till) -> None:
    desk = open_desk(till)
    show_member_by_card(till, desk, MEMBER_CARD)
    dialog = open_dialog(till, desk, Qt.Key.Key_F7, TopUpDialog)
    till.qtbot.keyClicks(dialog.amount_field, "20")
    till.qtbot.waitUntil(lambda: "无赠送" in dialog.preview_label.text())
    till.qtbot.keyClick(dialog.amount_field, ENTER)
    till.qtbot.keyClick(dialog.tender_box, Qt.Key.Key_Down)  # 现金
    till.qtbot.keyClick(dialog.tender_box, ENTER)
    till.wait_idle()
    assert dialog.isVisible() and "充值金额不能低于 ¥50.00" in dialog.error_label.text()
    assert balance(till.store.ctx, till.store.manager, MEMBER_CARD).principal_fen == 50_000
    # Corrected, the refusal goes at once: it was about the amount that is no longer there.
    dialog.amount_field.setFocus()
    till.qtbot.keyClick(dialog.amount_field, Qt.Key.Key_0)
    assert dialog.error_label.isHidden() and dialog.error_label.text() == ""


def test_enter_before_a_tender_is_picked_asks_for_it_and_tops_up_nothing(till: Till) -> None:
    desk = open_desk(till)
    show_member_by_card(till, desk, MEMBER_CARD)
    dialog = open_dialog(till, desk, Qt.Key.Key_F7, TopUpDialog)
    assert dialog.tender() is None and "选择" in dialog.tender_box.placeholderText()
    till.qtbot.keyClicks(dialog.amount_field, "500")
    till.qtbot.keyClick(dialog.amount_field, ENTER)
    till.qtbot.keyClick(dialog.tender_box, ENTER)  # Enter again: still no tender
    dialog.confirm()  # the main button too
    till.wait_idle()
    assert dialog.isVisible() and dialog.tender_box.hasFocus()
    assert "付款方式" in dialog.error_label.text()
    assert balance(till.store.ctx, till.store.manager, MEMBER_CARD).principal_fen == 50_000
    # WeChat picked: the reference can be typed, Enter on it tops up as WeChat.
    till.qtbot.keyClick(dialog.tender_box, Qt.Key.Key_Down)
    while dialog.tender() != "wechat":
        till.qtbot.keyClick(dialog.tender_box, Qt.Key.Key_Down)
    assert dialog.error_label.isHidden()  # the choice answers the question
    till.qtbot.keyClick(dialog.tender_box, ENTER)
    assert dialog.reference_field.hasFocus()
    till.qtbot.keyClicks(dialog.reference_field, "WX123")
    till.qtbot.keyClick(dialog.reference_field, ENTER)
    till.wait_idle()
    assert not dialog.isVisible()
    after = balance(till.store.ctx, till.store.manager, MEMBER_CARD)
    assert after.principal_fen == 50_000 + 50_000


# -- the card lifecycle ----------------------------------------------------------------------


def test_report_lost_asks_first_then_the_card_is_lost(till: Till) -> None:
    desk = open_desk(till)
    show_member_by_card(till, desk, MEMBER_CARD)
    dialog = open_dialog(till, desk, Qt.Key.Key_F8, ConfirmCardDialog)
    assert "88****01" in dialog.intro_label.text()
    till.qtbot.keyClick(focused(), ENTER)
    till.wait_idle()
    assert not dialog.isVisible()
    assert balance(till.store.ctx, till.store.manager, MEMBER_CARD).card_state == "lost"
    till.qtbot.waitUntil(lambda: card_row_texts(desk)[0][2] == "挂失")
    assert desk.lost_button.text() == "解挂 (F8)"


def test_replace_a_lost_card_as_cashier_with_a_managers_approval(till: Till) -> None:
    desk = open_desk(till)
    show_member_by_card(till, desk, MEMBER_CARD)
    report_card_lost(till.store.ctx, till.store.cashier, MEMBER_CARD)
    desk.refresh()
    till.wait_idle()
    assert card_row_texts(desk)[0][2] == "挂失"
    dialog = open_dialog(till, desk, Qt.Key.Key_F10, ReplaceCardDialog)
    till.present_card("77770009")
    till.qtbot.waitUntil(lambda: dialog.new_card.card_no() == "77770009")
    till.qtbot.keyClick(focused(), ENTER)
    approve_as_manager(till)
    till.wait_idle()
    till.qtbot.waitUntil(lambda: not dialog.isVisible())

    new = balance(till.store.ctx, till.store.manager, "77770009")
    assert (new.card_state, new.principal_fen, new.bonus_fen) == ("active", 50_000, 5_000)
    old = balance(till.store.ctx, till.store.manager, MEMBER_CARD)
    assert (old.card_state, old.principal_fen, old.bonus_fen) == ("replaced", 0, 0)
    till.qtbot.waitUntil(lambda: desk.selected_card_no() == "77770009")
    assert [row[2] for row in card_row_texts(desk)] == ["已换卡", "正常"]
    assert "¥500.00" in desk.note_label.text() and "¥50.00" in desk.note_label.text()


def test_cancelling_the_approval_leaves_the_card_as_it_was(till: Till) -> None:
    desk = open_desk(till)
    show_member_by_card(till, desk, LOST_CARD)
    dialog = open_dialog(till, desk, Qt.Key.Key_F10, ReplaceCardDialog)
    dialog.new_card.number_field.setText("77770010")
    till.qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    till.qtbot.waitUntil(lambda: current_approval_dialog() is not None)
    till.qtbot.keyClick(current_approval_dialog(), Qt.Key.Key_Escape)
    till.qtbot.waitUntil(lambda: current_approval_dialog() is None)
    assert dialog.isVisible() and dialog.confirm_button.isEnabled()
    assert balance(till.store.ctx, till.store.manager, LOST_CARD).card_state == "lost"
    try:
        balance(till.store.ctx, till.store.manager, "77770010")
        raise AssertionError("the new card must not exist")
    except NotFound:
        pass


def test_a_cashier_may_not_mark_found(till: Till) -> None:
    desk = open_desk(till)
    show_member_by_card(till, desk, LOST_CARD)
    assert desk.lost_button.text() == "解挂 (F8)"
    till.qtbot.keyClick(focused(), Qt.Key.Key_F8)
    till.wait_idle()
    assert till.window.alert_bar.text == "收银员无权解除挂失"
    assert balance(till.store.ctx, till.store.manager, LOST_CARD).card_state == "lost"


def test_a_manager_freezes_unfreezes_and_marks_a_lost_card_found(till: Till) -> None:
    desk = open_desk(till, "manager")
    show_member_by_card(till, desk, MEMBER_CARD)
    assert desk.profile_values["mobile"].text() == MEMBER_MOBILE  # managers see it whole
    till.qtbot.keyClick(focused(), Qt.Key.Key_F9)
    till.wait_idle()
    till.qtbot.waitUntil(lambda: desk.freeze_button.text() == "解冻 (F9)")
    assert balance(till.store.ctx, till.store.manager, MEMBER_CARD).card_state == "frozen"
    till.qtbot.keyClick(focused(), Qt.Key.Key_F9)
    till.wait_idle()
    till.qtbot.waitUntil(lambda: card_row_texts(desk)[0][2] == "正常")
    show_member_by_card(till, desk, LOST_CARD)
    till.qtbot.keyClick(focused(), Qt.Key.Key_F8)
    till.wait_idle()
    assert balance(till.store.ctx, till.store.manager, LOST_CARD).card_state == "active"


def test_cancel_shows_the_refund_less_the_fee_and_the_bonus_forfeited(till: Till) -> None:
    desk = open_desk(till, "manager")
    show_member_by_card(till, desk, MEMBER_CARD)
    dialog = open_dialog(till, desk, Qt.Key.Key_F11, CancelCardDialog)
    till.qtbot.waitUntil(lambda: dialog.refund_label.text() == "¥490.00")  # fee ¥10
    assert dialog.fee_label.text() == "¥10.00" and dialog.bonus_label.text() == "¥50.00"
    till.qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    till.wait_idle()
    assert not dialog.isVisible()
    assert balance(till.store.ctx, till.store.manager, MEMBER_CARD).card_state == "cancelled"
    till.qtbot.waitUntil(lambda: card_row_texts(desk)[0][2] == "已注销")
    assert "¥490.00" in desk.note_label.text()
    assert not desk.topup_button.isEnabled()  # a cancelled card takes no more actions


def test_reset_pin_as_cashier_with_approval_unlocks_the_card(till: Till) -> None:
    ctx = till.store.ctx
    for _ in range(5):  # five wrong PINs lock stored-value payment
        with contextlib.suppress(WrongPin, PinLocked):
            pay_with_stored_value(ctx, till.store.cashier, MEMBER_CARD, 100, pin="000000")
    assert balance(ctx, till.store.manager, MEMBER_CARD).pin_locked
    desk = open_desk(till)
    show_member_by_card(till, desk, MEMBER_CARD)
    assert card_row_texts(desk)[0][5] == "已锁定"
    dialog = open_dialog(
        till, desk, Qt.Key.Key_P, ResetPinDialog, Qt.KeyboardModifier.ControlModifier
    )
    type_here(till.qtbot, "111111")
    type_here(till.qtbot, "222222")  # the two differ: start again
    assert "不一致" in dialog.error_label.text() and dialog.pin_field.hasFocus()
    type_here(till.qtbot, "654321")
    type_here(till.qtbot, "654321")
    approve_as_manager(till)
    till.wait_idle()
    till.qtbot.waitUntil(lambda: not dialog.isVisible())
    assert not balance(ctx, till.store.manager, MEMBER_CARD).pin_locked
    paid = pay_with_stored_value(ctx, till.store.cashier, MEMBER_CARD, 100, pin="654321")
    assert paid.amount_fen == 100
    till.qtbot.waitUntil(lambda: card_row_texts(desk)[0][5] == "已设置")


def test_issue_another_card_to_a_member(till: Till) -> None:
    desk = open_desk(till)
    show_member_by_card(till, desk, MEMBER_CARD)
    dialog = open_dialog(
        till, desk, Qt.Key.Key_N, IssueCardDialog, Qt.KeyboardModifier.ControlModifier
    )
    till.present_card("77770020")
    till.qtbot.waitUntil(lambda: dialog.card_field.card_no() == "77770020")
    till.qtbot.keyClick(focused(), ENTER)  # no PIN: issue now
    till.wait_idle()
    assert not dialog.isVisible()
    member = lookup_by_card(till.store.ctx, till.store.manager, "77770020")
    assert member.name == "张三" and len(member.cards) == 2
    till.qtbot.waitUntil(lambda: desk.selected_card_no() == "77770020")


# -- English ---------------------------------------------------------------------------------


def test_the_desk_in_english(make_till) -> None:
    till = make_till(language="en")
    desk = open_desk(till)
    assert desk.register_button.text() == "Register (F5)"
    show_member_by_card(till, desk, LOST_CARD)
    assert card_row_texts(desk)[0][1:3] == ["IC card", "lost"]
    assert desk.lost_button.text() == "Found (F8)"
    assert desk.profile_values["tier"].text() == "Regular"
    dialog = open_dialog(till, desk, Qt.Key.Key_F5, RegisterMemberDialog)
    type_here(till.qtbot, MEMBER_MOBILE)
    type_here(till.qtbot, "Zhang")
    till.qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    till.wait_idle()
    assert dialog.error_label.text() == "138****8000 is already a member"
    assert dialog.confirm_button.text() == "Register (Enter)"
