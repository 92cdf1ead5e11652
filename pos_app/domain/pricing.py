"""Pricing a sale (PRODUCT §8): member price → tier discount → promotions → coupons → rounding.

Every step that changes an amount leaves an explained adjustment (which rule, how much).
Sale-level discounts (coupons, 抹零) are also shared out over the lines they touched, so each
line ends with a `net_fen` and the nets add up to the total exactly: a later return of some
lines refunds precisely what those lines cost.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from pos_app.domain.coupons import CouponTerms
from pos_app.domain.errors import InvalidInput
from pos_app.domain.money import format_fen
from pos_app.domain.rules import Promotion
from pos_app.domain.sale_request import ManualRounding, OrderDiscount
from pos_app.domain.weighed_goods import weighed_gross

CARD_KINDS = frozenset({"count_card", "time_card", "package", "trial_card"})


@dataclass(frozen=True)
class PricedProduct:
    """What pricing needs to know about a product."""

    sku: str
    name: str
    name_en: str
    category: str
    kind: str
    price_fen: int
    member_price_fen: int | None = None
    earns_points: bool = True
    takes_discounts: bool = True
    weight_unit: str | None = None  # "kg" or "斤" for goods sold by weight; None: by the piece


@dataclass(frozen=True)
class CartItem:
    """A cart line: `qty` pieces, or (weighed goods) `weight_milli` thousandths of the unit
    with qty 1. `label_fen`: the price a price-embedded scale label fixed for the line.
    `price_fen`: a unit price the cashier typed instead of the catalogue's (改价)."""

    product: PricedProduct
    qty: int
    weight_milli: int | None = None
    label_fen: int | None = None
    price_fen: int | None = None


@dataclass(frozen=True)
class ManualLimits:
    """How far a cashier may go alone (the rules' checkout limits); beyond, a manager."""

    price_max_drop_pct: int
    order_discount_max_pct: int
    rounding_max_fen: int


@dataclass(frozen=True)
class MemberTerms:
    tier_code: str
    tier_name: str
    tier_name_en: str
    discount_percent: int  # price percentage paid: 95 = 9.5折
    points_multiplier_permille: int


@dataclass(frozen=True)
class Adjustment:
    kind: str  # member_price, tier, promotion, gift, coupon, rounding
    rule: str
    label_zh: str
    label_en: str
    amount_fen: int  # taken off (positive)


@dataclass
class PricedLine:
    line_no: int
    product: PricedProduct
    qty: int
    gross_fen: int
    amount_fen: int  # after the line's own discounts (member price, tier, promotions)
    net_fen: int = 0  # after its share of coupons and rounding too
    adjustments: list[Adjustment] = field(default_factory=list)
    points_multiplier_permille: int = 1000  # from a promotion (3× points)
    is_gift: bool = False
    tier_discounted: bool = False
    coupon_share_fen: int = 0
    rounding_share_fen: int = 0
    order_discount_share_fen: int = 0
    weight_milli: int | None = None  # weighed goods: thousandths of the product's unit
    manual_price_fen: int | None = None  # 改价: the unit price the cashier set

    @property
    def unit_price_fen(self) -> int:
        return self.product.price_fen

    def gross_at(self, unit_price_fen: int) -> int:
        """What the line would cost at `unit_price_fen` a piece (or a unit of weight)."""
        if self.weight_milli is not None:
            return weighed_gross(unit_price_fen, self.weight_milli)
        return unit_price_fen * self.qty

    @property
    def payable_fen(self) -> int:
        """What is left to pay on the line before sale-level discounts are shared out."""
        return self.amount_fen - self.coupon_share_fen - self.order_discount_share_fen


