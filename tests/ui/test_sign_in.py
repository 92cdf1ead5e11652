"""Signing in at the till (password or employee card), opening the shift, the lock screen."""

from __future__ import annotations

from PySide6.QtCore import Qt

from pos_app.services.context import open_store
from pos_app.services.employee_cards import assign_employee_card
from pos_app.services.shifts import current_shift, open_shift
from pos_app.ui.open_shift_dialog import OpenShiftDialog
from pos_app.ui.operations import pending_operations
from pos_app.ui.sign_in_screen import LockScreen, SignInScreen
from pos_app.ui.till_app import build_till, close_till
from tests.conftest import PASSWORD
from tests.test_cli import Cli
from tests.ui.conftest import Till

CASHIER_CARD = "E1000001"
MANAGER_CARD = "E2000001"


def sign_in_screen(till: Till) -> SignInScreen:
    screen = till.window.sign_in_screen
    assert till.window.stack.currentWidget() is screen
    return screen


def type_and_sign_in(till: Till, login: str, password: str) -> None:
    screen = sign_in_screen(till)
    assert screen.login_field.hasFocus()
    till.qtbot.keyClicks(screen.login_field, login)
    till.qtbot.keyClick(screen.login_field, Qt.Key.Key_Return)
    assert screen.password_field.hasFocus()
    till.qtbot.keyClicks(screen.password_field, password)
    till.qtbot.keyClick(screen.password_field, Qt.Key.Key_Return)
    till.wait_idle()


def open_a_shift(till: Till) -> None:
    open_shift(till.store.ctx, till.store.cashier, 50_000)


def test_sign_in_by_password_lands_on_checkout_with_the_open_shift(till: Till) -> None:
    open_a_shift(till)
    assert sign_in_screen(till).store_label.text() == "上海南京路店"
    type_and_sign_in(till, "cashier", PASSWORD)
    till.qtbot.waitUntil(lambda: till.window.stack.currentWidget() is till.window.checkout_screen)
    assert till.session.actor.login == "cashier"
    assert till.session.shift is not None and till.session.shift.shift_no == 2
    assert "王收银" in till.window.operator_label.text()


def test_a_wrong_password_says_so_and_clears_the_password(till: Till) -> None:
    type_and_sign_in(till, "cashier", "not-it")
    screen = sign_in_screen(till)
    till.qtbot.waitUntil(lambda: screen.error_label.isVisible())
    assert screen.error_label.text() == "用户名或密码不正确"
    assert screen.password_field.text() == ""
    assert screen.login_field.text() == "cashier"
    assert screen.password_field.hasFocus()
    assert till.session.actor is None
    # the right password now gets in
    till.qtbot.keyClicks(screen.password_field, PASSWORD)
    till.qtbot.mouseClick(screen.sign_in_button, Qt.MouseButton.LeftButton)
    till.wait_idle()
    till.qtbot.waitUntil(lambda: screen.open_shift_dialog is not None)
    screen.open_shift_dialog.reject()  # Later
    assert till.session.actor.login == "cashier" and till.session.shift is None


def test_with_no_shift_open_the_cashier_types_the_float_and_opens_one(make_till) -> None:
    till = make_till(language="en")
    type_and_sign_in(till, "cashier", PASSWORD)
    screen = till.window.sign_in_screen
    till.qtbot.waitUntil(lambda: screen.open_shift_dialog is not None)
    dialog = screen.open_shift_dialog
    assert isinstance(dialog, OpenShiftDialog)
    till.qtbot.waitUntil(lambda: dialog.float_field.hasFocus())
    assert dialog.float_field.text() == "500.00"
    assert till.session.actor is None  # not in until the shift question is answered
    dialog.float_field.clear()
    till.qtbot.keyClicks(dialog.float_field, "abc")
    till.qtbot.keyClick(dialog.float_field, Qt.Key.Key_Return)
    assert dialog.error_label.isVisible() and "Not an amount" in dialog.error_label.text()
    dialog.float_field.clear()
    till.qtbot.keyClicks(dialog.float_field, "300.50")
    till.qtbot.keyClick(dialog.float_field, Qt.Key.Key_Return)
    till.wait_idle()
    till.qtbot.waitUntil(lambda: till.window.stack.currentWidget() is till.window.checkout_screen)
    shift = current_shift(till.store.ctx, till.store.cashier)
    assert shift is not None and shift.float_fen == 30_050 and shift.opened_by == "cashier"
    assert till.session.shift == shift
    assert screen.open_shift_dialog is None


