"""Checkout: price a cart for a member or a walk-in customer, take the tenders, commit.

`quote` prices without writing (what the till shows while the cart fills); `sell` prices
again inside the write transaction — balances, coupons and passes may have moved since the
quote — and records everything the sale does in one transaction: the purchase, the
stored-value payment, points taken and earned, coupons used, count-card uses, cards sold,
a tier upgrade, the sale with its lines and tenders, and the receipt document. The receipt
is printed only after this commits.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.engine import read_session
from db.ledger import new_id
from db.models import Card, Coupon, Member, Product
from pos_app.domain.card_lifecycle import CardState, check_can_pay, mask_card_no
from pos_app.domain.coupons import CouponTerms
from pos_app.domain.entry_kinds import EntryKind
from pos_app.domain.errors import ApprovalRequired, InvalidInput, NotFound
from pos_app.domain.members import mask_mobile
from pos_app.domain.money import format_fen
from pos_app.domain.passes import HeldPass, PassUse, ServiceLine, plan_uses, uses_text
from pos_app.domain.permissions import Permission
from pos_app.domain.pin_policy import pin_locked_error
from pos_app.domain.points import allocate_for_redemption
from pos_app.domain.pricing import (
    CARD_KINDS,
    Adjustment,
    CartItem,
    ManualLimits,
    MemberTerms,
    PricedProduct,
    PricedSale,
    price_sale,
)
from pos_app.domain.receipt import (
    ReceiptAdjustment,
    ReceiptDocument,
    ReceiptLine,
    ReceiptMember,
    ReceiptTender,
)
from pos_app.domain.rules import Rules
from pos_app.domain.sale_request import TENDER_NAMES, LineRequest, SaleRequest
from pos_app.domain.scale_barcode import read_scale_barcode
from pos_app.domain.tenders import (
    TenderLimits,
    TenderPlan,
    plan_tenders,
    points_for,
    points_max_fen,
)
from pos_app.domain.weighed_goods import milli_from_grams, weight_from_price
from pos_app.services import coupons as coupon_svc
from pos_app.services import passes as pass_svc
from pos_app.services.audit import record as audit
from pos_app.services.auth import Actor, Approval, authorize
from pos_app.services.catalogue import products_by_codes
from pos_app.services.chain_spend import (
    ChainSpend,
    authorize_spend,
    check_chain_spend,
    entry_marks,
    limits_within_hold,
    mirror_in_tx,
    receipt_notes,
    release_spend,
)
from pos_app.services.context import StoreContext
from pos_app.services.lookup import card_by_no, member_by_no, member_of_card
from pos_app.services.member_tender_lock import member_tenders_locked
from pos_app.services.points import earn_for_purchase, is_first_purchase
from pos_app.services.points_book import as_domain, expire_due, member_lots, take_points
from pos_app.services.rules_store import current_rules
from pos_app.services.sale_records import (
    SaleRows,
    local_time_text,
    next_receipt_no,
    operator_name,
    write_sale,
)
from pos_app.services.shifts import open_shift_row
from pos_app.services.stored_value import check_pin_in_tx, spend_in_tx
from pos_app.services.use_case import UseCase, use_case

log = logging.getLogger(__name__)


@dataclass
class Cart:
    """A request priced against the database as it stands."""

    request: SaleRequest
    member: Member | None
    card: Card | None
    products: list[Product]  # per request line, then the gifts pricing added
    lines: tuple[LineRequest, ...]  # the request's lines, scale labels read
    priced: PricedSale
    coupons: list[CouponTerms]
    pass_uses: list[PassUse]
    passes: list[HeldPass]
    limits: TenderLimits


@dataclass(frozen=True)
class QuoteLine:
    line_no: int
    sku: str
    name: str
    qty: int
    gross_fen: int
    net_fen: int
    adjustments: tuple[ReceiptAdjustment, ...]
    is_gift: bool
    weight_milli: int | None = None  # weighed goods: thousandths of `unit`
    unit: str = ""
    unit_price_fen: int = 0


@dataclass(frozen=True)
class Quote:
    """What the till shows before payment: lines with every discount explained, totals, and
    what each tender could pay."""

    lines: tuple[QuoteLine, ...]
    sale_adjustments: tuple[ReceiptAdjustment, ...]
    gross_fen: int
    discount_fen: int
    rounding_fen: int
    total_fen: int
    member_no: str | None
    stored_value_fen: int | None
    points_max_fen: int
    pass_cover_fen: int
    plan: TenderPlan | None
    # Wrong PINs locked the card: stored value, points, service cards and the member's own
    # coupons are refused until a manager resets the PIN (the till says so up front).
    member_tenders_locked: bool = False
    # Manual changes (改价, 整单折扣, 抹零) beyond the cashier's limits, (zh, en): the sale
    # needs a manager's approval.
    approval_needed: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class SaleResult:
    sale_id: str
    receipt_no: str
    receipt: ReceiptDocument
    total_fen: int
    change_fen: int
    points_earned: int


def _priced_product(p: Product) -> PricedProduct:
    return PricedProduct(
        sku=p.sku,
        name=p.name,
        name_en=p.name_en or p.name,
        category=p.category,
        kind=p.kind,
        price_fen=p.price_fen,
        member_price_fen=p.member_price_fen,
        earns_points=p.earns_points,
        takes_discounts=p.takes_discounts,
        weight_unit=p.unit if p.sold_by_weight else None,
    )


def scale_label_line(s: Session, rules: Rules, code: str) -> LineRequest | None:
    """The weighed line a label scale's barcode stands for, or None when `code` is no scale
    label (a code the catalogue knows is never read as one). A label fails its check digit:
    InvalidInput; names a PLU the catalogue lacks: NotFound.

    A price-embedded label fixes the line's price (the customer pays what the label says);
    its weight is derived from the unit price, for the receipt and for returns."""
    formats = rules.checkout.scale_barcodes
    misread: InvalidInput | None = None
    try:
        label = read_scale_barcode(code, formats)
    except InvalidInput as exc:
        label, misread = None, exc
    if label is None and misread is None:
        return None  # no label's length and prefix: an ordinary code (no query spent)
    try:
        products_by_codes(s, [code], include_inactive=True)
        return None
    except NotFound:
        pass
    if label is None:
        assert misread is not None
        raise misread
    try:
        (product,) = products_by_codes(s, [label.plu])
    except NotFound:
        raise NotFound(
            f"秤码 {code.strip()} 的商品号 {label.plu} 不在商品目录中",
            f"The scale label {code.strip()} names PLU {label.plu}, which is not in the catalogue",
        ) from None
    if not product.sold_by_weight:
        raise InvalidInput(
            f"秤码的商品 {product.name}（{product.sku}）不是称重商品",
            f"The scale label names {product.sku}, which is not sold by weight",
        )
    if label.grams is not None:
        weight = milli_from_grams(label.grams, product.unit)
    else:
        assert label.price_fen is not None
        weight = weight_from_price(label.price_fen, product.price_fen)
    if weight <= 0:
        raise InvalidInput(f"秤码 {code.strip()} 的重量为零", f"The scale label {code} weighs 0")
    return LineRequest(product.sku, 1, weight_milli=weight, label_fen=label.price_fen)


def _read_labels(s: Session, rules: Rules, lines: tuple[LineRequest, ...]) -> list[LineRequest]:
    out = []
    for line in lines:
        label = scale_label_line(s, rules, line.code) if line.weight_milli is None else None
        out.append(line if label is None else replace(label, price_fen=line.price_fen))
    return out


def manual_limits(rules: Rules) -> ManualLimits:
    """The rules' limits on what a cashier changes by hand."""
    co = rules.checkout
    return ManualLimits(
        co.manual_price_max_drop_pct, co.order_discount_max_pct, co.manual_rounding_max_fen
    )


