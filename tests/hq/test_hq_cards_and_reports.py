"""`pos-hq verify` over cards (every card's balance across tills) and the chain-wide
reports, with figures worked out by hand, on SQLite and PostgreSQL. The data goes in the way
tills send it: signed batches through the real app."""

from __future__ import annotations

import json
from typing import Any

from click.testing import CliRunner, Result

from hq.cli import main
from tests.hq.conftest import Hq
from tests.hq.signing_till import OTHER_STORE_UUID, SigningTill, chain_with

CARD_1 = "c0000000-0000-4000-8000-000000000001"
CARD_2 = "c0000000-0000-4000-8000-000000000002"


def hq_cli(hq: Hq, *args: str) -> Result:
    return CliRunner().invoke(main, ["--db", hq.url, "--json", *args])


def card_row(outbox_id: int, card: str, principal: int, bonus: int) -> dict[str, Any]:
    data = {"id": card, "state": "active", "principal_fen": principal, "bonus_fen": bonus}
    return {"outbox_id": outbox_id, "table": "card", "key": [card], "op": "U", "data": data}


def money(kind: str, card: str | None, principal: int, bonus: int, points: int = 0) -> dict:  # type: ignore[type-arg]
    return {
        "kind": kind,
        "card_id": card,
        "principal_delta": principal,
        "bonus_delta": bonus,
        "points_delta": points,
    }


def pushed(hq: Hq, till: SigningTill, entries: list, rows: list | None = None) -> None:  # type: ignore[type-arg]
    answer = hq.push(entries, rows or [], signer=till)
    assert answer.status_code == 200, answer.text


def two_stores(hq: Hq) -> SigningTill:
    beijing = hq.new_till("BJ01")
    assert beijing.code == "BJ01-01"
    return beijing


def test_a_card_used_at_two_stores_balances(hq: Hq):
    beijing = two_stores(hq)
    shanghai = chain_with([money("topup", CARD_1, 10_000, 1_000)])
    pushed(hq, hq.till, shanghai, [card_row(1, CARD_1, 10_000, 1_000)])
    later = {"business_time": "2026-03-05T06:00:00.000000+00:00"}
    # Beijing heard of Shanghai's top-up (its mirror entry), then spent from the card: its
    # card row is its own ledger's sum, mirror included.
    there = chain_with(
        [
            money("card_synced", CARD_1, 10_000, 1_000),
            {**money("sv_payment", CARD_1, -3_000, -300), **later},
        ],
        till="BJ01-01",
        store_id=OTHER_STORE_UUID,
    )
    pushed(hq, beijing, there, [card_row(1, CARD_1, 7_000, 700)])
    result = hq_cli(hq, "verify")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "ok": True,
        "tills": 2,
        "entries": 3,
        "cards": 1,
        "problems": [],
    }


def test_a_card_row_of_one_till_that_leaves_out_its_mirror_fails_verify(hq: Hq):
    beijing = two_stores(hq)
    pushed(hq, hq.till, chain_with([money("topup", CARD_1, 10_000, 0)]))
    pushed(hq, hq.till, [], [card_row(1, CARD_1, 10_000, 0)])
    there = chain_with(
        [money("card_synced", CARD_1, 10_000, 0), money("sv_payment", CARD_1, -3_000, 0)],
        till="BJ01-01",
        store_id=OTHER_STORE_UUID,
    )
    pushed(hq, beijing, there, [card_row(1, CARD_1, -3_000, 0)])  # should be 7,000
    result = hq_cli(hq, "verify")
    assert result.exit_code == 3, result.output
    problems = json.loads(result.stdout)["problems"]
    assert [(p["card"], p["problem"]) for p in problems] == [(CARD_1, "balance_mismatch")]
    assert "BJ01-01" in problems[0]["message"] and "7000" in problems[0]["message"]


def test_a_card_row_that_disagrees_with_the_ledger_fails_verify(hq: Hq):
    entries = chain_with(
        [money("topup", CARD_1, 10_000, 1_000), money("sv_payment", CARD_1, -2_500, -250)]
    )
    pushed(hq, hq.till, entries, [card_row(4, CARD_1, 7_600, 750)])  # should be 7,500
    result = hq_cli(hq, "verify")
    assert result.exit_code == 3, result.output
    problems = json.loads(result.stdout)["problems"]
    assert [(p["card"], p["problem"]) for p in problems] == [(CARD_1, "balance_mismatch")]
    assert "7500" in problems[0]["message"] and "7600" in problems[0]["message"]


