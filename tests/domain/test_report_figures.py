"""Settlement figures as data: identities, derived values, JSON round trip, adding periods."""

from __future__ import annotations

import json

from pos_app.domain.report_figures import (
    CardCancelLine,
    CashFigures,
    Figures,
    TenderLine,
    TopUpLine,
    TopUpRefundLine,
    merge_figures,
    tender_order,
)


def figures(**kwargs: object) -> Figures:
    base: dict[str, object] = {
        "start": "2026-03-01T16:00:00.000000+00:00",
        "end": "2026-03-02T16:00:00.000000+00:00",
        "sales_count": 3,
        "gross_fen": 10_000,
        "discount_fen": 900,
        "rounding_fen": 100,
        "sales_fen": 9_000,
        "refunds_count": 1,
        "refunds_fen": 1_000,
        "member_sales_count": 1,
        "member_net_fen": 5_000,
        "non_member_sales_count": 2,
        "non_member_net_fen": 3_000,
        "tenders": (
            TenderLine("cash", 2, 4_000, 1, 1_000),
            TenderLine("stored_value", 1, 5_000),
        ),
        "topups": (TopUpLine("wechat", 1, 50_000, 5_000),),
        "topup_refunds": (TopUpRefundLine("cash", 1, 9_000, 10_000, 1_000),),
        "sv_principal_used_fen": 4_000,
        "sv_bonus_used_fen": 1_000,
        "points_issued": 90,
        "cash": CashFigures(float_fen=20_000, sales_fen=4_000, refunds_fen=1_000, paid_out_fen=500),
    }
    base.update(kwargs)
    return Figures(**base)  # type: ignore[arg-type]


def test_derived_values_and_identities() -> None:
    f = figures()
    assert f.net_fen == 8_000 == f.tenders_net_fen
    assert f.average_ticket_fen == 3_000
    assert (f.topups_count, f.topups_fen, f.topups_bonus_fen) == (1, 50_000, 5_000)
    assert f.topup_refunds_fen == 9_000 and f.sv_used_fen == 5_000
    assert f.member_share_percent == 63  # 5,000 / 8,000 = 62.5 %, rounded half up
    assert f.cash.expected_fen == 20_000 + 4_000 - 1_000 - 500
    assert f.problems() == []


def test_problems_name_each_broken_identity() -> None:
    broken = figures(
        tenders=(TenderLine("cash", 2, 4_000, 1, 1_000),),
        member_net_fen=4_000,
        sales_fen=9_001,
        non_member_sales_count=1,
    )
    found = " / ".join(broken.problems())
    assert "tenders net" in found
    assert "member + non-member sales" in found
    assert "member + non-member sale counts" in found
    assert "gross - discount - rounding" in found
    cash_off = figures(cash=CashFigures(sales_fen=3_999, refunds_fen=1_000))
    assert cash_off.problems() == ["cash tender != cash in the drawer figures"]


def test_average_ticket_rounds_half_up_and_is_zero_without_sales() -> None:
    assert figures(sales_count=4, sales_fen=10_630).average_ticket_fen == 2_658
    assert figures(sales_count=3, sales_fen=10).average_ticket_fen == 3
    assert Figures("a", "b").average_ticket_fen == 0
    assert Figures("a", "b").member_share_percent == 0


def test_a_cash_count_gives_over_or_short() -> None:
    cash = CashFigures(float_fen=10_000, sales_fen=5_000, topups_fen=2_000, card_cancel_fen=900)
    assert cash.expected_fen == 16_100
    assert cash.counted(16_000).over_short_fen == -100
    assert cash.counted(16_150).over_short_fen == 50
    assert cash.counted(16_100).counted_fen == 16_100


def test_json_round_trip_keeps_every_figure() -> None:
    f = figures(cash=figures().cash.counted(22_000))
    data = json.loads(json.dumps(f.to_dict()))
    assert data["net_fen"] == 8_000 and data["cash"]["expected_fen"] == 22_500
    assert data["tenders"][0] == {
        "tender": "cash",
        "sales_count": 2,
        "sales_fen": 4_000,
        "refunds_count": 1,
        "refunds_fen": 1_000,
        "net_fen": 3_000,
    }
    assert Figures.from_dict(data) == f


def test_merging_periods_adds_every_figure_and_counts() -> None:
    day1 = figures(cash=figures().cash.counted(22_400))  # 100 short
    day2 = figures(
        start=day1.end,
        end="2026-03-03T16:00:00.000000+00:00",
        tenders=(TenderLine("wechat", 1, 8_000), TenderLine("cash", 1, 1_000)),
        cash=CashFigures(float_fen=5_000, sales_fen=1_000),
    )
    total = merge_figures([day1, day2], day1.start, day2.end)
    assert (total.start, total.end) == (day1.start, day2.end)
    assert total.sales_count == 6 and total.net_fen == 16_000
    assert [(t.tender, t.sales_fen, t.refunds_fen) for t in total.tenders] == [
        ("cash", 5_000, 1_000),
        ("wechat", 8_000, 0),
        ("stored_value", 5_000, 0),
    ]
    assert total.topups == (TopUpLine("wechat", 2, 100_000, 10_000),)
    assert total.cash.float_fen == 25_000
    assert total.cash.expected_fen == day1.cash.expected_fen + day2.cash.expected_fen
    # Only day 1 was counted: its count and over/short are the period's.
    assert (total.cash.counted_fen, total.cash.over_short_fen) == (22_400, -100)
    assert merge_figures([], "a", "b") == Figures("a", "b")


def test_tenders_sort_in_till_order() -> None:
    names = ["points", "voucher", "cash", "alipay", "stored_value"]
    assert sorted(names, key=tender_order) == [
        "cash",
        "alipay",
        "stored_value",
        "points",
        "voucher",
    ]


def test_received_prepaid_redeemed_and_delivered() -> None:
    f = figures(
        card_sales_count=1,
        card_sales_fen=2_000,
        card_cancels=(CardCancelLine("cash", 1, 1_900),),
        tenders=(
            TenderLine("cash", 2, 4_000, 1, 1_000),
            TenderLine("stored_value", 1, 3_000),
            TenderLine("count_card", 1, 2_000),
        ),
    )
    # 收款: cash 3,000 net on sales − 9,000 top-up refund − 1,900 cancelled; WeChat 50,000.
    assert [(r.tender, r.net_fen) for r in f.received] == [
        ("cash", 3_000 - 9_000 - 1_900),
        ("wechat", 50_000),
    ]
    assert f.received_fen == 3_000 - 9_000 - 1_900 + 50_000
    assert f.prepaid_sold_fen == 2_000 + 50_000 - 9_000 - 1_900
    assert f.redeemed_fen == 3_000 + 2_000
    assert f.delivered_fen == 8_000 - 2_000
    assert f.received_fen - f.prepaid_sold_fen + f.redeemed_fen == f.delivered_fen
    assert f.problems() == []


def test_card_figures_survive_json_and_add_up() -> None:
    f = figures(
        card_sales_count=1,
        card_sales_fen=2_000,
        coupons_face_fen=300,
        card_cancels=(CardCancelLine("cash", 1, 1_900),),
    )
    back = Figures.from_dict(json.loads(json.dumps(f.to_dict())))
    assert back == f
    total = merge_figures([f, f], f.start, f.end)
    assert (total.card_sales_fen, total.coupons_face_fen, total.card_cancel_fen) == (
        4_000,
        600,
        3_800,
    )
