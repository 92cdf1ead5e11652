"""Settlement reports over real sales and refunds: every figure against a hand-computed value,
and the identities a Z report must satisfy (tenders = sales − refunds; expected cash = float +
cash in − cash out)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from db.engine import read_session
from db.models import DayClose
from pos_app.domain.coupons import TemplateSpec
from pos_app.domain.entry_kinds import EntryKind
from pos_app.domain.errors import ApprovalRequired, InvalidInput, ShiftRequired
from pos_app.domain.permissions import Permission
from pos_app.domain.report_figures import Figures
from pos_app.domain.sale_request import LineRequest, SaleRequest, TenderRequest
from pos_app.services import points, shifts, stored_value
from pos_app.services.auth import Actor
from pos_app.services.cards import cancel_card
from pos_app.services.catalogue import load_demo_catalogue
from pos_app.services.checkout import SaleResult, sell
from pos_app.services.coupons import add_template, issue_coupons
from pos_app.services.reports import (
    DayReport,
    day_end,
    range_report,
    staff_report,
    x_report,
    z_report,
)
from pos_app.services.sale_refund import refund_sale
from pos_app.services.verify import verify_ledger
from tests.conftest import StoreFixture
from tests.services.support import entries, ledger_count, member_with_card

PIN = "246810"
DAY = date(2026, 3, 2)  # the fixture clock's day (a Monday: no vegetable discount)


@pytest.fixture
def shop(store: StoreFixture) -> StoreFixture:
    """The store with the demo catalogue and shift 1 open with a ¥200 float."""
    load_demo_catalogue(store.ctx, store.manager)
    shifts.open_shift(store.ctx, store.cashier, 20_000)
    return store


def sale(
    store: StoreFixture,
    lines: list[tuple[str, int]],
    *tenders: TenderRequest,
    actor: Actor | None = None,
    **kwargs: object,
) -> SaleResult:
    request = SaleRequest(
        lines=tuple(LineRequest(code, qty) for code, qty in lines),
        tenders=tenders,
        **kwargs,  # type: ignore[arg-type]
    )
    return sell(store.ctx, actor or store.cashier, request)


def cash(amount_fen: int | None = None) -> TenderRequest:
    return TenderRequest("cash", amount_fen)


def test_z_report_of_a_shift_with_sales_refunds_and_top_ups(shop: StoreFixture) -> None:
    store = shop
    # A: D001 ×2 + S001 = ¥11.50, paid with ¥20 cash (change ¥8.50).
    a = sale(store, [("D001", 2), ("S001", 1)], cash(2_000))
    # B: H001 = ¥39.90 by WeChat.
    b = sale(store, [("H001", 1)], TenderRequest("wechat", reference="WX1"))
    # C: S001 ×2 = ¥15.00: ¥10 by bank card, the rest by Alipay.
    sale(store, [("S001", 2)], TenderRequest("bank", 1_000), TenderRequest("alipay"))
    # A member registers, tops up ¥500 cash (+¥50 bonus) and buys H001 with stored value.
    member_with_card(store, "88880001", pin=PIN, topup_fen=50_000)
    d = sale(store, [("H001", 1)], TenderRequest("stored_value"), card_no="88880001", pin=PIN)
    # Refunds: one D001 from A (¥2.00 cash back), all of B (¥39.90 back to WeChat).
    refund_sale(store.ctx, store.cashier, a.receipt_no, (LineRequest("D001", 1),))
    refund_sale(store.ctx, store.cashier, b.receipt_no)
    assert (a.total_fen, a.change_fen, b.total_fen, d.total_fen) == (1_150, 850, 3_990, 3_990)

    x = x_report(store.ctx, store.cashier).figures
    z = shifts.close_shift(store.ctx, store.cashier, 71_000)
    f = z.figures

    # The X report a moment before showed the same figures, only without the count.
    assert replace(f, end=x.end, cash=x.cash) == x and x.cash.counted_fen is None
    assert x.cash.expected_fen == f.cash.expected_fen
    assert (f.sales_count, f.gross_fen, f.discount_fen, f.rounding_fen) == (4, 10_630, 0, 0)
    assert f.sales_fen == 1_150 + 3_990 + 1_500 + 3_990 == 10_630
    assert (f.refunds_count, f.refunds_fen) == (2, 200 + 3_990)
    assert f.net_fen == 6_440
    assert f.average_ticket_fen == 2_658  # 10,630 / 4 = 2,657.5, rounded half up
    assert (f.member_sales_count, f.member_net_fen) == (1, 3_990)
    assert (f.non_member_sales_count, f.non_member_net_fen) == (3, 6_440 - 3_990)
    by_tender = {
        t.tender: (t.sales_count, t.sales_fen, t.refunds_count, t.refunds_fen) for t in f.tenders
    }
    assert by_tender == {
        "cash": (1, 1_150, 1, 200),
        "bank": (1, 1_000, 0, 0),
        "wechat": (1, 3_990, 1, 3_990),
        "alipay": (1, 500, 0, 0),
        "stored_value": (1, 3_990, 0, 0),
    }
    assert [t.tender for t in f.tenders] == ["cash", "bank", "wechat", "alipay", "stored_value"]
    assert f.tenders_net_fen == f.net_fen  # sum of tenders = sales − refunds
    assert [(t.tender, t.count, t.amount_fen, t.bonus_fen) for t in f.topups] == [
        ("cash", 1, 50_000, 5_000)
    ]
    assert (f.sv_principal_used_fen, f.sv_bonus_used_fen) == (3_990, 0)
    assert f.points_issued == d.points_earned > 0
    assert (f.points_redeemed, f.points_reversed, f.members_registered) == (0, 0, 1)
    c = f.cash
    assert (c.float_fen, c.sales_fen, c.refunds_fen, c.topups_fen) == (20_000, 1_150, 200, 50_000)
    assert c.expected_fen == 20_000 + 1_150 - 200 + 50_000 == 70_950
    assert c.expected_fen == c.float_fen + c.in_fen - c.out_fen
    assert (c.counted_fen, c.over_short_fen) == (71_000, 50)
    assert f.problems() == []
    assert z_report(store.ctx, store.cashier, shift_no=1) == z
    assert verify_ledger(store.ctx).ok


def test_discounts_coupons_and_points_figures(shop: StoreFixture) -> None:
    store = shop
    add_template(
        store.ctx,
        store.manager,
        TemplateSpec(
            code="M20",
            name="满20减8",
            kind="amount_off",
            threshold_fen=2_000,
            amount_off_fen=800,
            valid_days=30,
        ),
    )
    member = member_with_card(store, "88880001", pin=PIN)
    codes = [c.code for c in issue_coupons(store.ctx, store.cashier, "M20", member.member_no, 2)]
    points.give_participation_points(store.ctx, store.manager, member.member_no, 1_000, "问卷调查")
    points.adjust_points(store.ctx, store.manager, member.member_no, -100, "更正")
    # F001 has a member price of ¥11.80 (list ¥12.80): 2 × ¥1.00 off, then ¥8 off the coupon.
    # ¥23.60 − ¥8.00 = ¥15.60: ¥5.00 paid with 500 points, the rest in cash.
    s1 = sale(
        store,
        [("F001", 2)],
        TenderRequest("points", 500),
        cash(),
        card_no="88880001",
        coupon_codes=(codes[0],),
    )
    assert (s1.total_fen, s1.receipt.gross_fen, s1.receipt.discount_fen) == (1_560, 2_560, 1_000)
    refund_sale(store.ctx, store.cashier, s1.receipt_no)  # whole: the coupon comes back

    f = x_report(store.ctx, store.cashier).figures

    assert (f.gross_fen, f.discount_fen, f.sales_fen) == (2_560, 1_000, 1_560)
    assert (f.refunds_count, f.refunds_fen, f.net_fen) == (1, 1_560, 0)
    assert (f.refunds_gross_fen, f.refunds_discount_fen) == (2_560, 1_000)
    assert (f.coupons_issued, f.coupons_redeemed, f.coupons_restored) == (2, 0, 1)
    assert f.points_redeemed == 500
    # Issued: 1,000 participation + the sale's points + the 500 given back by the refund.
    assert f.points_issued == 1_000 + s1.points_earned + 500
    assert f.points_reversed == s1.points_earned
    assert f.points_adjusted_out == 100
    assert f.tender("points").net_fen == 0 and f.tender("cash").net_fen == 0
    assert f.tenders_net_fen == f.net_fen == 0
    assert (f.member_sales_count, f.member_net_fen, f.non_member_sales_count) == (1, 0, 0)
    assert f.problems() == []
    assert verify_ledger(store.ctx).ok


def test_top_up_refunds_card_cancellations_and_stored_value_refunds(shop: StoreFixture) -> None:
    store = shop
    for i in range(1, 5):
        member_with_card(store, f"8888000{i}", f"1380000000{i}")
    cash_topup = stored_value.top_up(store.ctx, store.cashier, "88880001", 10_000)
    stored_value.top_up(store.ctx, store.cashier, "88880002", 100_000, tender="wechat")
    wx_topup = stored_value.top_up(store.ctx, store.cashier, "88880003", 50_000, tender="wechat")
    stored_value.top_up(store.ctx, store.cashier, "88880004", 20_000)
    # Card 2 holds ¥1,000 principal and ¥150 bonus: pay ¥1,050, refund it, pay ¥1,100.
    pay = stored_value.pay_with_stored_value(store.ctx, store.cashier, "88880002", 105_000)
    stored_value.refund_stored_value_payment(store.ctx, store.manager, pay.entry_id)
    pay2 = stored_value.pay_with_stored_value(store.ctx, store.cashier, "88880002", 110_000)
    # The cashier pays back from their own drawer, each approved by the manager.
    back = Permission.TOPUP_REFUND
    cash_back = stored_value.refund_top_up(
        store.ctx, store.cashier, cash_topup.entry_id, store.approval(back)
    )
    wx_back = stored_value.refund_top_up(
        store.ctx, store.cashier, wx_topup.entry_id, store.approval(back)
    )
    cancelled = cancel_card(  # ¥200 less the ¥10 fee
        store.ctx, store.cashier, "88880004", store.approval(Permission.CARD_CANCEL)
    )

    f = x_report(store.ctx, store.cashier).figures

    assert [(t.tender, t.count, t.amount_fen, t.bonus_fen) for t in f.topups] == [
        ("cash", 2, 30_000, 0),
        ("wechat", 2, 150_000, 15_000 + 5_000),
    ]
    assert (pay2.from_principal_fen, pay2.from_bonus_fen) == (100_000, 10_000)
    assert (f.sv_principal_used_fen, f.sv_bonus_used_fen) == (100_000, 10_000)
    assert f.sv_used_fen == 110_000
    assert [
        (r.tender, r.count, r.paid_back_fen, r.principal_fen, r.bonus_fen) for r in f.topup_refunds
    ] == [
        ("cash", 1, 10_000, 10_000, 0),
        ("wechat", 1, 50_000, 50_000, 5_000),
    ]
    assert (cash_back.cash_out_fen, wx_back.cash_out_fen, cancelled.refund_fen) == (
        10_000,
        50_000,
        19_000,
    )
    c = f.cash
    assert (c.topups_fen, c.topup_refunds_fen, c.card_cancel_fen) == (30_000, 10_000, 19_000)
    assert c.expected_fen == 20_000 + 30_000 - 10_000 - 19_000 == 21_000
    assert f.members_registered == 4 and f.sales_count == 0 and f.tenders == ()
    assert verify_ledger(store.ctx).ok


def test_x_report_writes_nothing_and_needs_a_signed_in_operator(shop: StoreFixture) -> None:
    before = ledger_count(shop)
    x_report(shop.ctx, shop.cashier)
    assert ledger_count(shop) == before


# -- Day-end -------------------------------------------------------------------------------


def test_day_end_is_refused_while_the_days_shift_is_open(shop: StoreFixture) -> None:
    before = ledger_count(shop)
    with pytest.raises(InvalidInput, match="Shift 1 is still open"):
        day_end(shop.ctx, shop.manager, DAY)
    assert ledger_count(shop) == before
    with read_session(shop.ctx.engine) as s:
        assert s.get(DayClose, DAY.isoformat()) is None


def test_day_end_needs_a_manager_and_no_future_day(shop: StoreFixture) -> None:
    shifts.close_shift(shop.ctx, shop.cashier, 20_000)
    with pytest.raises(ApprovalRequired):  # a cashier: with a manager's approval only
        day_end(shop.ctx, shop.cashier, DAY)
    with pytest.raises(InvalidInput, match="future"):
        day_end(shop.ctx, shop.manager, DAY + timedelta(days=1))
    with pytest.raises(ApprovalRequired):
        range_report(shop.ctx, shop.cashier, DAY, DAY)
    with pytest.raises(ApprovalRequired):
        z_report(shop.ctx, shop.cashier, day=DAY)
    assert entries(shop, EntryKind.DAY_CLOSED) == []


def test_day_end_sums_the_days_shifts_and_is_recorded_once(shop: StoreFixture) -> None:
    store = shop
    sale(store, [("D001", 1)], cash())  # ¥2.00
    shifts.close_shift(store.ctx, store.cashier, 22_000)  # expected ¥202.00: ¥18 over
    shifts.open_shift(store.ctx, store.manager, 10_000)
    sale(store, [("S001", 1)], cash(), actor=store.manager)  # ¥7.50
    shifts.paid_out(store.ctx, store.manager, 1_000, "买胶带")
    shifts.close_shift(store.ctx, store.manager, 9_000)  # expected ¥97.50: ¥7.50 short

    report = day_end(store.ctx, store.manager, DAY)

    f = report.figures
    assert report.closed and report.closed_by == "manager" and report.day == DAY
    assert [s.shift_no for s in report.shifts] == [1, 2]
    assert (f.sales_count, f.sales_fen, f.net_fen) == (2, 950, 950)
    assert f.cash.float_fen == 30_000
    assert f.cash.expected_fen == 30_000 + 950 - 1_000 == 29_950
    assert f.cash.counted_fen == 31_000
    assert f.cash.over_short_fen == 1_800 - 750 == f.cash.counted_fen - f.cash.expected_fen
    (entry,) = entries(store, EntryKind.DAY_CLOSED)
    payload = json.loads(entry.payload or "{}")
    assert payload["business_day"] == "2026-03-02" and payload["net_fen"] == 950
    assert entry.entry_id == report.entry_id
    with read_session(store.ctx.engine) as s:
        record = s.get(DayClose, "2026-03-02")
        assert record is not None and record.entry_id == entry.entry_id
        assert Figures.from_dict(json.loads(record.figures)) == f

    # Asked again: the same record, nothing written.
    before = ledger_count(store)
    again = day_end(store.ctx, store.manager, DAY)
    assert again == report and ledger_count(store) == before
    shown = z_report(store.ctx, store.manager, day=DAY)
    assert isinstance(shown, DayReport) and shown == report
    # No shift can open into the closed day (nor sell into it); the next day can.
    with pytest.raises(InvalidInput, match="is closed"):
        shifts.open_shift(store.ctx, store.cashier, 0)
    store.clock.advance(days=1)
    assert shifts.open_shift(store.ctx, store.cashier, 0).business_day == "2026-03-03"
    assert verify_ledger(store.ctx).ok


def test_a_day_not_closed_is_shown_as_it_stands(shop: StoreFixture) -> None:
    sale(shop, [("D001", 3)], cash())
    shown = z_report(shop.ctx, shop.manager, day=DAY)
    assert isinstance(shown, DayReport) and not shown.closed
    assert shown.figures.sales_fen == 600 and shown.figures.cash.counted_fen is None
    assert shown.figures.cash.expected_fen == 20_600
    assert entries(shop, EntryKind.DAY_CLOSED) == []


def test_days_split_at_local_midnight(shop: StoreFixture) -> None:
    store = shop
    # 23:59:59 on 2 March in Shanghai is 15:59:59 UTC; a minute later is 3 March.
    store.clock.set(datetime(2026, 3, 2, 15, 59, 59, tzinfo=UTC))
    sale(store, [("D001", 1)], cash())
    store.clock.advance(minutes=1)
    sale(store, [("S001", 1)], cash())
    store.clock.advance(minutes=1)
    shifts.close_shift(store.ctx, store.cashier, 20_950)

    first = z_report(store.ctx, store.manager, day=DAY)
    second = z_report(store.ctx, store.manager, day=DAY + timedelta(days=1))
    assert isinstance(first, DayReport) and isinstance(second, DayReport)
    assert (first.figures.sales_fen, second.figures.sales_fen) == (200, 750)
    # The shift, opened on the 2nd, brings its float and count to the 2nd.
    assert first.figures.cash.float_fen == 20_000 and second.figures.cash.float_fen == 0
    assert [s.shift_no for s in first.shifts] == [1] and second.shifts == ()


# -- Periods and staff ---------------------------------------------------------------------


def test_range_report_is_the_sum_of_its_days_with_a_line_per_day(shop: StoreFixture) -> None:
    store = shop
    sale(store, [("D001", 2)], cash())  # 2 March: ¥4.00
    shifts.close_shift(store.ctx, store.cashier, 20_400)
    store.clock.advance(days=2)  # 4 March
    shifts.open_shift(store.ctx, store.cashier, 5_000)
    r1 = sale(store, [("H001", 1)], TenderRequest("alipay"))  # ¥39.90
    sale(store, [("S001", 1)], cash())  # ¥7.50
    refund_sale(store.ctx, store.cashier, r1.receipt_no)
    shifts.close_shift(store.ctx, store.cashier, 5_750)

    r = range_report(store.ctx, store.manager, DAY, date(2026, 3, 4))

    assert [d.day for d in r.days] == [DAY, date(2026, 3, 3), date(2026, 3, 4)]
    assert [(d.sales_count, d.sales_fen, d.refunds_fen, d.net_fen) for d in r.days] == [
        (2 - 1, 400, 0, 400),
        (0, 0, 0, 0),
        (2, 4_740, 3_990, 750),
    ]
    f = r.figures
    assert (f.sales_count, f.sales_fen, f.refunds_fen, f.net_fen) == (3, 5_140, 3_990, 1_150)
    assert f.tender("cash").net_fen == 1_150 and f.tender("alipay").net_fen == 0
    assert f.cash.float_fen == 25_000 and f.cash.expected_fen == 25_000 + 1_150
    assert (f.cash.counted_fen, f.cash.over_short_fen) == (26_150, 0)
    assert f.problems() == []
    one_day = range_report(store.ctx, store.manager, DAY, DAY)
    assert one_day.figures.sales_fen == 400 and len(one_day.days) == 1


def test_range_report_refuses_backwards_or_huge_ranges(store: StoreFixture) -> None:
    with pytest.raises(InvalidInput, match="before the start"):
        range_report(store.ctx, store.manager, DAY, DAY - timedelta(days=1))
    with pytest.raises(InvalidInput, match="at most 400 days"):
        range_report(store.ctx, store.manager, DAY, DAY + timedelta(days=400))


def test_staff_report_per_operator(shop: StoreFixture) -> None:
    store = shop
    sale(store, [("D001", 1)], cash())  # cashier ¥2.00
    r = sale(store, [("S001", 2)], cash())  # cashier ¥15.00
    member_with_card(store, "88880001")  # registered by the cashier
    store.at_till(store.manager)  # the manager takes over the till
    refund_sale(store.ctx, store.manager, r.receipt_no, (LineRequest("S001", 1),))  # ¥7.50
    sale(store, [("H001", 1)], cash(), actor=store.manager)  # manager ¥39.90
    stored_value.top_up(store.ctx, store.manager, "88880001", 50_000)
    stored_value.top_up(store.ctx, store.manager, "88880001", 10_000, tender="wechat")

    lines = {line.login: line for line in staff_report(store.ctx, store.manager, DAY, DAY).lines}

    assert set(lines) == {"cashier", "manager"}
    c, m = lines["cashier"], lines["manager"]
    assert (c.sales_count, c.sales_fen, c.refunds_count, c.refunds_fen) == (2, 1_700, 0, 0)
    assert (c.members_registered, c.topups_count, c.topups_fen) == (1, 0, 0)
    assert (m.sales_count, m.sales_fen, m.refunds_count, m.refunds_fen) == (1, 3_990, 1, 750)
    assert (m.members_registered, m.topups_count, m.topups_fen) == (0, 2, 60_000)
    assert m.name == "李店长" and m.net_fen == 3_240
    with pytest.raises(ApprovalRequired):
        staff_report(store.ctx, store.cashier, DAY, DAY)


def test_no_cash_is_taken_outside_a_shift_so_the_day_is_its_shifts(store: StoreFixture) -> None:
    member_with_card(store, "88880001")
    with pytest.raises(ShiftRequired):  # no drawer open: no cash can be taken
        stored_value.top_up(store.ctx, store.cashier, "88880001", 10_000)
    shifts.open_shift(store.ctx, store.cashier, 5_000)
    stored_value.top_up(store.ctx, store.cashier, "88880001", 6_000)
    open_range = range_report(store.ctx, store.manager, DAY, DAY).figures.cash
    assert open_range.expected_fen == 5_000 + 6_000
    assert (open_range.counted_fen, open_range.over_short_fen) == (None, None)  # not counted
    z = shifts.close_shift(store.ctx, store.cashier, 11_000)
    assert z.figures.cash.over_short_fen == 0  # the shift's drawer balances

    day = day_end(store.ctx, store.manager, DAY).figures.cash
    assert (day.expected_fen, day.counted_fen, day.over_short_fen) == (11_000, 11_000, 0)
    period = range_report(store.ctx, store.manager, DAY, DAY).figures.cash
    assert period == day
