"""销售分析 over real sales: categories, products and top sellers, discounts by kind, member
share and average ticket, each recomputed by hand from the sales the test makes."""

from __future__ import annotations

from datetime import date

import pytest

from pos_app.domain.coupons import TemplateSpec
from pos_app.domain.errors import ApprovalRequired
from pos_app.domain.permissions import Permission
from pos_app.domain.sale_request import LineRequest
from pos_app.services import shifts
from pos_app.services.catalogue import load_demo_catalogue
from pos_app.services.checkout import sell
from pos_app.services.coupons import add_template, issue_coupons
from pos_app.services.sale_refund import refund_sale
from pos_app.services.sales_analysis import sales_analysis
from tests.conftest import StoreFixture
from tests.services.support import member_with_card, req

DAY = date(2026, 3, 2)
CARD = "88880001"


@pytest.fixture
def shop(store: StoreFixture) -> StoreFixture:
    load_demo_catalogue(store.ctx, store.manager)
    shifts.open_shift(store.ctx, store.cashier, 0)
    return store


def test_categories_products_discounts_and_shares(shop: StoreFixture) -> None:
    store = shop
    add_template(
        store.ctx,
        store.manager,
        TemplateSpec(
            code="M20",
            name="满20减8",
            kind="amount_off",
            threshold_fen=2_000,
            amount_off_fen=800,
            valid_days=30,
        ),
    )
    member = member_with_card(store, CARD)
    (code,) = [c.code for c in issue_coupons(store.ctx, store.cashier, "M20", member.member_no)]
    # Member: 2 × F001 at the member price ¥11.80 (list ¥12.80), then ¥8 off the coupon.
    a = sell(store.ctx, store.cashier, req(("F001", 2), card=CARD, coupons=[code]))
    # Walk-ins: 3 × D001 (¥2.00) and a S001 (¥7.50); one D001 comes back.
    b = sell(store.ctx, store.cashier, req(("D001", 3), ("S001", 1)))
    refund_sale(store.ctx, store.cashier, b.receipt_no, (LineRequest("D001", 1),))

    r = sales_analysis(store.ctx, store.manager, DAY, DAY)

    assert a.total_fen == 2 * 1_180 - 800 and b.total_fen == 600 + 750
    by_sku = {p.key: (p.qty, p.net_fen) for p in r.products}
    assert by_sku == {"F001": (2, 1_560), "D001": (2, 400), "S001": (1, 750)}
    assert [p.key for p in r.products] == ["F001", "S001", "D001"]  # best sellers first
    top = sales_analysis(store.ctx, store.manager, DAY, DAY, top=1)
    assert [p.key for p in top.products] == ["F001"]
    assert sum(c.net_fen for c in r.categories) == r.figures.net_fen == 1_560 + 400 + 750
    discounts = {d.kind: d.amount_fen for d in r.discounts}
    assert discounts == {"member_price": 2 * 100, "coupon": 800}
    assert r.discounts_fen == r.figures.discount_fen
    # 客单价: two sales, ¥15.60 and ¥13.50; member share of the net ¥27.10.
    assert r.figures.average_ticket_fen == (1_560 + 1_350 + 1) // 2
    assert r.figures.member_share_percent == round(100 * 1_560 / 2_710)


def test_sales_analysis_needs_a_manager(shop: StoreFixture) -> None:
    with pytest.raises(ApprovalRequired):
        sales_analysis(shop.ctx, shop.cashier, DAY, DAY)
    approval = shop.approval(Permission.REPORT_STORE)
    assert sales_analysis(shop.ctx, shop.cashier, DAY, DAY, approval=approval).figures
