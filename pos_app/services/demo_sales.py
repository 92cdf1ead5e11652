"""Demo data for the till: the demo catalogue, two coupon templates, an open shift and a
morning's sales (walk-in and member, split tender, coupons, a count card sold and used, a
return), all through the public services, so reports and `verify` see a real day."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from sqlalchemy import func, select

from db.engine import read_session
from db.models import Product
from pos_app.domain.coupons import TemplateSpec
from pos_app.domain.errors import DomainError
from pos_app.domain.sale_request import LineRequest, SaleRequest, TenderRequest
from pos_app.services import coupons, shifts
from pos_app.services.auth import Actor
from pos_app.services.catalogue import load_demo_catalogue
from pos_app.services.checkout import sell
from pos_app.services.context import StoreContext
from pos_app.services.sale_refund import refund_sale

GOODS = [
    "D001",
    "D002",
    "D003",
    "D004",
    "D005",
    "D006",
    "D007",
    "S001",
    "S002",
    "S003",
    "S004",
    "S005",
    "S006",
    "V001",
    "V002",
    "V003",
    "V004",
    "V005",
    "F001",
    "F002",
    "F003",
    "F004",
    "H001",
    "H002",
    "H003",
    "H004",
    "H005",
    "W002",
    "W003",
    "W004",
]
WALK_IN_TENDERS = ("cash", "wechat", "wechat", "alipay", "alipay", "bank")
TEMPLATES = (
    TemplateSpec(
        code="VEG20-8",
        name="蔬菜满20减8",
        kind="amount_off",
        threshold_fen=2000,
        amount_off_fen=800,
        categories=("蔬菜",),
        valid_days=30,
    ),
    TemplateSpec(
        code="ALL85",
        name="全场8.5折 最高减50",
        kind="percent_off",
        percent_off=15,
        cap_fen=5000,
        valid_days=60,
        stacks_with_tier=False,
    ),
)


@dataclass
class DemoSales:
    sales: int = 0
    refunds: int = 0
    coupons_issued: int = 0
    receipts: list[str] = field(default_factory=list)
    coupon_codes: dict[str, str] = field(default_factory=dict)  # card → an unused coupon


def prepare_demo_till(ctx: StoreContext, actor: Actor) -> dict[str, int]:
    """The demo catalogue, the coupon templates and an open shift, each only if missing;
    returns the price (fen) of each of the demo's everyday goods."""
    with read_session(ctx.engine) as s:
        has_products = (s.scalar(select(func.count()).select_from(Product)) or 0) > 0
    if not has_products:
        load_demo_catalogue(ctx, actor)
    known = {t.code for t in coupons.list_templates(ctx, actor)}
    for spec in TEMPLATES:
        if spec.code not in known:
            coupons.add_template(ctx, actor, spec)
    if shifts.current_shift(ctx, actor) is None:
        shifts.open_shift(ctx, actor, 50_000)
    with read_session(ctx.engine) as s:
        rows = s.execute(select(Product.sku, Product.price_fen).where(Product.sku.in_(GOODS)))
        return {sku: price for sku, price in rows}


def fill_demo_sales(
    ctx: StoreContext,
    actor: Actor,
    member_cards: list[tuple[str, str]],
    rng: random.Random,
    sales: int = 40,
) -> DemoSales:
    """`member_cards`: (member number, card number) of active demo cards without a PIN."""
    out = DemoSales()
    prepare_demo_till(ctx, actor)
    for member_no, card_no in member_cards[:10]:
        (coupon,) = coupons.issue_coupons(ctx, actor, "VEG20-8", member_no)
        out.coupon_codes[card_no] = coupon.code
        out.coupons_issued += 1
    for i in range(sales):
        member = member_cards[i % len(member_cards)] if member_cards and i % 3 == 0 else None
        lines = tuple(
            LineRequest(sku, rng.randint(1, 3)) for sku in rng.sample(GOODS, rng.randint(1, 6))
        )
        if member is None:
            tenders: tuple[TenderRequest, ...] = (TenderRequest(rng.choice(WALK_IN_TENDERS)),)
            request = SaleRequest(lines, tenders)
        else:
            tenders = (TenderRequest("stored_value"), TenderRequest("cash"))
            request = SaleRequest(lines, tenders, card_no=member[1])
        try:
            out.receipts.append(sell(ctx, actor, request).receipt_no)
            out.sales += 1
        except DomainError:
            continue  # e.g. a member's daily stored-value limit: the demo simply moves on
    if member_cards:
        _service_cards(ctx, actor, member_cards[0][1], out)
    if out.receipts:
        refund_sale(ctx, actor, out.receipts[1], None)
        out.refunds += 1
    return out


def _service_cards(ctx: StoreContext, actor: Actor, card_no: str, out: DemoSales) -> None:
    """A 10-visit car-wash card sold to a member, then two washes paid with it."""
    cash = (TenderRequest("stored_value"), TenderRequest("cash"))
    try:
        sell(ctx, actor, SaleRequest((LineRequest("C010"),), cash, card_no=card_no))
        washes = (LineRequest("SV01", 2),)
        sell(ctx, actor, SaleRequest(washes, (TenderRequest("count_card"),), card_no=card_no))
        out.sales += 2
    except DomainError:
        return
