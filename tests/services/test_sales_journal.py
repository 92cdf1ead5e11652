"""销售流水 and 消费/充值明细 over real sales: every filter finds exactly the receipts the test
made for it, newest first and in pages; a reprint is marked and audited."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from pos_app.domain.errors import NotFound
from pos_app.domain.sale_request import LineRequest
from pos_app.services import shifts, stored_value
from pos_app.services.catalogue import load_demo_catalogue
from pos_app.services.checkout import sell
from pos_app.services.member_history import member_history
from pos_app.services.sale_records import reprint
from pos_app.services.sale_refund import refund_sale
from pos_app.services.sales_journal import JournalQuery, sales_journal
from tests.conftest import StoreFixture
from tests.services.support import audit_rows, member_with_card, req

DAY = date(2026, 3, 2)
CARD = "88880001"
MOBILE = "13800138000"


@pytest.fixture
def shop(store: StoreFixture) -> StoreFixture:
    load_demo_catalogue(store.ctx, store.manager)
    shifts.open_shift(store.ctx, store.cashier, 0)
    return store


def _day_of_sales(store: StoreFixture) -> list[str]:
    """Day 1: a walk-in sale; day 2: a member's sale, a top-up, another sale, a refund."""
    walk_in = sell(store.ctx, store.cashier, req(("D001", 1)))
    member_with_card(store, CARD, MOBILE)
    store.clock.advance(days=1)
    first = sell(store.ctx, store.cashier, req(("S001", 2), card=CARD))
    store.clock.advance(minutes=5)
    stored_value.top_up(store.ctx, store.cashier, CARD, 10_000)
    store.clock.advance(minutes=5)
    second = sell(
        store.ctx, store.cashier, req(("H001", 1), card=CARD, pay=[("stored_value", None)])
    )
    store.clock.advance(minutes=5)
    back = refund_sale(store.ctx, store.cashier, first.receipt_no, (LineRequest("S001", 1),))
    return [walk_in.receipt_no, first.receipt_no, second.receipt_no, back.receipt_no]


def test_journal_filters_and_pages(shop: StoreFixture) -> None:
    store = shop
    walk_in, first, second, back = _day_of_sales(store)

    def find(query: JournalQuery, **kw: int) -> list[str]:
        return [x.receipt_no for x in sales_journal(store.ctx, store.cashier, query, **kw).lines]

    assert find(JournalQuery()) == [back, second, first, walk_in]  # newest first
    assert find(JournalQuery(receipt_no=second)) == [second]
    assert find(JournalQuery(receipt_no=walk_in.split("-", 1)[1])) == [walk_in]
    assert find(JournalQuery(receipt_no="0001")) == [first, walk_in]  # each day its 0001
    assert find(JournalQuery(date_from=DAY, date_to=DAY)) == [walk_in]
    assert find(JournalQuery(date_from=DAY + timedelta(days=1))) == [back, second, first]
    for key in (CARD, MOBILE):
        assert find(JournalQuery(member=key)) == [back, second, first]
    assert find(JournalQuery(amount_fen=750)) == [back]  # the refund of one S001, ¥7.50
    assert find(JournalQuery(amount_fen=1_500)) == [first]
    page = sales_journal(store.ctx, store.cashier, JournalQuery(), offset=0, limit=3)
    assert page.has_more and len(page.lines) == 3
    rest = sales_journal(store.ctx, store.cashier, JournalQuery(), offset=3, limit=3)
    assert [x.receipt_no for x in rest.lines] == [walk_in] and not rest.has_more
    refund_line = sales_journal(store.ctx, store.cashier, JournalQuery(receipt_no=back)).lines[0]
    assert (refund_line.kind, refund_line.total_fen, refund_line.original_receipt_no) == (
        "refund",
        -750,
        first,
    )
    assert refund_line.member_mobile == "138****8000"
    with pytest.raises(NotFound):
        sales_journal(store.ctx, store.cashier, JournalQuery(member="13900000000"))


def test_reprint_is_marked_and_audited(shop: StoreFixture) -> None:
    store = shop
    sale = sell(store.ctx, store.cashier, req(("D001", 1)))
    doc = reprint(store.ctx, store.cashier, sale.receipt_no)
    assert doc.reprint and doc.receipt_no == sale.receipt_no
    (event,) = [a for a in audit_rows(store) if a.action == "sale.reprint"]
    assert (event.target, event.outcome, event.operator_id) == (
        sale.receipt_no,
        "ok",
        store.cashier.operator_id,
    )


def test_member_history_newest_first_in_pages(shop: StoreFixture) -> None:
    store = shop
    _walk_in, first, second, back = _day_of_sales(store)

    h = member_history(store.ctx, store.cashier, MOBILE)
    assert [(x.kind, x.receipt_no, x.amount_fen) for x in h.lines] == [
        ("refund", back, -750),
        ("sale", second, 3_990),
        ("topup", None, 10_000),
        ("sale", first, 1_500),
    ]
    assert h.lines[1].stored_value_fen == -3_990 and h.lines[1].tenders == ("stored_value",)
    assert h.lines[2].stored_value_fen > 10_000 - 1  # principal and any bonus
    page = member_history(store.ctx, store.cashier, CARD, offset=1, limit=2)
    assert [x.receipt_no for x in page.lines] == [second, None] and page.has_more
    last = member_history(store.ctx, store.cashier, h.member_no, offset=3, limit=2)
    assert [x.receipt_no for x in last.lines] == [first] and not last.has_more
