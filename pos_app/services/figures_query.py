"""The SQL behind settlement figures: a handful of aggregates over a time range.

Every query is a GROUP BY over an index range on business time — `sale` (ix_sale_time),
`sale_tender` (ix_sale_tender_time, which covers the query) and `ledger_entry`
(ix_ledger_entry_kind_time, one range per kind) — and returns a few dozen rows however many
sales the period holds. No ORM objects are loaded. Times are ISO UTC text, compared as text;
periods are half-open, [start, end).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from typing import Any

from sqlalchemy import Select, and_, case, func, select
from sqlalchemy.orm import Session

from db.models import LedgerEntry, Product, Sale, SaleLine, SaleTender, Shift
from pos_app.domain.entry_kinds import EntryKind
from pos_app.domain.passes import CARD_PRODUCT_KINDS
from pos_app.domain.report_figures import (
    CardCancelLine,
    CashFigures,
    Figures,
    TenderLine,
    TopUpLine,
    TopUpRefundLine,
    merge_cash,
    tender_order,
)

POINTS_IN_KINDS = (
    EntryKind.POINTS_EARNED,
    EntryKind.REFERRAL_POINTS,
    EntryKind.PARTICIPATION_POINTS,
    EntryKind.POINTS_ADJUSTED,
    EntryKind.POINTS_RETURNED,
)
# The ledger kinds a report adds up (a sale's own `purchase` entry is not among them: the
# `sale` table holds its figures in narrow columns).
REPORT_KINDS = (
    EntryKind.TOPUP,
    EntryKind.TOPUP_REFUNDED,
    EntryKind.SV_PAYMENT,
    EntryKind.SV_PAYMENT_REFUNDED,
    *POINTS_IN_KINDS,
    EntryKind.POINTS_REDEEMED,
    EntryKind.POINTS_REVERSED,
    EntryKind.POINTS_EXPIRED,
    EntryKind.POINTS_RESET,
    EntryKind.COUPON_ISSUED,
    EntryKind.COUPON_REDEEMED,
    EntryKind.COUPON_RESTORED,
    EntryKind.MEMBER_REGISTERED,
    EntryKind.CARD_CANCELLED,
    EntryKind.CASH_PAID_IN,
    EntryKind.CASH_PAID_OUT,
)


def _sales_query(start: str, end: str) -> Select[Any]:
    is_member = Sale.member_id.is_not(None)
    return (
        select(
            Sale.kind,
            is_member,
            func.count(),
            func.coalesce(func.sum(Sale.gross_fen), 0),
            func.coalesce(func.sum(Sale.discount_fen), 0),
            func.coalesce(func.sum(Sale.rounding_fen), 0),
            func.coalesce(func.sum(Sale.total_fen), 0),
        )
        .where(Sale.business_time >= start, Sale.business_time < end)
        .group_by(Sale.kind, is_member)
    )


def _tenders_query(start: str, end: str) -> Select[Any]:
    # A refund's tender amounts are negative; the sign tells sales from refunds without a
    # join, so the query reads the covering index alone.
    is_refund = SaleTender.amount_fen < 0
    return (
        select(
            SaleTender.tender,
            is_refund,
            func.count(),
            func.coalesce(func.sum(SaleTender.amount_fen), 0),
        )
        .where(SaleTender.business_time >= start, SaleTender.business_time < end)
        .group_by(SaleTender.tender, is_refund)
    )


def _card_receipts_query(start: str, end: str) -> Select[Any]:
    # Every card sold grants a pass and every card refunded revokes one, in the same
    # transaction: these rare entries (an index range each) name the receipts to read, so a
    # day of 50,000 sales is not walked line by line to find the few cards among them.
    e = LedgerEntry
    return select(func.json_extract(e.payload, "$.receipt_no")).where(
        e.kind.in_([EntryKind.PASS_GRANTED.value, EntryKind.PASS_REVOKED.value]),
        e.business_time >= start,
        e.business_time < end,
    )


def _card_sales(s: Session, start: str, end: str) -> tuple[int, int]:
    """Cards sold less cards refunded in [start, end): (units, fen)."""
    receipts = sorted({r for (r,) in s.execute(_card_receipts_query(start, end)) if r})
    qty = fen = 0
    for i in range(0, len(receipts), 500):
        part_qty, part_fen = s.execute(
            select(
                func.coalesce(func.sum(SaleLine.qty), 0),
                func.coalesce(func.sum(SaleLine.net_fen), 0),
            )
            .select_from(Sale)
            .join(SaleLine, SaleLine.sale_id == Sale.id)
            .join(Product, Product.id == SaleLine.product_id)
            .where(
                Sale.receipt_no.in_(receipts[i : i + 500]),
                Sale.business_time >= start,
                Sale.business_time < end,
                Product.kind.in_(sorted(CARD_PRODUCT_KINDS)),
            )
        ).one()
        qty += part_qty
        fen += part_fen
    return qty, fen


def _ledger_query(start: str, end: str) -> Select[Any]:
    e = LedgerEntry
    return (
        select(
            e.kind,
            e.tender,
            func.count(),
            func.coalesce(func.sum(e.amount_fen), 0),
            func.coalesce(func.sum(e.principal_delta), 0),
            func.coalesce(func.sum(e.bonus_delta), 0),
            func.coalesce(func.sum(case((e.points_delta > 0, e.points_delta), else_=0)), 0),
            func.coalesce(func.sum(case((e.points_delta < 0, e.points_delta), else_=0)), 0),
        )
        .where(
            e.kind.in_([str(k) for k in REPORT_KINDS]),
            e.business_time >= start,
            e.business_time < end,
        )
        .group_by(e.kind, e.tender)
    )


def report_queries(start: str, end: str) -> dict[str, Select[Any]]:
    """The statements, by name, for EXPLAIN QUERY PLAN in the benchmark."""
    return {
        "sales": _sales_query(start, end),
        "tenders": _tenders_query(start, end),
        "ledger": _ledger_query(start, end),
        "card_receipts": _card_receipts_query(start, end),
    }


def figures_between(s: Session, start: str, end: str) -> Figures:
    """The figures of [start, end), without the drawer's float and count (which belong to
    shifts: see `with_shift_cash`)."""
    sales: dict[str, int] = defaultdict(int)
    for kind, is_member, count, gross, discount, rounding, total in s.execute(
        _sales_query(start, end)
    ):
        who = "member" if is_member else "non_member"
        if kind == "refund":
            sales["refunds_count"] += count
            sales["refunds_fen"] -= total
            sales["refunds_gross_fen"] -= gross
            sales["refunds_discount_fen"] -= discount
            sales["refunds_rounding_fen"] -= rounding
        else:
            sales["sales_count"] += count
            sales["gross_fen"] += gross
            sales["discount_fen"] += discount
            sales["rounding_fen"] += rounding
            sales["sales_fen"] += total
            sales[f"{who}_sales_count"] += count
        sales[f"{who}_net_fen"] += total  # refunds are negative

    tender_parts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for tender, is_refund, count, amount in s.execute(_tenders_query(start, end)):
        part = tender_parts[tender]
        if is_refund:
            part["refunds_count"] += count
            part["refunds_fen"] -= amount
        else:
            part["sales_count"] += count
            part["sales_fen"] += amount
    tenders = tuple(
        TenderLine(t, **tender_parts[t]) for t in sorted(tender_parts, key=tender_order)
    )

    led: dict[str, int] = defaultdict(int)
    card_qty, card_fen = _card_sales(s, start, end)
    led["card_sales_count"] = card_qty
    led["card_sales_fen"] = card_fen
    card_cancels: dict[str, CardCancelLine] = {}
    topups: dict[str, TopUpLine] = {}
    topup_refunds: dict[str, TopUpRefundLine] = {}
    cash = CashFigures()
    for kind, tender, count, amount, principal, bonus, pts_in, pts_out in s.execute(
        _ledger_query(start, end)
    ):
        if kind == EntryKind.TOPUP:
            t = tender or "cash"
            old = topups.get(t, TopUpLine(t))
            topups[t] = TopUpLine(
                t, old.count + count, old.amount_fen + amount, old.bonus_fen + bonus
            )
            if t == "cash":
                cash = replace(cash, topups_fen=cash.topups_fen + amount)
        elif kind == EntryKind.TOPUP_REFUNDED:
            t = tender or "cash"
            r = topup_refunds.get(t, TopUpRefundLine(t))
            topup_refunds[t] = TopUpRefundLine(
                t,
                r.count + count,
                r.paid_back_fen + amount,
                r.principal_fen - principal,
                r.bonus_fen - bonus,
            )
            if t == "cash":
                cash = replace(cash, topup_refunds_fen=cash.topup_refunds_fen + amount)
        elif kind in (EntryKind.SV_PAYMENT, EntryKind.SV_PAYMENT_REFUNDED):
            led["sv_principal_used_fen"] -= principal
            led["sv_bonus_used_fen"] -= bonus
        elif kind in POINTS_IN_KINDS:
            led["points_issued"] += pts_in
            led["points_adjusted_out"] -= pts_out  # only an adjustment can be negative here
        elif kind == EntryKind.POINTS_REDEEMED:
            led["points_redeemed"] -= pts_out
        elif kind == EntryKind.POINTS_REVERSED:
            led["points_reversed"] -= pts_out
        elif kind == EntryKind.POINTS_EXPIRED:
            led["points_expired"] -= pts_out
        elif kind == EntryKind.POINTS_RESET:
            led["points_adjusted_out"] -= pts_out
        elif kind == EntryKind.COUPON_ISSUED:
            led["coupons_issued"] += count
        elif kind == EntryKind.COUPON_REDEEMED:
            led["coupons_redeemed"] += count
            led["coupons_face_fen"] += amount
        elif kind == EntryKind.COUPON_RESTORED:
            led["coupons_redeemed"] -= count
            led["coupons_restored"] += count
        elif kind == EntryKind.MEMBER_REGISTERED:
            led["members_registered"] += count
        elif kind == EntryKind.CARD_CANCELLED:
            t = tender or "cash"
            c = card_cancels.get(t, CardCancelLine(t))
            card_cancels[t] = CardCancelLine(t, c.count + count, c.paid_back_fen + amount)
            if t == "cash":
                cash = replace(cash, card_cancel_fen=cash.card_cancel_fen + amount)
        elif kind == EntryKind.CASH_PAID_IN:
            cash = replace(
                cash,
                paid_in_count=cash.paid_in_count + count,
                paid_in_fen=cash.paid_in_fen + amount,
            )
        elif kind == EntryKind.CASH_PAID_OUT:
            cash = replace(
                cash,
                paid_out_count=cash.paid_out_count + count,
                paid_out_fen=cash.paid_out_fen + amount,
            )

    cash_tender = next((t for t in tenders if t.tender == "cash"), TenderLine("cash"))
    cash = replace(cash, sales_fen=cash_tender.sales_fen, refunds_fen=cash_tender.refunds_fen)
    return Figures(
        start=start,
        end=end,
        tenders=tenders,
        topups=tuple(topups[t] for t in sorted(topups, key=tender_order)),
        topup_refunds=tuple(topup_refunds[t] for t in sorted(topup_refunds, key=tender_order)),
        card_cancels=tuple(card_cancels[t] for t in sorted(card_cancels, key=tender_order)),
        cash=cash,
        **sales,
        **led,
    )


def with_shift_cash(s: Session, figures: Figures, shifts: list[Shift], now: str) -> Figures:
    """A day's or a period's drawer: the sum of its shifts' drawers, each from its own
    opening to its close (or `now` while open), and, once every one of them is closed,
    their counts and over/short.

    Every movement of cash happens inside a shift (the services refuse it otherwise), so
    the period's over/short is exactly the sum of its cashiers' over/short: a day settles to
    ¥0.00 when every cashier's count matched. A shift belongs to the day it was opened on,
    all of it: one that runs past midnight brings all its cash to that day, while the day's
    sales lines stay on the calendar day they were made.
    """
    parts = [shift_figures(s, sh, sh.closed_at or now).cash for sh in shifts]
    cash = merge_cash(parts)
    if not shifts or any(sh.counted_fen is None for sh in shifts):
        cash = replace(cash, counted_fen=None, over_short_fen=None)
    return replace(figures, cash=cash)


def shift_figures(s: Session, shift: Shift, end: str) -> Figures:
    """A shift's figures from its opening to `end` (its close, or now for an X report)."""
    figures = figures_between(s, shift.opened_at, end)
    cash = replace(figures.cash, float_fen=shift.float_fen)
    if shift.counted_fen is not None:
        cash = cash.counted(shift.counted_fen)
    return replace(figures, cash=cash)


def shifts_of_days(s: Session, first_day: str, last_day: str) -> list[Shift]:
    """The shifts whose business day is in [first_day, last_day] (YYYY-MM-DD), in order."""
    return list(
        s.scalars(
            select(Shift)
            .where(and_(Shift.business_day >= first_day, Shift.business_day <= last_day))
            .order_by(Shift.shift_no)
        )
    )
