"""Selling weighed goods (散称, scale labels) and the cashier's manual changes — 改价, 整单折扣,
手工抹零 — against a real store: limits, manager approval, the sealed entry, returns."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from db.engine import read_session
from db.models import Sale, SaleLine
from pos_app.domain.entry_kinds import EntryKind
from pos_app.domain.errors import ApprovalRequired, InvalidInput, NotFound
from pos_app.domain.permissions import Permission
from pos_app.domain.receipt_text import render_text
from pos_app.domain.sale_request import (
    LineRequest,
    ManualRounding,
    OrderDiscount,
    SaleRequest,
    TenderRequest,
)
from pos_app.domain.scale_barcode import check_digit
from pos_app.services.checkout import quote, sell
from pos_app.services.sale_lookup import sale_for_return
from pos_app.services.sale_refund import refund_sale
from pos_app.services.verify import verify_ledger
from tests.services.support import entries

CASH = (TenderRequest("cash"),)


def label(body: str) -> str:
    return body + str(check_digit(body))


def sale_of(*lines: LineRequest, **kw: object) -> SaleRequest:
    return SaleRequest(lines=lines, tenders=CASH, **kw)  # type: ignore[arg-type]  # kw: fields


def sale_lines(shop, sale_id: str) -> list[SaleLine]:
    with read_session(shop.ctx.engine) as s:
        rows = list(
            s.scalars(
                select(SaleLine).where(SaleLine.sale_id == sale_id).order_by(SaleLine.line_no)
            )
        )
        s.expunge_all()
        return rows


# -- weighed goods ---------------------------------------------------------------------------


def test_a_weighed_sale_records_the_weight_and_prints_it(shop):
    # F005 apples ¥12.80/kg, F006 bananas ¥3.49/斤 (demo catalogue).
    result = sell(
        shop.ctx,
        shop.cashier,
        sale_of(
            LineRequest("F005", weight_milli=333),
            LineRequest("F006", weight_milli=1500),
            LineRequest("D001", 2),
        ),
    )
    assert result.total_fen == 426 + 524 + 400
    rows = sale_lines(shop, result.sale_id)
    assert [(r.sku, r.qty, r.weight_milli, r.gross_fen) for r in rows] == [
        ("F005", 1, 333, 426),
        ("F006", 1, 1500, 524),
        ("D001", 2, None, 400),
    ]
    text = render_text(result.receipt, 32)
    assert "0.333kg x ¥12.80/kg" in text and "1.500斤 x ¥3.49/斤" in text
    assert verify_ledger(shop.ctx).ok


def test_a_weighed_product_without_a_weight_is_refused(shop):
    with pytest.raises(InvalidInput) as exc:
        sell(shop.ctx, shop.cashier, sale_of(LineRequest("F005")))
    assert "称重" in exc.value.zh and "weight" in exc.value.en


def test_scale_labels_price_and_weight_embedded(shop):
    price_label = label("271000500960")  # PLU 10005 (F005), ¥9.60
    weight_label = label("291000600750")  # PLU 10006 (F006), 0.750 kg = 1.5 斤
    both = label("28100050064000500")  # F005, ¥6.40, 0.500 kg
    q = quote(
        shop.ctx,
        shop.cashier,
        sale_of(LineRequest(price_label), LineRequest(weight_label), LineRequest(both)),
    )
    first, second, third = q.lines
    assert (first.sku, first.gross_fen, first.weight_milli) == ("F005", 960, 750)
    assert (second.sku, second.gross_fen, second.weight_milli, second.unit) == (
        "F006",
        524,
        1500,
        "斤",
    )
    assert (third.gross_fen, third.weight_milli) == (640, 500)


def test_a_price_label_keeps_its_price_even_where_the_weight_rounds(shop):
    # ¥10.00 of apples at ¥12.80/kg is 0.78125 kg: the weight rounds, the price stays.
    q = quote(shop.ctx, shop.cashier, sale_of(LineRequest(label("271000501000"))))
    assert q.lines[0].gross_fen == q.total_fen == 1000
    assert q.lines[0].weight_milli == 781


def test_scale_label_refusals(shop):
    good = label("271000500960")
    with pytest.raises(InvalidInput) as bad:
        quote(
            shop.ctx, shop.cashier, sale_of(LineRequest(good[:-1] + str((int(good[-1]) + 1) % 10)))
        )
    assert "校验位" in bad.value.zh
    with pytest.raises(NotFound) as unknown:
        quote(shop.ctx, shop.cashier, sale_of(LineRequest(label("279999900960"))))
    assert "99999" in unknown.value.zh and "PLU" in unknown.value.en


def test_a_catalogue_barcode_that_looks_like_a_label_is_still_the_product(shop):
    # The demo's 2000020001009 (F001) starts with 20; with 20 as a label prefix too, the
    # catalogue wins.
    from tests.services.support import rules_variant

    rules_variant(shop, ('prefixes = ["27", "28"]', 'prefixes = ["20", "27", "28"]'))
    q = quote(shop.ctx, shop.cashier, sale_of(LineRequest("2000020001009")))
    assert q.lines[0].sku == "F001" and q.lines[0].weight_milli is None


def test_returning_part_of_a_weighed_line_then_the_rest(shop):
    sold = sell(
        shop.ctx,
        shop.cashier,
        sale_of(LineRequest("F005", weight_milli=777), LineRequest("D001", 1)),
    )
    assert sold.total_fen == 995 + 200  # 12.80 × 0.777 = 9.9456
    part = refund_sale(
        shop.ctx, shop.cashier, sold.receipt_no, (LineRequest("F005", weight_milli=300),)
    )
    assert part.total_fen == -(995 * 300 // 777)
    looked = sale_for_return(shop.ctx, shop.cashier, sold.receipt_no)
    apples = looked.lines[0]
    assert (apples.returnable_qty, apples.returnable_weight_milli) == (1, 477)
    with pytest.raises(InvalidInput):
        refund_sale(
            shop.ctx, shop.cashier, sold.receipt_no, (LineRequest("F005", weight_milli=478),)
        )
    rest = refund_sale(shop.ctx, shop.cashier, sold.receipt_no, (LineRequest("F005"),))
    assert part.total_fen + rest.total_fen == -995  # to the fen, however it is split
    rows = sale_lines(shop, rest.sale_id)
    assert [(r.qty, r.weight_milli) for r in rows] == [(-1, -477)]
    assert sale_lines(shop, part.sale_id)[0].qty == 0  # the item comes back once, whole
    # A refund receipt shows what goes back, as positive amounts and weights.
    assert "0.477kg" in render_text(rest.receipt, 32)
    assert "-0.477kg" not in render_text(rest.receipt, 32)
    assert sale_for_return(shop.ctx, shop.cashier, sold.receipt_no).lines[0].returnable_qty == 0
    with pytest.raises(InvalidInput):
        refund_sale(
            shop.ctx, shop.cashier, sold.receipt_no, (LineRequest("D001", 1, weight_milli=5),)
        )
    assert verify_ledger(shop.ctx).ok


# -- manual price, order discount, 抹零 ------------------------------------------------------


def test_a_price_change_within_the_limit_needs_no_manager(shop):
    # H002 tissues ¥12.90 → ¥11.70 is a 9.3% cut (limit 10%).
    result = sell(shop.ctx, shop.cashier, sale_of(LineRequest("H002", 1, price_fen=1170)))
    assert result.total_fen == 1170 and result.receipt.approved_by_name is None
    (adj,) = result.receipt.lines[0].adjustments
    assert adj.kind == "manual_price" and "原价¥12.90" in adj.label_zh
    assert "改价 原价¥12.90" in render_text(result.receipt, 32)


def test_a_price_change_over_the_limit_is_refused_without_a_manager(shop):
    request = sale_of(LineRequest("H002", 1, price_fen=1000))
    q = quote(shop.ctx, shop.cashier, request)
    assert q.approval_needed and "10%" in q.approval_needed[0][0]
    before = len(entries(shop))
    with pytest.raises(ApprovalRequired) as exc:
        sell(shop.ctx, shop.cashier, request)
    assert "改价" in exc.value.zh and "price cut" in exc.value.en
    assert len(entries(shop)) == before  # nothing sold


def test_a_price_change_over_the_limit_with_a_managers_approval(shop):
    request = sale_of(LineRequest("H002", 2, price_fen=1000))
    result = sell(shop.ctx, shop.cashier, request, shop.approval(Permission.SALE_OVER_LIMIT))
    assert result.total_fen == 2000
    assert result.receipt.approved_by_name == "李店长"
    (purchase,) = entries(shop, EntryKind.PURCHASE)
    assert purchase.approved_by_id is not None
    manual = json.loads(purchase.payload)["manual"]
    assert manual == {
        "price_changes": [
            {"line_no": 1, "sku": "H002", "price_fen": 1290, "changed_to_fen": 1000, "off_fen": 580}
        ]
    }
    with read_session(shop.ctx.engine) as s:
        assert s.get(Sale, result.sale_id).approved_by_id == purchase.approved_by_id
    assert verify_ledger(shop.ctx).ok


def test_a_manager_selling_approves_their_own_price_change(shop):
    shop.at_till(shop.manager)
    result = sell(shop.ctx, shop.manager, sale_of(LineRequest("H002", 1, price_fen=500)))
    assert result.total_fen == 500 and result.receipt.approved_by_name == "李店长"


def test_order_discount_and_manual_rounding_are_explained_and_sealed(shop):
    # 2 × H002 (¥25.80) + D001 ¥2.00 = ¥27.80; 5% off = ¥1.39 → ¥26.41; 抹零 to the yuan.
    result = sell(
        shop.ctx,
        shop.cashier,
        sale_of(
            LineRequest("H002", 2),
            LineRequest("D001", 1),
            order_discount=OrderDiscount(percent_off=5),
            manual_rounding=ManualRounding("yuan"),
        ),
    )
    assert result.total_fen == 2600
    doc = result.receipt
    assert [(a.kind, a.amount_fen) for a in doc.sale_adjustments] == [
        ("order_discount", 139),
        ("rounding", 41),
    ]
    text = render_text(doc, 32)
    assert "整单折扣 9.5折" in text and "手工抹零（元）" in text
    manual = json.loads(entries(shop, EntryKind.PURCHASE)[0].payload)["manual"]
    assert manual == {
        "order_discount": {"rule": "5%", "off_fen": 139},
        "rounding": {"rule": "manual_yuan", "off_fen": 41},
    }


def test_an_order_discount_over_the_limit_needs_a_manager(shop):
    request = sale_of(LineRequest("H002", 2), order_discount=OrderDiscount(amount_fen=200))
    with pytest.raises(ApprovalRequired) as exc:
        sell(shop.ctx, shop.cashier, request)
    assert "整单折扣" in exc.value.zh
    ok = sell(shop.ctx, shop.cashier, request, shop.approval(Permission.SALE_OVER_LIMIT))
    assert ok.total_fen == 2380


def test_rounding_off_more_than_the_limit_needs_a_manager(shop):
    request = sale_of(LineRequest("H002", 1), manual_rounding=ManualRounding("amount", 190))
    with pytest.raises(ApprovalRequired):
        sell(shop.ctx, shop.cashier, request)
    small = sell(
        shop.ctx,
        shop.cashier,
        sale_of(LineRequest("H002", 1), manual_rounding=ManualRounding("amount", 90)),
    )
    assert small.total_fen == 1200


def test_returns_of_a_discounted_sale_give_back_what_the_lines_cost(shop):
    sold = sell(
        shop.ctx,
        shop.cashier,
        sale_of(
            LineRequest("H002", 2, price_fen=1200),
            LineRequest("F005", weight_milli=500),
            LineRequest("D001", 3),
            order_discount=OrderDiscount(percent_off=5),
            manual_rounding=ManualRounding("jiao"),
        ),
    )
    # 24.00 + 6.40 + 6.00 = 36.40; 5% off = 1.82 → 34.58; 抹零 to the jiao → 34.50.
    assert sold.total_fen == 3450
    nets = [line.net_fen for line in sold.receipt.lines]
    first = refund_sale(shop.ctx, shop.cashier, sold.receipt_no, (LineRequest("H002", 1),))
    assert first.total_fen == -(nets[0] // 2)
    apples = refund_sale(shop.ctx, shop.cashier, sold.receipt_no, (LineRequest("F005"),))
    assert apples.total_fen == -nets[1]
    rest = refund_sale(shop.ctx, shop.cashier, sold.receipt_no)
    assert first.total_fen + apples.total_fen + rest.total_fen == -3450
    assert verify_ledger(shop.ctx).ok
