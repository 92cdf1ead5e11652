"""Returns against the original receipt: whole or some lines, every balance back where the
rules say, and the ledger still verifying."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from db.engine import read_session
from db.models import Coupon, LedgerEntry, Sale, ServicePassItem
from pos_app.domain.coupons import TemplateSpec
from pos_app.domain.entry_kinds import EntryKind
from pos_app.domain.errors import ApprovalRequired, InvalidInput
from pos_app.domain.permissions import Permission
from pos_app.domain.sale_request import LineRequest
from pos_app.services import coupons
from pos_app.services.checkout import sell
from pos_app.services.points import give_participation_points
from pos_app.services.sale_refund import refund_sale
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

# Money moves only inside the cashier's own shift (see the `till` fixture).
pytestmark = pytest.mark.usefixtures("till")


def test_whole_cash_sale_refunded(shop):
    sale = sell(shop.ctx, shop.cashier, req(("D001", 2), ("S001", 1), pay=[("cash", 2000)]))
    back = refund_sale(shop.ctx, shop.cashier, sale.receipt_no)
    assert back.total_fen == -1150
    doc = back.receipt
    assert doc.kind == "refund" and doc.original_receipt_no == sale.receipt_no
    assert [(t.tender, t.amount_fen) for t in doc.tenders] == [("cash", -1150)]
    assert [line.qty for line in doc.lines] == [-2, -1]
    with pytest.raises(InvalidInput):
        refund_sale(shop.ctx, shop.cashier, sale.receipt_no)  # nothing left to return
    with pytest.raises(InvalidInput):
        refund_sale(shop.ctx, shop.cashier, back.receipt_no)  # a refund is not refunded
    assert verify_ledger(shop.ctx).ok


def test_partial_returns_of_a_member_sale_add_up_exactly(shop):
    member = member_with_card(shop, CARD, topup_fen=50000)  # 500 + 50 bonus
    from pos_app.services.rules import load_rules
    from tests.services.support import EXAMPLE_TEXT

    load_rules(
        shop.ctx,
        shop.admin,
        EXAMPLE_TEXT.replace('spend_order = "principal_first"', 'spend_order = "pro_rata"'),
        "pro rata",
    )
    sale = sell(
        shop.ctx,
        shop.cashier,
        req(("V001", 3), ("H001", 1), pay=[("stored_value", 3000), ("cash", None)], card=CARD),
    )
    assert sale.total_fen == 2040 + 3990
    earned = sale.points_earned
    first = refund_sale(shop.ctx, shop.cashier, sale.receipt_no, (LineRequest("V001", 1),))
    assert first.total_fen == -680
    second = refund_sale(shop.ctx, shop.cashier, sale.receipt_no, (LineRequest("V001", 2),))
    third = refund_sale(shop.ctx, shop.cashier, sale.receipt_no)
    assert first.total_fen + second.total_fen + third.total_fen == -sale.total_fen
    assert buckets(shop, CARD) == (50000, 5000)  # every fen back in its own bucket
    assert member_row(shop, member.member_no).points_balance == 0
    assert first.points_earned + second.points_earned + third.points_earned == -earned
    with read_session(shop.ctx.engine) as s:
        assert sum(s.scalars(select(Sale.total_fen))) == 0
    report = verify_ledger(shop.ctx)
    assert report.ok, report.problems


def test_refund_above_the_limit_needs_a_manager(shop):
    sale = sell(shop.ctx, shop.cashier, req(("W001", 1), pay=[("bank", None)]))
    before = count(shop, LedgerEntry)
    with pytest.raises(ApprovalRequired):
        refund_sale(shop.ctx, shop.cashier, sale.receipt_no)
    assert count(shop, LedgerEntry) == before
    back = refund_sale(
        shop.ctx, shop.cashier, sale.receipt_no, approval=shop.approval(Permission.SALE_OVER_LIMIT)
    )
    assert back.receipt.approved_by_name == "李店长"
    (refund,) = entries(shop, EntryKind.PURCHASE_REFUNDED)
    assert refund.approved_by_id is not None
    small = sell(shop.ctx, shop.cashier, req(("D001", 1)))
    refund_sale(shop.ctx, shop.cashier, small.receipt_no)  # below the limit: no approval


def test_the_limit_holds_for_everything_refunded_on_one_receipt(shop):
    """Issue 11: a ¥299 receipt returned as 6 + 4 lines needed no approval (limit ¥200)."""
    sale = sell(shop.ctx, shop.cashier, req(("S005", 10), pay=[("cash", None)]))
    assert sale.total_fen == 29900
    first = refund_sale(shop.ctx, shop.cashier, sale.receipt_no, (LineRequest("S005", 6),))
    assert first.total_fen == -17940 and first.receipt.approved_by_name is None
    before = count(shop, LedgerEntry)
    with pytest.raises(ApprovalRequired):
        refund_sale(shop.ctx, shop.cashier, sale.receipt_no, (LineRequest("S005", 4),))
    assert count(shop, LedgerEntry) == before
    second = refund_sale(
        shop.ctx,
        shop.cashier,
        sale.receipt_no,
        (LineRequest("S005", 4),),
        approval=shop.approval(Permission.SALE_OVER_LIMIT),
    )
    assert second.receipt.approved_by_name == "李店长"
    # A manager refunds on their own authority, however it adds up.
    other = sell(shop.ctx, shop.cashier, req(("S005", 10), pay=[("cash", None)]))
    shop.at_till(shop.manager)  # the manager's own drawer pays it back
    refund_sale(shop.ctx, shop.manager, other.receipt_no, (LineRequest("S005", 6),))
    refund_sale(shop.ctx, shop.manager, other.receipt_no)


def test_a_shift_limit_on_a_cashiers_refunds(shop):
    from tests.services.support import rules_variant

    rules_variant(shop, ('shift_refund_limit = "0"', 'shift_refund_limit = "300"'))
    receipts = [
        sell(shop.ctx, shop.cashier, req(("S005", 5), pay=[("cash", None)])).receipt_no
        for _ in range(3)
    ]
    refund_sale(shop.ctx, shop.cashier, receipts[0])  # ¥149.50
    refund_sale(shop.ctx, shop.cashier, receipts[1])  # ¥299.00 in the shift
    with pytest.raises(ApprovalRequired):
        refund_sale(shop.ctx, shop.cashier, receipts[2])  # ¥448.50: over ¥300
    refund_sale(
        shop.ctx,
        shop.cashier,
        receipts[2],
        approval=shop.approval(Permission.SALE_OVER_LIMIT),
    )


def test_ten_visit_count_card_used_and_refunded(shop):
    member_with_card(shop, CARD, topup_fen=50000)
    card_sale = sell(
        shop.ctx, shop.cashier, req(("C010", 1), card=CARD, pay=[("stored_value", None)])
    )
    wash = sell(shop.ctx, shop.cashier, req(("SV01", 3), card=CARD, pay=[("count_card", None)]))

    def uses_left():
        with read_session(shop.ctx.engine) as s:
            return s.scalars(select(ServicePassItem.uses_left)).one()

    assert uses_left() == 7
    with pytest.raises(InvalidInput):
        refund_sale(  # a used card cannot go back
            shop.ctx,
            shop.cashier,
            card_sale.receipt_no,
            approval=shop.approval(Permission.SALE_OVER_LIMIT),
        )
    back = refund_sale(shop.ctx, shop.cashier, wash.receipt_no, (LineRequest("SV01", 2),))
    assert [(t.tender, t.amount_fen) for t in back.receipt.tenders] == [("count_card", -10000)]
    assert uses_left() == 9
    refund_sale(shop.ctx, shop.cashier, wash.receipt_no)
    assert uses_left() == 10
    card_back = refund_sale(
        shop.ctx,
        shop.cashier,
        card_sale.receipt_no,
        approval=shop.approval(Permission.SALE_OVER_LIMIT),
    )
    assert card_back.total_fen == -40000
    assert buckets(shop, CARD) == (50000, 5000)
    report = verify_ledger(shop.ctx)
    assert report.ok, report.problems


def test_coupon_given_back_only_when_the_whole_sale_returns(shop):
    member = member_with_card(shop, CARD)
    coupons.add_template(
        shop.ctx,
        shop.manager,
        TemplateSpec(
            code="ALL5",
            name="满20减5",
            kind="amount_off",
            threshold_fen=2000,
            amount_off_fen=500,
            valid_days=30,
        ),
    )
    (c,) = coupons.issue_coupons(shop.ctx, shop.cashier, "ALL5", member.member_no)
    sale = sell(shop.ctx, shop.cashier, req(("V001", 2), ("F001", 1), card=CARD, coupons=[c.code]))

    def state():
        with read_session(shop.ctx.engine) as s:
            return s.scalars(select(Coupon.state).where(Coupon.code == c.code)).one()

    refund_sale(shop.ctx, shop.cashier, sale.receipt_no, (LineRequest("V001", 1),))
    assert state() == "used"
    refund_sale(shop.ctx, shop.cashier, sale.receipt_no)
    assert state() == "issued"
    assert verify_ledger(shop.ctx).ok


def test_points_paid_come_back(shop):
    member = member_with_card(shop, CARD)
    give_participation_points(
        shop.ctx,
        shop.manager,
        member.member_no,
        3000,
        "店庆",
        shop.approval(Permission.POINTS_PARTICIPATION),
    )
    sale = sell(
        shop.ctx, shop.cashier, req(("H001", 1), card=CARD, pay=[("points", None), ("cash", None)])
    )
    refund_sale(shop.ctx, shop.cashier, sale.receipt_no)
    assert member_row(shop, member.member_no).points_balance == 3000
    assert verify_ledger(shop.ctx).ok


def test_cannot_return_more_than_was_sold(shop):
    sale = sell(shop.ctx, shop.cashier, req(("D001", 2)))
    with pytest.raises(InvalidInput) as info:
        refund_sale(shop.ctx, shop.cashier, sale.receipt_no, (LineRequest("D001", 3),))
    assert "2" in info.value.zh
    with pytest.raises(InvalidInput):
        refund_sale(shop.ctx, shop.cashier, sale.receipt_no, (LineRequest("H001", 1),))


def test_exchange_returns_and_sells_together(shop):
    from pos_app.domain.errors import NotFound
    from pos_app.domain.sale_request import SaleRequest, TenderRequest
    from pos_app.services.sale_refund import exchange

    sale = sell(shop.ctx, shop.cashier, req(("D001", 2), ("S001", 1)))
    new = SaleRequest((LineRequest("S002", 1),), (TenderRequest("cash", 1000),))
    sold, back = exchange(shop.ctx, shop.cashier, sale.receipt_no, (LineRequest("S001", 1),), new)
    assert back.total_fen == -750 and sold.total_fen == 990 and sold.change_fen == 10
    before = count(shop, Sale)
    bad = SaleRequest((LineRequest("NOPE", 1),), (TenderRequest("cash"),))
    with pytest.raises(NotFound):
        exchange(shop.ctx, shop.cashier, sale.receipt_no, (LineRequest("D001", 1),), bad)
    assert count(shop, Sale) == before  # neither the return nor the sale
    assert verify_ledger(shop.ctx).ok


def test_direct_refunds_of_a_till_sale_point_to_the_return(shop):
    from pos_app.services.points import refund_purchase
    from pos_app.services.stored_value import refund_stored_value_payment

    member_with_card(shop, CARD, topup_fen=50000)
    sale = sell(shop.ctx, shop.cashier, req(("D001", 1), card=CARD, pay=[("stored_value", None)]))
    (purchase,) = entries(shop, EntryKind.PURCHASE)
    (payment,) = entries(shop, EntryKind.SV_PAYMENT)
    for call, entry_id, permission in (
        (refund_purchase, purchase.entry_id, Permission.PURCHASE_REFUND),
        (refund_stored_value_payment, payment.entry_id, Permission.STORED_VALUE_REFUND),
    ):
        with pytest.raises(InvalidInput) as info:
            call(shop.ctx, shop.manager, entry_id, shop.approval(permission))
        assert sale.receipt_no in info.value.zh


def test_a_partial_refund_receipt_reads_as_a_refund(shop):
    """应退, not 应收 −¥…: the goods back, the member discount taken back, what is refunded."""
    from pos_app.domain.money import format_fen
    from pos_app.domain.receipt_text import render_text

    member_with_card(shop, CARD, topup_fen=50000)
    sale = sell(
        shop.ctx, shop.cashier, req(("F001", 3), ("H001", 1), pay=[("cash", None)], card=CARD)
    )
    back = refund_sale(shop.ctx, shop.cashier, sale.receipt_no, (LineRequest("F001", 2),))
    doc = back.receipt
    goods, due = -doc.gross_fen, -back.total_fen
    assert goods > due > 0  # the member paid less than the shelf price: not all goes back
    text = render_text(doc, 32, "zh")
    lines = [line.split() for line in text.splitlines()]
    assert ["退货金额", format_fen(goods)] in lines
    assert ["扣回优惠", format_fen(due - goods)] in lines  # a minus: it was never paid
    assert ["【应退】", format_fen(due)] in lines
    assert ["现金", format_fen(due)] in lines
    assert "应收" not in text and "-¥" not in text.replace(format_fen(due - goods), "")
    assert "REFUND DUE" in render_text(doc, 48, "en")