def _identify(s: Session, request: SaleRequest) -> tuple[Member | None, Card | None]:
    """The member at the till, by card (swiped, tapped or scanned) or by member number."""
    if request.card_no:
        card = card_by_no(s, request.card_no)
        # A lost, frozen, replaced or cancelled card is refused before anything is priced.
        check_can_pay(mask_card_no(card.card_no), CardState(card.state))
        return member_of_card(s, card), card
    if request.member_no:
        return member_by_no(s, request.member_no), None
    return None, None


def _gift_products(s: Session, rules: Rules, coupons: list[CouponTerms]) -> dict[str, Product]:
    skus = {p.gift_sku for p in rules.promotions if p.gift_sku}
    skus |= {c.gift_sku for c in coupons if c.gift_sku}
    if not skus:
        return {}
    rows = s.scalars(select(Product).where(Product.sku.in_(skus), Product.active.is_(True)))
    return {p.sku: p for p in rows}


def price_cart(s: Session, rules: Rules, request: SaleRequest, today: date) -> Cart:
    """Price a request against the database as it stands (no writes)."""
    if not request.lines:
        raise InvalidInput("购物车是空的", "The cart is empty")
    member, card = _identify(s, request)
    lines = tuple(_read_labels(s, rules, request.lines))
    products = products_by_codes(s, [line.code for line in lines])
    if member is None and any(p.kind in CARD_KINDS for p in products):
        raise InvalidInput(
            "次卡/时卡/套餐必须售给会员：请先刷会员卡",
            "Service cards are sold to members only: identify the member first",
        )
    coupons = [
        coupon_svc.terms_for_sale(s, code, member.id if member else None, today)
        for code in request.coupon_codes
    ]
    gifts = _gift_products(s, rules, coupons)
    terms = None
    if member is not None:
        tier = rules.tiers.level(member.tier_code)
        terms = MemberTerms(
            tier.code,
            tier.name,
            tier.name_en,
            tier.discount_percent,
            tier.points_multiplier_permille,
        )
    priced = price_sale(
        [
            CartItem(
                _priced_product(p), line.qty, line.weight_milli, line.label_fen, line.price_fen
            )
            for p, line in zip(products, lines, strict=True)
        ],
        member=terms,
        promotions=rules.promotions,
        coupons=coupons,
        rounding=rules.checkout.rounding,
        today=today,
        gifts={sku: _priced_product(p) for sku, p in gifts.items()},
        order_discount=request.order_discount,
        manual_rounding=request.manual_rounding,
    )
    products += [gifts[line.product.sku] for line in priced.lines[len(products) :]]
    passes: list[HeldPass] = []
    uses: list[PassUse] = []
    if member is not None:
        service_lines = [
            ServiceLine(line.line_no, line.product.sku, line.qty, line.net_fen)
            for line in priced.lines
            if line.product.kind == "service" and not line.is_gift and line.net_fen > 0
        ]
        if service_lines:
            passes = pass_svc.usable_passes(s, member.id, today)
            uses = plan_uses(passes, service_lines, today)
    limits = TenderLimits(
        stored_value_fen=(card.principal_fen + card.bonus_fen) if card else None,
        points_max_fen=(
            points_max_fen(
                member.points_balance,
                member.points_debt,
                rules.points.redeem_points_per_yuan,
                rules.points.redeem_max_percent,
                priced.total_fen,
            )
            if member
            else 0
        ),
        pass_cover_fen=sum(u.amount_fen for u in uses),
    )
    return Cart(request, member, card, products, lines, priced, coupons, uses, passes, limits)


