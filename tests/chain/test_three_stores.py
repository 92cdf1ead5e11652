"""The issue's proof, scripted (docs/chain-protocol.md): three stores SH01, BJ01 and GZ01 with
a till each on one real PostgreSQL HQ served over HTTP. A card topped up at SH01 is spent
online at BJ01 (HQ holds, BJ01's push confirms); HQ goes down for a simulated day: GZ01 and
BJ01 stand in within the offline limits (one spend beyond them refused with its reason),
SH01 reports the card lost, GZ01 (not told) takes it once more, and a day after the last pull
a stand-in is refused as stale. HQ back up, every till pushes and pulls: `pos-hq --json
conflicts` lists the overspend with the member's debt and the card used while lost, the
month's clearing balances (Σ net + Δ liability = 0), `pos-hq verify` and every till's
`pos-app verify` exit 0, and the lost card is refused at BJ01 and GZ01.

And: two stores spending the whole balance online at once leave no debt behind."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from hq import conflicts
from hq.models import Hold
from pos_app.domain.card_lifecycle import mask_card_no
from pos_app.domain.errors import CardStateError
from pos_app.domain.offline_limits import OfflineRefused
from pos_app.services import stored_value
from pos_app.services.cards import issue_card, report_card_lost
from pos_app.services.members import register_member
from pos_app.sync.card_authorizer import HqDeclined
from pos_app.sync.pusher import PushResult
from tests.chain.three_stores import (
    CARD,
    MONTH,
    START,
    STORES,
    StoreTill,
    build_store_template,
    chain_balance,
    clearing_statement,
    hq_verify_problems,
    open_store_till,
    pos_app_verify,
    pos_hq,
)
from tests.conftest import FakeClock
from tests.sync_support.hq_databases import hq_database
from tests.sync_support.hq_thread import HqThread
from tests.sync_support.tills import Template

STANDIN_NOTE = ("离线授权 / offline authorization",)


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Template]:
    return {
        store: build_store_template(tmp_path_factory.mktemp(f"three-{store}"), store)
        for store in STORES
    }


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


# PostgreSQL is the issue's; HQ on SQLite (a small chain's) is cheap to prove as well.
@pytest.fixture(params=["postgresql", "sqlite"])
def hq(request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock) -> Iterator[HqThread]:
    with hq_database(request.param, tmp_path) as url, HqThread(url, clock=clock) as server:
        yield server


@pytest.fixture
def tills(
    templates: dict[str, Template], tmp_path: Path, clock: FakeClock, hq: HqThread
) -> Iterator[dict[str, StoreTill]]:
    made = {s: open_store_till(templates[s], tmp_path, s, clock, hq) for s in STORES}
    yield made
    for till in made.values():
        till.close()


def _all_verified(hq: HqThread, tills: dict[str, StoreTill]) -> None:
    assert hq_verify_problems(hq) == []
    for till in tills.values():
        till.verified()
    assert clearing_statement(hq).invariant_ok


def _total(till: StoreTill) -> int:
    card = till.card()
    assert card is not None
    return card.principal_fen + card.bonus_fen


def test_one_card_across_three_stores_through_a_day_without_hq(
    hq: HqThread, tills: dict[str, StoreTill], clock: FakeClock
) -> None:
    sh, bj, gz = tills["SH01"], tills["BJ01"], tills["GZ01"]

    # SH01 issues the card and tops it up ¥1000 (the rules give ¥150 bonus); all hear of it.
    member = register_member(sh.ctx, sh.cashier, "13800138000", "张三")
    issue_card(sh.ctx, sh.cashier, member.member_no, CARD)
    stored_value.top_up(sh.ctx, sh.cashier, CARD, 100_000)
    sh.pushed()
    bj.pulled()
    gz.pulled()
    assert _total(bj) == _total(gz) == 115_000
    assert chain_balance(hq) == (100_000, 15_000)
    _all_verified(hq, tills)

    # BJ01 spends ¥400 online: HQ holds it, BJ01's push confirms the hold.
    sale = bj.spend(400)
    assert sale.receipt.notes == ()
    with Session(hq.engine) as s:
        [hold] = s.scalars(select(Hold)).all()
        assert (hold.amount_fen, hold.state) == (40_000, "held")
    bj.pushed()
    with Session(hq.engine) as s:
        assert s.scalars(select(Hold.state)).all() == ["confirmed"]
    assert chain_balance(hq) == (60_000, 15_000)
    sh.pulled()
    assert _total(sh) == 75_000
    _all_verified(hq, tills)

    # HQ is down for a simulated day. GZ01 last heard ¥1150; BJ01 ¥750.
    hq.stop()
    clock.advance(hours=1)
    assert gz.spend(400).receipt.notes == STANDIN_NOTE
    clock.advance(hours=1)
    assert bj.spend(300).receipt.notes == STANDIN_NOTE
    before = _total(bj)
    with pytest.raises(OfflineRefused) as beyond:
        bj.spend(201)  # ¥500 per card per day at one till: ¥200 left
    assert beyond.value.code == "offline_limit_card"
    assert "200.00" in beyond.value.en and "200.00" in beyond.value.zh
    assert _total(bj) == before  # nothing written

    # The member reports the card lost at SH01: it stops paying there at once, but nobody
    # else can hear of it while HQ is down; GZ01 takes the card once more.
    clock.advance(hours=1)
    report_card_lost(sh.ctx, sh.cashier, CARD)
    assert sh.push().result is PushResult.UNREACHABLE
    assert not sh.pull().ok
    with pytest.raises(CardStateError):
        sh.spend(1)
    clock.advance(hours=1)
    assert gz.spend(100).receipt.notes == STANDIN_NOTE  # ¥500 of GZ01's allowance in all

    # A day after GZ01 last heard from HQ, it no longer stands in (a new business day: the
    # per-card allowance alone would let it).
    clock.advance(hours=20, minutes=1)
    with pytest.raises(OfflineRefused) as stale:
        gz.spend(10)
    assert stale.value.code == "offline_stale"
    for till in tills.values():
        till.verified()

    # HQ back up. The tills push in the order least kind to HQ (the loss arrives last).
    hq.start()
    for till in (gz, bj, sh):
        till.pushed()
    # BJ01 has not pulled yet: its card is still active here, and HQ declines it.
    with pytest.raises(HqDeclined) as blocked:
        bj.spend(1)
    assert (blocked.value.code, blocked.value.details) == ("card_blocked", {"state": "lost"})
    for till in (gz, bj, sh):
        till.pulled()
    # ¥1150 topped up, ¥1200 spent: ¥50 overspent (principal ¥200 below zero, ¥150 bonus).
    assert chain_balance(hq) == (-20_000, 15_000)
    for till in tills.values():
        card = till.card()
        assert card is not None
        assert (card.principal_fen, card.bonus_fen, card.state) == (-20_000, 15_000, "lost")

    # Now the lost card is refused at BJ01 and GZ01 by the tills themselves.
    for till in (bj, gz):
        with pytest.raises(CardStateError):
            till.spend(1)
    _all_verified(hq, tills)

    # The CLI contract, run as the installed console scripts.
    code, found = pos_hq(hq.db_url, "conflicts")
    assert code == 0, found
    by_kind = {c["kind"]: c for c in found["conflicts"]}
    assert set(by_kind) == {"offline_overspend", "card_used_while_blocked"}, found
    overspend = by_kind["offline_overspend"]
    assert overspend["card_no_masked"] == mask_card_no(CARD)
    assert overspend["amount_fen"] == 5_000
    assert (overspend["detail"]["principal_fen"], overspend["detail"]["bonus_fen"]) == (
        -20_000,
        15_000,
    )
    assert sorted(overspend["tills"]) == ["BJ01-01", "GZ01-01"]
    used_lost = by_kind["card_used_while_blocked"]
    # The till that took the card and the one where the loss was reported.
    assert (used_lost["amount_fen"], sorted(used_lost["tills"])) == (10_000, ["GZ01-01", "SH01-01"])
    assert (used_lost["detail"]["till"], used_lost["detail"]["state"]) == ("GZ01-01", "lost")
    assert used_lost["card_no_masked"] == mask_card_no(CARD)
    [debt] = found["debts"]
    assert (debt["member_no"], debt["debt_fen"]) == (member.member_no, 5_000)
    assert debt["card_no_masked"] == mask_card_no(CARD)

    code, month = pos_hq(hq.db_url, "clearing", "--month", MONTH)
    assert code == 0, month
    lines = {line["store"]: line for line in month["stores"]}
    assert set(lines) == set(STORES)
    assert lines["SH01"]["stored_value_sold_fen"] == 100_000
    assert (lines["BJ01"]["stored_value_redeemed_fen"], lines["BJ01"]["net_fen"]) == (
        70_000,
        70_000,
    )
    assert (lines["GZ01"]["stored_value_redeemed_fen"], lines["GZ01"]["net_fen"]) == (
        50_000,
        50_000,
    )
    assert lines["SH01"]["net_fen"] == -115_000
    assert month["liability_change_fen"] == -5_000
    assert sum(line["net_fen"] for line in month["stores"]) + month["liability_change_fen"] == 0
    assert month["invariant_ok"] is True
    assert {"points_issued", "points_redeemed"} <= set(lines["SH01"])

    code, verified = pos_hq(hq.db_url, "verify")
    assert (code, verified["ok"], verified["tills"]) == (0, True, 3), verified
    for till in tills.values():
        code, report = pos_app_verify(till.store.data_dir)
        assert (code, report["ok"]) == (0, True), (till.code, report)


def test_two_stores_spending_the_whole_balance_online_at_once_leave_no_debt(
    hq: HqThread, tills: dict[str, StoreTill], clock: FakeClock
) -> None:
    """BJ01 spends ¥1000 and GZ01, while BJ01's hold is not yet confirmed, the ¥150 HQ still
    offers: both take principal first from what they heard, so the chain's principal ends
    ¥150 below zero with ¥150 of bonus — the card is spent to exactly zero, no conflict."""
    sh, bj, gz = tills["SH01"], tills["BJ01"], tills["GZ01"]
    member = register_member(sh.ctx, sh.cashier, "13800138000", "张三")
    issue_card(sh.ctx, sh.cashier, member.member_no, CARD)
    stored_value.top_up(sh.ctx, sh.cashier, CARD, 100_000)
    sh.pushed()
    bj.pulled()
    gz.pulled()
    bj.spend(1000)
    with pytest.raises(HqDeclined) as declined:
        gz.spend(151)
    assert declined.value.details["available_fen"] == 15_000
    gz.spend(150)
    for till in (bj, gz):
        till.pushed()
    assert chain_balance(hq) == (-15_000, 15_000)
    with Session(hq.engine) as session, session.begin():
        conflicts.detect(session, clock.moment)
        assert conflicts.list_conflicts(session) == []
        assert conflicts.member_debts(session) == []
    for till in tills.values():
        till.pulled()
        assert _total(till) == 0
    _all_verified(hq, tills)
