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


@dataclass(frozen=True)
class CartItem:
    product: PricedProduct
    qty: int


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

    @property
    def unit_price_fen(self) -> int:
        return self.product.price_fen


@dataclass
class PricedSale:
    lines: list[PricedLine]
    sale_adjustments: list[Adjustment]
    coupon_discounts: list[tuple[CouponTerms, int]]
    gross_fen: int
    discount_fen: int  # everything but rounding
    rounding_fen: int
    total_fen: int

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
) -> PricedSale:
    """Price a cart. `gifts` are the products promotions and coupons may give away, by SKU."""
    if not items:
        raise InvalidInput("购物车是空的", "The cart is empty")
    gifts = gifts or {}
    lines = [
        PricedLine(
            line_no=i + 1,
            product=item.product,
            qty=item.qty,
            gross_fen=item.product.price_fen * item.qty,
            amount_fen=item.product.price_fen * item.qty,
        )
        for i, item in enumerate(items)
    ]
    if member is not None:
        _member_prices(lines)
        _tier_discount(lines, member)
    active = [p for p in promotions if promotion_active(p, today)]
    _promotions(lines, active, gifts)
    coupon_discounts, coupon_adjustments = _coupons(lines, coupons, gifts)
    rounding_adj = _rounding(lines, rounding)
    for line in lines:
        line.net_fen = line.amount_fen - line.coupon_share_fen - line.rounding_share_fen
    gross = sum(line.gross_fen for line in lines)
    total = sum(line.net_fen for line in lines)
    rounding_fen = rounding_adj.amount_fen if rounding_adj else 0
    return PricedSale(
        lines=lines,
        sale_adjustments=coupon_adjustments + ([rounding_adj] if rounding_adj else []),
        coupon_discounts=coupon_discounts,
        gross_fen=gross,
        discount_fen=gross - total - rounding_fen,
        rounding_fen=rounding_fen,
        total_fen=total,
    )


def _member_prices(lines: list[PricedLine]) -> None:
    for line in lines:
        mp = line.product.member_price_fen
        if mp is not None and mp < line.product.price_fen:
            off = (line.product.price_fen - mp) * line.qty
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
    payable = [line for line in lines if line.amount_fen - line.coupon_share_fen > 0]
    total = sum(line.amount_fen - line.coupon_share_fen for line in payable)
    off = total % unit
    if off == 0:
        return None
    shares = share_out(off, [line.amount_fen - line.coupon_share_fen for line in payable])
    for line, share in zip(payable, shares, strict=True):
        line.rounding_share_fen += share
    label = ("抹零（角）", "Rounded to 0.1") if mode == "jiao" else ("抹零（元）", "Rounded to 1")
    return Adjustment("rounding", mode, label[0], label[1], off)
