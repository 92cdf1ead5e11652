"""A till's sale paid from a chain card (docs/chain-protocol.md, "Spending a card anywhere"):
HQ's hold before the transaction, the mirror and the hold id in it, HQ's refusals, release
of a failed sale's hold, stand-in within and beyond the offline limits, and a till without
sync unchanged. Real tills against a real HQ served on loopback (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from db.engine import read_session, write_session
from db.models import Card, LedgerEntry, SyncState
from hq.admin import enroll_till, iso
from hq.authorization import place_hold
from hq.models import CardPosition, ChainCard, ChainMember, Hold, Till
from hq.sync_refusals import SyncRefusal
from pos_app.domain.coupons import TemplateSpec
from pos_app.domain.entry_kinds import EntryKind
from pos_app.domain.errors import DomainError
from pos_app.domain.offline_limits import OfflineRefused
from pos_app.services import checkout, coupons, stored_value
from pos_app.services.cards import issue_card
from pos_app.services.catalogue import load_demo_catalogue
from pos_app.services.checkout import sell
from pos_app.services.members import register_member
from pos_app.services.rules import load_rules
from pos_app.sync.card_authorizer import TIMEOUT_SECONDS, HqDeclined
from tests.hq.signing_till import body_of
from tests.services.support import ensure_till, req
from tests.sync_support.fault_proxy import Fault, FaultProxy
from tests.sync_support.hq_databases import hq_database
from tests.sync_support.hq_process import free_port
from tests.sync_support.hq_thread import HqThread
from tests.sync_support.tills import (
    SyncedTill,
    Template,
    build_template,
    enroll_at_hq,
    make_till,
)

CARD_NO = "88660001"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    return build_template(tmp_path_factory.mktemp("auth-till-template"), "SH01-01")


@pytest.fixture(params=["sqlite", "postgresql"])
def hq(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[HqThread]:
    with hq_database(request.param, tmp_path) as url, HqThread(url) as server:
        yield server


@pytest.fixture
def hq_lite(tmp_path: Path) -> Iterator[HqThread]:
    with HqThread(f"sqlite:///{tmp_path / 'hq.sqlite3'}") as server:
        yield server


def _enrolled_till(template: Template, tmp_path: Path, hq: HqThread) -> SyncedTill:
    till = make_till(template, tmp_path, "SH01-01", CARD_NO)
    till.enroll(hq.url, enroll_at_hq(hq.engine, "SH01"))
    ensure_till(till.store)
    heard(till, datetime.now(UTC))
    with Session(hq.engine) as s, s.begin():
        # A till of another store: the card's balance there is what the chain holds of it.
        from hq.admin import add_store

        add_store(s, "BJ01", "北京店", datetime.now(UTC))
        enroll_till(s, "BJ01", datetime.now(UTC))
    return till


@pytest.fixture
def till(template: Template, tmp_path: Path, hq: HqThread) -> Iterator[SyncedTill]:
    made = _enrolled_till(template, tmp_path, hq)
    yield made
    made.close()


@pytest.fixture
def lite_till(template: Template, tmp_path: Path, hq_lite: HqThread) -> Iterator[SyncedTill]:
    made = _enrolled_till(template, tmp_path, hq_lite)
    yield made
    made.close()


def heard(till: SyncedTill, when: datetime | None) -> None:
    """When the till last heard HQ's balances (the feed's pulled_at)."""
    with write_session(till.ctx.engine) as s:
        s.execute(
            update(SyncState).where(SyncState.id == 1).values(pulled_at=iso(when) if when else None)
        )


def card_ids(till: SyncedTill) -> tuple[str, str]:
    with read_session(till.ctx.engine) as s:
        card = s.scalars(select(Card).where(Card.card_no == CARD_NO)).one()
        return card.id, str(card.member_id)


def hq_knows_card(
    hq: HqThread, till: SyncedTill, *, elsewhere_fen: int = 0, state: str = "active"
) -> None:
    """HQ's chain view of the till's card, as ingest makes it, with `elsewhere_fen` of
    principal topped up at BJ01-01."""
    card_id, member_id = card_ids(till)
    now = iso(datetime.now(UTC))
    with Session(hq.engine) as s, s.begin():
        s.execute(
            insert(ChainMember).values(
                id=member_id,
                member_no="SH010000001",
                mobile="13900000001",
                name="会员",
                data={"id": member_id},
                updated_at=now,
            )
        )
        s.execute(
            insert(ChainCard).values(
                id=card_id,
                card_no=CARD_NO,
                member_id=member_id,
                state=state,
                state_at=now,
                state_source="SH01-01",
                data={"id": card_id, "card_no": CARD_NO, "media": "magstripe"},
                updated_at=now,
            )
        )
        bj = s.scalar(select(Till.id).where(Till.code == "BJ01-01"))
        s.execute(
            insert(CardPosition).values(
                card_id=card_id, till_id=bj, principal_fen=elsewhere_fen, bonus_fen=0, last_seq=1
            )
        )


def hq_holds(hq: HqThread) -> list[tuple[str, int, str]]:
    with Session(hq.engine) as s:
        return [
            (h.id, h.amount_fen, h.state) for h in s.scalars(select(Hold).order_by(Hold.created_at))
        ]


def entries(till: SyncedTill, *kinds: str) -> list[tuple[str, int, int, dict[str, object]]]:
    with read_session(till.ctx.engine) as s:
        rows = s.execute(
            select(
                LedgerEntry.kind,
                LedgerEntry.principal_delta,
                LedgerEntry.amount_fen,
                LedgerEntry.payload,
            )
            .where(LedgerEntry.kind.in_(kinds))
            .order_by(LedgerEntry.store_seq)
        ).all()
    return [(k, p, a, json.loads(payload) if payload else {}) for k, p, a, payload in rows]


def balance(till: SyncedTill) -> int:
    with read_session(till.ctx.engine) as s:
        card = s.scalars(select(Card).where(Card.card_no == CARD_NO)).one()
        return card.principal_fen + card.bonus_fen


def pay(till: SyncedTill, yuan: int, tenders=(("stored_value", None),)):
    lines = [("X100", yuan // 100), ("X001", yuan % 100)]
    return sell(
        till.ctx,
        till.store.cashier,
        req(*[line for line in lines if line[1]], pay=tenders, card=CARD_NO),
    )


def test_a_card_topped_up_elsewhere_pays_online_with_hqs_hold(till, hq):
    hq_knows_card(hq, till, elsewhere_fen=20_000)
    assert balance(till) == 0
    assert pay(till, 150).receipt.notes == ()
    (hold_id, amount, state), *_ = hq_holds(hq)
    assert (amount, state) == (15_000, "held")
    mirror, payment = entries(till, EntryKind.CARD_SYNCED, EntryKind.SV_PAYMENT)
    assert mirror[:2] == ("card_synced", 20_000)
    assert mirror[3]["external_principal_fen"] == 20_000
    assert payment[:3] == ("sv_payment", -15_000, 15_000)
    assert payment[3]["hold_id"] == hold_id and "standin" not in payment[3]
    assert balance(till) == 5_000
    # 60.00 more, stored value paying what it can: HQ declines 60.00 (50.00 left across
    # the chain, the till's own 150.00 counted from its ledger), the till asks again for
    # 50.00, and cash pays the rest.
    sale = pay(till, 60, (("stored_value", None), ("cash", None)))
    assert {(t.tender, t.amount_fen) for t in sale.receipt.tenders} == {
        ("stored_value", 5_000),
        ("cash", 1_000),
    }
    assert [a for _, a, s in hq_holds(hq) if s == "held"] == [15_000, 5_000]
    assert balance(till) == 0


def test_hq_declines_a_card_lost_elsewhere_and_nothing_is_written(till, hq):
    hq_knows_card(hq, till, elsewhere_fen=20_000, state="lost")
    before = entries(till, *EntryKind)
    with pytest.raises(HqDeclined) as caught:
        pay(till, 10)
    assert caught.value.code == "card_blocked"
    assert caught.value.details == {"state": "lost"}
    assert "挂失" in caught.value.zh and "lost" in caught.value.en
    assert entries(till, *EntryKind) == before
    assert hq_holds(hq) == []


def test_hq_declines_a_spend_beyond_the_chain_balance(lite_till, hq_lite):
    till = lite_till
    hq_knows_card(hq_lite, till, elsewhere_fen=3_000)
    with pytest.raises(HqDeclined) as caught:
        pay(till, 31, (("stored_value", 3_100),))
    assert caught.value.code == "insufficient_balance"
    assert caught.value.details["available_fen"] == 3_000
    assert "30.00" in caught.value.en
    assert entries(till, EntryKind.SV_PAYMENT, EntryKind.CARD_SYNCED) == []


def test_a_sale_that_fails_after_its_hold_releases_it(lite_till, hq_lite, monkeypatch):
    till = lite_till
    hq_knows_card(hq_lite, till, elsewhere_fen=10_000)

    def broken_write(*_args: object, **_kwargs: object) -> None:
        raise DomainError("写入失败", "write failed", code="test_failure")

    monkeypatch.setattr(checkout, "write_sale", broken_write)
    with pytest.raises(DomainError, match="write failed"):
        pay(till, 100)
    [(_, amount, state)] = hq_holds(hq_lite)
    assert (amount, state) == (10_000, "released")
    assert entries(till, EntryKind.SV_PAYMENT, EntryKind.CARD_SYNCED) == []
    monkeypatch.undo()
    pay(till, 100)  # the released 100.00 is the card's again
    assert balance(till) == 0


def test_a_card_hq_does_not_know_yet_stands_in_and_is_marked(lite_till, hq_lite):
    till = lite_till
    till.top_up(30_000)
    pay(till, 100)
    [payment] = entries(till, EntryKind.SV_PAYMENT)
    assert payment[3]["standin"] is True and "hold_id" not in payment[3]
    assert hq_holds(hq_lite) == []


def test_offline_stand_in_within_and_beyond_the_card_limit(lite_till, hq_lite):
    till = lite_till
    hq_knows_card(hq_lite, till, elsewhere_fen=0)
    till.top_up(100_000)
    topped_up = balance(till)  # with the rules' bonus
    till.point_at(f"http://127.0.0.1:{free_port()}")  # HQ unreachable
    sale = pay(till, 300)
    assert sale.receipt.notes == ("离线授权 / offline authorization",)
    with pytest.raises(OfflineRefused) as caught:
        pay(till, 201)  # 500.00 per card per day
    assert caught.value.code == "offline_limit_card"
    assert "200.00" in caught.value.en and "200.00" in caught.value.zh
    pay(till, 200)
    payments = entries(till, EntryKind.SV_PAYMENT)
    assert [p[2] for p in payments] == [30_000, 20_000]
    assert all(p[3]["standin"] is True for p in payments)
    assert balance(till) == topped_up - 50_000
    # The next business day opens a fresh allowance.
    till.store.clock.advance(days=1)
    heard(till, till.store.clock.moment)
    pay(till, 500)


def test_offline_stand_in_within_the_till_limit(lite_till, hq_lite):
    till = lite_till
    text = 'label = "小额离线"\n[chain]\noffline_till_daily = "250"\n'
    load_rules(till.ctx, till.store.admin, text, "rules.toml")
    till.top_up(100_000)
    till.point_at(f"http://127.0.0.1:{free_port()}")
    pay(till, 200)
    with pytest.raises(OfflineRefused) as caught:
        pay(till, 51)
    assert caught.value.code == "offline_limit_till"
    pay(till, 50)


@pytest.mark.parametrize("ago", [None, timedelta(hours=24, minutes=1)])
def test_offline_from_a_stale_balance_is_refused(lite_till, hq_lite, ago):
    till = lite_till
    till.top_up(10_000)
    till.point_at(f"http://127.0.0.1:{free_port()}")
    heard(till, None if ago is None else till.store.clock.moment - ago)
    with pytest.raises(OfflineRefused) as caught:
        pay(till, 10)
    assert caught.value.code == "offline_stale"
    assert entries(till, EntryKind.SV_PAYMENT) == []
    # Cash still sells.
    pay(till, 10, (("cash", None),))


def test_a_till_without_sync_spends_its_own_balance_as_before(template, tmp_path, monkeypatch):
    till = make_till(template, tmp_path, "SH01-01", CARD_NO)
    try:
        ensure_till(till.store)
        till.top_up(10_000)

        def no_network(*_args: object, **_kwargs: object) -> None:
            raise AssertionError("a till without sync asked HQ")

        monkeypatch.setattr("pos_app.sync.card_authorizer.authorize", no_network)
        pay(till, 100)
        [payment] = entries(till, EntryKind.SV_PAYMENT)
        assert payment[3] == {"receipt_no": payment[3]["receipt_no"]}
        assert balance(till) == 0
    finally:
        till.close()


def test_a_pushed_sale_confirms_its_hold_and_is_counted_once(till, hq):
    """Top up, push (HQ learns the card from ingest), spend online, push again: the hold is
    confirmed by the sale's entry, and another till is offered exactly what is left."""
    till.top_up(20_000)
    topped_up = balance(till)
    assert till.push().ok
    pay(till, 150)
    [(hold_id, amount, state)] = hq_holds(hq)
    assert (amount, state) == (15_000, "held")
    assert till.push().ok
    with Session(hq.engine) as s:
        hold = s.get(Hold, hold_id)
        assert hold is not None and hold.state == "confirmed" and hold.entry_seq
    card_id, member_id = card_ids(till)
    left = topped_up - 15_000
    with pytest.raises(SyncRefusal) as caught:
        place_hold(
            hq.engine,
            "BJ01-01",
            body_of({"card_id": card_id, "member_id": member_id, "amount_fen": left + 1}),
            datetime.now(UTC),
        )
    assert caught.value.details["available_fen"] == left
    answer = place_hold(
        hq.engine,
        "BJ01-01",
        body_of({"card_id": card_id, "member_id": member_id, "amount_fen": left}),
        datetime.now(UTC),
    )
    assert answer["card"]["external_principal_fen"] + answer["card"]["external_bonus_fen"] == left