MEMBER_TENDERS = frozenset({"stored_value", "points", "count_card"})


def _check_member_tenders(s: Session, cart: Cart, tenders: set[str]) -> None:
    """Refuse the member's own value — stored value, points, service cards, coupons from the
    member's wallet — while wrong PINs lock the card (PinLocked); cash and the like still pay,
    and the member still gets their prices and earns points."""
    member = cart.member
    if member is None:
        return
    wallet = bool(cart.coupons) and (
        s.scalar(
            select(Coupon.id)
            .where(
                Coupon.id.in_([c.coupon_id for c in cart.coupons]),
                Coupon.member_id == member.id,
            )
            .limit(1)
        )
        is not None
    )
    if (wallet or tenders & MEMBER_TENDERS) and member_tenders_locked(s, member, cart.card):
        raise pin_locked_error()


def _adjustments(adjs: list[Adjustment]) -> tuple[ReceiptAdjustment, ...]:
    return tuple(
        ReceiptAdjustment(a.kind, a.rule, a.label_zh, a.label_en, a.amount_fen) for a in adjs
    )


def quote(ctx: StoreContext, actor: Actor, request: SaleRequest) -> Quote:
    """Price a cart (and plan its tenders, if given) without writing anything."""
    with read_session(ctx.engine) as s:
        authorize(s, actor, Permission.SALE)
        _, rules = current_rules(s)
        cart = price_cart(s, rules, request, ctx.business_day())
        _check_member_tenders(s, cart, {t.tender for t in request.tenders})
        plan = (
            plan_tenders(cart.priced.total_fen, request.tenders, cart.limits)
            if request.tenders
            else None
        )
        p = cart.priced
        return Quote(
            lines=tuple(
                QuoteLine(
                    line.line_no,
                    line.product.sku,
                    line.product.name,
                    line.qty,
                    line.gross_fen,
                    line.net_fen,
                    _adjustments(list(line.adjustments)),
                    line.is_gift,
                    line.weight_milli,
                    line.product.weight_unit or "",
                    line.unit_price_fen,
                )
                for line in p.lines
            ),
            sale_adjustments=_adjustments(list(p.sale_adjustments)),
            gross_fen=p.gross_fen,
            discount_fen=p.discount_fen,
            rounding_fen=p.rounding_fen,
            total_fen=p.total_fen,
            member_no=cart.member.member_no if cart.member else None,
            stored_value_fen=cart.limits.stored_value_fen,
            points_max_fen=cart.limits.points_max_fen,
            pass_cover_fen=cart.limits.pass_cover_fen,
            plan=plan,
            member_tenders_locked=(
                cart.member is not None and member_tenders_locked(s, cart.member, cart.card)
            ),
            approval_needed=tuple(p.manual_limit_breaches(manual_limits(rules))),
        )


