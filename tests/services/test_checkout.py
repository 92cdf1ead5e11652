"""Checkout against a real store: the seeds' examples, split tender, refusals that write
nothing, and every sale leaving a ledger that verifies."""

from __future__ import annotations

import pytest

from db.models import Coupon, LedgerEntry, Sale, SaleLine, SaleTender
from pos_app.domain.coupons import TemplateSpec
from pos_app.domain.entry_kinds import EntryKind
from pos_app.domain.errors import (
    CardStateError,
    InsufficientBalance,
    InvalidInput,
    NotFound,
    PinLocked,
    PinRequired,
    ShiftRequired,
    WrongPin,
)
from pos_app.domain.sale_request import SaleRequest, TenderRequest
from pos_app.services import cards, coupons
from pos_app.services.catalogue import load_demo_catalogue
from pos_app.services.checkout import quote, sell
from pos_app.services.sale_records import reprint
from pos_app.services.verify import verify_ledger
from tests.services.support import (
    CARD,
    buckets,
    count,
    entries,
    member_row,
    member_with_card,
    req,
)


def test_walk_in_cash_sale_with_change(shop):
    result = sell(
        shop.ctx, shop.cashier, req(("D001", 3), ("6921168509256", 1), pay=[("cash", 1000)])
    )
    assert result.total_fen == 800 and result.change_fen == 200
    doc = result.receipt
    assert doc.receipt_no == result.receipt_no and doc.receipt_no.startswith("SH01-01-260302-")
    assert [(line.sku, line.qty, line.net_fen) for line in doc.lines] == [
        ("D001", 3, 600),
        ("D001", 1, 200),
    ]
    assert doc.cash_given_fen == 1000 and doc.member is None
    assert count(shop, Sale) == 1 and count(shop, SaleLine) == 2 and count(shop, SaleTender) == 1
    (purchase,) = entries(shop, EntryKind.PURCHASE)
    assert purchase.member_id is None and purchase.amount_fen == 800
    assert verify_ledger(shop.ctx).ok


def test_topup_500_get_50_then_pay_with_it(shop):
    """充500送50, then a member sale paid from the card: principal first, balances on the
    receipt, points earned at the tier's rate."""
    member_with_card(shop, CARD, topup_fen=50000)
    assert buckets(shop, CARD) == (50000, 5000)
    result = sell(
        shop.ctx,
        shop.cashier,
        req(("H001", 2), pay=[("stored_value", None)], card=CARD),
    )
    assert result.total_fen == 7980
    assert buckets(shop, CARD) == (50000 - 7980, 5000)
    m = result.receipt.member
    assert m is not None and m.stored_value_fen == 55000 - 7980 and m.points_earned == 79
    assert m.masked_mobile == "138****8000"
    assert result.receipt.tenders[0].detail_zh == "本金 ¥79.80 赠送 ¥0.00"
    assert verify_ledger(shop.ctx).ok


def test_split_tender_when_the_balance_is_short(shop):
    member_with_card(shop, CARD, topup_fen=5000)  # ¥50, below the bonus threshold
    result = sell(
        shop.ctx,
        shop.cashier,
        req(("H001", 2), pay=[("stored_value", None), ("cash", 5000)], card=CARD),
    )
    tenders = {t.tender: t.amount_fen for t in result.receipt.tenders}
    assert tenders == {"stored_value": 2980, "cash": 5000}
    # Stored value takes what cash leaves; explicit amount-less stored value with change:
    assert buckets(shop, CARD) == (5000 - 2980, 0)
    second = sell(
        shop.ctx,
        shop.cashier,
        req(("H001", 1), pay=[("stored_value", None), ("cash", None)], card=CARD),
    )
    assert {t.tender: t.amount_fen for t in second.receipt.tenders} == {
        "stored_value": 2020,
        "cash": 3990 - 2020,
    }
    assert buckets(shop, CARD) == (0, 0)
    assert verify_ledger(shop.ctx).ok


def test_short_balance_without_another_tender_writes_nothing(shop):
    member_with_card(shop, CARD, topup_fen=5000)
    before = count(shop, LedgerEntry)
    with pytest.raises(InsufficientBalance):
        sell(shop.ctx, shop.cashier, req(("H001", 2), pay=[("stored_value", None)], card=CARD))
    assert count(shop, LedgerEntry) == before and count(shop, Sale) == 0


