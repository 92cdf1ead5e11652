"""Monthly clearing (月结算) at HQ, on SQLite and PostgreSQL, from real tills of two stores:
top-ups, stored-value and points payments, a count card sold and used, pushed to HQ as the
pusher sends them. Every figure is worked out by hand from what the cashiers did; a closed
month stays as it was, and records that arrive after it count in the next month."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from hq import clearing, migrate
from hq.cli import main
from hq.engine import open_engine
from hq.errors import HqError, HqInvalidInput
from hq.models import HqAudit, HqLedgerEntry, Till
from pos_app.domain.permissions import Permission
from pos_app.services import stored_value
from pos_app.services.checkout import SaleResult, sell
from pos_app.services.sale_refund import refund_sale
from pos_app.services.stored_value import TopUpResult
from tests.hq.chain_tills import ChainTill, deliver, open_chain_till, register_at_hq
from tests.hq.signing_till import chain_with
from tests.services.support import EXAMPLE_TEXT, req

JAN = datetime(2027, 1, 10, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
FEB = datetime(2027, 2, 3, 2, 0, tzinfo=UTC)
JAN_OVER = datetime(2027, 1, 31, 16, 0, tzinfo=UTC)  # 1 February, midnight in Shanghai
NAMES = {"SH01": "上海南京路店", "BJ01": "北京王府井店"}


@dataclass
class Trading:
    """What two stores' cashiers did, and the batches their tills would push."""

    sh_topup: TopUpResult
    count_card: SaleResult
    wash: SaleResult
    laundry: SaleResult
    with_points: SaleResult
    bj_topup: TopUpResult
    bj_laundry: SaleResult
    feb_topup: TopUpResult
    sh_jan: bytes
    bj_jan: bytes
    sh_feb: bytes
    tills: list[ChainTill]


@pytest.fixture(scope="module")
def trading(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Trading]:
    folder = tmp_path_factory.mktemp("chain")
    sh = open_chain_till(folder, "SH01-01", NAMES["SH01"], "13800000001", "88880001", JAN)
    bj = open_chain_till(folder, "BJ01-01", NAMES["BJ01"], "13800000002", "88880002", JAN)
    ctx, cashier, card = sh.store.ctx, sh.store.cashier, sh.card_no
    sh_topup = stored_value.top_up(ctx, cashier, card, 50_000)
    count_card = sell(ctx, cashier, req(("C010", 1), card=card, pay=[("cash", None)]))
    wash = sell(ctx, cashier, req(("SV01", 1), card=card, pay=[("count_card", None)]))
    laundry = sell(ctx, cashier, req(("H001", 1), card=card, pay=[("stored_value", None)]))
    with_points = sell(
        ctx, cashier, req(("H001", 1), card=card, pay=[("points", 100), ("cash", None)])
    )
    sh_jan = sh.take_batch()
    bctx, bcashier = bj.store.ctx, bj.store.cashier
    bj_topup = stored_value.top_up(bctx, bcashier, bj.card_no, 100_000)
    bj_laundry = sell(
        bctx, bcashier, req(("H001", 1), card=bj.card_no, pay=[("stored_value", None)])
    )
    bj_jan = bj.take_batch()
    sh.at(FEB)
    feb_topup = stored_value.top_up(ctx, cashier, card, 20_000)
    # The January wash is returned: its use goes back on the card.
    refund_sale(ctx, cashier, wash.receipt_no, approval=sh.store.approval(Permission.SALE_REFUND))
    sh_feb = sh.take_batch()
    yield Trading(
        sh_topup,
        count_card,
        wash,
        laundry,
        with_points,
        bj_topup,
        bj_laundry,
        feb_topup,
        sh_jan,
        bj_jan,
        sh_feb,
        [sh, bj],
    )
    for till in (sh, bj):
        till.close()