@dataclass
class PricedSale:
    lines: list[PricedLine]
    sale_adjustments: list[Adjustment]
    coupon_discounts: list[tuple[CouponTerms, int]]
    gross_fen: int
    discount_fen: int  # everything but rounding
    rounding_fen: int
    total_fen: int
    order_discount_fen: int = 0  # 整单折扣 (part of discount_fen)
    order_discount_base_fen: int = 0  # what the order discount was taken from
    manual_rounding_fen: int = 0  # 手工抹零 (then rounding_fen is this)

    def manual_limit_breaches(self, limits: ManualLimits) -> list[tuple[str, str]]:
        """Each manual change beyond what a cashier may do alone (zh, en): a manager must
        approve the sale. Empty when nothing needs approval. A percentage limit allows what
        that percentage comes to, rounded half up to the fen as discounts are."""
        out: list[tuple[str, str]] = []
        for line in self.lines:
            off = sum(a.amount_fen for a in line.adjustments if a.kind == "manual_price")
            if off > _percent_of(line.gross_fen, limits.price_max_drop_pct):
                out.append(
                    (
                        f"{line.product.name} 改价降幅超过 {limits.price_max_drop_pct}%",
                        f"{line.product.name_en}: price cut by more than "
                        f"{limits.price_max_drop_pct}%",
                    )
                )
        od, base = self.order_discount_fen, self.order_discount_base_fen
        if od > _percent_of(base, limits.order_discount_max_pct):
            out.append(
                (
                    f"整单折扣超过 {limits.order_discount_max_pct}%",
                    f"Order discount above {limits.order_discount_max_pct}%",
                )
            )
        if self.manual_rounding_fen > limits.rounding_max_fen:
            out.append(
                (
                    f"抹零超过 {format_fen(limits.rounding_max_fen)}",
                    f"Rounding off more than {format_fen(limits.rounding_max_fen)}",
                )
            )
        return out

    def points_groups(self) -> dict[int, int]:
        """Eligible amount per promotion multiplier (permille): the base of points earned."""
        groups: dict[int, int] = {}
        for line in self.lines:
            if line.product.earns_points and not line.is_gift and line.net_fen > 0:
                m = line.points_multiplier_permille
                groups[m] = groups.get(m, 0) + line.net_fen
        return groups


def share_out(total: int, weights: Sequence[int]) -> list[int]:
    """Split `total` fen in proportion to `weights`, exactly (largest remainder first)."""
    whole = sum(weights)
    if total == 0 or whole == 0:
        return [0] * len(weights)
    shares = [total * w // whole for w in weights]
    remainders = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % whole), i))
    for i in remainders[: total - sum(shares)]:
        shares[i] += 1
    return shares


def _percent_of(amount: int, percent: int) -> int:
    """amount × percent / 100, rounded half up to the fen."""
    return (amount * percent + 50) // 100


def _zhe(percent_paid: int) -> str:
    """95 → "9.5折", 80 → "8折"."""
    tenths, rest = divmod(percent_paid, 10)
    return f"{tenths}折" if rest == 0 else f"{tenths}.{rest}折"


def promotion_active(promo: Promotion, today: date) -> bool:
    day = today.isoformat()
    if promo.date_from and day < promo.date_from:
        return False
    if promo.date_to and day > promo.date_to:
        return False
    return not promo.weekdays or today.isoweekday() in promo.weekdays


def _in_scope(product: PricedProduct, skus: Sequence[str], categories: Sequence[str]) -> bool:
    if not skus and not categories:
        return True
    return product.sku in skus or product.category in categories


def price_sale(
    items: Sequence[CartItem],
    *,
    member: MemberTerms | None,
    promotions: Sequence[Promotion],
    coupons: Sequence[CouponTerms],
    rounding: str,
    today: date,
    gifts: dict[str, PricedProduct] | None = None,
    order_discount: OrderDiscount | None = None,
    manual_rounding: ManualRounding | None = None,
) -> PricedSale:
    """Price a cart. `gifts` are the products promotions and coupons may give away, by SKU.

    Manual changes come in order: a line's changed price (改价) replaces its member price,
    tier discount and promotions (it is the price agreed at the till; coupons still apply);
    the order discount (整单折扣) comes after coupons, over everything still to pay; a manual
    抹零 replaces the rules' rounding."""
    if not items:
        raise InvalidInput("购物车是空的", "The cart is empty")
    gifts = gifts or {}
    lines = [_line(i + 1, item) for i, item in enumerate(items)]
    _manual_prices(lines, items)
    if member is not None:
        _member_prices(lines)
        _tier_discount(lines, member)
    active = [p for p in promotions if promotion_active(p, today)]
    _promotions(lines, active, gifts)
    coupon_discounts, coupon_adjustments = _coupons(lines, coupons, gifts)
    order_adj, order_base = _order_discount(lines, order_discount)
    if manual_rounding is not None:
        rounding_adj = _manual_rounding(lines, manual_rounding)
    else:
        rounding_adj = _rounding(lines, rounding)
    for line in lines:
        line.net_fen = line.payable_fen - line.rounding_share_fen
    gross = sum(line.gross_fen for line in lines)
    total = sum(line.net_fen for line in lines)
    rounding_fen = rounding_adj.amount_fen if rounding_adj else 0
    return PricedSale(
        lines=lines,
        sale_adjustments=coupon_adjustments
        + ([order_adj] if order_adj else [])
        + ([rounding_adj] if rounding_adj else []),
        coupon_discounts=coupon_discounts,
        gross_fen=gross,
        discount_fen=gross - total - rounding_fen,
        rounding_fen=rounding_fen,
        total_fen=total,
        order_discount_fen=order_adj.amount_fen if order_adj else 0,
        order_discount_base_fen=order_base,
        manual_rounding_fen=rounding_fen if manual_rounding is not None else 0,
    )


