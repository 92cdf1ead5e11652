"""HQ's online authorization (docs/chain-protocol.md, "Spending a card anywhere"): holds
against the chain balance, refusals, release, expiry; on SQLite and PostgreSQL, and two
tills racing for the last yuan on a real PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session

from hq import migrate
from hq.admin import iso
from hq.authorization import HOLD_SECONDS, place_hold, release_hold
from hq.engine import open_engine
from hq.models import (
    CardPosition,
    ChainCard,
    ChainMember,
    Hold,
    HqLedgerEntry,
    MemberPosition,
    Till,
)
from hq.sync_refusals import SyncRefusal
from tests.hq.signing_till import add_store_and_till, body_of
from tests.sync_support.hq_databases import hq_database

CARD = "9c8d7e6f-3333-4a5b-9c6d-0000000000c1"
MEMBER = "7a9b0c1d-2222-4e3f-8a4b-0000000000a1"
COUPON = "3c3c3c3c-4444-4a5b-9c6d-0000000000f1"
NOW = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)


def seed_card(engine: Engine, *, state: str = "active") -> None:
    with Session(engine) as s, s.begin():
        s.execute(
            insert(ChainMember).values(
                id=MEMBER,
                member_no="SH010000001",
                mobile="13800000001",
                name="张三",
                home_store_id=None,
                tier_code="normal",
                data={"id": MEMBER},
                updated_at=iso(NOW),
            )
        )
        s.execute(
            insert(ChainCard).values(
                id=CARD,
                card_no="8800000000000001",
                member_id=MEMBER,
                home_store_id=None,
                state=state,
                state_at=iso(NOW),
                state_source="SH01-01",
                data={"id": CARD, "card_no": "8800000000000001", "media": "magstripe"},
                updated_at=iso(NOW),
            )
        )


def till_id(engine: Engine, code: str) -> int:
    with Session(engine) as s:
        found = s.scalar(select(Till.id).where(Till.code == code))
    assert found is not None
    return found


def position(engine: Engine, till: str, principal: int, bonus: int = 0, points: int = 0) -> None:
    with Session(engine) as s, s.begin():
        tid = till_id(engine, till)
        s.execute(
            insert(CardPosition).values(
                card_id=CARD, till_id=tid, principal_fen=principal, bonus_fen=bonus, last_seq=1
            )
        )
        s.execute(
            insert(MemberPosition).values(member_id=MEMBER, till_id=tid, points=points, last_seq=1)
        )


def ask(engine: Engine, till: str, now: datetime = NOW, **body: Any) -> dict[str, Any]:
    request = {"card_id": CARD, "member_id": MEMBER, "amount_fen": 0, "points": 0}
    request.update(body)
    return place_hold(engine, till, body_of(request), now)


def refusal(engine: Engine, till: str, now: datetime = NOW, **body: Any) -> SyncRefusal:
    with pytest.raises(SyncRefusal) as caught:
        ask(engine, till, now, **body)
    return caught.value


def holds(engine: Engine) -> dict[str, str]:
    with Session(engine) as s:
        return {h.id: h.state for h in s.scalars(select(Hold))}


@pytest.fixture
def two_tills(hq):
    """HQ with SH01-01 and BJ01-01 (a second store), and card 8800…0001 known to HQ."""
    other = hq.new_till("BJ01")
    assert other.code == "BJ01-01"
    seed_card(hq.engine)
    return hq, other


def test_a_card_topped_up_at_one_store_is_authorized_at_another(two_tills):
    hq, other = two_tills
    position(hq.engine, "SH01-01", 30_000, 5_000, points=800)
    path = "/v1/tills/BJ01-01/holds"
    body = body_of({"card_id": CARD, "member_id": MEMBER, "amount_fen": 12_000, "points": 300})
    answer = hq.client.post(path, content=body, headers=other.headers("POST", path, body))
    assert answer.status_code == 200, answer.text
    data = answer.json()
    assert data["card"]["external_principal_fen"] == 30_000
    assert data["card"]["external_bonus_fen"] == 5_000
    assert data["card"]["card_no"] == "8800000000000001"
    assert data["card"]["state"] == "active"
    assert data["member"]["external_points"] == 800
    expires = datetime.fromisoformat(data["expires_at"])
    assert timedelta(seconds=HOLD_SECONDS - 5) < expires - datetime.now(UTC)
    assert holds(hq.engine) == {data["hold_id"]: "held"}
    # The held 120.00 counts at once: 350.00 - 120.00 is all that is left.
    refused = refusal(hq.engine, "SH01-01", datetime.now(UTC), amount_fen=23_001)
    assert refused.code == "insufficient_balance"
    assert refused.details["available_fen"] == 23_000
    assert refusal(hq.engine, "SH01-01", datetime.now(UTC), points=501).code == (
        "insufficient_points"
    )
    assert ask(hq.engine, "SH01-01", datetime.now(UTC), amount_fen=23_000, points=500)["hold_id"]


def test_refusals_answer_with_the_protocols_code_and_details(two_tills):
    hq, other = two_tills
    position(hq.engine, "SH01-01", 1_000)
    path = "/v1/tills/BJ01-01/holds"
    body = body_of({"card_id": CARD, "member_id": MEMBER, "amount_fen": 1_001})
    answer = hq.client.post(path, content=body, headers=other.headers("POST", path, body))
    assert answer.status_code == 409
    assert answer.json()["code"] == "insufficient_balance"
    assert answer.json()["available_fen"] == 1_000
    assert "10.00" in answer.json()["zh"] and "10.00" in answer.json()["en"]
    body = body_of({"card_id": "no-such-card", "amount_fen": 100})
    answer = hq.client.post(path, content=body, headers=other.headers("POST", path, body))
    assert (answer.status_code, answer.json()["code"]) == (404, "card_unknown")
    body = body_of({"card_id": CARD, "amount_fen": -5})
    answer = hq.client.post(path, content=body, headers=other.headers("POST", path, body))
    assert (answer.status_code, answer.json()["code"]) == (422, "invalid_input")
    # A till authorizes only for itself.
    body = body_of({"card_id": CARD, "amount_fen": 100})
    answer = hq.client.post(
        "/v1/tills/SH01-01/holds",
        content=body,
        headers=other.headers("POST", "/v1/tills/SH01-01/holds", body),
    )
    assert answer.status_code == 403
    assert holds(hq.engine) == {}


@pytest.mark.parametrize("state", ["lost", "frozen", "replaced", "cancelled"])
def test_a_blocked_card_is_declined_everywhere(hq_url, tmp_path, state):
    engine = open_engine(hq_url)
    try:
        migrate.upgrade(engine)
        with Session(engine) as s, s.begin():
            add_store_and_till(s, "SH01")
        seed_card(engine, state=state)
        position(engine, "SH01-01", 50_000)
        refused = refusal(engine, "SH01-01", amount_fen=100)
        assert refused.code == "card_blocked"
        assert refused.details == {"state": state}
        assert "8800" in refused.zh and "0001" in refused.en and "000000000" not in refused.en
        assert holds(engine) == {}
    finally:
        engine.dispose()


def test_a_released_hold_stops_counting_and_only_its_till_may_release_it(two_tills):
    hq, other = two_tills
    position(hq.engine, "SH01-01", 10_000)
    first = ask(hq.engine, "BJ01-01", datetime.now(UTC), amount_fen=10_000)
    assert refusal(hq.engine, "SH01-01", datetime.now(UTC), amount_fen=1).code == (
        "insufficient_balance"
    )
    with pytest.raises(SyncRefusal) as caught:
        release_hold(hq.engine, "SH01-01", first["hold_id"], datetime.now(UTC))
    assert caught.value.code == "not_found"
    path = f"/v1/tills/BJ01-01/holds/{first['hold_id']}/release"
    answer = hq.client.post(path, headers=other.headers("POST", path))
    assert answer.json() == {"hold_id": first["hold_id"], "state": "released"}
    # Releasing twice changes nothing.
    again = release_hold(hq.engine, "BJ01-01", first["hold_id"], datetime.now(UTC))
    assert again["state"] == "released"
    assert ask(hq.engine, "SH01-01", datetime.now(UTC), amount_fen=10_000)["hold_id"]


def test_an_unconfirmed_hold_expires_by_time_and_is_marked_lazily(two_tills):
    hq, _ = two_tills
    position(hq.engine, "SH01-01", 10_000)
    first = ask(hq.engine, "BJ01-01", NOW, amount_fen=8_000)
    just_before = NOW + timedelta(seconds=HOLD_SECONDS - 1)
    assert refusal(hq.engine, "SH01-01", just_before, amount_fen=2_001).code == (
        "insufficient_balance"
    )
    at_expiry = NOW + timedelta(seconds=HOLD_SECONDS)
    second = ask(hq.engine, "SH01-01", at_expiry, amount_fen=10_000)
    assert holds(hq.engine) == {first["hold_id"]: "expired", second["hold_id"]: "held"}


def test_the_asking_tills_own_position_comes_from_its_ledger(two_tills):
    """A top-up the till has not pushed yet: the till reports its own position, and its
    own earlier holds (already in that position, or failed) do not count twice."""
    hq, _ = two_tills
    position(hq.engine, "BJ01-01", 2_000)
    refused = refusal(hq.engine, "SH01-01", amount_fen=7_000)
    assert refused.details["available_fen"] == 2_000
    own = {"own_principal_fen": 5_000, "own_bonus_fen": 0}
    ask(hq.engine, "SH01-01", amount_fen=4_000, **own)
    # Its 40.00 is in its reported position now (the sale committed): 70.00 still stands.
    ask(hq.engine, "SH01-01", amount_fen=3_000, own_principal_fen=1_000, own_bonus_fen=0)
    # The other till sees both of SH01-01's holds: 20.00 + 0 − 70.00 held.
    assert refusal(hq.engine, "BJ01-01", amount_fen=1).code == "insufficient_balance"


def test_a_coupon_held_or_redeemed_at_another_till_is_refused(two_tills):
    hq, _ = two_tills
    position(hq.engine, "SH01-01", 0)
    first = ask(hq.engine, "SH01-01", coupon_ids=[COUPON])
    assert len(first["coupon_holds"]) == 1
    refused = refusal(hq.engine, "BJ01-01", coupon_ids=[COUPON])
    assert refused.code == "coupon_used"
    assert refused.details == {"coupon_id": COUPON, "till": "SH01-01"}
    # Releasing the sale's hold releases its coupon's hold with it.
    release_hold(hq.engine, "SH01-01", first["hold_id"], NOW)
    assert set(holds(hq.engine).values()) == {"released"}
    ask(hq.engine, "BJ01-01", coupon_ids=[COUPON])
    # Redeemed at a till and pushed (no hold): refused too, until a refund restores it.
    with Session(hq.engine) as s, s.begin():
        s.execute(
            insert(HqLedgerEntry).values(
                till_id=till_id(hq.engine, "SH01-01"),
                seq=1,
                entry_id="e1",
                source_store_id="s",
                source_till_id="SH01-01",
                kind="coupon_redeemed",
                member_id=MEMBER,
                card_id=None,
                operator_id="o",
                business_time=iso(NOW),
                wall_time=iso(NOW),
                principal_delta=0,
                bonus_delta=0,
                points_delta=0,
                amount_fen=500,
                rules_version=1,
                payload=f'{{"code":"C1","coupon_id":"{COUPON}","receipt_no":"R1"}}',
                prev_hash="0" * 64,
                hash="1" * 64,
                received_at=iso(NOW),
            )
        )
    later = NOW + timedelta(seconds=HOLD_SECONDS + 1)
    assert refusal(hq.engine, "BJ01-01", later, coupon_ids=[COUPON]).code == "coupon_used"


def test_ping_is_a_signed_request_that_does_nothing(hq):
    path = f"/v1/tills/{hq.till.code}/ping"
    answer = hq.client.post(path, headers=hq.till.headers("POST", path))
    assert answer.json() == {"till": "SH01-01"}
    assert hq.client.post(path).status_code == 401


@pytest.mark.parametrize("kind", ["postgresql", "sqlite"])
def test_two_tills_racing_for_the_last_yuan(kind, tmp_path):
    """Rounds of eight requests (four from each of two tills) at the same instant, each for
    a quarter of the card's balance: each round exactly four win, never a fifth."""
    with hq_database(kind, tmp_path) as url:
        engine = open_engine(url)
        try:
            migrate.upgrade(engine)
            with Session(engine) as s, s.begin():
                add_store_and_till(s, "SH01")
                add_store_and_till(s, "BJ01")
            seed_card(engine)
            position(engine, "SH01-01", 10_000)
            rounds, per_till = 10, 4
            for n in range(rounds):
                now = NOW + timedelta(seconds=n * (HOLD_SECONDS + 1))  # earlier holds expired
                start = threading.Barrier(2 * per_till)
                outcomes: list[str] = []

                def try_hold(
                    till: str,
                    now: datetime = now,
                    start: threading.Barrier = start,
                    outcomes: list[str] = outcomes,
                ) -> None:
                    start.wait()
                    try:
                        ask(engine, till, now, amount_fen=2_500, member_id=None)
                        outcomes.append("held")
                    except SyncRefusal as exc:
                        outcomes.append(exc.code)

                threads = [
                    threading.Thread(target=try_hold, args=(t,))
                    for t in ("SH01-01", "BJ01-01") * per_till
                ]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join(timeout=30)
                assert sorted(outcomes) == ["held"] * 4 + ["insufficient_balance"] * 4, (
                    n,
                    outcomes,
                )
            with Session(engine) as s:
                assert len(s.scalars(select(Hold)).all()) == rounds * 4
        finally:
            engine.dispose()
