"""Conflicts HQ finds once the tills have synced, on SQLite and PostgreSQL.

SH01 and BJ01 are real tills (their members, cards, coupons and sales through the services).
GZ01's till was offline and did what it could not know was wrong: its entries are built on
the wire, hashed as a till hashes them, spending SH01's card after SH01 reported it lost,
using SH01's coupon again and paying with points the member does not have. BJ01 registered
a member with a mobile SH01 already had, and spent its own card after HQ froze it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from db.engine import read_session
from db.models import Card, Coupon, Member
from hq import conflicts, migrate
from hq.cli import main
from hq.engine import open_engine
from hq.errors import HqError, HqInvalidInput
from hq.models import HqAudit, Till
from pos_app.domain.coupons import TemplateSpec
from pos_app.services import stored_value
from pos_app.services.cards import report_card_lost
from pos_app.services.checkout import sell
from pos_app.services.coupons import add_template, issue_coupons
from tests.hq.chain_tills import ChainTill, deliver, open_chain_till, register_at_hq
from tests.hq.signing_till import chain_with
from tests.services.support import req

JAN = datetime(2027, 1, 10, 2, 0, tzinfo=UTC)
NAMES = {"SH01": "上海南京路店", "BJ01": "北京王府井店", "GZ01": "广州天河店"}
MOBILE = "13800000001"
GZ_STORE = "0b1e4c52-6c1f-4f7e-9a77-3f2d8a1c0003"


def at(hours: float) -> str:
    return (JAN + timedelta(hours=hours)).isoformat(timespec="microseconds")


@dataclass
class Chain:
    sh: ChainTill
    bj: ChainTill
    batches: list[tuple[str, bytes]]  # (till, batch) in the order they reach HQ
    card_id: str
    member_id: str
    coupon_id: str
    bj_card_id: str
    laundry_fen: int
    points: int  # member A's points after SH01's sales
    frozen_at: str  # when HQ froze BJ01's card


def ids(till: ChainTill) -> tuple[str, str]:
    with read_session(till.store.ctx.engine) as session:
        card = session.scalars(select(Card).where(Card.card_no == till.card_no)).one()
        return card.id, card.member_id


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chain]:
    folder = tmp_path_factory.mktemp("conflicts")
    sh = open_chain_till(folder, "SH01-01", NAMES["SH01"], MOBILE, "88880001", JAN)
    # BJ01 registers its member a minute later, with the same mobile.
    later = JAN + timedelta(minutes=1)
    bj = open_chain_till(folder, "BJ01-01", NAMES["BJ01"], MOBILE, "88880002", later)
    card_id, member_id = ids(sh)
    bj_card_id, _ = ids(bj)
    ctx, cashier = sh.store.ctx, sh.store.cashier
    stored_value.top_up(ctx, cashier, sh.card_no, 50_000)
    sh.at(JAN + timedelta(minutes=10))
    laundry = sell(ctx, cashier, req(("H001", 1), card=sh.card_no, pay=[("stored_value", None)]))
    add_template(
        ctx,
        sh.store.manager,
        TemplateSpec(
            code="T5", name="立减5元", kind="amount_off", amount_off_fen=500, valid_days=30
        ),
    )
    (coupon,) = issue_coupons(ctx, sh.store.manager, "T5", sh.member_no, 1)
    sell(ctx, cashier, req(("H001", 1), card=sh.card_no, coupons=(coupon.code,)))
    with read_session(ctx.engine) as session:
        coupon_id = session.scalars(select(Coupon.id).where(Coupon.code == coupon.code)).one()
        points = session.scalars(select(Member.points_balance).where(Member.id == member_id)).one()
    sh.at(JAN + timedelta(hours=1))
    report_card_lost(ctx, cashier, sh.card_no)
    # GZ01, offline, two hours later: the card's whole balance, the coupon, 1,000 points.
    gz = chain_with(
        [
            {
                "kind": "sv_payment",
                "card_id": card_id,
                "member_id": member_id,
                "principal_delta": -50_000,
                "bonus_delta": -5_000,
                "points_delta": 0,
                "amount_fen": 55_000,
                "business_time": at(2),
            },
            {
                "kind": "coupon_redeemed",
                "card_id": None,
                "member_id": member_id,
                "principal_delta": 0,
                "bonus_delta": 0,
                "points_delta": 0,
                "amount_fen": 500,
                "business_time": at(2.1),
                "payload": json.dumps(
                    {"coupon_id": coupon_id, "code": coupon.code, "receipt_no": "GZ01-01-1"},
                    sort_keys=True,
                    separators=(",", ":"),
                ),
            },
            {
                "kind": "points_redeemed",
                "card_id": None,
                "member_id": member_id,
                "principal_delta": 0,
                "bonus_delta": 0,
                "points_delta": -1_000,
                "amount_fen": 1_000,
                "business_time": at(2.2),
            },
        ],
        till="GZ01-01",
        store_id=GZ_STORE,
    )
    bctx, bcashier = bj.store.ctx, bj.store.cashier
    stored_value.top_up(bctx, bcashier, bj.card_no, 10_000)
    bj.at(JAN + timedelta(hours=3))  # after HQ froze the card at hour 2.5
    sell(bctx, bcashier, req(("H001", 1), card=bj.card_no, pay=[("stored_value", None)]))
    batches = [
        ("SH01-01", sh.take_batch()),
        ("BJ01-01", bj.take_batch()),
        ("GZ01-01", json.dumps({"entries": gz, "rows": []}).encode("utf-8")),
    ]
    yield Chain(
        sh,
        bj,
        batches,
        card_id,
        member_id,
        coupon_id,
        bj_card_id,
        laundry.total_fen,
        points,
        at(2.5),
    )
    sh.close()
    bj.close()


@pytest.fixture
def hq_engine(hq_url: str, chain: Chain) -> Iterator[Engine]:
    engine = open_engine(hq_url)
    migrate.upgrade(engine)
    register_at_hq(engine, ["SH01-01", "BJ01-01", "GZ01-01"], NAMES)
    for till, body in chain.batches:
        deliver(engine, till, body)
    with Session(engine) as session, session.begin():
        # The HQ console froze BJ01's card: the console records it so in hq_audit.
        session.add(
            HqAudit(
                at=chain.frozen_at,
                actor="admin",
                action="card_state",
                outcome="ok",
                target=chain.bj_card_id,
                detail={
                    "card_id": chain.bj_card_id,
                    "state": "frozen",
                    "business_time": chain.frozen_at,
                },
            )
        )
    try:
        yield engine
    finally:
        engine.dispose()


def detect(engine: Engine) -> int:
    with Session(engine) as session, session.begin():
        return conflicts.detect(session, datetime.now(UTC))


def listed(engine: Engine, **kwargs: Any) -> list[conflicts.ConflictView]:
    with Session(engine) as session:
        return conflicts.list_conflicts(session, **kwargs)


def test_every_conflict_is_found_once(hq_engine: Engine, chain: Chain):
    assert detect(hq_engine) == 6
    assert detect(hq_engine) == 0  # the same conflicts: nothing new
    found = {(c.kind, c.detail.get("till") or ""): c for c in listed(hq_engine)}
    assert sorted(found) == [
        ("card_used_while_blocked", "BJ01-01"),
        ("card_used_while_blocked", "GZ01-01"),
        ("coupon_reused", ""),
        ("mobile_duplicate", ""),
        ("offline_overspend", ""),
        ("points_overspend", ""),
    ]
    # The card's principal: ¥500 less laundry at SH01 less ¥500 at GZ01; the bonus is zero.
    overspend = found[("offline_overspend", "")]
    assert overspend.amount_fen == chain.laundry_fen
    assert overspend.card_no_masked == "88****01"
    assert overspend.member_no == chain.sh.member_no
    assert overspend.tills == ["GZ01-01", "SH01-01"]
    assert overspend.detail["principal_fen"] == -chain.laundry_fen

    lost = found[("card_used_while_blocked", "GZ01-01")]
    assert (lost.amount_fen, lost.detail["state"]) == (55_000, "lost")
    assert lost.tills == ["GZ01-01", "SH01-01"]
    frozen = found[("card_used_while_blocked", "BJ01-01")]
    assert frozen.detail["state"] == "frozen" and frozen.tills == ["BJ01-01", "hq:admin"]
    assert frozen.card_no_masked == "88****02"

    coupon = found[("coupon_reused", "")]
    assert (coupon.amount_fen, coupon.tills) == (500, ["GZ01-01", "SH01-01"])
    assert coupon.detail["coupon_id"] == chain.coupon_id

    points = found[("points_overspend", "")]
    assert points.points == 1_000 - chain.points > 0
    assert points.tills == ["GZ01-01"]

    mobile = found[("mobile_duplicate", "")]
    assert mobile.member_no == chain.bj.member_no  # the later member of the two
    assert mobile.detail["mobile_masked"] == "138****0001"
    assert MOBILE not in json.dumps(mobile.as_json())

    with Session(hq_engine) as session:
        debts = conflicts.member_debts(session)
    assert {(d.kind, d.amount_fen, d.points) for d in debts} == {
        ("offline_overspend", chain.laundry_fen, 0),
        ("points_overspend", 0, 1_000 - chain.points),
    }


def test_a_store_manager_sees_the_conflicts_of_their_store(hq_engine: Engine, chain: Chain):
    detect(hq_engine)
    with Session(hq_engine) as session:
        bj = session.scalar(select(Till.store_id).where(Till.code == "BJ01-01"))
        assert bj is not None
        mine = conflicts.list_conflicts(session, store_ids=[bj])
    assert sorted(c.kind for c in mine) == ["card_used_while_blocked", "mobile_duplicate"]


def test_resolving_a_conflict(hq_engine: Engine, chain: Chain):
    detect(hq_engine)
    coupon = next(c for c in listed(hq_engine) if c.kind == "coupon_reused")
    now = datetime(2027, 1, 12, tzinfo=UTC)
    with Session(hq_engine) as session, session.begin():
        done = conflicts.resolve(session, coupon.id, "finance", "  会员已补差价 member paid  ", now)
    assert (done.resolved, done.resolved_by, done.resolution) == (
        True,
        "finance",
        "会员已补差价 member paid",
    )
    assert coupon.id not in {c.id for c in listed(hq_engine)}
    assert coupon.id in {c.id for c in listed(hq_engine, include_resolved=True)}
    assert detect(hq_engine) == 0  # a resolved conflict is not found again
    with Session(hq_engine) as session, session.begin():
        with pytest.raises(HqError) as twice:
            conflicts.resolve(session, coupon.id, "finance", "again", now)
        assert twice.value.code == "already_resolved"
        with pytest.raises(HqError) as unknown:
            conflicts.resolve(session, 999_999, "finance", "note", now)
        assert unknown.value.code == "not_found"
        with pytest.raises(HqInvalidInput):
            conflicts.resolve(session, coupon.id + 1, "finance", "   ", now)
        audit = session.scalars(select(HqAudit).where(HqAudit.action == "conflict_resolved")).all()
        assert [(a.actor, a.target) for a in audit] == [("finance", str(coupon.id))]


def test_an_overspend_follows_the_balance_until_resolved(hq_engine: Engine, chain: Chain):
    detect(hq_engine)
    # The member pays the debt back at GZ01: a top-up on the card.
    repay = chain_with(
        [
            {
                "kind": "topup",
                "card_id": chain.card_id,
                "member_id": chain.member_id,
                "principal_delta": 10_000,
                "bonus_delta": 0,
                "points_delta": 0,
                "amount_fen": 10_000,
                "business_time": at(30),
            }
        ],
        start=4,
        prev_hash=json.loads(chain.batches[2][1])["entries"][-1]["hash"],
        till="GZ01-01",
        store_id=GZ_STORE,
    )
    deliver(hq_engine, "GZ01-01", json.dumps({"entries": repay, "rows": []}).encode("utf-8"))
    # Nothing new but the top-up itself: the card is still reported lost.
    assert detect(hq_engine) == 1
    topped = [c for c in listed(hq_engine) if c.detail.get("entry_kind") == "topup"]
    assert [(c.kind, c.amount_fen) for c in topped] == [("card_used_while_blocked", 10_000)]
    overspend = next(c for c in listed(hq_engine) if c.kind == "offline_overspend")
    assert overspend.amount_fen == 0 and overspend.detail["settled"] is True


def test_the_conflicts_command(hq_url: str, hq_engine: Engine, chain: Chain):
    result = CliRunner().invoke(main, ["--db", hq_url, "--json", "conflicts"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["new"] == 6
    first = data["conflicts"][0]
    assert {"kind", "card_no_masked", "amount_fen", "tills", "id", "points", "detected_at"} <= set(
        first
    )
    overspend = next(c for c in data["conflicts"] if c["kind"] == "offline_overspend")
    assert (overspend["card_no_masked"], overspend["amount_fen"]) == (
        "88****01",
        chain.laundry_fen,
    )
    assert overspend["tills"] == ["GZ01-01", "SH01-01"] and overspend["resolved"] is False
    assert any(d["debt_fen"] == chain.laundry_fen for d in data["debts"])

    text = CliRunner().invoke(main, ["--db", hq_url, "conflicts"])
    assert text.exit_code == 0, text.output
    assert "离线透支 offline overspend" in text.stdout and "88****01" in text.stdout
    assert "88880001" not in text.stdout

    def resolve(note: str) -> Any:
        args = ["--db", hq_url, "--json", "conflicts", "resolve", str(overspend["id"])]
        return CliRunner().invoke(main, [*args, "--note", note])

    done = resolve("已追回")
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["resolution"] == "已追回"
    again = resolve("x")
    assert again.exit_code == 1 and json.loads(again.stdout)["error"] == "already_resolved"
    assert resolve(" ").exit_code == 2

    def ids(*flags: str) -> set[int]:
        shown = CliRunner().invoke(main, ["--db", hq_url, "--json", "conflicts", *flags])
        return {c["id"] for c in json.loads(shown.stdout)["conflicts"]}

    assert overspend["id"] not in ids() and overspend["id"] in ids("--all")
