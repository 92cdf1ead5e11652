"""What a cashier may do only with a manager on the spot — freeze a card (F9 at the member
desk), close the day (日结, F10) and see the store's figures for any dates (F11) — opens the
manager's approval; approved, it is done and the manager recorded; cancelled, nothing is."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import Qt

from pos_app.services import reports, shifts
from pos_app.services.stored_value import balance
from pos_app.ui.approval_dialog import ApprovalDialog, current_approval_dialog
from tests.conftest import PASSWORD
from tests.services.support import last_entry
from tests.ui.conftest import MEMBER_CARD, Till
from tests.ui.test_member_desk import back_at_the_desk, focused, open_desk, show_member_by_card
from tests.ui.test_shift_screen import _key, _open_and_sell, _screen


def _approval(till: Till) -> ApprovalDialog:
    till.qtbot.waitUntil(lambda: current_approval_dialog() is not None)
    dialog = current_approval_dialog()
    assert dialog is not None
    till.qtbot.waitUntil(lambda: dialog.login_field.hasFocus())
    return dialog


def _approve(till: Till, login: str = "manager") -> None:
    dialog = _approval(till)
    till.qtbot.keyClicks(dialog.login_field, login)
    till.qtbot.keyClick(dialog.login_field, Qt.Key.Key_Return)
    till.qtbot.keyClicks(dialog.password_field, PASSWORD)
    till.qtbot.keyClick(dialog.password_field, Qt.Key.Key_Return)
    till.wait_idle()


def _cancel(till: Till) -> None:
    dialog = _approval(till)
    till.qtbot.keyClick(dialog.login_field, Qt.Key.Key_Escape)
    till.qtbot.waitUntil(lambda: current_approval_dialog() is None)
    till.wait_idle()


def test_a_cashier_freezes_a_card_with_a_managers_approval(till: Till) -> None:
    desk = open_desk(till)
    show_member_by_card(till, desk, MEMBER_CARD)
    till.qtbot.keyClick(focused(), Qt.Key.Key_F9)
    _cancel(till)  # no manager: nothing happens
    back_at_the_desk(till)
    assert balance(till.store.ctx, till.store.manager, MEMBER_CARD).card_state == "active"
    assert till.window.alert_bar.text == ""
    till.qtbot.keyClick(focused(), Qt.Key.Key_F9)
    _approve(till)
    till.qtbot.waitUntil(lambda: desk.freeze_button.text() == "解冻 (F9)")
    back_at_the_desk(till)
    assert balance(till.store.ctx, till.store.manager, MEMBER_CARD).card_state == "frozen"
    entry = last_entry(till.store)
    assert entry.kind == "card_frozen"
    assert entry.operator_id == till.store.cashier.operator_id
    assert entry.approved_by_id == till.store.manager.operator_id
    # Unfreezing asks again.
    till.qtbot.keyClick(focused(), Qt.Key.Key_F9)
    _approve(till)
    assert balance(till.store.ctx, till.store.manager, MEMBER_CARD).card_state == "active"


def test_a_cashier_cannot_approve_their_own_freeze(till: Till) -> None:
    desk = open_desk(till)
    show_member_by_card(till, desk, MEMBER_CARD)
    till.qtbot.keyClick(focused(), Qt.Key.Key_F9)
    dialog = _approval(till)
    till.qtbot.keyClicks(dialog.login_field, "cashier")
    till.qtbot.keyClick(dialog.login_field, Qt.Key.Key_Return)
    till.qtbot.keyClicks(dialog.password_field, PASSWORD)
    till.qtbot.keyClick(dialog.password_field, Qt.Key.Key_Return)
    till.wait_idle()
    assert dialog.isVisible() and dialog.error_label.text()
    assert balance(till.store.ctx, till.store.manager, MEMBER_CARD).card_state == "active"


def test_a_cashier_closes_the_day_with_a_managers_approval(till: Till) -> None:
    _open_and_sell(till)
    shifts.close_shift(till.store.ctx, till.store.cashier, 60_000)
    screen = _screen(till, "cashier")
    for approve in (False, True):
        _key(till, Qt.Key.Key_F10)
        till.qtbot.keyClick(screen.confirm_dialog.ok_button, Qt.Key.Key_Return)
        if not approve:
            _cancel(till)
            assert not reports.day_report(
                till.store.ctx, till.store.manager, date(2026, 3, 2)
            ).closed
            assert screen.report_view.text() == ""
        else:
            _approve(till)
    day = reports.day_report(till.store.ctx, till.store.manager, date(2026, 3, 2))
    assert day.closed and "日结报表" in screen.report_view.text()
    entry = last_entry(till.store)
    assert entry.kind == "day_closed"
    assert entry.approved_by_id == till.store.manager.operator_id


def test_a_cashier_sees_a_period_report_with_a_managers_approval(till: Till) -> None:
    _open_and_sell(till)
    screen = _screen(till, "cashier")
    _key(till, Qt.Key.Key_F11)
    till.qtbot.keyClick(screen.range_dialog.ok_button, Qt.Key.Key_Return)
    _cancel(till)
    assert screen.report_view.text() == ""
    _key(till, Qt.Key.Key_F11)
    till.qtbot.keyClick(screen.range_dialog.ok_button, Qt.Key.Key_Return)
    _approve(till)
    assert "营业报表" in screen.report_view.text()


def test_a_cashier_sees_liabilities_and_sales_analysis_with_a_managers_approval(
    till: Till,
) -> None:
    from pos_app.ui.store_figures_view import open_liabilities, open_sales_analysis

    _open_and_sell(till)
    screen = _screen(till, "cashier")
    owed = open_liabilities(screen, till.session)
    _cancel(till)  # no manager: no figures, and no error either
    assert not owed.export_button.isEnabled() and not owed.error_label.isVisible()
    owed.load()
    _approve(till)
    till.qtbot.waitUntil(lambda: owed.export_button.isEnabled())
    assert not owed.error_label.isVisible()
    owed.reject()
    sales = open_sales_analysis(screen, till.session)
    _approve(till)
    till.qtbot.waitUntil(lambda: sales.export_button.isEnabled())
    sales.reject()
