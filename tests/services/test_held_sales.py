"""Hold and recall (挂单): a cart put aside comes back whole, once, without its PIN."""

from __future__ import annotations

import json
import threading
from dataclasses import replace

import pytest
from sqlalchemy import select

from db.engine import read_session
from db.models import AuditEvent, HeldSale
from pos_app.domain.errors import (
    AuthenticationFailed,
    DomainError,
    InvalidInput,
    LimitExceeded,
    NotFound,
)
from pos_app.domain.sale_request import LineRequest, SaleRequest, TenderRequest
from pos_app.services.auth import Actor
from pos_app.services.catalogue import load_demo_catalogue
from pos_app.services.held_sales import (
    MAX_HELD,
    discard_held,
    held_sales,
    hold_sale,
    recall_sale,
)
from pos_app.services.verify import verify_ledger
from tests.services.support import count, ledger_count

CART = SaleRequest(
    lines=(LineRequest("6901234567890", 2), LineRequest("SKU-MILK"), LineRequest("SVC-WASH", 3)),
    tenders=(TenderRequest("stored_value"), TenderRequest("cash", 5000)),
    card_no="6200000000001234",
    pin="918273",
    coupon_codes=("CP8888",),
)


def audits(store, action):
    with read_session(store.ctx.engine) as s:
        rows = s.scalars(select(AuditEvent).where(AuditEvent.action == action))
        return [(r.operator_id, r.target, json.loads(r.detail or "{}")) for r in rows]


def test_hold_then_recall_gives_back_the_cart_without_its_pin(store):
    view = hold_sale(store.ctx, store.cashier, CART)
    assert view.label == "挂单 1"
    assert (view.line_count, view.item_count, view.has_member) == (3, 6, True)
    assert (view.operator_login, view.operator_name) == ("cashier", "王收银")

    recalled = recall_sale(store.ctx, store.cashier, view.id)
    assert recalled == replace(CART, pin=None)
    assert held_sales(store.ctx, store.cashier) == []
    assert count(store, HeldSale) == 0


def test_the_pin_is_never_stored(store):
    hold_sale(store.ctx, store.cashier, CART)
    with read_session(store.ctx.engine) as s:
        cart = s.scalars(select(HeldSale.cart)).one()
    assert json.loads(cart)["pin"] is None
    assert "918273" not in cart


def test_holding_writes_no_ledger_entry_but_is_audited(store):
    before = ledger_count(store)
    view = hold_sale(store.ctx, store.cashier, CART, label="  穿红衣服的阿姨  ")
    assert view.label == "穿红衣服的阿姨"
    recall_sale(store.ctx, store.manager, view.id)
    other = hold_sale(store.ctx, store.cashier, CART)
    discard_held(store.ctx, store.cashier, other.id)
    assert ledger_count(store) == before
    assert audits(store, "sale.hold") == [
        (store.cashier.operator_id, view.id, {"label": "穿红衣服的阿姨", "lines": 3}),
        (store.cashier.operator_id, other.id, {"label": "挂单 1", "lines": 3}),
    ]
    assert audits(store, "sale.recall") == [
        (
            store.manager.operator_id,
            view.id,
            {"label": "穿红衣服的阿姨", "held_by": store.cashier.operator_id},
        )
    ]
    assert audits(store, "sale.hold_discard") == [
        (
            store.cashier.operator_id,
            other.id,
            {"label": "挂单 1", "held_by": store.cashier.operator_id},
        )
    ]
    with read_session(store.ctx.engine) as s:
        details = " ".join(d or "" for d in s.scalars(select(AuditEvent.detail)))
    assert CART.card_no not in details  # the card number stays out of the audit trail
    assert verify_ledger(store.ctx).ok


def test_default_labels_number_through_the_day_and_restart_the_next(store):
    first = hold_sale(store.ctx, store.cashier, CART)
    second = hold_sale(store.ctx, store.cashier, CART)
    recall_sale(store.ctx, store.cashier, first.id)
    recall_sale(store.ctx, store.cashier, second.id)
    # Both were recalled; the next cart is still 挂单 3, never a second 挂单 1 the same day.
    assert hold_sale(store.ctx, store.cashier, CART).label == "挂单 3"
    assert hold_sale(store.ctx, store.cashier, CART, label="named").label == "named"
    assert hold_sale(store.ctx, store.cashier, CART).label == "挂单 4"
    store.clock.advance(days=1)
    assert hold_sale(store.ctx, store.cashier, CART).label == "挂单 1"


def test_the_list_shows_every_held_cart_oldest_first(store):
    a = hold_sale(store.ctx, store.cashier, CART)
    store.clock.advance(minutes=5)
    b = hold_sale(
        store.ctx, store.manager, SaleRequest(lines=(LineRequest("SKU-MILK"),)), label="B"
    )
    views = held_sales(store.ctx, store.cashier)
    assert [v.id for v in views] == [a.id, b.id]
    assert views[0] == a
    assert (views[1].label, views[1].operator_login, views[1].operator_name) == (
        "B",
        "manager",
        "李店长",
    )
    assert (views[1].line_count, views[1].item_count, views[1].has_member) == (1, 1, False)
    assert views[0].held_at < views[1].held_at