def sell(
    ctx: StoreContext, actor: Actor, request: SaleRequest, approval: Approval | None = None
) -> SaleResult:
    """Complete a sale. A wrong PIN is refused and only the failed try is recorded. Manual
    price changes, an order discount or 抹零 beyond the rules' limits need `approval` from a
    manager (a manager selling approves it themselves)."""
    target = mask_card_no(request.card_no) if request.card_no else request.member_no
    # HQ is asked before the write transaction: no network under the till's write lock.
    spend = authorize_spend(ctx, actor, request)
    try:
        with use_case(ctx, actor, Permission.SALE, target=target) as uc:
            result = sell_in_tx(uc, actor, request, approval, spend=spend)
    except BaseException:
        release_spend(ctx, spend)  # after the rollback: HQ stops holding what was not sold
        raise
    assert result is not None  # a wrong PIN was raised by use_case after its commit
    log.info("sale %s total %s", result.receipt_no, format_fen(result.total_fen))
    return result


def _earn_groups(cart: Cart, plan: TenderPlan) -> dict[int, int]:
    """The amounts that earn points, by campaign multiplier: lines paid by a count card
    earned their points when the card was sold, and what points paid earns none."""
    covered: dict[int, int] = {}
    if plan.amount("count_card"):
        for use in cart.pass_uses:
            covered[use.line_no] = covered.get(use.line_no, 0) + use.amount_fen
    groups: dict[int, int] = {}
    for line in cart.priced.lines:
        if line.product.earns_points and not line.is_gift:
            amount = line.net_fen - covered.get(line.line_no, 0)
            if amount > 0:
                m = line.points_multiplier_permille
                groups[m] = groups.get(m, 0) + amount
    base = sum(groups.values())
    points_paid = plan.amount("points")
    if base and points_paid:
        keep = max(0, base - points_paid)
        groups = {m: amount * keep // base for m, amount in groups.items()}
    return groups


def _approve_manual(uc: UseCase, actor: Actor, cart: Cart, approval: Approval | None) -> str | None:
    """Above the cashier's limits for manual changes, a manager approves the whole sale; the
    approver (returned) is recorded on the sale and on every entry it makes."""
    breaches = cart.priced.manual_limit_breaches(manual_limits(uc.rules))
    if not breaches:
        return None
    try:
        approver = authorize(uc.session, actor, Permission.SALE_OVER_LIMIT, approval)
    except ApprovalRequired:
        raise ApprovalRequired(
            "需要店长授权：" + "；".join(zh for zh, _ in breaches),
            "A manager must approve: " + "; ".join(en for _, en in breaches),
        ) from None
    uc.approver_id = approver
    uc.ledger.approved_by_id = approver
    return approver


def _manual_payload(priced: PricedSale) -> dict[str, object] | None:
    """The manual changes of a sale, for the sealed purchase entry (None when there are none)."""
    prices = [
        {
            "line_no": line.line_no,
            "sku": line.product.sku,
            "price_fen": line.product.price_fen,
            "changed_to_fen": line.manual_price_fen,
            "off_fen": sum(a.amount_fen for a in line.adjustments if a.kind == "manual_price"),
        }
        for line in priced.lines
        if line.manual_price_fen is not None
    ]
    out: dict[str, object] = {}
    if prices:
        out["price_changes"] = prices
    for a in priced.sale_adjustments:
        if a.kind == "order_discount":
            out["order_discount"] = {"rule": a.rule, "off_fen": a.amount_fen}
        elif a.kind == "rounding" and priced.manual_rounding_fen:
            out["rounding"] = {"rule": a.rule, "off_fen": a.amount_fen}
    return out or None


def sell_in_tx(
    uc: UseCase,
    actor: Actor,
    request: SaleRequest,
    approval: Approval | None = None,
    *,
    spend: ChainSpend | None = None,
) -> SaleResult | None:
    """The sale inside its transaction. `spend`: what the chain said about it (HQ's hold or
    a stand-in; None without sync), mirrored before the cart is priced again."""
    s = uc.session
    ctx = uc.ctx
    shift = open_shift_row(s, actor)
    today = ctx.business_day()
    if spend is not None:
        mirror_in_tx(uc, spend)
    cart = price_cart(s, uc.rules, request, today)
    cart.limits = limits_within_hold(spend, cart.limits, uc.rules.points.redeem_points_per_yuan)
    approved_by = _approve_manual(uc, actor, cart, approval)
    plan = plan_tenders(cart.priced.total_fen, request.tenders, cart.limits)
    _check_member_tenders(s, cart, {t.tender for t in plan.tenders if t.amount_fen})
    member, card = cart.member, cart.card
    sv_amount = plan.amount("stored_value")
    points_tender = plan.amount("points")
    check_chain_spend(
        uc,
        spend,
        sv_amount,
        points_for(points_tender, uc.rules.points.redeem_points_per_yuan) if points_tender else 0,
        {terms.coupon_id for terms, _ in cart.priced.coupon_discounts},
    )
    if sv_amount:
        assert card is not None and member is not None
        check_pin_in_tx(uc, card, member, sv_amount, request.pin)
        if uc.refusal is not None:
            return None  # commit the failed try only
    receipt_no = next_receipt_no(s, ctx.till_id, today)
    sale_id = new_id()
    first = is_first_purchase(uc, member) if member else False
    priced = cart.priced
    # What each tender paid goes into the sealed entry too: cash, bank card, WeChat and Alipay
    # move no balance, so without it their amounts would live only in the sale tables.
    paid: dict[str, int] = {}
    for t in plan.tenders:
        paid[t.tender] = paid.get(t.tender, 0) + t.amount_fen
    payload: dict[str, object] = {"receipt_no": receipt_no, "sale_id": sale_id, "tenders": paid}
    manual = _manual_payload(priced)
    if manual is not None:
        payload["manual"] = manual
    purchase = uc.ledger.append(
        EntryKind.PURCHASE,
        member_id=member.id if member else None,
        amount_fen=priced.total_fen,
        payload=payload,
    )
    related = purchase.entry_id
    tender_entries: dict[str, str] = {}
    details: dict[str, tuple[str, str]] = {}
    if sv_amount:
        assert card is not None and member is not None
        sv_entry, split = spend_in_tx(
            uc,
            card,
            member,
            sv_amount,
            {"receipt_no": receipt_no, **entry_marks(spend, "stored_value")},
            related_entry_id=related,
        )
        tender_entries["stored_value"] = sv_entry.entry_id
        details["stored_value"] = (
            f"本金 {format_fen(split.principal)} 赠送 {format_fen(split.bonus)}",
            f"principal {format_fen(split.principal)} bonus {format_fen(split.bonus)}",
        )
    points_amount = plan.amount("points")
    if points_amount:
        assert member is not None
        pts = points_for(points_amount, uc.rules.points.redeem_points_per_yuan)
        expire_due(uc, member)
        allocations = allocate_for_redemption(
            as_domain(member_lots(uc, member.id)), member.points_debt, pts
        )
        tender_entries["points"] = take_points(
            uc,
            member,
            EntryKind.POINTS_REDEEMED,
            allocations,
            related_entry_id=related,
            extra={
                "receipt_no": receipt_no,
                "amount_fen": points_amount,
                "reason": "tender",
                **entry_marks(spend, "points"),
            },
        )
        details["points"] = (f"{pts} 积分", f"{pts} points")
    used_pass_ids: set[str] = set()
    if plan.amount("count_card"):
        assert member is not None
        ids = pass_svc.apply_uses_in_tx(uc, member.id, cart.pass_uses, receipt_no, related)
        tender_entries["count_card"] = ids[0]
        used_pass_ids = {u.pass_id for u in cart.pass_uses}
        names = sorted({p.name for p in cart.passes if p.pass_id in used_pass_ids})
        details["count_card"] = ("、".join(names), ", ".join(names))
    for terms, discount in priced.coupon_discounts:
        coupon_svc.redeem_in_tx(
            uc,
            terms,
            member.id if member else None,
            discount,
            receipt_no,
            related,
            marks=entry_marks(spend, "coupon", terms.coupon_id),
        )
    granted: list[str] = []
    for line, product in zip(priced.lines, cart.products, strict=True):
        if product.kind in CARD_KINDS:
            assert member is not None
            for _ in range(line.qty):
                granted.append(
                    pass_svc.grant_pass_in_tx(uc, member, product, receipt_no, related).id
                )
    earned = None
    if member is not None:
        old_tier = member.tier_code
        earned = earn_for_purchase(
            uc, member, related, priced.total_fen, _earn_groups(cart, plan), first
        )
    business_time = uc.now_iso
    tenders = [
        {
            "sale_id": sale_id,
            "seq": i + 1,
            "tender": t.tender,
            "amount_fen": t.amount_fen,
            "reference": t.reference,
            "entry_id": tender_entries.get(t.tender),
            "business_time": business_time,
        }
        for i, t in enumerate(plan.tenders)
    ]
    lines = [
        {
            "sale_id": sale_id,
            "line_no": line.line_no,
            "product_id": product.id,
            "sku": product.sku,
            "name": product.name,
            "category": product.category,
            "qty": line.qty,
            "weight_milli": line.weight_milli,
            "unit_price_fen": line.unit_price_fen,
            "gross_fen": line.gross_fen,
            "net_fen": line.net_fen,
            "original_line_no": None,
            "adjustments": _adjustments_json(line.adjustments),
        }
        for line, product in zip(priced.lines, cart.products, strict=True)
    ]
    member_block = None
    if member is not None:
        assert earned is not None
        s.flush()
        shown = used_pass_ids | set(granted)
        held = (
            [p for p in pass_svc.usable_passes(s, member.id, today) if p.pass_id in shown]
            if shown
            else []
        )
        member_block = _member_block(
            uc,
            member,
            card,
            earned.points_earned,
            member.tier_code if member.tier_code != old_tier else None,
            held,
        )
    document = ReceiptDocument(
        store_code=ctx.store.code,
        till_id=ctx.till_id,
        store_name=ctx.store.name,
        receipt_no=receipt_no,
        kind="sale",
        business_time=local_time_text(ctx, business_time),
        operator_name=actor.name,
        lines=tuple(
            ReceiptLine(
                line.line_no,
                line.product.sku,
                line.product.name,
                line.qty,
                line.unit_price_fen,
                line.gross_fen,
                line.net_fen,
                _adjustments(list(line.adjustments)),
                line.weight_milli,
                line.product.weight_unit or "",
            )
            for line in priced.lines
        ),
        gross_fen=priced.gross_fen,
        discount_fen=priced.discount_fen,
        rounding_fen=priced.rounding_fen,
        total_fen=priced.total_fen,
        tenders=tuple(
            ReceiptTender(
                t.tender,
                TENDER_NAMES[t.tender][0],
                TENDER_NAMES[t.tender][1],
                t.amount_fen,
                t.reference,
                details.get(t.tender, (None, None))[0],
                details.get(t.tender, (None, None))[1],
            )
            for t in plan.tenders
        ),
        cash_given_fen=plan.cash_given_fen,
        change_fen=plan.change_fen,
        sale_adjustments=_adjustments(list(priced.sale_adjustments)),
        coupons_used=tuple(f"{c.code} {c.name}" for c, _ in priced.coupon_discounts),
        member=member_block,
        approved_by_name=operator_name(s, approved_by) if approved_by else None,
        notes=receipt_notes(spend),
    )
    write_sale(
        s,
        SaleRows(
            sale={
                "id": sale_id,
                "receipt_no": receipt_no,
                "kind": "sale",
                "original_sale_id": None,
                "shift_id": shift.id,
                "operator_id": actor.operator_id,
                "approved_by_id": approved_by,
                "member_id": member.id if member else None,
                "card_id": card.id if card else None,
                "business_time": business_time,
                "gross_fen": priced.gross_fen,
                "discount_fen": priced.discount_fen,
                "rounding_fen": priced.rounding_fen,
                "total_fen": priced.total_fen,
                "change_fen": plan.change_fen,
                "points_earned": earned.points_earned if earned else 0,
                "entry_id": related,
            },
            lines=lines,
            tenders=tenders,
            document=document,
        ),
    )
    return SaleResult(
        sale_id,
        receipt_no,
        document,
        priced.total_fen,
        plan.change_fen,
        earned.points_earned if earned else 0,
    )


def _adjustments_json(adjs: list[Adjustment]) -> str:
    return json.dumps(
        [{"kind": a.kind, "rule": a.rule, "amount_fen": a.amount_fen} for a in adjs],
        ensure_ascii=False,
        separators=(",", ":"),
    )


def _member_block(
    uc: UseCase,
    member: Member,
    card: Card | None,
    points_earned: int,
    upgraded_to: str | None,
    passes: list[HeldPass],
) -> ReceiptMember:
    tier = uc.rules.tiers.level(member.tier_code)
    return ReceiptMember(
        member_no=member.member_no,
        name=member.name,
        masked_mobile=mask_mobile(member.mobile),
        tier_name=tier.name,
        tier_name_en=tier.name_en,
        card_no_masked=mask_card_no(card.card_no) if card else None,
        stored_value_fen=(card.principal_fen + card.bonus_fen) if card else None,
        principal_fen=card.principal_fen if card else None,
        bonus_fen=card.bonus_fen if card else None,
        points_earned=points_earned,
        points_balance=member.points_balance,
        tier_upgraded_to=tier.name if upgraded_to else None,
        passes=tuple(uses_text(p, "zh") for p in passes),
    )


def read_scale_label(ctx: StoreContext, actor: Actor, code: str) -> LineRequest | None:
    """The weighed line a scanned label scale's barcode stands for (see `scale_label_line`),
    or None when the code is no scale label."""
    with read_session(ctx.engine) as s:
        authorize(s, actor, Permission.SALE)
        _, rules = current_rules(s)
        return scale_label_line(s, rules, code)


def approve_manual_changes(
    ctx: StoreContext, actor: Actor, request: SaleRequest, approval: Approval | None = None
) -> Quote:
    """Before a manual change (改价, 整单折扣, 抹零) goes on the cart: within the cashier's
    limits it is only priced; beyond, a manager approves now (ApprovalRequired without an
    approval) and the approval is audited. `sell` checks the same limits again."""
    priced = quote(ctx, actor, request)
    if priced.approval_needed:
        reasons = "; ".join(en for _, en in priced.approval_needed)
        with use_case(ctx, actor, Permission.SALE_OVER_LIMIT, approval, target=reasons) as uc:
            audit(
                uc.session,
                uc.now_iso,
                actor.operator_id,
                "sale.manual_change",
                target=reasons,
                detail={"approved_by": uc.approver_id} if uc.approver_id else None,
            )
    return priced


def check_void(
    ctx: StoreContext, actor: Actor, amount_fen: int, approval: Approval | None = None
) -> None:
    """Before a line is voided from the cart: above the cashier's limit a manager approves.
    Either way the void is audited, since voids are where a till loses money."""
    with read_session(ctx.engine) as s:
        authorize(s, actor, Permission.SALE)
        _, rules = current_rules(s)
    permission = (
        Permission.SALE_OVER_LIMIT
        if amount_fen > rules.checkout.refund_limit_fen
        else Permission.SALE
    )
    with use_case(ctx, actor, permission, approval, target=format_fen(amount_fen)) as uc:
        audit(
            uc.session,
            uc.now_iso,
            actor.operator_id,
            "sale.void_line",
            target=format_fen(amount_fen),
            detail={"approved_by": uc.approver_id} if uc.approver_id else None,
        )


def cancel_sale(ctx: StoreContext, actor: Actor, request: SaleRequest, reason: str = "") -> None:
    """A cart abandoned before payment: nothing is sold, but the cancellation is audited."""
    with use_case(ctx, actor, Permission.SALE) as uc:
        audit(
            uc.session,
            uc.now_iso,
            actor.operator_id,
            "sale.cancelled",
            target=f"{len(request.lines)} lines",
            detail={"reason": reason} if reason else None,
        )
