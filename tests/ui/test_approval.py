"""The manager's approval dialog: password or employee card; cancel; a wrong password."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt

from pos_app.domain.permissions import Permission
from pos_app.services.cards import replace_card, reset_pin
from pos_app.services.employee_cards import assign_employee_card
from pos_app.ui.approval_dialog import ApprovalDialog, current_approval_dialog, run_with_approval
from tests.conftest import PASSWORD
from tests.services.support import card_row, last_entry
from tests.ui.conftest import MEMBER_CARD, Till

MANAGER_CARD = "E2000001"
CASHIER_CARD = "E1000001"


class Calls:
    """What the work saw and what came back."""

    def __init__(self) -> None:
        self.approvals: list[Any] = []
        self.results: list[Any] = []
        self.failures: list[BaseException] = []


def start_pin_reset(till: Till, new_pin: str = "654321") -> Calls:
    """A cashier resets 张三's PIN, which needs a manager."""
    ctx, actor = till.store.ctx, till.session.require_actor()
    calls = Calls()

    def work(approval: Any) -> Any:
        calls.approvals.append(approval)
        return reset_pin(ctx, actor, MEMBER_CARD, new_pin, approval)

    run_with_approval(
        till.window.checkout_screen, till.session, Permission.PIN_RESET, work, calls.results.append
    )
    return calls


def open_dialog(till: Till) -> ApprovalDialog:
    till.qtbot.waitUntil(lambda: current_approval_dialog() is not None)
    dialog = current_approval_dialog()
    assert dialog is not None
    till.qtbot.waitUntil(lambda: dialog.login_field.hasFocus())
    return dialog


def type_credentials(till: Till, dialog: ApprovalDialog, login: str, password: str) -> None:
    till.qtbot.keyClicks(dialog.login_field, login)
    till.qtbot.keyClick(dialog.login_field, Qt.Key.Key_Return)
    assert dialog.password_field.hasFocus()
    till.qtbot.keyClicks(dialog.password_field, password)
    till.qtbot.keyClick(dialog.password_field, Qt.Key.Key_Return)


@pytest.fixture
def cashier_till(till: Till) -> Till:
    till.sign_in_as("cashier")
    return till


def test_a_manager_approves_with_login_and_password(cashier_till: Till) -> None:
    till = cashier_till
    calls = start_pin_reset(till)
    dialog = open_dialog(till)
    assert dialog.windowTitle() == "店长授权"
    assert "重置密码" in dialog.what_label.text()
    type_credentials(till, dialog, "manager", PASSWORD)
    till.qtbot.waitUntil(lambda: len(calls.results) == 1)
    till.wait_idle()
    assert calls.approvals[0] is None and calls.approvals[1].login == "manager"
    assert current_approval_dialog() is None
    entry = last_entry(till.store)
    assert entry.kind == "pin_reset"
    assert entry.approved_by_id == till.store.manager.operator_id
    assert till.window.alert_bar.text == ""


def test_a_manager_approves_by_tapping_the_employee_card(cashier_till: Till) -> None:
    till = cashier_till
    assign_employee_card(till.store.ctx, till.store.admin, "manager", MANAGER_CARD)
    ctx, actor = till.store.ctx, till.session.require_actor()
    results: list[Any] = []
    run_with_approval(
        till.window.checkout_screen,
        till.session,
        Permission.CARD_REPLACE,
        lambda approval: replace_card(ctx, actor, MEMBER_CARD, "88880009", approval=approval),
        results.append,
    )
    dialog = open_dialog(till)
    assert "换卡" in dialog.what_label.text()
    till.present_card(MANAGER_CARD)
    till.qtbot.waitUntil(lambda: len(results) == 1)
    till.wait_idle()
    assert card_row(till.store, "88880009").state == "active"
    assert card_row(till.store, MEMBER_CARD).state == "replaced"
    assert last_entry(till.store).approved_by_id == till.store.manager.operator_id
    # the card went to the dialog, not to the checkout screen behind it
    assert not till.session.devices._card_claims