@pytest.fixture
def hq_engine(hq_url: str, trading: Trading) -> Iterator[Engine]:
    engine = open_engine(hq_url)
    migrate.upgrade(engine)
    register_at_hq(engine, [till.code for till in trading.tills], NAMES)
    try:
        yield engine
    finally:
        engine.dispose()


def lines_of(result: clearing.Statement) -> dict[str, clearing.StoreLine]:
    return {line.store: line for line in result.lines}


def statement(engine: Engine, month: str) -> clearing.Statement:
    with Session(engine) as session, session.begin():
        return clearing.statement(session, month)


def close(engine: Engine, month: str, now: datetime = JAN_OVER) -> clearing.Statement:
    with Session(engine) as session, session.begin():
        return clearing.close_month(session, month, "finance", now)


def sh_january(t: Trading) -> dict[str, int]:
    """SH01's January by hand: ¥500 topped up (¥50 bonus by the example rules), a ¥400
    ten-wash card sold for cash and one wash taken from it (¥40, a tenth of the card), laundry
    paid from the card, 100 points (¥1 at 100 points a yuan) paid on a second laundry."""
    assert (t.sh_topup.amount_fen, t.sh_topup.bonus_fen) == (50_000, 5_000)
    assert t.count_card.total_fen == 40_000
    earned = t.count_card.points_earned + t.laundry.points_earned + t.with_points.points_earned
    earned += t.wash.points_earned
    assert earned > 0
    return {
        "stored_value_sold_fen": 50_000,
        "bonus_granted_fen": 5_000,
        "stored_value_redeemed_fen": t.laundry.total_fen,
        "stored_value_other_fen": 0,
        "points_issued": earned,
        "points_redeemed": 100,
        "points_other": 0,
        "points_issued_value_fen": earned,  # 100 points a yuan: one fen a point
        "points_redeemed_value_fen": 100,
        "points_value_fen": earned - 100,
        "count_card_sold_fen": 40_000,
        "count_card_used_fen": 4_000,
        "net_fen": t.laundry.total_fen - 55_000,
    }


def bj_january(t: Trading) -> dict[str, int]:
    """BJ01's January: ¥1,000 topped up (¥150 bonus), laundry paid from the card."""
    assert (t.bj_topup.amount_fen, t.bj_topup.bonus_fen) == (100_000, 15_000)
    return {
        "stored_value_sold_fen": 100_000,
        "bonus_granted_fen": 15_000,
        "stored_value_redeemed_fen": t.bj_laundry.total_fen,
        "stored_value_other_fen": 0,
        "points_issued": t.bj_laundry.points_earned,
        "points_redeemed": 0,
        "points_other": 0,
        "points_issued_value_fen": t.bj_laundry.points_earned,
        "points_redeemed_value_fen": 0,
        "points_value_fen": t.bj_laundry.points_earned,
        "count_card_sold_fen": 0,
        "count_card_used_fen": 0,
        "net_fen": t.bj_laundry.total_fen - 115_000,
    }


def figures(line: clearing.StoreLine) -> dict[str, int]:
    data = line.as_json()
    return {k: v for k, v in data.items() if k not in ("store_id", "store", "name")}


def test_a_month_of_two_stores_by_hand(hq_engine: Engine, trading: Trading):
    deliver(hq_engine, "SH01-01", trading.sh_jan)
    deliver(hq_engine, "BJ01-01", trading.bj_jan)
    january = statement(hq_engine, "2027-01")
    lines = lines_of(january)
    assert list(lines) == ["BJ01", "SH01"]
    assert lines["SH01"].name == NAMES["SH01"]
    assert figures(lines["SH01"]) == sh_january(trading)
    assert figures(lines["BJ01"]) == bj_january(trading)
    # What members hold at the end: both cards' principal and bonus less what they spent.
    held = 55_000 - trading.laundry.total_fen + 115_000 - trading.bj_laundry.total_fen
    assert (january.liability_start_fen, january.liability_end_fen) == (0, held)
    assert january.liability_change_fen == held
    assert january.net_total_fen == -held
    assert january.invariant_ok and not january.closed
    # A store manager's view: only their store's line; the check is still the chain's.
    with Session(hq_engine) as session, session.begin():
        bj_id = session.scalar(select(Till.store_id).where(Till.code == "BJ01-01"))
        assert bj_id is not None
        narrowed = clearing.statement(session, "2027-01", store_ids=[bj_id])
    assert [line.store for line in narrowed.lines] == ["BJ01"]
    assert narrowed.invariant_ok and narrowed.net_total_fen == -held
    # Nothing was counted in February yet.
    february = statement(hq_engine, "2027-02")
    assert all(line.net_fen == 0 for line in february.lines)
    assert february.liability_start_fen == february.liability_end_fen == held
    assert february.invariant_ok


