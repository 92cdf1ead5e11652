"""The till under pytest-qt: a real store file, real widgets, simulated devices.

`till` builds the whole app window (as `pos-app` does) on a copy of the test store with the
demo catalogue, two members and devices `sim:card` + `sim:printer` (a real ESC/POS driver
talking to a printer sink on 127.0.0.1). Work runs on the app's real worker threads; tests
wait for it with `till.wait_idle()`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from pos_app.services.cards import issue_card, report_card_lost
from pos_app.services.catalogue import load_demo_catalogue
from pos_app.services.members import register_member
from pos_app.services.shifts import close_shift, current_shift, open_shift
from pos_app.services.sign_in import sign_in
from pos_app.services.stored_value import top_up
from pos_app.ui.main_window import MainWindow, QApplicationBeep
from pos_app.ui.operations import pending_operations
from pos_app.ui.till_app import build_till, close_till
from tests.conftest import PASSWORD, StoreFixture

MEMBER_MOBILE = "13800138000"
MEMBER_CARD = "88880001"  # 张三, PIN 123456, ¥500 topped up (+¥50 bonus under the rules)
MEMBER_PIN = "123456"
LOST_CARD = "88880002"  # 李四's card, reported lost
DEVICES = """\
[devices]
card_sources = ["sim:card"]
printer = "sim:printer"
paper_mm = 80
encoding = "gb18030"
drawer = true
"""


@dataclass
class Till:
    """The running till and shortcuts for driving it."""

    window: MainWindow
    store: StoreFixture
    qtbot: QtBot

    @property
    def session(self) -> Any:
        return self.window.session

    def wait_idle(self, timeout: int = 10_000) -> None:
        """Wait until every background operation has delivered its result."""
        self.qtbot.waitUntil(lambda: pending_operations() == 0, timeout=timeout)

    def sign_in_as(self, login: str) -> None:
        """Sign in through the service (tests of the sign-in screen use the screen)."""
        actor = sign_in(self.store.ctx, login, PASSWORD)
        self.session.signed_in(actor, current_shift(self.store.ctx, actor))
        self.wait_idle()

    def present_card(self, number: str) -> None:
        """Tap a card on the simulated reader (as the demo's panel does)."""
        self.qtbot.waitUntil(lambda: self.session.devices.sim_card_source() is not None)
        self.session.devices.sim_card_source().present(number)

    def printer_sink(self) -> Any:
        """The sim:printer's sink: `.wait_for_jobs(n)`, `.mode = "paper_out"`."""
        self.qtbot.waitUntil(lambda: self.session.devices._printer is not None, timeout=10_000)
        return self.session.devices._printer.sink


def _fill(store: StoreFixture) -> None:
    load_demo_catalogue(store.ctx, store.admin)
    zhang = register_member(store.ctx, store.cashier, MEMBER_MOBILE, "张三")
    issue_card(store.ctx, store.cashier, zhang.member_no, MEMBER_CARD, pin=MEMBER_PIN)
    # An earlier shift took the member's top-up, counted exactly: the till starts closed.
    open_shift(store.ctx, store.cashier, 0)
    top_up(store.ctx, store.cashier, MEMBER_CARD, 50_000, "cash")
    close_shift(store.ctx, store.cashier, 50_000)
    li = register_member(store.ctx, store.cashier, "13900139000", "李四")
    issue_card(store.ctx, store.cashier, li.member_no, LOST_CARD)
    report_card_lost(store.ctx, store.cashier, LOST_CARD)


@pytest.fixture
def make_till(store: StoreFixture, qtbot: QtBot) -> Iterator[Callable[..., Till]]:
    """make_till(language="zh_CN", devices=DEVICES, demo=False) → a shown Till."""
    QApplicationBeep.enabled = False
    _fill(store)
    made: list[MainWindow] = []

    def make(language: str = "zh_CN", devices: str = DEVICES, demo: bool = False) -> Till:
        (store.data_dir / "settings.toml").write_text(devices, encoding="utf-8")
        window = build_till(store.ctx, store.data_dir, language=language, demo=demo)
        qtbot.addWidget(window)
        window.show()
        made.append(window)
        till = Till(window, store, qtbot)
        till.wait_idle()
        return till

    yield make
    for window in made:
        # After a change of language the controller's window is a new one.
        close_till(window.controller.window if window.controller else window)


@pytest.fixture
def till(make_till: Callable[..., Till]) -> Till:
    """The till in Chinese (the default language) with simulated devices."""
    return make_till()