def test_an_empty_cart_is_refused(store):
    with pytest.raises(InvalidInput) as err:
        hold_sale(store.ctx, store.cashier, SaleRequest(lines=()))
    assert err.value.zh and err.value.en
    assert count(store, HeldSale) == 0


def test_a_label_longer_than_the_column_is_refused(store):
    with pytest.raises(InvalidInput):
        hold_sale(store.ctx, store.cashier, CART, label="长" * 41)
    assert hold_sale(store.ctx, store.cashier, CART, label="长" * 40).label == "长" * 40


def test_at_most_twenty_carts_are_held(store):
    views = [hold_sale(store.ctx, store.cashier, CART) for _ in range(MAX_HELD)]
    assert MAX_HELD == 20
    with pytest.raises(LimitExceeded) as err:
        hold_sale(store.ctx, store.cashier, CART)
    assert "20" in err.value.zh and "20" in err.value.en
    assert count(store, HeldSale) == MAX_HELD
    # Refused inside the transaction: the day's number was not used up either.
    discard_held(store.ctx, store.cashier, views[0].id)
    assert hold_sale(store.ctx, store.cashier, CART).label == f"挂单 {MAX_HELD + 1}"


def test_a_cart_is_recalled_once(store):
    view = hold_sale(store.ctx, store.cashier, CART)
    recall_sale(store.ctx, store.cashier, view.id)
    with pytest.raises(NotFound) as err:
        recall_sale(store.ctx, store.manager, view.id)
    assert err.value.zh and err.value.en
    with pytest.raises(NotFound):
        discard_held(store.ctx, store.cashier, view.id)
    assert audits(store, "sale.recall") == [
        (
            store.cashier.operator_id,
            view.id,
            {"label": "挂单 1", "held_by": store.cashier.operator_id},
        )
    ]


def test_two_tills_recalling_at_once_get_one_cart_between_them(store):
    view = hold_sale(store.ctx, store.cashier, CART)
    start = threading.Barrier(2)
    results: list[object] = []

    def till(actor):
        start.wait()
        try:
            results.append(recall_sale(store.ctx, actor, view.id))
        except DomainError as exc:
            results.append(exc)

    threads = [threading.Thread(target=till, args=(a,)) for a in (store.cashier, store.manager)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    carts = [r for r in results if isinstance(r, SaleRequest)]
    refusals = [r for r in results if isinstance(r, NotFound)]
    assert (len(carts), len(refusals)) == (1, 1)
    assert carts[0] == replace(CART, pin=None)
    assert len(audits(store, "sale.recall")) == 1


def test_discard_removes_the_cart(store):
    keep = hold_sale(store.ctx, store.cashier, CART)
    gone = hold_sale(store.ctx, store.cashier, CART)
    discard_held(store.ctx, store.cashier, gone.id)
    assert [v.id for v in held_sales(store.ctx, store.cashier)] == [keep.id]
    with pytest.raises(NotFound):
        recall_sale(store.ctx, store.cashier, gone.id)


def test_an_actor_not_signed_in_is_refused_and_the_refusal_audited(store):
    forged = Actor(store.cashier.operator_id, "cashier", "王收银", store.cashier.role)
    view = hold_sale(store.ctx, store.cashier, CART)
    for call in (
        lambda: hold_sale(store.ctx, forged, CART),
        lambda: held_sales(store.ctx, forged),
        lambda: recall_sale(store.ctx, forged, view.id),
        lambda: discard_held(store.ctx, forged, view.id),
    ):
        with pytest.raises(AuthenticationFailed):
            call()
    assert count(store, HeldSale) == 1
    refused = [
        (r.action, r.target)
        for r in _audit_rows(store)
        if r.outcome == "refused" and r.action == "sale.checkout"
    ]
    assert refused == [
        ("sale.checkout", "held_sale"),
        ("sale.checkout", view.id),
        ("sale.checkout", view.id),
    ]


def _audit_rows(store):
    with read_session(store.ctx.engine) as s:
        rows = list(s.scalars(select(AuditEvent).order_by(AuditEvent.id)))
        s.expunge_all()
        return rows


def test_the_list_says_what_each_cart_comes_to_at_todays_prices(store) -> None:
    load_demo_catalogue(store.ctx, store.admin)
    cart = SaleRequest(lines=(LineRequest("V001", 2), LineRequest("D002")))
    hold_sale(store.ctx, store.cashier, cart)
    hold_sale(store.ctx, store.cashier, CART)  # its products are not in this catalogue
    priced, unpriced = held_sales(store.ctx, store.cashier)
    assert priced.item_count == 3 and priced.total_fen == 2 * 6_80 + 3_50
    assert unpriced.item_count == 6 and unpriced.total_fen is None