def test_a_closed_month_is_frozen_and_late_records_fall_into_the_next(
    hq_engine: Engine, trading: Trading
):
    deliver(hq_engine, "SH01-01", trading.sh_jan)
    before = statement(hq_engine, "2027-01")
    closed = close(hq_engine, "2027-01")
    assert closed.closed and closed.closed_by == "finance"
    assert closed.lines == before.lines and closed.invariant_ok
    # BJ01 was offline all January: its January arrives now, with SH01's February.
    deliver(hq_engine, "BJ01-01", trading.bj_jan)
    deliver(hq_engine, "SH01-01", trading.sh_feb)
    again = statement(hq_engine, "2027-01")
    assert again == closed
    assert figures(lines_of(again)["BJ01"])["net_fen"] == 0
    february = statement(hq_engine, "2027-02")
    lines = lines_of(february)
    assert figures(lines["BJ01"]) == bj_january(trading)
    assert lines["SH01"].stored_value_sold_fen == 20_000 == trading.feb_topup.amount_fen
    assert lines["SH01"].net_fen == -20_000
    assert lines["SH01"].count_card_used_fen == -4_000  # the wash given back
    assert february.liability_start_fen == closed.liability_end_fen
    assert february.net_total_fen == -(20_000 + 115_000 - trading.bj_laundry.total_fen)
    assert february.invariant_ok
    with Session(hq_engine) as session:
        months = set(
            session.scalars(
                select(HqLedgerEntry.clearing_month)
                .join(Till, Till.id == HqLedgerEntry.till_id)
                .where(Till.code == "BJ01-01")
            )
        )
        audit = session.scalars(select(HqAudit).where(HqAudit.action == "clearing_closed")).all()
    assert months == {"2027-02"}
    assert [(a.actor, a.target) for a in audit] == [("finance", "2027-01")]


def test_closing_is_refused_out_of_order_twice_or_too_early(hq_engine: Engine, trading: Trading):
    deliver(hq_engine, "SH01-01", trading.sh_jan)
    deliver(hq_engine, "SH01-01", trading.sh_feb)
    with pytest.raises(HqError) as early:
        close(hq_engine, "2027-01", now=datetime(2027, 1, 31, 15, 59, tzinfo=UTC))
    assert early.value.code == "month_not_over"
    with pytest.raises(HqError) as order:
        close(hq_engine, "2027-02", now=datetime(2027, 3, 5, tzinfo=UTC))
    assert order.value.code == "earlier_month_open"
    close(hq_engine, "2027-01")
    with pytest.raises(HqError) as twice:
        close(hq_engine, "2027-01")
    assert twice.value.code == "already_closed"
    for bad in ("2027-13", "2027-1", "27-01", "", "2027-01-01"):
        with pytest.raises(HqInvalidInput):
            statement(hq_engine, bad)


def hq_cli(url: str, *args: str) -> Result:
    return CliRunner().invoke(main, ["--db", url, "--json", *args])


