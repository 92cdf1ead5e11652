"""The sync agent against a real HQ (`pos-hq serve`, SQLite and PostgreSQL): a sale reaches
HQ by itself, local verify then checks HQ's head; HQ killed (-9) and started again costs
nothing but time; and the till's window says "已同步" once HQ holds everything."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from pos_app.services.checkout import sell
from pos_app.services.sync_setup import setup
from pos_app.services.verify import verify_ledger
from pos_app.sync.agent import SyncAgent
from pos_app.sync.pusher import PushResult
from pos_app.sync.status import sync_status
from tests.conftest import StoreFixture
from tests.services.support import ensure_till, req
from tests.sync.conftest import HqServer
from tests.sync.test_agent import wait_for
from tests.ui.conftest import Till, make_till  # noqa: F401 — the window fixture, used below


@pytest.fixture
def agent(till: StoreFixture) -> Iterator[SyncAgent]:
    made = SyncAgent(till.ctx, first_retry=0.05, max_retry=0.5, idle_seconds=60)
    till.ctx.commit_listeners.append(made.nudge)
    yield made
    assert made.stop(10)


def in_sync(till: StoreFixture) -> bool:
    status = sync_status(till.ctx)
    return status.pending == 0 and status.acked_seq == status.head_seq > 0


def test_a_sale_reaches_hq_by_itself_and_verify_checks_hqs_head(
    till: StoreFixture, hq: HqServer, agent: SyncAgent
) -> None:
    setup(till.ctx, till.manager, hq.url, hq.enroll())
    agent.start()
    wait_for(lambda: in_sync(till), timeout=20)
    ensure_till(till)
    sale = sell(till.ctx, till.cashier, req(("X001", 2)))
    wait_for(lambda: in_sync(till), timeout=20)
    status = sync_status(till.ctx)
    held = hq.tills()["SH01-01"]
    assert (held["acked_seq"], held["entries"], held["forks"]) == (status.head_seq,) * 2 + (0,)
    assert sale.receipt_no.startswith("SH01-01-")
    report = verify_ledger(till.ctx)
    assert report.ok, report.problems
    assert report.hq_acked_seq == report.head_seq == status.head_seq
    assert hq.cli("verify")["ok"] is True


def test_hq_killed_and_started_again_the_agent_catches_up_by_itself(
    till: StoreFixture, hq_lite: HqServer, agent: SyncAgent
) -> None:
    setup(till.ctx, till.manager, hq_lite.url, hq_lite.enroll())
    agent.start()
    wait_for(lambda: in_sync(till), timeout=20)
    hq_lite.kill()
    ensure_till(till)
    for n in range(3):  # the shop goes on selling
        sell(till.ctx, till.cashier, req(("X001", n + 1)))
    wait_for(lambda: agent.state().failures >= 2, timeout=20)
    away = sync_status(till.ctx)
    assert away.unreachable_since is not None and away.pending > 0
    assert agent.state().last_result is PushResult.UNREACHABLE
    hq_lite.start()  # same port, same database
    wait_for(lambda: in_sync(till), timeout=30)  # on the back-off timer, nobody asked
    assert sync_status(till.ctx).unreachable_since is None
    assert hq_lite.tills()["SH01-01"]["entries"] == sync_status(till.ctx).head_seq
    assert verify_ledger(till.ctx).ok


def test_the_window_says_synced_once_hq_holds_everything(
    till: StoreFixture,
    hq_lite: HqServer,
    make_till: Callable[..., Till],  # noqa: F811 — the fixture imported above
) -> None:
    setup(till.ctx, till.manager, hq_lite.url, hq_lite.enroll())
    window = make_till(devices="[devices]\ncard_sources = []\n")
    label = window.window.sync_label
    window.qtbot.waitUntil(lambda: label.text().startswith("已同步"), timeout=20_000)
    assert label.level == "ok" and "1a7f37" in label.styleSheet()
    assert "总部已收到第" in label.toolTip()
    ensure_till(till)
    sell(till.ctx, till.cashier, req(("X001", 1)))
    # The sale nudges the agent: it goes up, and the bar says so again.
    window.qtbot.waitUntil(lambda: in_sync(till), timeout=20_000)
    head = sync_status(till.ctx).head_seq
    window.qtbot.waitUntil(
        lambda: f"总部已收到第 {head} 条（本机共 {head} 条）" in label.toolTip(), timeout=20_000
    )
    assert label.text().startswith("已同步")
