"""销售分析: sales by category and by product (top sellers), discounts by kind, member share
and average ticket over a range of days.

Refunds are netted in (their lines carry negative quantities and amounts). Discounts are
those of the sales themselves: the kinds each line's adjustments explain (member price,
tier, promotion, gift, a manual price), coupons (the sale's discount the lines do not
explain) and rounding (抹零).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from db.engine import read_session
from db.models import Sale, SaleLine
from pos_app.domain.permissions import Permission
from pos_app.domain.report_figures import Figures
from pos_app.services.auth import Actor, Approval, authorize
from pos_app.services.context import StoreContext
from pos_app.services.figures_query import figures_between
from pos_app.services.reports import check_range

DISCOUNT_KINDS = {
    "member_price": ("会员价", "Member price"),
    "tier": ("等级折扣", "Tier discount"),
    "promotion": ("促销", "Promotions"),
    "gift": ("赠品", "Gifts"),
    "manual": ("手工改价", "Manual"),
    "coupon": ("优惠券", "Coupons"),
    "rounding": ("抹零", "Rounding"),
}
MAX_TOP = 1000


@dataclass(frozen=True)
class SalesLine:
    """One category or product over the period, net of refunds."""

    key: str  # the category, or the SKU
    name: str
    qty: int
    gross_fen: int
    net_fen: int


@dataclass(frozen=True)
class DiscountLine:
    kind: str
    amount_fen: int


@dataclass(frozen=True)
class SalesAnalysis:
    date_from: date
    date_to: date
    figures: Figures
    categories: tuple[SalesLine, ...]
    products: tuple[SalesLine, ...]  # best sellers first (by net amount)
    discounts: tuple[DiscountLine, ...]

    @property
    def discounts_fen(self) -> int:
        return sum(d.amount_fen for d in self.discounts)


def sales_analysis(
    ctx: StoreContext,
    actor: Actor,
    date_from: date,
    date_to: date,
    top: int | None = None,
    approval: Approval | None = None,
) -> SalesAnalysis:
    """The period's sales by category and product (`top`: only the N best sellers). A
    cashier sees it with a manager's approval."""
    check_range(date_from, date_to)
    start = ctx.day_start_iso(date_from)
    end = ctx.day_start_iso(date_to + timedelta(days=1))
    with read_session(ctx.engine) as s:
        authorize(s, actor, Permission.REPORT_STORE, approval)
        figures = figures_between(s, start, end)
        categories = _grouped(s, start, end, by_product=False, top=None)
        products = _grouped(s, start, end, by_product=True, top=top)
        discounts = _discounts(s, start, end, figures)
    return SalesAnalysis(date_from, date_to, figures, categories, products, discounts)


def _grouped(
    s: Session, start: str, end: str, *, by_product: bool, top: int | None
) -> tuple[SalesLine, ...]:
    net = func.sum(SaleLine.net_fen)
    keys = (SaleLine.sku, func.max(SaleLine.name)) if by_product else (SaleLine.category,)
    query = (
        select(*keys, func.sum(SaleLine.qty), func.sum(SaleLine.gross_fen), net)
        .select_from(Sale)
        .join(SaleLine, SaleLine.sale_id == Sale.id)
        .where(Sale.business_time >= start, Sale.business_time < end)
        .group_by(SaleLine.sku if by_product else SaleLine.category)
        .order_by(net.desc(), keys[0])
    )
    if top is not None:
        query = query.limit(top)
    lines = []
    for row in s.execute(query):
        if by_product:
            sku, name, qty, gross, net_fen = row
        else:
            sku, qty, gross, net_fen = row
            name = sku
        lines.append(SalesLine(str(sku), str(name), int(qty), int(gross), int(net_fen)))
    return tuple(lines)


# The lines' own adjustments, by kind, read from their JSON with SQLite's json_each.
_LINE_ADJUSTMENTS = text(
    """
    SELECT json_extract(adj.value, '$.kind') AS kind,
           SUM(json_extract(adj.value, '$.amount_fen')) AS amount
    FROM sale JOIN sale_line ON sale_line.sale_id = sale.id, json_each(sale_line.adjustments) adj
    WHERE sale.business_time >= :start AND sale.business_time < :end AND sale.kind = 'sale'
    GROUP BY kind
    """
)


def _discounts(s: Session, start: str, end: str, figures: Figures) -> tuple[DiscountLine, ...]:
    by_kind: dict[str, int] = {}
    for kind, amount in s.execute(_LINE_ADJUSTMENTS, {"start": start, "end": end}):
        by_kind[str(kind)] = by_kind.get(str(kind), 0) + int(amount or 0)
    # What the lines do not explain of the sales' discount is the coupons' (sale-level).
    coupons = figures.discount_fen - sum(by_kind.values())
    if coupons:
        by_kind["coupon"] = by_kind.get("coupon", 0) + coupons
    if figures.rounding_fen:
        by_kind["rounding"] = figures.rounding_fen
    order = list(DISCOUNT_KINDS)
    return tuple(
        DiscountLine(k, by_kind[k])
        for k in sorted(by_kind, key=lambda k: (order.index(k) if k in order else len(order), k))
        if by_kind[k]
    )