def _line(line_no: int, item: CartItem) -> PricedLine:
    product = item.product
    if item.weight_milli is not None and product.weight_unit is None:
        raise InvalidInput(
            f"{product.name} 按件卖，不能称重",
            f"{product.name_en} is sold by the piece, not weighed",
        )
    if item.weight_milli is None and product.weight_unit is not None:
        raise InvalidInput(
            f"{product.name} 是称重商品：请称重或输入重量（如 0.5*{product.sku}）",
            f"{product.name_en} is sold by weight: weigh it or type the weight "
            f"(e.g. 0.5*{product.sku})",
        )
    line = PricedLine(line_no=line_no, product=product, qty=item.qty, gross_fen=0, amount_fen=0)
    line.weight_milli = item.weight_milli
    # A price-embedded scale label fixes the line's price: the customer pays what the label
    # says, not a recomputation from a rounded weight.
    gross = item.label_fen if item.label_fen is not None else line.gross_at(product.price_fen)
    line.gross_fen = line.amount_fen = gross
    return line


def _manual_prices(lines: list[PricedLine], items: Sequence[CartItem]) -> None:
    for line, item in zip(lines, items, strict=True):
        if item.price_fen is None:
            continue
        was = line.product.price_fen
        if item.price_fen >= was:
            raise InvalidInput(
                f"{line.product.name} 改价只能低于原价 {format_fen(was)}",
                f"{line.product.name_en}: a changed price must be below {format_fen(was)}",
            )
        off = line.gross_fen - line.gross_at(item.price_fen)
        line.manual_price_fen = item.price_fen
        if off <= 0:
            continue
        line.amount_fen -= off
        line.adjustments.append(
            Adjustment(
                "manual_price",
                "manual",
                # Short enough for a 58 mm receipt; what the line costs now is its net.
                f"改价 原价{format_fen(was)}",
                f"Price changed, was {format_fen(was)}",
                off,
            )
        )


def _member_prices(lines: list[PricedLine]) -> None:
    for line in lines:
        mp = line.product.member_price_fen
        if line.manual_price_fen is not None:
            continue  # the changed price is the price
        if mp is not None and mp < line.product.price_fen:
            off = line.gross_fen - line.gross_at(mp)
            if off <= 0:
                continue
            line.amount_fen -= off
            line.adjustments.append(
                Adjustment(
                    "member_price",
                    "member_price",
                    f"会员价 {format_fen(mp)}",
                    f"Member price {format_fen(mp)}",
                    off,
                )
            )


def _tier_discount(lines: list[PricedLine], member: MemberTerms) -> None:
    """The tier's discount on lines that take discounts. A line already at its member price
    is not discounted again: the member price is the member's price for that product."""
    if member.discount_percent >= 100:
        return
    for line in lines:
        has_member_price = any(a.kind == "member_price" for a in line.adjustments)
        if not line.product.takes_discounts or has_member_price or line.amount_fen <= 0:
            continue
        if line.manual_price_fen is not None:
            continue
        off = line.amount_fen - _percent_of(line.amount_fen, member.discount_percent)
        if off <= 0:
            continue
        line.amount_fen -= off
        line.tier_discounted = True
        line.adjustments.append(
            Adjustment(
                "tier",
                member.tier_code,
                f"{member.tier_name} {_zhe(member.discount_percent)}",
                f"{member.tier_name_en} {100 - member.discount_percent}% off",
                off,
            )
        )


def _gift_line(lines: list[PricedLine], product: PricedProduct, adj: Adjustment) -> None:
    lines.append(
        PricedLine(
            line_no=len(lines) + 1,
            product=product,
            qty=1,
            gross_fen=product.price_fen,
            amount_fen=0,
            adjustments=[adj],
            is_gift=True,
        )
    )


