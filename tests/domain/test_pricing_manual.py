"""Weighed lines and the cashier's manual changes in pricing: 改价, 整单折扣, 手工抹零, and the
limits beyond which a manager approves."""

from __future__ import annotations

from datetime import date

import pytest

from pos_app.domain.errors import InvalidInput
from pos_app.domain.pricing import CartItem, ManualLimits, MemberTerms, PricedProduct, price_sale
from pos_app.domain.sale_request import ManualRounding, OrderDiscount

MONDAY = date(2026, 3, 2)
WATER = PricedProduct("D001", "农夫山泉", "Water", "饮品", "goods", 200)
SPINACH = PricedProduct("V001", "菠菜", "Spinach", "蔬菜", "goods", 680)
APPLE_KG = PricedProduct(
    "F005", "苹果", "Apples", "水果", "goods", 1280, member_price_fen=1160, weight_unit="kg"
)
BANANA_JIN = PricedProduct("F006", "香蕉", "Bananas", "水果", "goods", 349, weight_unit="斤")
GOLD = MemberTerms("gold", "金卡", "Gold", 95, 1500)
LIMITS = ManualLimits(price_max_drop_pct=10, order_discount_max_pct=5, rounding_max_fen=100)


def price(items, **kw):
    kw.setdefault("member", None)
    return price_sale(
        items, promotions=(), coupons=(), rounding=kw.pop("rounding", "none"), today=MONDAY, **kw
    )


def test_a_weighed_line_costs_price_times_weight_rounded_half_up():
    sale = price([CartItem(APPLE_KG, 1, weight_milli=333), CartItem(BANANA_JIN, 1, 1500)])
    apples, bananas = sale.lines
    assert apples.gross_fen == 426  # 12.80 × 0.333 = 4.2624
    assert bananas.gross_fen == 524  # 3.49 × 1.5 = 5.235 → 5.24 (half up)
    assert sale.total_fen == 950
    assert apples.weight_milli == 333


def test_a_member_price_on_a_weighed_line_is_per_kg():
    sale = price([CartItem(APPLE_KG, 1, weight_milli=500)], member=GOLD)
    (line,) = sale.lines
    assert line.gross_fen == 640
    assert line.net_fen == 580  # 11.60 × 0.5
    assert [a.kind for a in line.adjustments] == ["member_price"]


def test_a_scale_labels_price_is_the_lines_price():
    sale = price([CartItem(APPLE_KG, 1, weight_milli=781, label_fen=1000)])
    assert sale.lines[0].gross_fen == sale.total_fen == 1000


def test_weighed_goods_need_a_weight_and_pieces_none():
    with pytest.raises(InvalidInput) as exc:
        price([CartItem(APPLE_KG, 1)])
    assert "称重" in exc.value.zh
    with pytest.raises(InvalidInput):
        price([CartItem(WATER, 1, weight_milli=500)])


def test_a_changed_price_is_explained_with_the_original_and_replaces_member_discounts():
    sale = price([CartItem(SPINACH, 2, price_fen=600)], member=GOLD)
    (line,) = sale.lines
    assert line.gross_fen == 1360
    assert line.net_fen == 1200  # no tier discount on top of the price agreed at the till
    (adj,) = line.adjustments
    assert adj.kind == "manual_price" and adj.amount_fen == 160
    assert "原价¥6.80" in adj.label_zh and "¥6.80" in adj.label_en


def test_a_changed_price_on_a_weighed_line():
    sale = price([CartItem(APPLE_KG, 1, weight_milli=500, price_fen=1000)])
    assert sale.lines[0].net_fen == 500
    assert sale.lines[0].adjustments[0].amount_fen == 140


def test_a_changed_price_must_be_lower():
    with pytest.raises(InvalidInput) as exc:
        price([CartItem(WATER, 1, price_fen=200)])
    assert "低于原价" in exc.value.zh


def test_a_price_cut_within_the_limit_needs_no_manager_and_beyond_does():
    within = price([CartItem(SPINACH, 1, price_fen=612)])  # 10% off exactly
    assert within.manual_limit_breaches(LIMITS) == []
    beyond = price([CartItem(SPINACH, 1, price_fen=611)])
    (reason,) = beyond.manual_limit_breaches(LIMITS)
    assert "10%" in reason[0] and "10%" in reason[1]


def test_an_order_discount_in_percent_is_shared_over_the_lines():
    sale = price([CartItem(WATER, 3), CartItem(SPINACH, 1)], order_discount=OrderDiscount(10))
    assert sale.gross_fen == 1280
    assert sale.order_discount_fen == 128 and sale.order_discount_base_fen == 1280
    assert sale.total_fen == 1152
    assert sum(line.net_fen for line in sale.lines) == sale.total_fen
    assert [line.order_discount_share_fen for line in sale.lines] == [60, 68]
    (adj,) = sale.sale_adjustments
    assert adj.kind == "order_discount" and adj.label_zh == "整单折扣 9折"
    assert sale.discount_fen == 128
    (reason,) = sale.manual_limit_breaches(LIMITS)  # 10% > 5%
    assert "整单折扣" in reason[0]


def test_an_order_discount_in_yuan_and_its_limit():
    sale = price([CartItem(SPINACH, 3)], order_discount=OrderDiscount(amount_fen=102))
    assert sale.total_fen == 2040 - 102
    assert sale.manual_limit_breaches(LIMITS) == []  # 5% of 20.40 is 1.02
    over = price([CartItem(SPINACH, 3)], order_discount=OrderDiscount(amount_fen=103))
    assert len(over.manual_limit_breaches(LIMITS)) == 1
    with pytest.raises(InvalidInput):
        price([CartItem(SPINACH, 1)], order_discount=OrderDiscount(amount_fen=680))


def test_manual_rounding_replaces_the_rules_rounding():
    items = [CartItem(SPINACH, 1), CartItem(APPLE_KG, 1, weight_milli=333)]  # 6.80 + 4.26
    auto = price(items, rounding="jiao")
    assert auto.rounding_fen == 6 and auto.manual_rounding_fen == 0
    by_hand = price(items, rounding="jiao", manual_rounding=ManualRounding("yuan"))
    assert by_hand.rounding_fen == by_hand.manual_rounding_fen == 6  # 11.06 → 11.00
    assert by_hand.total_fen == 1100
    assert by_hand.sale_adjustments[-1].label_zh == "手工抹零（元）"
    amount = price(items, manual_rounding=ManualRounding("amount", 106))
    assert amount.total_fen == 1000 and amount.discount_fen == 0
    assert sum(line.rounding_share_fen for line in amount.lines) == 106
    (reason,) = amount.manual_limit_breaches(LIMITS)  # ¥1.06 > ¥1.00
    assert "抹零" in reason[0]
    with pytest.raises(InvalidInput):
        price(items, manual_rounding=ManualRounding("amount", 1106))


def test_everything_together_still_adds_up_to_the_fen():
    sale = price(
        [
            CartItem(WATER, 3, price_fen=190),
            CartItem(APPLE_KG, 1, weight_milli=777),
            CartItem(BANANA_JIN, 1, weight_milli=2345, label_fen=818),
        ],
        member=GOLD,
        order_discount=OrderDiscount(7),
        manual_rounding=ManualRounding("jiao"),
    )
    assert sum(line.net_fen for line in sale.lines) == sale.total_fen
    assert sale.total_fen % 10 == 0
    assert sale.gross_fen - sale.discount_fen - sale.rounding_fen == sale.total_fen
    kinds = [a.kind for a in sale.sale_adjustments]
    assert kinds == ["order_discount", "rounding"]