def test_later_signs_in_without_a_shift(till: Till) -> None:
    type_and_sign_in(till, "cashier", PASSWORD)
    screen = till.window.sign_in_screen
    till.qtbot.waitUntil(lambda: screen.open_shift_dialog is not None)
    dialog = screen.open_shift_dialog
    till.qtbot.keyClick(dialog.float_field, Qt.Key.Key_Escape)
    till.qtbot.waitUntil(lambda: till.window.stack.currentWidget() is till.window.checkout_screen)
    assert till.session.actor.login == "cashier" and till.session.shift is None
    assert current_shift(till.store.ctx, till.store.cashier) is None


def test_sign_in_by_tapping_the_employee_card(till: Till) -> None:
    open_shift(till.store.ctx, till.store.manager, 50_000)  # the manager's own shift
    assign_employee_card(till.store.ctx, till.store.admin, "manager", MANAGER_CARD)
    till.present_card("E9999999")  # nobody's card
    screen = sign_in_screen(till)
    till.qtbot.waitUntil(lambda: screen.error_label.isVisible())
    assert screen.error_label.text() == "无效的员工卡"
    assert till.session.actor is None
    till.present_card(MANAGER_CARD)
    till.qtbot.waitUntil(lambda: till.session.actor is not None)
    till.wait_idle()
    assert till.session.actor.login == "manager"
    assert till.session.shift is not None and till.session.shift.opened_by == "manager"
    assert till.window.stack.currentWidget() is till.window.checkout_screen


def lock(till: Till) -> LockScreen:
    till.qtbot.keyClick(till.window, Qt.Key.Key_F12)
    screen = till.window.lock_screen
    assert till.window.stack.currentWidget() is screen
    return screen


def test_only_the_same_operator_unlocks(till: Till) -> None:
    open_a_shift(till)
    assign_employee_card(till.store.ctx, till.store.admin, "manager", MANAGER_CARD)
    assign_employee_card(till.store.ctx, till.store.admin, "cashier", CASHIER_CARD)
    till.sign_in_as("cashier")
    screen = lock(till)
    assert screen.locked_by_label.text() == "锁定人：王收银"
    assert screen.password_field.hasFocus()
    # another operator's card: refused, with who can unlock
    till.present_card(MANAGER_CARD)
    till.qtbot.waitUntil(lambda: screen.error_label.isVisible())
    assert "王收银" in screen.error_label.text()
    assert till.session.locked
    # a wrong password
    till.qtbot.keyClicks(screen.password_field, "wrong")
    till.qtbot.keyClick(screen.password_field, Qt.Key.Key_Return)
    till.wait_idle()
    till.qtbot.waitUntil(lambda: screen.error_label.text() == "用户名或密码不正确")
    assert screen.password_field.text() == "" and till.session.locked
    assert screen.password_field.hasFocus()
    # the right one
    till.qtbot.keyClicks(screen.password_field, PASSWORD)
    till.qtbot.keyClick(screen.password_field, Qt.Key.Key_Return)
    till.qtbot.waitUntil(lambda: not till.session.locked)
    assert till.window.stack.currentWidget() is till.window.checkout_screen
    assert till.session.actor.login == "cashier"
    # and the cashier's own card unlocks too
    lock(till)
    till.present_card(CASHIER_CARD)
    till.qtbot.waitUntil(lambda: not till.session.locked)
    till.wait_idle()


def test_sign_out_from_the_lock_screen_lets_another_operator_in(till: Till) -> None:
    open_a_shift(till)
    till.sign_in_as("cashier")
    screen = lock(till)
    till.qtbot.mouseClick(screen.sign_out_button, Qt.MouseButton.LeftButton)
    assert till.session.actor is None
    type_and_sign_in(till, "manager", PASSWORD)
    # The cashier's shift is still open: the manager is asked to hand it over, not put in it.
    sign_in = till.window.sign_in_screen
    till.qtbot.waitUntil(lambda: sign_in.open_shift_dialog is not None)
    assert sign_in.open_shift_dialog.handing_over
    sign_in.open_shift_dialog.reject()  # Later
    till.qtbot.waitUntil(lambda: till.session.actor is not None)
    assert till.session.actor.login == "manager" and till.session.shift is None
    assert till.window.stack.currentWidget() is till.window.checkout_screen