def test_offline_points_within_and_beyond_the_member_limit(lite_till, hq_lite):
    till = lite_till
    text = 'label = "小额离线"\n[chain]\noffline_points_daily = 150\n'
    load_rules(till.ctx, till.store.admin, text, "rules.toml")
    pay(till, 500, (("cash", None),))  # 500 points earned, no authorization needed
    till.point_at(f"http://127.0.0.1:{free_port()}")
    pay(till, 10, (("points", 100), ("cash", None)))  # 100 points pay ¥1
    with pytest.raises(OfflineRefused) as caught:
        pay(till, 10, (("points", 100), ("cash", None)))
    assert caught.value.code == "offline_limit_points"
    assert "50" in caught.value.en
    [redeemed] = entries(till, EntryKind.POINTS_REDEEMED)
    assert redeemed[3]["standin"] is True


def test_a_card_of_one_store_spent_online_at_another_is_held_confirmed_and_counted_once(
    hq, two_stores
):
    """SH01 tops up and pushes, BJ01 pulls and spends online: HQ holds, BJ01's entry names
    the hold, its push confirms it; SH01 may then spend only what is left."""
    shanghai, beijing = two_stores
    member = register_member(shanghai.ctx, shanghai.admin, "13800138000", "张三")
    issue_card(shanghai.ctx, shanghai.admin, member.member_no, "88880001")
    stored_value.top_up(shanghai.ctx, shanghai.admin, "88880001", 20_000)
    shanghai.push()
    beijing.pull()
    hq_engine = hq.engine
    sale = sell(
        beijing.ctx,
        beijing.admin,
        req(("V001", 1), card="88880001", pay=[("stored_value", None)]),
    )
    with read_session(beijing.ctx.engine) as s:
        payload = json.loads(
            s.scalars(select(LedgerEntry.payload).where(LedgerEntry.kind == "sv_payment")).one()
        )
    with Session(hq_engine) as s:
        hold = s.get(Hold, payload["hold_id"])
        assert hold is not None and (hold.amount_fen, hold.state) == (sale.total_fen, "held")
    beijing.push()
    with Session(hq_engine) as s:
        hold = s.get(Hold, payload["hold_id"])
        assert hold is not None and hold.state == "confirmed"
    shanghai.pull()
    with read_session(shanghai.ctx.engine) as s:
        card = s.scalars(select(Card).where(Card.card_no == "88880001")).one()
        left = card.principal_fen + card.bonus_fen
    with pytest.raises(HqDeclined) as caught:
        sell(
            shanghai.ctx,
            shanghai.admin,
            req(("V001", 50), card="88880001", pay=[("stored_value", left + 1)]),
        )
    assert caught.value.code == "insufficient_balance"
    assert caught.value.details["available_fen"] == left
    for till in (shanghai, beijing):
        till.verified()