def _promotions(
    lines: list[PricedLine], active: Sequence[Promotion], gifts: dict[str, PricedProduct]
) -> None:
    for promo in active:
        if promo.kind == "category_discount":
            for line in lines:
                if line.is_gift or not line.product.takes_discounts:
                    continue
                if line.manual_price_fen is not None:
                    continue
                if line.product.category not in promo.categories or line.amount_fen <= 0:
                    continue
                off = _percent_of(line.amount_fen, promo.percent_off)
                if off:
                    line.amount_fen -= off
                    line.adjustments.append(
                        Adjustment("promotion", promo.code, promo.name, promo.name_en, off)
                    )
        elif promo.kind == "points_multiplier":
            for line in lines:
                if _in_scope(line.product, promo.skus, promo.categories) and not line.is_gift:
                    line.points_multiplier_permille = max(
                        line.points_multiplier_permille, promo.multiplier_permille
                    )
        elif promo.kind == "threshold_gift":
            in_scope = sum(
                line.amount_fen
                for line in lines
                if not line.is_gift and _in_scope(line.product, promo.skus, promo.categories)
            )
            gift = gifts.get(promo.gift_sku or "")
            if gift is not None and in_scope >= promo.threshold_fen:
                _gift_line(
                    lines,
                    gift,
                    Adjustment("gift", promo.code, promo.name, promo.name_en, gift.price_fen),
                )


def _coupons(
    lines: list[PricedLine], coupons: Sequence[CouponTerms], gifts: dict[str, PricedProduct]
) -> tuple[list[tuple[CouponTerms, int]], list[Adjustment]]:
    codes = [c.code for c in coupons]
    if len(set(codes)) != len(codes):
        raise InvalidInput("同一张券不能用两次", "The same coupon cannot be used twice")
    if len(coupons) > 1:
        for c in coupons:
            if not c.stacks_with_coupons:
                raise InvalidInput(
                    f"券 {c.code}（{c.name}）不能与其他券同时使用",
                    f"Coupon {c.code} ({c.name}) cannot be combined with other coupons",
                )
    used: list[tuple[CouponTerms, int]] = []
    adjustments: list[Adjustment] = []
    for c in coupons:
        discount = _apply_coupon(lines, c, gifts)
        used.append((c, discount))
        adjustments.append(
            Adjustment("coupon", c.code, f"{c.name}（{c.code}）", f"{c.name} ({c.code})", discount)
        )
    return used, adjustments


def _scope_lines(lines: list[PricedLine], c: CouponTerms) -> list[PricedLine]:
    return [
        line
        for line in lines
        if not line.is_gift
        and line.product.takes_discounts
        and line.product.kind not in CARD_KINDS
        and (c.stacks_with_tier or not line.tier_discounted)
        and _in_scope(line.product, c.skus, c.categories)
        and line.amount_fen - line.coupon_share_fen > 0
    ]


def _apply_coupon(lines: list[PricedLine], c: CouponTerms, gifts: dict[str, PricedProduct]) -> int:
    scope = _scope_lines(lines, c)
    base = sum(line.amount_fen - line.coupon_share_fen for line in scope)
    if c.kind == "gift":
        gift = gifts.get(c.gift_sku or "")
        if gift is None:
            raise InvalidInput(
                f"券 {c.code} 的赠品 {c.gift_sku} 不在商品目录中",
                f"Coupon {c.code}: its gift {c.gift_sku} is not in the catalogue",
            )
        _check_threshold(c, base)
        _gift_line(
            lines,
            gift,
            Adjustment("gift", c.code, f"{c.name}（{c.code}）", f"{c.name} ({c.code})", 0),
        )
        return gift.price_fen
    if c.kind == "exchange":
        target = next((line for line in scope if line.product.sku == c.gift_sku), None)
        if target is None:
            raise InvalidInput(
                f"兑换券 {c.code} 需要购物车里有商品 {c.gift_sku}",
                f"Exchange voucher {c.code} needs {c.gift_sku} in the cart",
            )
        per_unit = (target.amount_fen - target.coupon_share_fen) // target.qty
        target.coupon_share_fen += per_unit
        return per_unit
    if not scope:
        raise InvalidInput(
            f"券 {c.code}（{c.name}）没有可用的商品"
            + ("" if c.stacks_with_tier else "（不与会员折扣同享）"),
            f"Coupon {c.code} ({c.name}) applies to nothing in this sale"
            + ("" if c.stacks_with_tier else " (not combinable with the member discount)"),
        )
    _check_threshold(c, base)
    if c.kind == "amount_off":
        discount = min(c.amount_off_fen, base)
    else:  # percent_off
        discount = _percent_of(base, c.percent_off)
        if c.cap_fen:
            discount = min(discount, c.cap_fen)
    shares = share_out(discount, [line.amount_fen - line.coupon_share_fen for line in scope])
    for line, share in zip(scope, shares, strict=True):
        line.coupon_share_fen += share
    return discount


