"""The status bar's till id and sync indicator, on the real window with the real sync agent:
not set up, HQ away ("HQ 不可达，自 …" with the count waiting, growing as the till sells),
a fork in red, and a click that asks the agent to push now."""

from __future__ import annotations

import re
from collections.abc import Callable

from PySide6.QtCore import Qt

from pos_app.services.checkout import sell
from pos_app.ui.till_app import start_sync_agent, stop_sync_agent
from tests.services.support import ensure_till, req
from tests.sync.test_agent import closed_port, set_up_sync
from tests.ui.conftest import Till


def waiting(text: str) -> int:
    match = re.search(r"(\d+) (?:条|waiting)", text)
    assert match, text
    return int(match.group(1))


def test_a_till_not_connected_to_hq_says_so_and_shows_its_id(till: Till) -> None:
    window = till.window
    assert window.till_label.text() == "收银机 SH01-01"
    till.qtbot.waitUntil(lambda: till.session.sync_report is not None, timeout=5000)
    assert window.sync_label.text() == "同步：未配置"
    assert window.sync_label.level == "idle"
    assert "pos-app sync setup" in window.sync_label.toolTip()


def test_hq_unreachable_in_chinese(make_till: Callable[..., Till]) -> None:
    # Set up before the app starts: its agent's first push meets nobody.
    till = make_till(devices="[devices]\ncard_sources = []\n")
    label = till.window.sync_label
    stop_sync_agent(till.session)
    set_up_sync(till.store, f"http://127.0.0.1:{closed_port()}")
    start_sync_agent(till.session)
    till.qtbot.waitUntil(lambda: "HQ 不可达" in label.text(), timeout=10_000)
    assert re.search(r"HQ 不可达，自 \d\d:\d\d · 待上传 \d+ 条", label.text()), label.text()
    assert label.level == "away" and "b26a00" in label.styleSheet()
    before = waiting(label.text())
    # A sale while HQ is away: nothing waits for HQ, and the count goes up.
    ensure_till(till.store)
    sell(till.store.ctx, till.store.cashier, req(("X001", 1)))
    till.qtbot.waitUntil(lambda: waiting(label.text()) > before, timeout=10_000)
    # A click asks the agent to try now, back-off or not.
    agent = till.session.sync_agent
    assert agent is not None
    pushes = agent.pushes
    till.qtbot.mouseClick(label, Qt.MouseButton.LeftButton)
    till.qtbot.waitUntil(lambda: agent.pushes > pushes, timeout=10_000)
    assert "HQ 不可达" in label.text()


def test_hq_unreachable_in_english_and_a_fork_in_red(make_till: Callable[..., Till]) -> None:
    till = make_till(language="en", devices="[devices]\ncard_sources = []\n")
    label = till.window.sync_label
    assert till.window.till_label.text() == "Till SH01-01"
    stop_sync_agent(till.session)
    set_up_sync(till.store, f"http://127.0.0.1:{closed_port()}")
    start_sync_agent(till.session)
    till.qtbot.waitUntil(lambda: "HQ unreachable since" in label.text(), timeout=10_000)
    assert re.search(r"HQ unreachable since \d\d:\d\d · \d+ waiting", label.text())
    stop_sync_agent(till.session)
    with till.store.ctx.engine.begin() as conn:
        conn.exec_driver_sql(
            "UPDATE sync_state SET fork_seq = 7, fork_detected_at = ?, unreachable_since = NULL",
            (till.store.ctx.now_iso(),),
        )
    start_sync_agent(till.session)
    till.qtbot.waitUntil(lambda: "fork" in label.text(), timeout=10_000)
    assert label.text() == "Sync stopped: HQ holds a different entry #7 (fork)"
    assert label.level == "fork" and "c62828" in label.styleSheet()
    # The tooltip says how old the till's news of the other stores is (the last pull).
    assert "Not yet heard from HQ" in label.toolTip()
    stop_sync_agent(till.session)
    with till.store.ctx.engine.begin() as conn:
        conn.exec_driver_sql(
            "UPDATE sync_state SET pulled_at = ?, feed_cursor = 12", (till.store.ctx.now_iso(),)
        )
    start_sync_agent(till.session)
    till.qtbot.waitUntil(lambda: "Last heard from HQ" in label.toolTip(), timeout=10_000)
    assert re.search(r"Last heard from HQ \d\d:\d\d \(feed #12\)", label.toolTip())