def _coupon(till: SyncedTill) -> str:
    load_demo_catalogue(till.ctx, till.store.admin)
    coupons.add_template(
        till.ctx,
        till.store.admin,
        TemplateSpec(
            code="ALL20-8",
            name="满20减8",
            kind="amount_off",
            threshold_fen=2000,
            amount_off_fen=800,
            valid_days=30,
        ),
    )
    return coupons.make_batch(till.ctx, till.store.admin, "ALL20-8", 1, "test").codes[0]


def test_a_coupon_is_held_by_hq_and_its_entry_names_its_own_hold(lite_till, hq_lite):
    till = lite_till
    code = _coupon(till)
    sale = sell(till.ctx, till.store.cashier, req(("V001", 10), coupons=[code]))
    assert sale.receipt.coupons_used
    [redeemed] = entries(till, EntryKind.COUPON_REDEEMED)
    with Session(hq_lite.engine) as s:
        hold = s.get(Hold, redeemed[3]["hold_id"])
        assert hold is not None and hold.coupon_id == redeemed[3]["coupon_id"]
        assert hold.parent_id is not None and hold.state == "held"


def test_coupons_offline_follow_the_rules_switch(lite_till, hq_lite):
    till = lite_till
    code = _coupon(till)
    text = 'label = "离线不用券"\n[chain]\noffline_coupons = false\n'
    load_rules(till.ctx, till.store.admin, text, "rules.toml")
    till.point_at(f"http://127.0.0.1:{free_port()}")
    with pytest.raises(OfflineRefused) as caught:
        sell(till.ctx, till.store.cashier, req(("V001", 10), coupons=[code]))
    assert caught.value.code == "offline_coupons_off"
    assert entries(till, EntryKind.COUPON_REDEEMED) == []
    # Without the coupon the sale goes through (cash needs no authorization).
    sell(till.ctx, till.store.cashier, req(("V001", 10)))


