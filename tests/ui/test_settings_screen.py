"""Settings (F4): device settings checked before they are written, a test for each device,
the language saved, the store's name for admins, and the ledger check."""

from __future__ import annotations

import sqlite3
import tomllib

from PySide6.QtCore import Qt

from hardware.errors import DeviceError
from hardware.printing.escpos_decoder import decode
from pos_app.device_settings import load_device_settings, settings_from_mapping
from pos_app.services import shifts
from pos_app.services.audit import list_audit
from pos_app.services.backups import back_up, list_backups
from pos_app.services.context import DB_FILENAME
from pos_app.services.integrity_alarm import read_alarm
from pos_app.ui.settings_screen import SettingsScreen
from tests.ui.conftest import MEMBER_CARD, Till


def _screen(till: Till, login: str) -> SettingsScreen:
    till.sign_in_as(login)
    till.qtbot.keyClick(till.window, Qt.Key.Key_F4)
    screen = till.window.settings_screen
    assert till.window.stack.currentWidget() is screen
    return screen


def _click(till: Till, button) -> None:
    till.qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    till.wait_idle()


def _settings_text(till: Till) -> str:
    return (till.store.data_dir / "settings.toml").read_text(encoding="utf-8")


def test_a_bad_printer_address_is_refused_and_nothing_is_saved(till: Till) -> None:
    screen = _screen(till, "manager")
    before = _settings_text(till)
    screen.printer_field.clear()
    till.qtbot.keyClicks(screen.printer_field, "bogus://printer")
    try:
        settings_from_mapping(screen.device_values())
    except DeviceError as exc:
        expected = exc.message("zh")
    else:
        raise AssertionError("the address should be refused")
    till.qtbot.keyClick(screen.printer_field, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    till.wait_idle()
    assert screen.devices_result.text() == expected
    assert "printer" in expected
    assert _settings_text(till) == before


def test_a_good_change_is_saved_to_settings_toml(till: Till) -> None:
    screen = _screen(till, "manager")
    screen.printer_field.clear()
    till.qtbot.keyClicks(screen.printer_field, "tcp://192.168.1.50:9100")
    screen.paper_combo.setFocus()
    till.qtbot.keyClick(screen.paper_combo, Qt.Key.Key_Up)  # 80 mm → 58 mm
    screen.display_field.clear()
    till.qtbot.keyClicks(screen.display_field, "serial:/dev/ttyUSB1?baud=9600")
    _click(till, screen.save_devices_button)
    assert "下次启动" in screen.devices_result.text()
    saved = load_device_settings(till.store.data_dir, environ={})
    assert saved.printer == "tcp://192.168.1.50:9100"
    assert saved.paper_mm == 58
    assert saved.display == "serial:/dev/ttyUSB1?baud=9600"
    assert saved.card_sources == ("sim:card",) and saved.drawer  # kept as they were


def test_print_test_page_reaches_the_printer(till: Till) -> None:
    sink = till.printer_sink()
    screen = _screen(till, "cashier")
    _click(till, screen.print_test_button)
    jobs = sink.wait_for_jobs(1, timeout=5)
    assert "打印测试" in decode(jobs[-1], "gb18030", columns=48).text
    till.qtbot.waitUntil(lambda: "已打印" in screen.printer_status.text(), timeout=5000)


def test_drawer_test_kicks_the_drawer_and_the_opening_is_audited(till: Till) -> None:
    sink = till.printer_sink()
    screen = _screen(till, "cashier")  # 开钱箱 is a cashier's act, recorded with who and why
    _click(till, screen.drawer_test_button)
    assert "钱箱已打开" in screen.drawer_status.text()
    jobs = sink.wait_for_jobs(1, timeout=5)
    assert [kick for job in jobs for kick in decode(job, "gb18030").drawer_kicks] == [2]
    (event,) = [
        e for e in list_audit(till.store.ctx, till.store.manager) if e.action == "drawer.open"
    ]
    assert event.operator_id == till.store.cashier.operator_id and event.outcome == "ok"
    assert "drawer test" in (event.detail or "")
    assert screen.drawer_test_button.isEnabled()


def test_the_display_test_says_none_is_set_up(till: Till) -> None:
    screen = _screen(till, "cashier")
    _click(till, screen.display_test_button)
    assert screen.display_status.text() == "没有配置客显"


def test_card_test_shows_the_masked_number_and_keeps_the_card_from_the_checkout(
    till: Till,
) -> None:
    screen = _screen(till, "cashier")
    _click(till, screen.card_test_button)
    dialog = screen.card_dialog
    assert dialog is not None and dialog.isVisible()
    assert till.session.devices.cards_are_for(dialog)
    till.present_card(MEMBER_CARD)
    till.qtbot.waitUntil(lambda: "读到" in dialog.result_label.text(), timeout=5000)
    shown = dialog.result_label.text()
    assert MEMBER_CARD not in shown and MEMBER_CARD[-4:] in shown
    till.qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert not dialog.isVisible()
    assert till.session.devices.cards_are_for(screen)


def test_card_test_gives_up_after_its_wait(till: Till) -> None:
    screen = _screen(till, "cashier")
    _click(till, screen.card_test_button)
    dialog = screen.card_dialog
    assert "15" in dialog.result_label.text()
    dialog.remaining = 1  # the last second of the 15
    till.qtbot.waitUntil(lambda: "未读到卡" in dialog.result_label.text(), timeout=3000)
    till.qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert till.session.devices.cards_are_for(screen), "the screen gets the cards back"


def test_language_switch_saves_english(till: Till) -> None:
    screen = _screen(till, "cashier")
    # Rebuilding the window in the new language is the controller's (test_main_window);
    # here: what the settings screen does. The rebuilt window would outlive the fixture's.
    controller = till.window.controller
    till.session.sig_language_changed.disconnect(controller._on_language_changed)
    changed: list[str] = []
    till.session.sig_language_changed.connect(changed.append)
    screen.language_combo.setFocus()
    till.qtbot.keyClick(screen.language_combo, Qt.Key.Key_Down)  # 简体中文 → English
    till.wait_idle()
    saved = tomllib.loads(_settings_text(till))
    assert saved["app"]["language"] == "en"
    assert saved["devices"]["printer"] == "sim:printer"  # the rest of the file is kept
    assert changed == ["en"] and till.session.language == "en"


def test_a_cashier_may_test_but_not_change_devices_or_the_store(till: Till) -> None:
    screen = _screen(till, "cashier")
    assert not screen.printer_field.isEnabled() and not screen.save_devices_button.isEnabled()
    assert not screen.store_name_field.isEnabled()
    assert screen.print_test_button.isEnabled() and screen.card_test_button.isEnabled()
    assert screen.store_code_label.text() == "SH01"


def test_an_admin_renames_the_store(till: Till) -> None:
    screen = _screen(till, "admin")
    screen.store_name_field.selectAll()
    till.qtbot.keyClicks(screen.store_name_field, "SH Nanjing Rd")
    _click(till, screen.save_store_button)
    assert "已保存" in screen.store_result.text()
    till.store.ctx.forget_store()
    assert till.store.ctx.store.name == "SH Nanjing Rd"
    assert till.window.store_label.text() == "SH Nanjing Rd"


def test_verify_the_ledger_and_see_the_folder_and_version(till: Till) -> None:
    screen = _screen(till, "cashier")
    assert screen.data_dir_label.text() == str(till.store.data_dir)
    assert screen.version_label.text()[0].isdigit()
    _click(till, screen.verify_button)
    assert "账本核对无误" in screen.verify_result.text()


def test_a_failed_verify_says_that_payments_are_paused(till: Till) -> None:
    screen = _screen(till, "manager")
    con = sqlite3.connect(till.store.data_dir / DB_FILENAME)
    con.execute("UPDATE card SET bonus_fen = bonus_fen + 1")
    con.commit()
    con.close()
    _click(till, screen.verify_button)
    assert "收款、充值、积分和退款已暂停" in screen.verify_result.text()
    assert read_alarm(till.store.data_dir) is not None


def test_backups_box_warns_without_a_backup_and_backs_up_now(till: Till) -> None:
    screen = _screen(till, "cashier")
    box = screen.backup_box
    till.qtbot.waitUntil(lambda: box.last_label.text() != "")
    assert "还没有备份" in box.last_label.text()
    assert "c62828" in box.last_label.styleSheet()  # in red
    assert box.folder_label.text() == str(till.store.data_dir / "backups")
    _click(till, box.backup_button)
    till.qtbot.waitUntil(lambda: "备份完成" in box.result_label.text(), timeout=10_000)
    assert "已校验" in box.last_label.text() and "1a7f37" in box.last_label.styleSheet()
    assert box.progress.isHidden() and box.backup_button.isEnabled()
    (made,) = list_backups(till.store.ctx)
    assert f"#{made.head_seq}" in box.result_label.text() and made.operator == "cashier"
    assert box.result_label.toolTip() == made.path


def test_backups_box_warns_when_the_last_backup_is_older_than_a_day(till: Till) -> None:
    back_up(till.store.ctx, till.store.manager)
    till.store.clock.advance(days=1, hours=2)
    screen = _screen(till, "manager")
    box = screen.backup_box
    till.qtbot.waitUntil(lambda: box.last_label.text() != "")
    assert "已超过一天" in box.last_label.text()
    assert "（26 小时前）" in box.last_label.text()


def test_a_refused_language_switch_changes_nothing(till: Till) -> None:
    shifts.open_shift(till.store.ctx, till.store.cashier, 50_000)
    till.sign_in_as("cashier")
    checkout = till.window.checkout_screen
    till.qtbot.keyClicks(checkout.scan_field, "V001")
    till.qtbot.keyClick(checkout.scan_field, Qt.Key.Key_Return)
    till.wait_idle()
    assert not checkout.cart_is_empty()  # a sale is open: the window cannot be rebuilt
    before = _settings_text(till)
    window = till.window
    statuses = (window.printer_label.text(), window.reader_label.text())
    till.qtbot.keyClick(window, Qt.Key.Key_F4)
    screen = window.settings_screen
    changed: list[str] = []
    till.session.sig_language_changed.connect(changed.append)
    screen.language_combo.setFocus()
    till.qtbot.keyClick(screen.language_combo, Qt.Key.Key_Down)  # 简体中文 → English
    till.wait_idle()
    assert "语言未更改" in screen.language_result.text()
    assert _settings_text(till) == before  # not saved
    assert changed == [] and till.session.language == "zh_CN" and till.session.lang == "zh"
    assert screen.language_combo.currentData() == "zh_CN"  # the box shows what applies
    assert till.window is window and not checkout.cart_is_empty()
    assert till.session.devices.lang == "zh"  # receipts and device texts stay Chinese
    assert (window.printer_label.text(), window.reader_label.text()) == statuses