def test_pin_above_threshold_and_wrong_pin_records_only_the_try(shop):
    member_with_card(shop, CARD, pin="135790", topup_fen=50000)
    with pytest.raises(PinRequired):
        sell(shop.ctx, shop.cashier, req(("D001", 1), pay=[("stored_value", None)], card=CARD))
    with pytest.raises(WrongPin):
        sell(
            shop.ctx,
            shop.cashier,
            req(("D001", 1), pay=[("stored_value", None)], card=CARD, pin="000000"),
        )
    assert count(shop, Sale) == 0
    assert [e.kind for e in entries(shop)][-1] == EntryKind.PIN_FAILED
    ok = sell(
        shop.ctx,
        shop.cashier,
        req(("D001", 1), pay=[("stored_value", None)], card=CARD, pin="135790"),
    )
    assert ok.total_fen == 200


def test_a_lost_card_is_refused_at_checkout(shop):
    member_with_card(shop, CARD, topup_fen=50000)
    cards.report_card_lost(shop.ctx, shop.cashier, CARD)
    with pytest.raises(CardStateError):
        sell(shop.ctx, shop.cashier, req(("D001", 1), card=CARD))


def test_three_times_points_on_named_goods_during_the_campaign(shop):
    member_with_card(shop, CARD)
    result = sell(shop.ctx, shop.cashier, req(("F001", 1), ("D001", 1), card=CARD))
    # Apples at the member price ¥11.80 earn 3 × 11.80 = 35 points; water ¥2 earns 2.
    assert result.points_earned == 35 + 2
    assert result.receipt.member.points_balance == 37


def test_one_receipt_over_999_makes_gold_in_the_same_sale(shop):
    member = member_with_card(shop, CARD)
    result = sell(shop.ctx, shop.cashier, req(("W001", 1), card=CARD, pay=[("bank", None)]))
    assert member_row(shop, member.member_no).tier_code == "gold"
    assert result.receipt.member.tier_upgraded_to == "金卡"
    assert result.points_earned == 0  # Maotai earns no points
    # The gold discount applies from the next sale on.
    q = quote(shop.ctx, shop.cashier, req(("H001", 1), card=CARD))
    assert q.total_fen == 3791  # ¥39.90 × 95%, half up
    assert q.lines[0].adjustments[0].rule == "gold"


def _manjian(shop, **kw):
    spec = TemplateSpec(
        code="VEG20-8",
        name="蔬菜满20减8",
        kind="amount_off",
        threshold_fen=2000,
        amount_off_fen=800,
        categories=("蔬菜",),
        valid_days=30,
        **kw,
    )
    coupons.add_template(shop.ctx, shop.manager, spec)


def test_manjian_coupon_on_one_category_used_once(shop):
    member = member_with_card(shop, CARD)
    _manjian(shop)
    (code,) = [
        c.code for c in coupons.issue_coupons(shop.ctx, shop.cashier, "VEG20-8", member.member_no)
    ]
    result = sell(
        shop.ctx,
        shop.cashier,
        req(("V001", 3), ("D001", 1), card=CARD, coupons=[code]),
    )
    assert result.total_fen == 2040 - 800 + 200
    assert result.receipt.sale_adjustments[0].amount_fen == 800
    assert result.receipt.coupons_used == (f"{code} 蔬菜满20减8",)
    with pytest.raises(InvalidInput) as info:
        sell(shop.ctx, shop.cashier, req(("V001", 3), card=CARD, coupons=[code]))
    assert "用过" in info.value.zh
    assert verify_ledger(shop.ctx).ok


def test_unknown_product_and_empty_cart(shop):
    with pytest.raises(NotFound):
        sell(shop.ctx, shop.cashier, req(("NOPE", 1)))
    with pytest.raises(InvalidInput):
        sell(shop.ctx, shop.cashier, SaleRequest(lines=(), tenders=(TenderRequest("cash"),)))


def test_no_sale_without_an_open_shift(store):
    load_demo_catalogue(store.ctx, store.manager)
    with pytest.raises(ShiftRequired) as info:
        sell(store.ctx, store.cashier, req(("D001", 1)))
    assert "开班" in info.value.zh