def test_the_sign_in_screen_is_empty_again_after_sign_out(till: Till) -> None:
    open_a_shift(till)
    type_and_sign_in(till, "cashier", PASSWORD)
    till.qtbot.waitUntil(lambda: till.session.actor is not None)
    till.session.sign_out()
    screen = sign_in_screen(till)
    assert screen.login_field.text() == "" and screen.password_field.text() == ""
    assert not screen.error_label.isVisible()
    assert screen.login_field.hasFocus()


def test_the_demo_stores_cashier_card_signs_in_at_the_till(qtbot, tmp_path) -> None:
    demo = Cli(tmp_path / "demo")
    cards = dict(
        (x["login"], x["card_no"]) for x in demo.json("demo --no-gui --members 4")["employee_cards"]
    )
    ctx = open_store(demo.data_dir)
    window = build_till(ctx, demo.data_dir, language="en")
    qtbot.addWidget(window)
    window.show()
    try:
        hub = window.session.devices
        qtbot.waitUntil(lambda: hub.sim_card_source() is not None)
        hub.sim_card_source().present(cards["cashier"])
        # The demo's history shift was counted and closed: the cashier opens their own.
        screen = window.sign_in_screen
        qtbot.waitUntil(lambda: screen.open_shift_dialog is not None)
        dialog = screen.open_shift_dialog
        assert not dialog.handing_over
        qtbot.waitUntil(lambda: dialog.float_field.hasFocus())
        qtbot.keyClick(dialog.float_field, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: window.session.actor is not None)
        assert window.session.actor.login == "cashier"
        assert window.session.shift is not None and window.session.shift.opened_by == "cashier"
        assert window.stack.currentWidget() is window.checkout_screen
        qtbot.waitUntil(lambda: pending_operations() == 0)
    finally:
        close_till(window)
        ctx.engine.dispose()


def test_another_cashiers_shift_is_handed_over_with_a_count_never_joined(till: Till) -> None:
    """交接班: the manager signing in while the cashier's shift is open counts the drawer,
    which closes the cashier's shift (over/short shown), then opens a shift of their own."""
    open_a_shift(till)  # the cashier's, ¥500 float
    type_and_sign_in(till, "manager", PASSWORD)
    screen = sign_in_screen(till)
    till.qtbot.waitUntil(lambda: screen.open_shift_dialog is not None)
    dialog = screen.open_shift_dialog
    assert dialog.handing_over
    assert "王收银（cashier）" in dialog.title_label.text()
    assert dialog.counted_field.isVisible() and not dialog.float_field.isVisible()
    till.qtbot.waitUntil(lambda: dialog.counted_field.hasFocus())
    till.qtbot.keyClicks(dialog.counted_field, "499.50")
    till.qtbot.keyClick(dialog.counted_field, Qt.Key.Key_Return)
    till.qtbot.waitUntil(lambda: not dialog.handing_over)
    closed = current_shift(till.store.ctx, till.store.manager)
    assert closed is None  # the cashier's shift is closed; none is open yet
    assert "-¥0.50" in dialog.title_label.text()
    assert dialog.float_field.isVisible() and dialog.float_field.text() == "499.50"
    till.qtbot.keyClick(dialog.float_field, Qt.Key.Key_Return)
    till.wait_idle()
    till.qtbot.waitUntil(lambda: screen.open_shift_dialog is None)
    shift = till.session.shift
    assert shift is not None and shift.opened_by == "manager" and shift.shift_no == 3
    assert shift.float_fen == 49_950


def test_later_at_a_hand_over_leaves_the_other_cashiers_shift_alone(till: Till) -> None:
    open_a_shift(till)
    type_and_sign_in(till, "manager", PASSWORD)
    screen = sign_in_screen(till)
    till.qtbot.waitUntil(lambda: screen.open_shift_dialog is not None)
    till.qtbot.keyClick(screen.open_shift_dialog.counted_field, Qt.Key.Key_Escape)
    till.qtbot.waitUntil(lambda: screen.open_shift_dialog is None)
    assert till.session.actor.login == "manager" and till.session.shift is None
    still = current_shift(till.store.ctx, till.store.manager)
    assert still is not None and still.opened_by == "cashier" and still.is_open
