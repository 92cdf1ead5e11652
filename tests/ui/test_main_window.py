"""The window's frame: screens by function key, the status bar, the alert bar, busy work."""

from __future__ import annotations

import threading

from PySide6.QtCore import Qt

from pos_app.domain.errors import InvalidInput
from pos_app.ui.operations import ServiceOp
from tests.ui.conftest import Till


def test_sign_in_shows_checkout_and_function_keys_switch_screens(till: Till) -> None:
    window = till.window
    assert window.stack.currentWidget() is window.sign_in_screen
    assert not window.nav_bar.isVisible()  # nothing to reach before sign-in
    till.sign_in_as("cashier")
    assert window.stack.currentWidget() is window.checkout_screen
    assert "王收银" in window.operator_label.text() and "收银员" in window.operator_label.text()
    till.qtbot.keyClick(window, Qt.Key.Key_F2)
    assert window.stack.currentWidget() is window.member_desk
    till.qtbot.keyClick(window, Qt.Key.Key_F4)
    assert window.stack.currentWidget() is window.settings_screen
    till.qtbot.keyClick(window, Qt.Key.Key_F1)
    assert window.stack.currentWidget() is window.checkout_screen


def test_lock_and_sign_out(till: Till) -> None:
    till.sign_in_as("cashier")
    till.qtbot.keyClick(till.window, Qt.Key.Key_F12)
    assert till.session.locked
    assert till.window.stack.currentWidget() is till.window.lock_screen
    till.qtbot.keyClick(till.window, Qt.Key.Key_F1)  # locked: no way around the lock
    assert till.window.stack.currentWidget() is till.window.lock_screen
    till.session.sign_out()
    assert till.window.stack.currentWidget() is till.window.sign_in_screen


def test_status_bar_shows_the_simulated_printer_and_reader_ready(till: Till) -> None:
    till.qtbot.waitUntil(lambda: "就绪" in till.window.printer_label.text(), timeout=5000)
    assert "就绪" in till.window.reader_label.text()
    assert "同步" in till.window.sync_label.text()


def test_an_unreachable_printer_shows_in_red_and_english(make_till) -> None:
    till = make_till(
        language="en",
        devices='[devices]\ncard_sources = []\nprinter = "tcp://127.0.0.1:1"\n',
    )
    till.window.refresh_device_status()
    till.wait_idle()
    till.qtbot.waitUntil(lambda: "Printer" in till.window.printer_label.text())
    assert "refused" in till.window.printer_label.text().lower()
    assert "c62828" in till.window.printer_label.styleSheet()


def test_a_failed_operation_shows_its_message_in_the_alert_bar(make_till) -> None:
    till = make_till(language="en")

    def refuse() -> None:
        raise InvalidInput("卡号不正确", "Not a card number")

    ServiceOp(till.window, refuse).run()
    till.wait_idle()
    assert till.window.alert_bar.text == "Not a card number"


def test_work_runs_off_the_gui_thread_and_results_come_back_on_it(till: Till) -> None:
    seen: dict[str, object] = {}

    def work() -> str:
        seen["worker"] = threading.current_thread()
        return "done"

    ServiceOp(till.window, work).success(
        lambda r: seen.update(result=r, gui=threading.current_thread())
    ).run()
    till.wait_idle()
    assert seen["result"] == "done"
    assert seen["worker"] is not threading.main_thread()
    assert seen["gui"] is threading.main_thread()


def test_changing_the_language_rebuilds_the_window_signed_in(till: Till) -> None:
    till.sign_in_as("cashier")
    old = till.window
    assert old.nav_buttons.button(0).text().startswith("收银")
    till.session.set_language("en")
    new = old.controller.window
    assert new is not old
    assert new.nav_buttons.button(0).text() == "Checkout (F1)"
    assert new.stack.currentWidget() is new.settings_screen  # where the language was changed
    assert "Wang" not in new.operator_label.text() and "cashier" in new.operator_label.text()
    till.session.set_language("zh_CN")
    assert new.controller.window.nav_buttons.button(0).text().startswith("收银")