def test_the_clearing_command(
    hq_url: str,
    hq_engine: Engine,
    trading: Trading,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setattr("hq.cli._now", lambda: FEB)
    deliver(hq_engine, "SH01-01", trading.sh_jan)
    deliver(hq_engine, "BJ01-01", trading.bj_jan)
    xlsx, pdf = tmp_path / "jan.xlsx", tmp_path / "jan.pdf"
    result = hq_cli(
        hq_url, "clearing", "--month", "2027-01", "--xlsx", str(xlsx), "--pdf", str(pdf)
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    stores = {s["store"]: s for s in data["stores"]}
    sh = sh_january(trading)
    for name in (
        "stored_value_sold_fen",
        "stored_value_redeemed_fen",
        "points_issued",
        "points_redeemed",
        "net_fen",
    ):
        assert stores["SH01"][name] == sh[name]
    assert data["invariant_ok"] is True
    assert data["liability_change_fen"] == -sum(s["net_fen"] for s in data["stores"])
    assert xlsx.read_bytes()[:2] == b"PK" and pdf.read_bytes()[:5] == b"%PDF-"

    text = CliRunner().invoke(main, ["--db", hq_url, "clearing", "--month", "2027-01"])
    assert text.exit_code == 0, text.output
    assert "SH01 上海南京路店" in text.stdout and "核对正确 invariant holds" in text.stdout

    closed = hq_cli(hq_url, "clearing", "close", "--month", "2027-01", "--by", "finance")
    assert closed.exit_code == 0, closed.output
    assert json.loads(closed.stdout)["closed"] is True
    twice = hq_cli(hq_url, "clearing", "close", "--month", "2027-01")
    assert twice.exit_code == 1
    assert json.loads(twice.stdout)["error"] == "already_closed"

    bad = hq_cli(hq_url, "clearing", "--month", "2027-13")
    assert bad.exit_code == 2
    assert json.loads(bad.stdout)["error"] == "invalid_input"
    assert "YYYY-MM" in bad.stderr
    missing = hq_cli(hq_url, "clearing")
    assert missing.exit_code == 2


def test_points_are_valued_at_the_rate_of_the_rules_they_were_written_under(
    hq_engine: Engine,
):
    """GZ01's till ran rules of its own (version 7: 50 points pay ¥1) and, before them, rules
    HQ never received (version 1: valued at the default 100 points a yuan)."""
    register_at_hq(hq_engine, ["GZ01-01"], {"GZ01": "广州天河店"})
    old = "redeem_points_per_yuan = 100"
    assert old in EXAMPLE_TEXT
    rules = EXAMPLE_TEXT.replace(old, "redeem_points_per_yuan = 50")
    moment = "2027-01-20T02:00:00.000000+00:00"

    def points(kind: str, delta: int, version: int) -> dict[str, object]:
        return {
            "kind": kind,
            "card_id": None,
            "principal_delta": 0,
            "bonus_delta": 0,
            "points_delta": delta,
            "business_time": moment,
            "rules_version": version,
        }

    entries = chain_with(
        [
            points("points_earned", 300, 7),
            points("points_redeemed", -100, 7),
            points("points_redeemed", -100, 1),
            points("points_expired", -20, 7),
        ],
        till="GZ01-01",
        store_id="0b1e4c52-6c1f-4f7e-9a77-3f2d8a1c0003",
    )
    row = {
        "outbox_id": 1,
        "table": "rules_version",
        "key": [7],
        "op": "I",
        "data": {"version": 7, "label": "GZ", "source_text": rules},
    }
    deliver(hq_engine, "GZ01-01", json.dumps({"entries": entries, "rows": [row]}).encode())
    gz = lines_of(statement(hq_engine, "2027-01"))["GZ01"]
    assert (gz.points_issued, gz.points_redeemed, gz.points_other) == (300, 200, -20)
    assert gz.points_issued_value_fen == 600  # 300 points at 50 a yuan
    assert gz.points_redeemed_value_fen == 200 + 100  # 100 at 50 a yuan, 100 at 100 a yuan
    assert gz.points_value_fen == 300
    assert gz.net_fen == 0