def test_the_newest_card_row_counts(hq: Hq):
    entries = chain_with([money("topup", CARD_1, 5_000, 0)])
    pushed(hq, hq.till, entries, [card_row(1, CARD_1, 0, 0)])
    pushed(hq, hq.till, [], [card_row(2, CARD_1, 5_000, 0)])
    assert hq_cli(hq, "verify").exit_code == 0


def test_a_chain_balance_below_zero_is_a_conflict_not_a_verify_failure(hq: Hq):
    beijing = two_stores(hq)
    spend = chain_with(
        [money("card_synced", CARD_1, 1_000, 0), money("sv_payment", CARD_1, -4_000, 0)],
        till="BJ01-01",
        store_id=OTHER_STORE_UUID,
    )
    pushed(hq, beijing, spend, [card_row(1, CARD_1, -3_000, 0)])
    pushed(
        hq, hq.till, chain_with([money("topup", CARD_1, 1_000, 0)]), [card_row(1, CARD_1, 1_000, 0)]
    )
    result = hq_cli(hq, "verify")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["problems"] == []


def test_entries_of_a_card_hq_never_received_are_reported(hq: Hq):
    pushed(hq, hq.till, chain_with([money("topup", CARD_2, 100, 0)]))
    pushed(hq, hq.till, [], [card_row(1, CARD_1, 50, 0)])  # a card without entries
    result = hq_cli(hq, "verify")
    assert result.exit_code == 3
    problems = json.loads(result.stdout)["problems"]
    assert sorted((p["card"], p["problem"]) for p in problems) == [
        (CARD_1, "balance_mismatch"),
        (CARD_2, "card_missing"),
    ]
    assert json.loads(result.stdout)["cards"] == 2


# Reports ---------------------------------------------------------------------------------


def sale(outbox_id: int, sale_id: str, when: str, figures: tuple[int, int, int, int]) -> dict:  # type: ignore[type-arg]
    gross, discount, rounding, total = figures
    return {
        "outbox_id": outbox_id,
        "table": "sale",
        "key": [sale_id],
        "op": "I",
        "data": {
            "id": sale_id,
            "kind": "refund" if total < 0 else "sale",
            "business_time": when,
            "gross_fen": gross,
            "discount_fen": discount,
            "rounding_fen": rounding,
            "total_fen": total,
        },
    }


def tender(outbox_id: int, sale_id: str, when: str, kind: str, amount: int) -> dict:  # type: ignore[type-arg]
    data = {"sale_id": sale_id, "seq": 1, "tender": kind, "amount_fen": amount}
    return {
        "outbox_id": outbox_id,
        "table": "sale_tender",
        "key": [sale_id, 1],
        "op": "I",
        "data": {**data, "business_time": when},
    }


