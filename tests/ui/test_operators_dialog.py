"""Operators and passwords from Settings (F4): one's own password for everyone; the list, add,
deactivate, reactivate and a new password for admins — real widgets, real services."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from pos_app.domain.errors import AuthenticationFailed
from pos_app.services.sign_in import sign_in
from pos_app.ui.operators_dialog import OperatorsDialog
from tests.conftest import PASSWORD
from tests.ui.conftest import Till


def _open(till: Till, login: str) -> OperatorsDialog:
    till.sign_in_as(login)
    till.qtbot.keyClick(till.window, Qt.Key.Key_F4)
    screen = till.window.settings_screen
    till.qtbot.mouseClick(screen.operators_button, Qt.MouseButton.LeftButton)
    dialog = screen.operators_dialog
    assert dialog is not None
    till.qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog)
    till.wait_idle()
    return dialog


def _click(till: Till, button) -> None:
    till.qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    till.wait_idle()


def _type(till: Till, field, text: str) -> None:
    field.clear()
    till.qtbot.keyClicks(field, text)


def test_a_cashier_changes_their_own_password_and_sees_no_list(till: Till) -> None:
    dialog = _open(till, "cashier")
    assert not dialog.operators_box.isVisible()
    _type(till, dialog.old_password_field, "wrong-one")
    _type(till, dialog.new_password_field, "newsecret1")
    _type(till, dialog.repeat_password_field, "newsecret2")
    _click(till, dialog.change_password_button)
    assert "不一致" in dialog.password_result.text()  # the two new ones differ
    _type(till, dialog.repeat_password_field, "newsecret1")
    _click(till, dialog.change_password_button)
    assert "密码不正确" in dialog.password_result.text()  # the wrong current password
    _type(till, dialog.old_password_field, PASSWORD)
    _type(till, dialog.new_password_field, "newsecret1")
    _type(till, dialog.repeat_password_field, "newsecret1")
    till.qtbot.keyClick(dialog.repeat_password_field, Qt.Key.Key_Return)
    till.wait_idle()
    assert dialog.password_result.text() == "密码已修改。"
    assert dialog.old_password_field.text() == ""
    sign_in(till.store.ctx, "cashier", "newsecret1")
    with pytest.raises(AuthenticationFailed):
        sign_in(till.store.ctx, "cashier", PASSWORD)


def test_an_admin_deactivates_reactivates_and_resets_an_operator(till: Till) -> None:
    dialog = _open(till, "admin")
    assert dialog.operators_box.isVisible()
    assert [r.login for r in dialog.rows] == ["admin", "cashier", "manager"]
    assert not dialog.deactivate_button.isEnabled()  # nothing selected yet
    dialog.select_login("manager")
    assert dialog.deactivate_button.isEnabled() and not dialog.reactivate_button.isEnabled()
    _click(till, dialog.deactivate_button)
    till.wait_idle()
    assert dialog.table.item(2, 3).text() == "已停用"
    assert "manager" in dialog.operators_result.text()
    with pytest.raises(AuthenticationFailed, match="deactivated"):
        sign_in(till.store.ctx, "manager", PASSWORD)
    assert dialog.selected_login() == "manager" and dialog.reactivate_button.isEnabled()
    _click(till, dialog.reactivate_button)
    till.wait_idle()
    assert dialog.table.item(2, 3).text() == "正常"
    sign_in(till.store.ctx, "manager", PASSWORD)

    dialog.select_login("cashier")
    _type(till, dialog.reset_password_field, "fresh-start")
    _click(till, dialog.reset_password_button)
    till.wait_idle()
    sign_in(till.store.ctx, "cashier", "fresh-start")

    dialog.select_login("admin")
    _click(till, dialog.deactivate_button)
    till.wait_idle()
    assert "不能停用自己" in dialog.operators_result.text()


def test_an_admin_adds_an_operator_and_sees_a_lockout(till: Till) -> None:
    for _ in range(5):
        with pytest.raises(AuthenticationFailed):
            sign_in(till.store.ctx, "cashier", "guess")
    dialog = _open(till, "admin")
    cashier = next(i for i, r in enumerate(dialog.rows) if r.login == "cashier")
    assert dialog.table.item(cashier, 3).text().startswith("锁定至")
    _type(till, dialog.add_login_field, "zhao")
    dialog.add_name_field.setText("赵收银")  # QTest types ASCII only
    _type(till, dialog.add_password_field, "zhao-secret")
    _click(till, dialog.add_button)
    till.wait_idle()
    assert "zhao" in [r.login for r in dialog.rows]
    assert dialog.selected_login() == "zhao"
    sign_in(till.store.ctx, "zhao", "zhao-secret")
