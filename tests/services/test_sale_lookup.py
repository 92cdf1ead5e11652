"""Looking a sale up for a return: its lines with what is still returnable, writing nothing."""

from __future__ import annotations

import pytest

from pos_app.domain.errors import InvalidInput, NotFound, PermissionDenied
from pos_app.domain.sale_request import LineRequest
from pos_app.services.checkout import sell
from pos_app.services.sale_lookup import sale_for_return
from pos_app.services.sale_refund import refund_sale
from tests.services.support import req, snapshot


def test_lines_show_what_is_left_to_return_after_a_partial_return(shop):
    sale = sell(shop.ctx, shop.cashier, req(("D001", 3), ("S001", 1), pay=[("cash", 2000)]))
    before = snapshot(shop)
    found = sale_for_return(shop.ctx, shop.cashier, sale.receipt_no)
    assert snapshot(shop) == before  # a look-up writes nothing
    assert found.receipt_no == sale.receipt_no
    assert found.receipt.reprint is False
    assert [(x.sku, x.qty, x.returnable_qty) for x in found.lines] == [
        ("D001", 3, 3),
        ("S001", 1, 1),
    ]
    assert found.refunded_fen == 0

    refund_sale(shop.ctx, shop.cashier, sale.receipt_no, (LineRequest("D001", 2),))
    again = sale_for_return(shop.ctx, shop.cashier, f" {sale.receipt_no} ")
    assert [(x.sku, x.returnable_qty) for x in again.lines] == [("D001", 1), ("S001", 1)]
    assert again.refunded_fen == 400
    assert again.anything_returnable


def test_a_refund_receipt_and_an_unknown_number_are_refused(shop):
    sale = sell(shop.ctx, shop.cashier, req(("D001", 1), pay=[("cash", 200)]))
    back = refund_sale(shop.ctx, shop.cashier, sale.receipt_no)
    with pytest.raises(InvalidInput):
        sale_for_return(shop.ctx, shop.cashier, back.receipt_no)
    with pytest.raises(NotFound):
        sale_for_return(shop.ctx, shop.cashier, "SH01-01-260302-9999")
    assert not sale_for_return(shop.ctx, shop.cashier, sale.receipt_no).anything_returnable


def test_the_permission_is_checked(shop, monkeypatch):
    sale = sell(shop.ctx, shop.cashier, req(("D001", 1), pay=[("cash", 200)]))
    from pos_app.domain import permissions

    monkeypatch.setitem(
        permissions.MINIMUM_ROLE, permissions.Permission.SALE_REFUND, permissions.Role.MANAGER
    )
    with pytest.raises(PermissionDenied):
        sale_for_return(shop.ctx, shop.cashier, sale.receipt_no)
    assert sale_for_return(shop.ctx, shop.manager, sale.receipt_no).lines
