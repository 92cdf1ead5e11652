"""Drive the demo till through its main screens and save a screenshot of each.

Run by scripts/take-screenshots under Xvfb (a real X server, so dialogs, fonts and the
window frame are drawn as on a till):  screenshot_tour.py DEMO_DATA_DIR OUT_DIR
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEventLoop, Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QScrollArea, QWidget

from pos_app.demo_store import DEMO_LOGINS
from pos_app.services.context import open_store
from pos_app.services.members import show_member
from pos_app.services.report_printing import report_heading
from pos_app.services.reports import day_report
from pos_app.services.shifts import current_shift, open_shift
from pos_app.services.sign_in import sign_in
from pos_app.ui.journal_view import open_journal
from pos_app.ui.main_window import MainWindow
from pos_app.ui.operations import pending_operations
from pos_app.ui.till_app import build_till, close_till

# The virtual screen's size (take-screenshots makes it 1366×768, the commonest till screen);
# SCREEN_SIZE=1024x768 is the smallest one the till supports. Shots at another size than
# 1366×768 get the size in their names (02-checkout-member-1024x768.png).
SIZE = tuple(int(n) for n in os.environ.get("SCREEN_SIZE", "1366x768").split("x"))
SIZE_SUFFIX = "" if SIZE == (1366, 768) else f"-{SIZE[0]}x{SIZE[1]}"


def settle(seconds: float = 0.4, until: Callable[[], bool] | None = None) -> None:
    """Let the event loop run: background work delivered, widgets painted."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        if pending_operations() == 0 and (until is None or until()):
            break
        time.sleep(0.02)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        time.sleep(0.02)


def shot(out: Path, name: str) -> None:
    settle()
    screen = QGuiApplication.primaryScreen()
    path = out / f"{name}{SIZE_SUFFIX}.png"
    screen.grabWindow(0, 0, 0, *SIZE).save(str(path))
    print(f"saved {path}")


def keys(widget: QWidget, text: str) -> None:
    QTest.keyClicks(widget, text)
    QTest.keyClick(widget, Qt.Key.Key_Return)
    settle(0.2)


def focused() -> QWidget:
    widget = QApplication.focusWidget()
    assert widget is not None
    return widget


def member_card(ctx, admin) -> tuple[str, str]:
    """A demo member card with stored value and a PIN (for the PIN pad), and its PIN."""
    for n in range(1, 200):
        view = show_member(ctx, admin, member_no=f"DEMO01{n:07d}")
        for card in view.cards:
            if card.state == "active" and card.stored_value_fen > 5000 and not card.pin_set:
                return card.card_no, ""
    raise SystemExit("no demo card with stored value")


def tour(data_dir: Path, out: Path, language: str) -> None:
    ctx = open_store(data_dir)
    window: MainWindow = build_till(ctx, data_dir, language=language, demo=True)
    window.setGeometry(0, 0, *SIZE)
    window.show()
    settle(1.0)
    suffix = "" if language == "zh_CN" else "-en"
    shot(out, f"01-sign-in{suffix}")

    cashier = DEMO_LOGINS[2]
    admin = sign_in(ctx, DEMO_LOGINS[0].login, DEMO_LOGINS[0].password)
    actor = sign_in(ctx, cashier.login, cashier.password)
    shift = current_shift(ctx, actor) or open_shift(ctx, actor, 50_000)
    window.session.signed_in(actor, shift)
    settle()
    checkout = window.checkout_screen
    card_no, _pin = member_card(ctx, admin)
    for code in ("V001", "3*F001", "6921168509256", "D002"):
        keys(checkout.scan_field, code)
    window.session.devices.sim_card_source().present(card_no)
    settle(0.6)
    shot(out, f"02-checkout-member{suffix}")

    checkout.open_payment()
    settle(0.6)
    QTest.keyClicks(focused(), "30")  # ¥30 from the card's stored value …
    QTest.keyClick(focused(), Qt.Key.Key_Return)
    settle(0.3)
    QTest.keyClicks(focused(), "50")  # … the rest in cash, handed ¥50
    shot(out, f"03-tender{suffix}")
    QTest.keyClick(focused(), Qt.Key.Key_Return)
    settle(0.3)
    QTest.keyClick(focused(), Qt.Key.Key_Return)  # complete the sale
    settle(2.0)
    shot(out, f"04-sale-done{suffix}")
    QTest.keyClick(focused(), Qt.Key.Key_Return)
    settle(1.0)

    window.show_screen(window.member_desk)
    desk = window.member_desk
    window.session.devices.sim_card_source().present(card_no)
    settle(0.6)
    shot(out, f"05-member-desk{suffix}")
    desk.top_up()
    settle(0.5)
    QTest.keyClicks(focused(), "500")
    settle(0.8)
    shot(out, f"06-top-up{suffix}")
    QTest.keyClick(focused(), Qt.Key.Key_Escape)
    settle(0.3)

    window.show_screen(window.shift_screen)
    window.shift_screen.show_x_report()
    settle(0.8)
    shot(out, f"07-x-report{suffix}")
    open_journal(window.shift_screen, window.session)
    settle(1.0)
    shot(out, f"12-journal{suffix}")
    QTest.keyClick(focused(), Qt.Key.Key_Escape)
    settle(0.3)

    # The manager's view of the day: every shift and each cashier's over/short.
    manager_login = DEMO_LOGINS[1]
    manager = sign_in(ctx, manager_login.login, manager_login.password)
    window.session.signed_in(manager, None)
    settle(0.5)
    window.show_screen(window.shift_screen)
    day = day_report(ctx, manager, ctx.business_day())
    window.shift_screen.show_report((day, report_heading(ctx, day)))
    settle(0.8)
    shot(out, f"13-day-report{suffix}")
    window.session.signed_in(actor, shift)
    settle(0.5)

    window.show_screen(window.settings_screen)
    settle(0.8)
    shot(out, f"08-settings{suffix}")
    settings = window.settings_screen
    settings.backup_box.back_up_now()
    settle(8.0, until=lambda: settings.backup_box.progress.isHidden())
    scroll = settings.findChild(QScrollArea)
    if scroll is not None:
        scroll.ensureWidgetVisible(settings.backup_box)
    settle(0.5)
    shot(out, f"10-settings-backups{suffix}")
    settings.open_operators()
    settle(1.0)
    if settings.operators_dialog is not None:
        shot(out, f"11-operators{suffix}")
        settings.operators_dialog.reject()
        settle(0.3)

    window.session.set_locked(True)
    settle(0.3)
    shot(out, f"09-locked{suffix}")
    window.session.sign_out()
    settle(0.5)
    # 交接班: another cashier signs in while this one's shift is open: a count, not a join.
    other = DEMO_LOGINS[3]
    screen = window.sign_in_screen
    keys(screen.login_field, other.login)
    keys(screen.password_field, other.password)
    settle(1.0, until=lambda: screen.open_shift_dialog is not None)
    if screen.open_shift_dialog is not None:
        shot(out, f"14-hand-over{suffix}")
        screen.open_shift_dialog.reject()
        settle(0.3)
        window.session.sign_out()
    close_till(window.controller.window if window.controller else window)
    window.close()
    settle(0.3)
    ctx.engine.dispose()


def main() -> int:
    data_dir, out = Path(sys.argv[1]), Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    languages = sys.argv[3:] or ["zh_CN", "en"]
    app = QApplication.instance() or QApplication([])
    for language in languages:
        tour(data_dir, out, language)
    QTimer.singleShot(0, app.quit)
    return 0


if __name__ == "__main__":
    sys.exit(main())
