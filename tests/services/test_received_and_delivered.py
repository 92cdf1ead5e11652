"""收款 kept apart from 销售: a count card sold is money received and a prepaid liability, its
uses are services delivered and paid by redemption. Every figure is recomputed by hand from
the sales the test makes, and the identity 收款 − 预收 + 核销 = 销售 must hold."""

from __future__ import annotations

import pytest

from pos_app.domain.permissions import Permission
from pos_app.domain.sale_request import LineRequest
from pos_app.services import shifts, stored_value
from pos_app.services.catalogue import load_demo_catalogue
from pos_app.services.checkout import sell
from pos_app.services.reports import x_report
from pos_app.services.sale_refund import refund_sale
from tests.conftest import StoreFixture
from tests.services.support import member_with_card, req

CARD = "88880001"


@pytest.fixture
def shop(store: StoreFixture) -> StoreFixture:
    load_demo_catalogue(store.ctx, store.manager)
    shifts.open_shift(store.ctx, store.cashier, 20_000)
    return store


def test_a_count_card_sold_and_used_is_not_counted_twice(shop: StoreFixture) -> None:
    store = shop
    member_with_card(store, CARD, topup_fen=50_000)  # ¥500 cash top-up
    # The ¥400 car-wash card (C010, 10 × SV01) paid in cash.
    card = sell(store.ctx, store.cashier, req(("C010", 1), card=CARD, pay=[("cash", None)]))
    # Two washes from the card (2 × ¥50 of service) and a bottle of water for cash.
    wash = sell(
        store.ctx,
        store.cashier,
        req(("SV01", 2), ("D001", 1), card=CARD, pay=[("count_card", None), ("cash", None)]),
    )
    washes = {t.tender: t.amount_fen for t in wash.receipt.tenders}
    water_fen = washes["cash"]
    # Laundry liquid paid from stored value.
    laundry = sell(
        store.ctx, store.cashier, req(("H001", 1), card=CARD, pay=[("stored_value", None)])
    )

    f = x_report(store.ctx, store.cashier).figures

    assert card.total_fen == 40_000 and washes["count_card"] == 10_000
    # Before: ¥400 + ¥100 + water + laundry were all "sales".
    assert f.net_fen == 40_000 + 10_000 + water_fen + laundry.total_fen
    assert (f.card_sales_count, f.card_sales_fen) == (1, 40_000)
    # 收款: cash on the card, the water and the top-up.
    assert [(r.tender, r.sales_fen, r.topups_fen, r.net_fen) for r in f.received] == [
        ("cash", 40_000 + water_fen, 50_000, 40_000 + water_fen + 50_000)
    ]
    assert f.received_fen == 90_000 + water_fen
    # 预收: the card and the top-up's principal.
    assert f.prepaid_sold_fen == 40_000 + 50_000
    # 核销: the two washes and the stored value spent.
    assert (f.redeemed_passes_fen, f.redeemed_sv_fen, f.redeemed_points_fen) == (
        10_000,
        laundry.total_fen,
        0,
    )
    # 销售: only what was handed over — two washes, the water and the laundry liquid.
    assert f.delivered_fen == 10_000 + water_fen + laundry.total_fen
    assert f.received_fen - f.prepaid_sold_fen + f.redeemed_fen == f.delivered_fen
    assert f.problems() == []


def test_a_refunded_count_card_takes_back_the_prepaid_and_the_money(shop: StoreFixture) -> None:
    store = shop
    member_with_card(store, CARD)
    card = sell(store.ctx, store.cashier, req(("C010", 1), card=CARD, pay=[("wechat", None)]))
    approval = store.approval(Permission.SALE_OVER_LIMIT)  # ¥400: above the cashier's limit
    refund_sale(store.ctx, store.cashier, card.receipt_no, (LineRequest("C010", 1),), approval)
    stored_value.top_up(store.ctx, store.cashier, CARD, 30_000, tender="alipay")

    f = x_report(store.ctx, store.cashier).figures

    assert (f.card_sales_count, f.card_sales_fen) == (0, 0)
    assert f.net_fen == 0 and f.delivered_fen == 0
    by_tender = {r.tender: r.net_fen for r in f.received}
    assert by_tender == {"wechat": 0, "alipay": 30_000}
    assert f.prepaid_sold_fen == 30_000 and f.redeemed_fen == 0
    assert f.problems() == []