def _check_threshold(c: CouponTerms, base: int) -> None:
    if base < c.threshold_fen:
        raise InvalidInput(
            f"券 {c.code}（{c.name}）需满 {format_fen(c.threshold_fen)}，"
            f"可用商品合计 {format_fen(base)}",
            f"Coupon {c.code} ({c.name}) needs {format_fen(c.threshold_fen)} of eligible goods; "
            f"this sale has {format_fen(base)}",
        )


def _rounding(lines: list[PricedLine], mode: str) -> Adjustment | None:
    """抹零: drop the fen (jiao) or the jiao and fen (yuan) from the total, in the customer's
    favour, shared out over the lines that still cost something."""
    unit = {"jiao": 10, "yuan": 100}.get(mode)
    if unit is None:
        return None
    payable = [line for line in lines if line.payable_fen > 0]
    total = sum(line.payable_fen for line in payable)
    off = total % unit
    if off == 0:
        return None
    _share_rounding(payable, off)
    label = ("抹零（角）", "Rounded to 0.1") if mode == "jiao" else ("抹零（元）", "Rounded to 1")
    return Adjustment("rounding", mode, label[0], label[1], off)


def _share_rounding(payable: list[PricedLine], off: int) -> None:
    shares = share_out(off, [line.payable_fen for line in payable])
    for line, share in zip(payable, shares, strict=True):
        line.rounding_share_fen += share


def _order_discount(
    lines: list[PricedLine], discount: OrderDiscount | None
) -> tuple[Adjustment | None, int]:
    """整单折扣 over every line still to pay, shared out like a coupon. Returns the
    explained adjustment and the amount it was taken from (for the rules' limit)."""
    if discount is None:
        return None, 0
    payable = [line for line in lines if line.payable_fen > 0]
    base = sum(line.payable_fen for line in payable)
    if discount.percent_off:
        off = _percent_of(base, discount.percent_off)
        label = (
            f"整单折扣 {_zhe(100 - discount.percent_off)}",
            f"Order {discount.percent_off}% off",
        )
        rule = f"{discount.percent_off}%"
    else:
        if discount.amount_fen >= base:
            raise InvalidInput(
                f"整单折扣 {format_fen(discount.amount_fen)} 不能达到应付 {format_fen(base)}",
                f"An order discount of {format_fen(discount.amount_fen)} must be below what is "
                f"due, {format_fen(base)}",
            )
        off = discount.amount_fen
        label = (f"整单折扣 减{format_fen(off)}", f"Order discount {format_fen(off)}")
        rule = "amount"
    if off <= 0:
        return None, base
    shares = share_out(off, [line.payable_fen for line in payable])
    for line, share in zip(payable, shares, strict=True):
        line.order_discount_share_fen += share
    return Adjustment("order_discount", rule, label[0], label[1], off), base


def _manual_rounding(lines: list[PricedLine], rounding: ManualRounding) -> Adjustment | None:
    """手工抹零: to the jiao or the yuan, or a given amount (less than what is due)."""
    payable = [line for line in lines if line.payable_fen > 0]
    total = sum(line.payable_fen for line in payable)
    if rounding.mode == "amount":
        off = rounding.amount_fen
        if off >= total:
            raise InvalidInput(
                f"抹零 {format_fen(off)} 不能达到应付 {format_fen(total)}",
                f"Rounding off {format_fen(off)} must be below what is due, {format_fen(total)}",
            )
        label = (f"手工抹零 {format_fen(off)}", f"Rounded off {format_fen(off)}")
    else:
        off = total % (10 if rounding.mode == "jiao" else 100)
        label = (
            ("手工抹零（角）", "Rounded to 0.1 by hand")
            if rounding.mode == "jiao"
            else ("手工抹零（元）", "Rounded to 1 by hand")
        )
    if off == 0:
        return None
    _share_rounding(payable, off)
    return Adjustment("rounding", f"manual_{rounding.mode}", label[0], label[1], off)