def test_points_as_a_tender_within_the_share(shop):
    member = member_with_card(shop, CARD)
    from pos_app.domain.permissions import Permission
    from pos_app.services.points import give_participation_points

    give_participation_points(
        shop.ctx,
        shop.manager,
        member.member_no,
        3000,
        "店庆",
        shop.approval(Permission.POINTS_PARTICIPATION),
    )
    result = sell(
        shop.ctx, shop.cashier, req(("H001", 1), card=CARD, pay=[("points", None), ("cash", None)])
    )
    tenders = {t.tender: t.amount_fen for t in result.receipt.tenders}
    assert tenders == {"points": 1995, "cash": 1995}  # at most 50% of ¥39.90
    assert result.points_earned == 19  # only the cash half earns points
    assert member_row(shop, member.member_no).points_balance == 3000 - 1995 + 19
    assert verify_ledger(shop.ctx).ok


def test_count_card_sold_then_used_as_a_tender(shop):
    member = member_with_card(shop, CARD, topup_fen=50000)
    sell(shop.ctx, shop.cashier, req(("C010", 1), card=CARD, pay=[("stored_value", None)]))
    wash = sell(
        shop.ctx,
        shop.cashier,
        req(("SV01", 2), ("D001", 1), card=CARD, pay=[("count_card", None), ("cash", None)]),
    )
    tenders = {t.tender: t.amount_fen for t in wash.receipt.tenders}
    assert tenders == {"count_card": 10000, "cash": 200}
    assert wash.points_earned == 2  # the washes were paid when the card was sold
    assert any("剩余 8 次" in p for p in wash.receipt.member.passes)
    assert verify_ledger(shop.ctx).ok
    del member


def test_reprint_is_the_same_receipt_marked(shop):
    result = sell(shop.ctx, shop.cashier, req(("D001", 1)))
    again = reprint(shop.ctx, shop.cashier, result.receipt_no)
    assert again.reprint and again.lines == result.receipt.lines
    with pytest.raises(NotFound):
        reprint(shop.ctx, shop.cashier, "SH01-01-000000-0000")


def test_coupon_row_marked_used_with_the_receipt(shop):
    member = member_with_card(shop, CARD)
    _manjian(shop)
    (c,) = coupons.issue_coupons(shop.ctx, shop.cashier, "VEG20-8", member.member_no)
    result = sell(shop.ctx, shop.cashier, req(("V001", 3), card=CARD, coupons=[c.code]))
    from sqlalchemy import select

    from db.engine import read_session

    with read_session(shop.ctx.engine) as s:
        row = s.scalars(select(Coupon).where(Coupon.code == c.code)).one()
        assert row.state == "used" and row.used_receipt_no == result.receipt_no


def test_monthly_card_covers_every_visit_until_its_last_day(shop):
    member_with_card(shop, CARD, topup_fen=50000)
    sell(shop.ctx, shop.cashier, req(("C030", 1), card=CARD, pay=[("stored_value", None)]))
    for _ in range(3):  # unlimited visits
        gym = sell(shop.ctx, shop.cashier, req(("SV02", 1), card=CARD, pay=[("count_card", None)]))
        assert gym.total_fen == 3000 and gym.receipt.tenders[0].tender == "count_card"
    shop.clock.advance(days=30)  # valid for 30 days including the day of sale
    with pytest.raises(InvalidInput):
        sell(shop.ctx, shop.cashier, req(("SV02", 1), card=CARD, pay=[("count_card", None)]))
    assert verify_ledger(shop.ctx).ok


def test_voiding_a_line_above_the_limit_needs_a_manager_and_is_audited(shop):
    from db.models import AuditEvent
    from pos_app.domain.errors import ApprovalRequired
    from pos_app.domain.permissions import Permission
    from pos_app.services.checkout import cancel_sale, check_void

    check_void(shop.ctx, shop.cashier, 1000)
    with pytest.raises(ApprovalRequired):
        check_void(shop.ctx, shop.cashier, 149900)
    check_void(shop.ctx, shop.cashier, 149900, shop.approval(Permission.SALE_OVER_LIMIT))
    cancel_sale(shop.ctx, shop.cashier, req(("D001", 1)), "顾客不要了")
    from sqlalchemy import select

    from db.engine import read_session

    with read_session(shop.ctx.engine) as s:
        actions = [(a.action, a.outcome) for a in s.scalars(select(AuditEvent))]
    assert actions[-4:] == [
        ("sale.void_line", "ok"),
        ("sale.over_limit", "refused"),
        ("sale.void_line", "ok"),
        ("sale.cancelled", "ok"),
    ]