def test_an_hq_too_slow_to_answer_is_stood_in_for_after_the_timeout(lite_till, hq_lite):
    till = lite_till
    hq_knows_card(hq_lite, till, elsewhere_fen=0)
    till.top_up(10_000)
    with FaultProxy("127.0.0.1", hq_lite.port) as proxy:
        till.point_at(proxy.url)
        proxy.set_fault(Fault.delay(4_000), match="/holds")
        started = time.monotonic()
        pay(till, 20)
        waited = time.monotonic() - started
    assert TIMEOUT_SECONDS <= waited < TIMEOUT_SECONDS + 1.5
    [payment] = entries(till, EntryKind.SV_PAYMENT)
    assert payment[3]["standin"] is True


def test_points_are_held_online_from_the_tills_own_unpushed_points(lite_till, hq_lite):
    till = lite_till
    hq_knows_card(hq_lite, till)
    pay(till, 500, (("cash", None),))  # 500 points, not pushed: HQ's position of it is 0
    pay(till, 10, (("points", 200), ("cash", None)))
    [redeemed] = entries(till, EntryKind.POINTS_REDEEMED)
    with Session(hq_lite.engine) as s:
        hold = s.get(Hold, redeemed[3]["hold_id"])
        assert hold is not None and (hold.points, hold.state) == (200, "held")
    # More than the member has across the chain is declined with what is there.
    with pytest.raises(HqDeclined) as caught:
        pay(till, 1000, (("points", 40_000), ("cash", None)))
    assert caught.value.code == "insufficient_points"
