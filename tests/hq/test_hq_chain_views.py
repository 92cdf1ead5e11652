"""The chain views the ingest keeps (docs/chain-protocol.md): positions without mirrors,
chain members and cards from the rows tills send, a card's chain state by business time,
holds confirmed by the entries naming them, a feed change for everything touched — and the
same views rebuilt from a database that was pushed to before they existed. SQLite and
PostgreSQL, through the real app."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from alembic import command
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from hq import migrate
from hq.models import CardPosition, ChainCard, ChainMember, FeedChange, Hold, MemberPosition, Till
from tests.hq.conftest import Hq
from tests.hq.signing_till import (
    MEMBER,
    OTHER_STORE_UUID,
    STORE_UUID,
    SigningTill,
    chain_with,
)

CARD_1 = "c0000000-0000-4000-8000-000000000001"
T1 = "2026-03-02T01:00:00.000000+00:00"
T2 = "2026-03-02T03:00:00.000000+00:00"


def money(kind: str, principal: int = 0, bonus: int = 0, points: int = 0, **extra: Any) -> dict:  # type: ignore[type-arg]
    return {
        "kind": kind,
        "card_id": CARD_1,
        "member_id": MEMBER,
        "principal_delta": principal,
        "bonus_delta": bonus,
        "points_delta": points,
        **extra,
    }


def member_row(outbox_id: int, name: str = "张三") -> dict[str, Any]:
    data = {
        "id": MEMBER,
        "member_no": "SH010000001",
        "mobile": "13800138000",
        "name": name,
        "store_id": STORE_UUID,
        "tier_code": "normal",
        "points_balance": 0,
    }
    return {"outbox_id": outbox_id, "table": "member", "key": [MEMBER], "op": "U", "data": data}


def card_row(outbox_id: int, principal: int, bonus: int = 0) -> dict[str, Any]:
    data = {
        "id": CARD_1,
        "card_no": "88880001",
        "member_id": MEMBER,
        "media": "ic",
        "state": "active",
        "principal_fen": principal,
        "bonus_fen": bonus,
    }
    return {"outbox_id": outbox_id, "table": "card", "key": [CARD_1], "op": "U", "data": data}


def pushed(hq: Hq, till: SigningTill, entries: list, rows: list | None = None) -> None:  # type: ignore[type-arg]
    answer = hq.push(entries, rows or [], signer=till)
    assert answer.status_code == 200, answer.text


def views(hq: Hq) -> dict[str, Any]:
    with Session(hq.engine) as s:
        codes = dict(s.execute(select(Till.id, Till.code)).all())
        return {
            "cards": sorted(
                (c.card_no, c.member_id, c.state, c.state_source)
                for c in s.scalars(select(ChainCard))
            ),
            "members": sorted((m.member_no, m.name) for m in s.scalars(select(ChainMember))),
            "card_positions": sorted(
                (p.card_id, codes[p.till_id], p.principal_fen, p.bonus_fen)
                for p in s.scalars(select(CardPosition))
            ),
            "member_positions": sorted(
                (p.member_id, codes[p.till_id], p.points) for p in s.scalars(select(MemberPosition))
            ),
        }


def changes(hq: Hq) -> list[tuple[str, str]]:
    with Session(hq.engine) as s:
        return [(c.kind, c.key) for c in s.scalars(select(FeedChange).order_by(FeedChange.id))]


def two_stores(hq: Hq) -> SigningTill:
    beijing = hq.new_till("BJ01")
    pushed(
        hq,
        hq.till,
        chain_with([money("topup", 10_000, 1_000, business_time=T1), money("purchase", points=80)]),
        [member_row(1), card_row(2, 10_000, 1_000)],
    )
    pushed(
        hq,
        beijing,
        chain_with(
            [
                money("card_synced", 10_000, 1_000),
                money("points_synced", points=80),
                money("sv_payment", -3_000, -300, business_time=T2),
                money("purchase", points=25),
            ],
            till="BJ01-01",
            store_id=OTHER_STORE_UUID,
        ),
        [card_row(1, 7_000, 700)],
    )
    return beijing


def test_positions_leave_mirrors_out_and_the_views_follow_the_rows(hq: Hq) -> None:
    two_stores(hq)
    assert views(hq) == {
        "cards": [("88880001", MEMBER, "active", "SH01-01")],
        "members": [("SH010000001", "张三")],
        "card_positions": [(CARD_1, "BJ01-01", -3_000, -300), (CARD_1, "SH01-01", 10_000, 1_000)],
        "member_positions": [(MEMBER, "BJ01-01", 25), (MEMBER, "SH01-01", 80)],
    }
    with Session(hq.engine) as s:
        member = s.get(ChainMember, MEMBER)
        assert member is not None
        sh01 = s.scalar(select(Till.store_id).where(Till.code == "SH01-01"))
        assert member.home_store_id == sh01
    assert ("card", CARD_1) in changes(hq) and ("member", MEMBER) in changes(hq)


def test_only_the_home_store_rewrites_a_member_row(hq: Hq) -> None:
    beijing = two_stores(hq)
    pushed(hq, beijing, [], [member_row(5, name="北京改名")])
    assert views(hq)["members"] == [("SH010000001", "张三")]
    pushed(hq, hq.till, [], [member_row(9, name="张三丰")])
    assert views(hq)["members"] == [("SH010000001", "张三丰")]


def test_the_latest_state_change_by_business_time_wins(hq: Hq) -> None:
    beijing = two_stores(hq)
    pushed(
        hq,
        beijing,
        chain_with(
            [money("card_lost", business_time=T2)],
            start=5,
            prev_hash=_head(hq, "BJ01-01"),
            till="BJ01-01",
            store_id=OTHER_STORE_UUID,
        ),
    )
    assert views(hq)["cards"] == [("88880001", MEMBER, "lost", "BJ01-01")]
    # Shanghai's older "found" arrives later: the newer loss stands.
    pushed(
        hq,
        hq.till,
        chain_with(
            [money("card_found", business_time=T1)], start=3, prev_hash=_head(hq, "SH01-01")
        ),
    )
    assert views(hq)["cards"] == [("88880001", MEMBER, "lost", "BJ01-01")]


def test_an_entry_naming_a_hold_confirms_it(hq: Hq) -> None:
    now = datetime.now(UTC)
    with Session(hq.engine) as s, s.begin():
        till_id = s.scalar(select(Till.id).where(Till.code == "SH01-01"))
        assert till_id is not None
        for hold_id in ("hold-1", "hold-2"):
            s.add(
                Hold(
                    id=hold_id,
                    till_id=till_id,
                    card_id=CARD_1,
                    member_id=MEMBER,
                    amount_fen=2_000,
                    state="held",
                    created_at=now.isoformat(),
                    expires_at=(now + timedelta(seconds=120)).isoformat(),
                )
            )
    payload = json.dumps({"hold_id": "hold-1"}, sort_keys=True, separators=(",", ":"))
    pushed(
        hq,
        hq.till,
        chain_with([money("topup", 5_000), money("sv_payment", -2_000, payload=payload)]),
    )
    with Session(hq.engine) as s:
        held = {h.id: (h.state, h.entry_seq) for h in s.scalars(select(Hold))}
    assert held == {"hold-1": ("confirmed", 2), "hold-2": ("held", None)}


def test_a_database_pushed_to_before_the_chain_views_gets_them_on_upgrade(hq: Hq) -> None:
    two_stores(hq)
    expected = views(hq)
    assert expected["card_positions"]
    # Back to the schema of issue 13 (the views' tables are gone; what is left is what the
    # issue-13 ingest stored), then `pos-hq init`. SQLite's batch downgrade rebuilds `store`,
    # which its foreign-key check would refuse mid-way: a plain engine leaves the check off.
    bare = create_engine(hq.url)
    try:
        command.downgrade(migrate.alembic_config(bare), "0002")
    finally:
        bare.dispose()
    assert migrate.current_revision(hq.engine) == "0002"
    assert migrate.upgrade(hq.engine)
    assert views(hq) == expected
    assert {("card", CARD_1), ("member", MEMBER)} <= set(changes(hq))


def _head(hq: Hq, till: str) -> str:
    with Session(hq.engine) as s:
        head = s.scalar(select(Till.head_hash).where(Till.code == till))
        assert head is not None
        return head