# -- a PIN-locked card locks every member tender (issue 11) --------------------------------


def _locked_member_with_points_pass_and_coupon(shop):
    """A member with points, a car-wash card and a coupon in the wallet, whose card was then
    locked by five wrong PINs."""
    from pos_app.domain.permissions import Permission
    from pos_app.services.points import give_participation_points

    member = member_with_card(shop, CARD, pin="135790", topup_fen=50000)
    give_participation_points(
        shop.ctx,
        shop.manager,
        member.member_no,
        3000,
        "店庆",
        shop.approval(Permission.POINTS_PARTICIPATION),
    )
    sell(
        shop.ctx,
        shop.cashier,
        req(("C010", 1), card=CARD, pin="135790", pay=[("stored_value", None)]),
    )
    _manjian(shop)
    (coupon,) = coupons.issue_coupons(shop.ctx, shop.cashier, "VEG20-8", member.member_no)
    for _ in range(5):
        with pytest.raises((WrongPin, PinLocked)):
            sell(
                shop.ctx,
                shop.cashier,
                req(("D001", 1), card=CARD, pin="000000", pay=[("stored_value", None)]),
            )
    return member, coupon.code


def test_a_pin_locked_card_pays_with_no_member_tender(shop):
    member, coupon = _locked_member_with_points_pass_and_coupon(shop)
    points_before = member_row(shop, member.member_no).points_balance
    before = count(shop, LedgerEntry)
    refused = [
        req(("H001", 1), card=CARD, pay=[("points", None), ("cash", None)]),
        req(("SV01", 1), card=CARD, pay=[("count_card", None)]),
        req(("V001", 4), card=CARD, coupons=[coupon], pay=[("cash", None)]),
        req(("H001", 1), card=CARD, pin="135790", pay=[("stored_value", None)]),
        # Found by number instead of the card: the lock still holds.
        req(("H001", 1), member_no=member.member_no, pay=[("points", None), ("cash", None)]),
    ]
    for request in refused:
        with pytest.raises(PinLocked, match="points, service cards and member coupons"):
            sell(shop.ctx, shop.cashier, request)
    with pytest.raises(PinLocked):
        quote(shop.ctx, shop.cashier, refused[0])
    assert count(shop, LedgerEntry) == before
    assert member_row(shop, member.member_no).points_balance == points_before
    # The till knows before it asks for payment, and the member still buys with cash.
    assert quote(shop.ctx, shop.cashier, req(("H001", 1), card=CARD)).member_tenders_locked
    cash = sell(shop.ctx, shop.cashier, req(("H001", 1), card=CARD, pay=[("cash", None)]))
    assert cash.points_earned > 0
    # A manager's PIN reset lifts the lock for all of them.
    from pos_app.domain.permissions import Permission

    cards.reset_pin(
        shop.ctx, shop.cashier, CARD, "246802", approval=shop.approval(Permission.PIN_RESET)
    )
    paid = sell(shop.ctx, shop.cashier, refused[0])
    assert {t.tender for t in paid.receipt.tenders} == {"points", "cash"}
    assert verify_ledger(shop.ctx).ok


def test_points_redeemed_or_exchanged_off_the_till_are_locked_too(shop):
    from pos_app.services.points import redeem_points

    member, _ = _locked_member_with_points_pass_and_coupon(shop)
    with pytest.raises(PinLocked):
        redeem_points(shop.ctx, shop.cashier, 100, "礼品", card_no=CARD)
    with pytest.raises(PinLocked):
        redeem_points(shop.ctx, shop.cashier, 100, "礼品", member_no=member.member_no)
    coupons.add_template(
        shop.ctx,
        shop.manager,
        TemplateSpec(
            code="PTS5",
            name="积分换5元",
            kind="amount_off",
            amount_off_fen=500,
            points_cost=500,
            valid_days=30,
        ),
    )
    with pytest.raises(PinLocked):
        coupons.exchange_points_for_coupon(shop.ctx, shop.cashier, "PTS5", card_no=CARD)