def test_daily_sales_per_store_on_the_shanghai_business_day(hq: Hq):
    """2026-03-02 in Shanghai is 2026-03-01T16:00Z up to 2026-03-02T16:00Z.

    SH01: A 10000/1000/0/9000 cash, B 5000/0/50/4950 wechat, refund R -2000 cash (SH01-01),
          E 3000/300/0/2700 stored value (SH01-02); D (the day before) left out.
    BJ01: G 8800 alipay; F (the day after) left out.
    SH01 = 3 sales, 1 refund, gross 16000, discount 1300, rounding 50, total 14650.
    """
    second = hq.new_till()
    beijing = two_stores(hq)
    a, b, r, d = (
        "2026-03-01T16:30:00.000000+00:00",
        "2026-03-02T15:59:59.999999+00:00",
        ("2026-03-02T03:00:00.000000+00:00"),
        "2026-03-01T15:59:59.000000+00:00",
    )
    pushed(
        hq,
        hq.till,
        [],
        [
            sale(1, "A", a, (1, 0, 0, 1)),  # an early version, superseded below
            sale(2, "A", a, (10_000, 1_000, 0, 9_000)),
            tender(3, "A", a, "cash", 9_000),
            sale(4, "B", b, (5_000, 0, 50, 4_950)),
            tender(5, "B", b, "wechat", 4_950),
            sale(6, "R", r, (-2_000, 0, 0, -2_000)),
            tender(7, "R", r, "cash", -2_000),
            sale(8, "D", d, (7_777, 0, 0, 7_777)),
            tender(9, "D", d, "cash", 7_777),
        ],
    )
    e = "2026-03-02T04:00:00.000000+00:00"
    pushed(hq, second, [], [sale(1, "E", e, (3_000, 300, 0, 2_700))])
    pushed(hq, second, [], [tender(2, "E", e, "stored_value", 2_700)])
    f, g = "2026-03-02T16:00:00.000000+00:00", "2026-03-02T08:00:00.000000+00:00"
    pushed(
        hq,
        beijing,
        [],
        [
            sale(1, "F", f, (1_111, 0, 0, 1_111)),
            tender(2, "F", f, "cash", 1_111),
            sale(3, "G", g, (8_800, 0, 0, 8_800)),
            tender(4, "G", g, "alipay", 8_800),
        ],
    )
    result = hq_cli(hq, "report", "sales", "--day", "2026-03-02")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "day": "2026-03-02",
        "timezone": "Asia/Shanghai",
        "stores": [
            {
                "store": "BJ01",
                "sales": 1,
                "refunds": 0,
                "gross_fen": 8_800,
                "discount_fen": 0,
                "rounding_fen": 0,
                "total_fen": 8_800,
                "tenders": {"alipay": 8_800},
            },
            {
                "store": "SH01",
                "sales": 3,
                "refunds": 1,
                "gross_fen": 16_000,
                "discount_fen": 1_300,
                "rounding_fen": 50,
                "total_fen": 14_650,
                "tenders": {"cash": 7_000, "stored_value": 2_700, "wechat": 4_950},
            },
        ],
        "chain": {
            "sales": 4,
            "refunds": 1,
            "gross_fen": 24_800,
            "discount_fen": 1_300,
            "rounding_fen": 50,
            "total_fen": 23_450,
            "tenders": {"alipay": 8_800, "cash": 7_000, "stored_value": 2_700, "wechat": 4_950},
        },
    }
    the_day_before = json.loads(hq_cli(hq, "report", "sales", "--day", "2026-03-01").stdout)
    assert the_day_before["chain"]["total_fen"] == 7_777
    text = CliRunner().invoke(main, ["--db", hq.url, "report", "sales", "--day", "2026-03-02"])
    assert "¥146.50" in text.output and "¥234.50" in text.output
    bad = hq_cli(hq, "report", "sales", "--day", "2026-13-01")
    assert bad.exit_code == 2 and json.loads(bad.stdout)["error"] == "invalid_input"


def test_member_liabilities_per_store_and_for_the_chain(hq: Hq):
    """SH01: principal 10000 - 3000 + 5000 = 12000, bonus 1000 - 300 = 700, points 88 - 20.
    BJ01: principal -2000, bonus -200 (spent there, sold in Shanghai), points 50; what it
    heard of SH01 (its mirror entries) is SH01's, not counted again.
    Chain: principal 10000, bonus 500, stored value 10500, points 118."""
    second = hq.new_till()
    beijing = two_stores(hq)
    pushed(
        hq,
        hq.till,
        chain_with(
            [
                money("topup", CARD_1, 10_000, 1_000),
                money("purchase", None, 0, 0, 88),
                money("sv_payment", CARD_1, -3_000, -300),
            ]
        ),
    )
    pushed(
        hq,
        second,
        chain_with(
            [money("topup", CARD_2, 5_000, 0), money("points_redeemed", None, 0, 0, -20)],
            till="SH01-02",
        ),
    )
    pushed(
        hq,
        beijing,
        chain_with(
            [
                money("card_synced", CARD_1, 7_000, 700),
                money("points_synced", None, 0, 0, 68),
                money("sv_payment", CARD_1, -2_000, -200),
                money("purchase", None, 0, 0, 50),
            ],
            till="BJ01-01",
            store_id=OTHER_STORE_UUID,
        ),
    )
    result = hq_cli(hq, "report", "liabilities")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "stores": [
            {
                "store": "BJ01",
                "principal_fen": -2_000,
                "bonus_fen": -200,
                "stored_value_fen": -2_200,
                "points": 50,
            },
            {
                "store": "SH01",
                "principal_fen": 12_000,
                "bonus_fen": 700,
                "stored_value_fen": 12_700,
                "points": 68,
            },
        ],
        "chain": {
            "principal_fen": 10_000,
            "bonus_fen": 500,
            "stored_value_fen": 10_500,
            "points": 118,
        },
    }
    text = CliRunner().invoke(main, ["--db", hq.url, "report", "liabilities"])
    assert "¥100.00" in text.output and "-¥20.00" in text.output