def test_a_cashiers_employee_card_does_not_approve(cashier_till: Till) -> None:
    till = cashier_till
    assign_employee_card(till.store.ctx, till.store.admin, "cashier", CASHIER_CARD)
    calls = start_pin_reset(till)
    dialog = open_dialog(till)
    till.present_card(CASHIER_CARD)
    till.qtbot.waitUntil(lambda: dialog.error_label.isVisible())
    assert "需要店长或管理员授权" in dialog.error_label.text()
    assert current_approval_dialog() is dialog
    assert len(calls.approvals) == 1  # only the first try, without an approval
    dialog.reject()
    till.wait_idle()


def test_cancel_runs_nothing_and_says_nothing(cashier_till: Till) -> None:
    till = cashier_till
    before = card_row(till.store, MEMBER_CARD).pin_hash
    calls = start_pin_reset(till)
    dialog = open_dialog(till)
    till.qtbot.keyClicks(dialog.login_field, "manager")
    till.qtbot.keyClick(dialog.login_field, Qt.Key.Key_Escape)
    till.qtbot.waitUntil(lambda: current_approval_dialog() is None)
    till.wait_idle()
    assert calls.approvals == [None]
    assert calls.results == []
    assert card_row(till.store, MEMBER_CARD).pin_hash == before
    assert till.window.alert_bar.text == ""
    assert not till.session.devices._card_claims


def test_a_wrong_password_stays_in_the_dialog_and_clears_the_password(
    cashier_till: Till,
) -> None:
    till = cashier_till
    calls = start_pin_reset(till)
    dialog = open_dialog(till)
    type_credentials(till, dialog, "manager", "not-the-password")
    till.qtbot.waitUntil(lambda: dialog.error_label.isVisible())
    assert dialog.error_label.text() == "用户名或密码不正确"
    assert dialog.password_field.text() == ""
    assert dialog.password_field.hasFocus()
    assert current_approval_dialog() is dialog and calls.results == []
    till.qtbot.keyClicks(dialog.password_field, PASSWORD)
    till.qtbot.keyClick(dialog.password_field, Qt.Key.Key_Return)
    till.qtbot.waitUntil(lambda: len(calls.results) == 1)
    till.wait_idle()
    assert last_entry(till.store).approved_by_id == till.store.manager.operator_id


def test_the_cashiers_own_password_is_no_approval(cashier_till: Till) -> None:
    till = cashier_till
    start_pin_reset(till)
    dialog = open_dialog(till)
    type_credentials(till, dialog, "cashier", PASSWORD)
    till.qtbot.waitUntil(lambda: dialog.error_label.isVisible())
    assert "需要店长或管理员授权" in dialog.error_label.text()
    dialog.reject()
    till.wait_idle()


def test_a_manager_needs_no_dialog(till: Till) -> None:
    till.sign_in_as("manager")
    calls = start_pin_reset(till)
    till.wait_idle()
    assert calls.approvals == [None]
    assert len(calls.results) == 1
    assert current_approval_dialog() is None


def test_other_failures_go_to_on_failure(cashier_till: Till) -> None:
    till = cashier_till
    ctx, actor = till.store.ctx, till.session.require_actor()
    failures: list[BaseException] = []
    run_with_approval(
        till.window.checkout_screen,
        till.session,
        Permission.PIN_RESET,
        lambda approval: reset_pin(ctx, actor, MEMBER_CARD, "12", approval),
        lambda _result: None,
        on_failure=failures.append,
    )
    till.wait_idle()
    assert len(failures) == 1 and current_approval_dialog() is None


def test_the_dialog_speaks_english(make_till) -> None:
    till = make_till(language="en")
    till.sign_in_as("cashier")
    start_pin_reset(till)
    dialog = open_dialog(till)
    assert dialog.windowTitle() == "Manager approval"
    assert "reset PINs" in dialog.what_label.text()
    type_credentials(till, dialog, "manager", "wrong")
    till.qtbot.waitUntil(lambda: dialog.error_label.isVisible())
    assert dialog.error_label.text() == "The login or password is not correct"
    dialog.reject()
    till.wait_idle()
