"""补积分: a walk-in receipt credited to a member afterwards — amounts from the receipt's own
lines, once, within the window, and taken back when the receipt is returned."""

from __future__ import annotations

import json

import pytest

from pos_app.domain.entry_kinds import EntryKind
from pos_app.domain.errors import AlreadyExists, CardStateError, InvalidInput
from pos_app.domain.sale_request import LineRequest
from pos_app.services import cards
from pos_app.services.checkout import sell
from pos_app.services.receipt_claims import claim_receipt_points
from pos_app.services.sale_refund import refund_sale
from pos_app.services.verify import verify_ledger
from tests.services.support import (
    CARD,
    buy,
    ensure_till,
    entries,
    member_row,
    member_with_card,
    new_member,
    req,
    rules_variant,
)

# Money moves only inside the cashier's own shift (see the `till` fixture).
pytestmark = pytest.mark.usefixtures("till")


def test_a_walk_in_receipt_credits_the_member_from_its_own_lines(store):
    rules_variant(store, ('skus = ["F001"]', 'skus = ["F001", "X003"]'))  # 3× points on X003
    m = member_with_card(store)
    ensure_till(store)
    walk_in = sell(
        store.ctx,
        store.cashier,
        req(("X100", 9), ("X001", 50), ("X000", 40), ("X003", 10)),  # ¥1000, X000 earns none
    )
    claim = claim_receipt_points(store.ctx, store.cashier, walk_in.receipt_no, card_no=CARD)
    assert (claim.amount_fen, claim.eligible_fen) == (100000, 96000)
    assert claim.points_earned == 950 + 30  # X003 at 3×
    assert (claim.tier, claim.tier_changed) == ("gold", True)  # one receipt ≥ ¥999
    credit = entries(store, EntryKind.PURCHASE)[-1]
    assert credit.member_id == member_row(store, m.member_no).id
    assert credit.related_entry_id == entries(store, EntryKind.PURCHASE)[-2].entry_id
    assert json.loads(credit.payload)["receipt_no"] == walk_in.receipt_no
    assert verify_ledger(store.ctx).ok


def test_a_receipt_is_credited_once_and_only_a_walk_in_sale(store):
    a = member_with_card(store)
    b = new_member(store, "13900139000", "李四")
    walk_in = buy(store, 100)
    claim_receipt_points(store.ctx, store.cashier, walk_in.receipt_no, member_no=a.member_no)
    with pytest.raises(AlreadyExists, match="already credited"):
        claim_receipt_points(store.ctx, store.cashier, walk_in.receipt_no, member_no=b.member_no)
    theirs = buy(store, 100, member_no=b.member_no)
    with pytest.raises(AlreadyExists, match="sale"):
        claim_receipt_points(store.ctx, store.cashier, theirs.receipt_no, member_no=a.member_no)
    returned = refund_sale(store.ctx, store.cashier, buy(store, 50).receipt_no)
    with pytest.raises(InvalidInput, match="refund"):
        claim_receipt_points(store.ctx, store.cashier, returned.receipt_no, member_no=a.member_no)
    credits = [e for e in entries(store, EntryKind.PURCHASE) if e.related_entry_id]
    assert len(credits) == 1  # the refused claims wrote nothing
    with pytest.raises(InvalidInput):
        claim_receipt_points(store.ctx, store.cashier, walk_in.receipt_no)  # no member


def test_only_within_the_claim_window(store):
    m = new_member(store)
    old = buy(store, 100)
    store.clock.advance(days=7)
    recent = buy(store, 100)
    store.clock.advance(days=1)  # old is 8 days old now, recent 1
    with pytest.raises(InvalidInput, match="more than 7 days"):
        claim_receipt_points(store.ctx, store.cashier, old.receipt_no, member_no=m.member_no)
    claim_receipt_points(store.ctx, store.cashier, recent.receipt_no, member_no=m.member_no)


def test_a_lost_card_claims_nothing(store):
    member_with_card(store)
    cards.report_card_lost(store.ctx, store.cashier, CARD)
    with pytest.raises(CardStateError):
        claim_receipt_points(store.ctx, store.cashier, buy(store, 10).receipt_no, card_no=CARD)


def test_what_was_returned_before_is_not_credited_and_a_later_return_takes_it_back(store):
    m = new_member(store)
    walk_in = buy(store, 1200)  # X100 × 12
    store.at_till(store.manager)  # the manager's own drawer pays it back
    refund_sale(store.ctx, store.manager, walk_in.receipt_no, (LineRequest("X100", 2),))
    claim = claim_receipt_points(
        store.ctx, store.cashier, walk_in.receipt_no, member_no=m.member_no
    )
    assert (claim.amount_fen, claim.points_earned, claim.tier) == (100000, 1000, "gold")
    back = refund_sale(store.ctx, store.manager, walk_in.receipt_no, (LineRequest("X100", 5),))
    assert back.points_earned == -500
    row = member_row(store, m.member_no)
    assert (row.points_balance, row.tier_code) == (500, "normal")  # ¥500 left is no gold
    refund_sale(store.ctx, store.manager, walk_in.receipt_no)
    assert member_row(store, m.member_no).points_balance == 0
    with pytest.raises(InvalidInput):  # nothing left on it to credit, nor to return
        refund_sale(store.ctx, store.manager, walk_in.receipt_no)
    assert verify_ledger(store.ctx).ok


def test_a_fully_returned_receipt_credits_nothing(store):
    m = new_member(store)
    walk_in = buy(store, 50)
    refund_sale(store.ctx, store.cashier, walk_in.receipt_no)
    with pytest.raises(InvalidInput, match="returned"):
        claim_receipt_points(store.ctx, store.cashier, walk_in.receipt_no, member_no=m.member_no)
