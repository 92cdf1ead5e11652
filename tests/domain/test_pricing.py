"""Pricing order and explanations: member price → tier → promotions → coupons → 抹零."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pos_app.domain.coupons import CouponTerms
from pos_app.domain.errors import InvalidInput
from pos_app.domain.pricing import (
    CartItem,
    MemberTerms,
    PricedProduct,
    price_sale,
    share_out,
)
from pos_app.domain.rules import Promotion

MONDAY = date(2026, 3, 2)
TUESDAY = date(2026, 3, 3)

WATER = PricedProduct("D001", "农夫山泉", "Water", "饮品", "goods", 200)
COLA = PricedProduct("D002", "可口可乐", "Cola", "饮品", "goods", 350, member_price_fen=300)
SPINACH = PricedProduct("V001", "菠菜", "Spinach", "蔬菜", "goods", 680)
APPLE = PricedProduct("F001", "苹果", "Apple", "水果", "goods", 1280, member_price_fen=1180)
MAOTAI = PricedProduct(
    "W001", "茅台", "Maotai", "酒水", "goods", 149900, earns_points=False, takes_discounts=False
)
BAG = PricedProduct("G001", "环保袋", "Tote bag", "赠品", "goods", 500)
GOLD = MemberTerms("gold", "金卡", "Gold", 95, 1500)

VEG_TUESDAY = Promotion(
    "VEG-TUE",
    "category_discount",
    "周二蔬菜8折",
    "Veg Tuesday",
    categories=("蔬菜",),
    weekdays=(2,),
    percent_off=20,
)
APPLE_3X = Promotion(
    "APPLE3X",
    "points_multiplier",
    "苹果三倍积分",
    "3x apples",
    skus=("F001",),
    multiplier_permille=3000,
    date_from="2026-01-01",
    date_to="2026-12-31",
)
GIFT_100 = Promotion(
    "GIFT100",
    "threshold_gift",
    "满100送环保袋",
    "Bag over 100",
    threshold_fen=10000,
    gift_sku="G001",
)


def coupon(code="C1", kind="amount_off", **kw) -> CouponTerms:
    fields = dict(
        coupon_id="id-" + code,
        code=code,
        template_code="T",
        name="满20减8",
        kind=kind,
        threshold_fen=0,
        amount_off_fen=0,
        percent_off=0,
        cap_fen=0,
        categories=(),
        skus=(),
        gift_sku=None,
        stacks_with_tier=True,
        stacks_with_coupons=False,
        restore_on_refund=True,
        valid_to="2026-12-31",
    )
    fields.update(kw)
    return CouponTerms(**fields)


def price(items, member=None, promotions=(), coupons=(), rounding="none", today=MONDAY):
    return price_sale(
        [CartItem(p, q) for p, q in items],
        member=member,
        promotions=promotions,
        coupons=coupons,
        rounding=rounding,
        today=today,
        gifts={"G001": BAG},
    )


def test_member_price_then_tier_discount_each_explained():
    sale = price([(COLA, 2), (SPINACH, 1)], member=GOLD)
    cola, spinach = sale.lines
    assert cola.net_fen == 600  # member price, not also the tier discount
    assert [(a.kind, a.amount_fen) for a in cola.adjustments] == [("member_price", 100)]
    assert spinach.net_fen == 646  # 6.80 × 95% = 6.46
    assert [(a.kind, a.rule, a.label_zh) for a in spinach.adjustments] == [
        ("tier", "gold", "金卡 9.5折")
    ]
    assert sale.gross_fen == 1380 and sale.total_fen == 1246 and sale.discount_fen == 134


def test_walk_in_customer_pays_list_price():
    sale = price([(COLA, 2)])
    assert sale.total_fen == 700 and sale.lines[0].adjustments == []


def test_no_discount_on_goods_that_take_none():
    sale = price([(MAOTAI, 1)], member=GOLD, coupons=[coupon(amount_off_fen=800)] * 0)
    assert sale.total_fen == 149900


def test_category_discount_only_on_its_weekday():
    assert price([(SPINACH, 1)], promotions=[VEG_TUESDAY]).total_fen == 680
    tuesday = price([(SPINACH, 1), (WATER, 1)], promotions=[VEG_TUESDAY], today=TUESDAY)
    assert tuesday.lines[0].net_fen == 544
    assert tuesday.lines[0].adjustments[0].rule == "VEG-TUE"
    assert tuesday.lines[1].net_fen == 200


def test_points_multiplier_marks_named_goods_during_the_campaign():
    sale = price([(APPLE, 1), (WATER, 1)], promotions=[APPLE_3X])
    assert sale.points_groups() == {3000: 1280, 1000: 200}
    after = price([(APPLE, 1)], promotions=[APPLE_3X], today=date(2027, 1, 1))
    assert after.points_groups() == {1000: 1280}


def test_threshold_gift_added_free_with_its_rule():
    sale = price([(APPLE, 8)], promotions=[GIFT_100])
    gift = sale.lines[-1]
    assert gift.is_gift and gift.product.sku == "G001" and gift.net_fen == 0
    assert gift.adjustments[0].rule == "GIFT100"
    assert sale.total_fen == 10240
    assert len(price([(APPLE, 7)], promotions=[GIFT_100]).lines) == 1


def test_manjian_coupon_limited_to_one_category():
    c = coupon(threshold_fen=2000, amount_off_fen=800, categories=("蔬菜",))
    sale = price([(SPINACH, 3), (WATER, 5)], coupons=[c])
    spinach, water = sale.lines
    assert spinach.net_fen == 2040 - 800 and water.net_fen == 1000
    assert sale.coupon_discounts == [(c, 800)]
    assert sale.sale_adjustments[0].rule == "C1" and sale.sale_adjustments[0].amount_fen == 800
    with pytest.raises(InvalidInput) as info:
        price([(SPINACH, 2), (WATER, 20)], coupons=[c])  # ¥13.60 of vegetables: not enough
    assert "¥20.00" in info.value.zh and "¥13.60" in info.value.zh


def test_percent_coupon_with_cap():
    c = coupon(kind="percent_off", percent_off=15, cap_fen=1000)
    assert price([(APPLE, 2)], coupons=[c]).total_fen == 2560 - 384
    assert price([(APPLE, 10)], coupons=[c]).total_fen == 12800 - 1000


def test_coupon_not_stacking_with_tier_skips_discounted_lines():
    c = coupon(threshold_fen=500, amount_off_fen=100, stacks_with_tier=False)
    with pytest.raises(InvalidInput) as info:
        price([(SPINACH, 1)], member=GOLD, coupons=[c])
    assert "不与会员折扣同享" in info.value.zh
    assert price([(SPINACH, 1)], coupons=[c]).total_fen == 580


def test_two_coupons_need_both_to_stack():
    a, b = coupon("A", amount_off_fen=100), coupon("B", amount_off_fen=100)
    with pytest.raises(InvalidInput):
        price([(APPLE, 1)], coupons=[a, b])
    sa = coupon("A", amount_off_fen=100, stacks_with_coupons=True)
    sb = coupon("B", amount_off_fen=100, stacks_with_coupons=True)
    assert price([(APPLE, 1)], coupons=[sa, sb]).total_fen == 1080
    with pytest.raises(InvalidInput):
        price([(APPLE, 1)], coupons=[sa, sa])


def test_exchange_and_gift_coupons():
    exchange = coupon(kind="exchange", gift_sku="D002")
    sale = price([(COLA, 2)], coupons=[exchange])
    assert sale.total_fen == 350
    with pytest.raises(InvalidInput):
        price([(WATER, 1)], coupons=[exchange])
    gift = coupon(kind="gift", gift_sku="G001")
    sale = price([(WATER, 1)], coupons=[gift])
    assert sale.lines[-1].is_gift and sale.total_fen == 200


def test_rounding_drops_jiao_or_fen_and_is_shared_out():
    sale = price([(SPINACH, 1), (APPLE, 1)], rounding="jiao")  # 19.60 → no fen to drop
    assert sale.rounding_fen == 0
    sale = price([(COLA, 1), (SPINACH, 1)], member=GOLD, rounding="jiao")  # 3.00 + 6.46
    assert sale.rounding_fen == 6 and sale.total_fen == 940
    assert sum(line.net_fen for line in sale.lines) == 940
    sale = price([(SPINACH, 1), (APPLE, 1)], rounding="yuan")
    assert sale.total_fen == 1900 and sale.sale_adjustments[-1].label_zh == "抹零（元）"


@given(st.integers(0, 10**7), st.lists(st.integers(0, 10**6), min_size=1, max_size=30))
def test_share_out_is_exact_and_proportional(total, weights):
    shares = share_out(total, weights)
    if sum(weights) == 0:
        assert shares == [0] * len(weights)
        return
    assert sum(shares) == total
    for share, weight in zip(shares, weights, strict=True):
        assert abs(share - total * weight / sum(weights)) < 1


@given(
    st.lists(
        st.tuples(st.sampled_from([WATER, COLA, SPINACH, APPLE, MAOTAI]), st.integers(1, 9)),
        min_size=1,
        max_size=20,
    ),
    st.booleans(),
    st.sampled_from(["none", "jiao", "yuan"]),
)
def test_nets_always_add_up_to_the_total(items, member, rounding):
    c = coupon(kind="percent_off", percent_off=10, cap_fen=5000, stacks_with_tier=True)
    try:
        sale = price(
            items,
            member=GOLD if member else None,
            coupons=[c],
            rounding=rounding,
            promotions=[GIFT_100, VEG_TUESDAY],
            today=TUESDAY,
        )
    except InvalidInput:
        return  # e.g. only Maotai in the cart: the coupon applies to nothing
    assert sum(line.net_fen for line in sale.lines) == sale.total_fen
    assert sale.gross_fen - sale.discount_fen - sale.rounding_fen == sale.total_fen
    assert all(line.net_fen >= 0 for line in sale.lines)
