"""Cards: stock import, issue, lost/found, freeze, replace (balances move), cancel (注销)."""

from __future__ import annotations

import json

import pytest

from pos_app.domain.entry_kinds import EntryKind
from pos_app.domain.errors import (
    AlreadyExists,
    ApprovalRequired,
    CardStateError,
    InvalidInput,
    PermissionDenied,
    WrongPin,
)
from pos_app.domain.permissions import Permission
from pos_app.services import cards, stored_value
from pos_app.services.members import show_member
from pos_app.services.verify import verify_ledger
from tests.services.support import (
    buckets,
    buy,
    card_row,
    entries,
    last_entry,
    member_row,
    member_with_card,
    new_member,
    snapshot,
)

# Money moves only inside the cashier's own shift (see the `till` fixture).
pytestmark = pytest.mark.usefixtures("till")


def test_issue_a_card_from_stock(store):
    result = cards.import_card_stock(
        store.ctx,
        store.manager,
        ["88880001", " 88880002 ", ""],
        media="magstripe",
        label="2026 第一批",
    )
    assert result.imported == 2
    (imported,) = entries(store, EntryKind.CARD_STOCK_IMPORTED)
    assert json.loads(imported.payload) == {
        "batch_id": result.batch_id,
        "count": 2,
        "media": "magstripe",
    }
    assert card_row(store, "88880002").state == "in_stock"
    m = new_member(store)
    view = cards.issue_card(store.ctx, store.cashier, m.member_no, "88880001")
    assert (view.state, view.media, view.stored_value_fen) == ("active", "magstripe", 0)
    row = card_row(store, "88880001")
    assert row.stock_batch_id == result.batch_id
    assert row.member_id == member_row(store, m.member_no).id
    assert card_row(store, "88880002").state == "in_stock"
    (issued,) = entries(store, EntryKind.CARD_ISSUED)
    assert issued.card_id == row.id
    assert verify_ledger(store.ctx).ok


def test_issue_a_new_number_and_a_second_card(store):
    m = new_member(store)
    cards.issue_card(store.ctx, store.cashier, m.member_no, "88880001")
    virtual = cards.issue_card(
        store.ctx, store.cashier, m.member_no, "vc13800138000", media="virtual"
    )
    assert (virtual.card_no, virtual.media, virtual.state) == ("VC13800138000", "virtual", "active")
    shown = show_member(store.ctx, store.cashier, member_no=m.member_no)
    assert [c.card_no for c in shown.cards] == ["88880001", "VC13800138000"]


def test_a_card_belongs_to_one_member(store):
    a = member_with_card(store, "88880001")
    b = new_member(store, "13900139000", "李四")
    before = snapshot(store)
    with pytest.raises(AlreadyExists):
        cards.issue_card(store.ctx, store.cashier, b.member_no, "88880001")
    assert snapshot(store) == before
    assert card_row(store, "88880001").member_id == member_row(store, a.member_no).id


def test_issue_refuses_bad_input_with_no_write(store):
    m = new_member(store)
    before = snapshot(store)
    for kwargs in (
        {"card_no": "12"},
        {"card_no": "88880001", "media": "paper"},
        {"card_no": "88880001", "pin": "12ab56"},
    ):
        with pytest.raises(InvalidInput):
            cards.issue_card(store.ctx, store.cashier, m.member_no, **kwargs)
    assert snapshot(store) == before


def test_stock_import_is_all_or_nothing_on_a_duplicate_in_the_batch(store):
    before = snapshot(store)
    with pytest.raises(AlreadyExists, match="Line 3"):
        cards.import_card_stock(store.ctx, store.manager, ["88880001", "88880002", "88880001"])
    assert snapshot(store) == before


def test_stock_import_is_all_or_nothing_on_a_number_already_known(store):
    cards.import_card_stock(store.ctx, store.manager, ["88881500"])
    before = snapshot(store)
    # the known number is in the second chunk of the existence check (900 per query)
    batch = [f"8888{n:04d}" for n in range(1, 2001)]
    with pytest.raises(AlreadyExists, match=r"88\*\*\*\*00"):
        cards.import_card_stock(store.ctx, store.manager, batch)
    assert snapshot(store) == before


def test_stock_import_names_a_bad_line(store):
    before = snapshot(store)
    with pytest.raises(InvalidInput, match="Line 2"):
        cards.import_card_stock(store.ctx, store.manager, ["88880001", "8888-0002"])
    with pytest.raises(InvalidInput):
        cards.import_card_stock(store.ctx, store.manager, ["", "  "])
    assert snapshot(store) == before


def test_a_cashier_cannot_import_stock(store):
    with pytest.raises(PermissionDenied):
        cards.import_card_stock(store.ctx, store.cashier, ["88880001"])


def test_lost_then_found_by_a_manager_only(store):
    member_with_card(store, "88880001", topup_fen=10000)
    assert cards.report_card_lost(store.ctx, store.cashier, "88880001").state == "lost"
    before = snapshot(store)
    with pytest.raises(PermissionDenied):
        cards.mark_card_found(store.ctx, store.cashier, "88880001")
    assert snapshot(store)[:4] == before[:4]  # only the refusal's audit row was added
    assert card_row(store, "88880001").state == "lost"
    view = cards.mark_card_found(store.ctx, store.manager, "88880001")
    assert view.state == "active" and view.principal_fen == 10000
    assert [e.kind for e in entries(store)][-2:] == ["card_lost", "card_found"]
    stored_value.pay_with_stored_value(store.ctx, store.cashier, "88880001", 100)
    with pytest.raises(CardStateError):
        cards.mark_card_found(store.ctx, store.manager, "88880001")  # not lost any more


def test_freeze_and_unfreeze_by_a_manager_or_with_one_s_approval(store):
    member_with_card(store, "88880001", topup_fen=10000)
    for action in (cards.freeze_card, cards.unfreeze_card):
        with pytest.raises(ApprovalRequired):
            action(store.ctx, store.cashier, "88880001")
    assert cards.freeze_card(store.ctx, store.manager, "88880001").state == "frozen"
    with pytest.raises(ApprovalRequired):
        cards.unfreeze_card(store.ctx, store.cashier, "88880001")
    assert cards.unfreeze_card(store.ctx, store.manager, "88880001").state == "active"
    assert [e.kind for e in entries(store)][-2:] == ["card_frozen", "card_unfrozen"]


@pytest.mark.parametrize("how", ["lost", "frozen"])
def test_lost_and_frozen_cards_neither_pay_nor_take_top_ups(store, how):
    member_with_card(store, "88880001", topup_fen=10000)
    if how == "lost":
        cards.report_card_lost(store.ctx, store.cashier, "88880001")
    else:
        cards.freeze_card(store.ctx, store.manager, "88880001")
    before = snapshot(store)
    with pytest.raises(CardStateError):
        stored_value.pay_with_stored_value(store.ctx, store.cashier, "88880001", 100)
    with pytest.raises(CardStateError):
        stored_value.top_up(store.ctx, store.cashier, "88880001", 10000)
    assert snapshot(store) == before
    assert buckets(store, "88880001") == (10000, 0)


def test_cancel_refunds_principal_less_the_fee_and_forfeits_the_bonus(store):
    member_with_card(store, "88880001", topup_fen=50000)  # 充500送50
    stored_value.pay_with_stored_value(store.ctx, store.cashier, "88880001", 2000)
    assert buckets(store, "88880001") == (48000, 5000)
    before = snapshot(store)
    preview = cards.preview_cancel(store.ctx, store.cashier, "88880001")  # writes nothing
    assert (preview.refund_fen, preview.fee_fen, preview.forfeited_bonus_fen) == (47000, 1000, 5000)
    assert snapshot(store) == before
    with pytest.raises(ApprovalRequired):
        cards.cancel_card(store.ctx, store.cashier, "88880001")
    assert snapshot(store)[:4] == before[:4]
    result = cards.cancel_card(
        store.ctx, store.cashier, "88880001", approval=store.approval(Permission.CARD_CANCEL)
    )
    assert (result.refund_fen, result.fee_fen, result.forfeited_bonus_fen) == (47000, 1000, 5000)
    assert result.card.state == "cancelled"
    assert buckets(store, "88880001") == (0, 0)
    entry = last_entry(store)
    assert entry.kind == "card_cancelled"
    assert (entry.principal_delta, entry.bonus_delta, entry.amount_fen) == (-48000, -5000, 47000)
    assert entry.approved_by_id == store.manager.operator_id
    assert entry.operator_id == store.cashier.operator_id
    assert json.loads(entry.payload) == {
        "fee_fen": 1000,
        "forfeited_bonus_fen": 5000,
        "shift_no": 1,
    }
    assert verify_ledger(store.ctx).ok


def test_a_cancelled_card_is_dead(store):
    m = member_with_card(store, "88880001", topup_fen=10000)
    store.at_till(store.manager)  # the manager's own drawer pays it back
    cards.cancel_card(store.ctx, store.manager, "88880001")
    assert last_entry(store).approved_by_id == store.manager.operator_id
    before = snapshot(store)
    refusals = [
        lambda: stored_value.pay_with_stored_value(store.ctx, store.cashier, "88880001", 100),
        lambda: stored_value.top_up(store.ctx, store.cashier, "88880001", 10000),
        lambda: cards.report_card_lost(store.ctx, store.cashier, "88880001"),
        lambda: cards.mark_card_found(store.ctx, store.manager, "88880001"),
        lambda: cards.freeze_card(store.ctx, store.manager, "88880001"),
        lambda: cards.replace_card(store.ctx, store.manager, "88880001", "88880002"),
        lambda: cards.cancel_card(store.ctx, store.manager, "88880001"),
        lambda: cards.reset_pin(store.ctx, store.manager, "88880001", "123456"),
        lambda: cards.issue_card(store.ctx, store.cashier, m.member_no, "88880001"),
    ]
    for refuse in refusals:
        with pytest.raises((CardStateError, AlreadyExists)):
            refuse()
    assert snapshot(store) == before


def test_replace_after_lost_keeps_every_balance_and_kills_the_old_card(store):
    pin = "246810"
    m = member_with_card(store, "88880001", pin=pin, topup_fen=50000)  # 500 + 50 bonus
    buy(store, 120, member_no=m.member_no)
    stored_value.pay_with_stored_value(store.ctx, store.cashier, "88880001", 3000, pin=pin)
    assert buckets(store, "88880001") == (47000, 5000)
    cards.report_card_lost(store.ctx, store.cashier, "88880001")
    with pytest.raises(ApprovalRequired):
        cards.replace_card(store.ctx, store.cashier, "88880001", "88880002")
    result = cards.replace_card(
        store.ctx,
        store.cashier,
        "88880001",
        "88880002",
        approval=store.approval(Permission.CARD_REPLACE),
    )
    assert (result.moved_principal_fen, result.moved_bonus_fen) == (47000, 5000)
    assert (result.old.state, result.new.state) == ("replaced", "active")
    assert result.new.pin_set
    assert buckets(store, "88880002") == (47000, 5000)
    assert buckets(store, "88880001") == (0, 0)
    assert card_row(store, "88880001").replaced_by_id == card_row(store, "88880002").id
    assert member_row(store, m.member_no).points_balance == 120
    out, in_ = entries(store)[-2:]
    assert (out.kind, in_.kind) == ("card_replaced_out", "card_replaced_in")
    assert in_.related_entry_id == out.entry_id
    assert in_.approved_by_id == store.manager.operator_id

    # the PIN went with the balance
    with pytest.raises(WrongPin):
        stored_value.pay_with_stored_value(store.ctx, store.cashier, "88880002", 1000, pin="135790")
    paid = stored_value.pay_with_stored_value(store.ctx, store.cashier, "88880002", 1000, pin=pin)
    assert paid.balance.principal_fen == 46000

    # the old card is dead for good
    before = snapshot(store)
    with pytest.raises(CardStateError):
        stored_value.pay_with_stored_value(store.ctx, store.cashier, "88880001", 100, pin=pin)
    with pytest.raises(CardStateError):
        stored_value.top_up(store.ctx, store.cashier, "88880001", 10000)
    with pytest.raises(CardStateError):
        cards.replace_card(store.ctx, store.manager, "88880001", "88880003")
    with pytest.raises(CardStateError):
        cards.mark_card_found(store.ctx, store.manager, "88880001")
    assert snapshot(store) == before
    assert verify_ledger(store.ctx).ok


def test_replace_onto_a_stock_card_and_not_onto_a_card_in_use(store):
    cards.import_card_stock(store.ctx, store.manager, ["99990001"], media="ic")
    member_with_card(store, "88880001", topup_fen=10000)
    member_with_card(store, "77770001", mobile="13900139000", name="李四")
    before = snapshot(store)
    with pytest.raises(AlreadyExists):
        cards.replace_card(store.ctx, store.manager, "88880001", "77770001")
    with pytest.raises(InvalidInput):
        cards.replace_card(store.ctx, store.manager, "88880001", "88880001")
    assert snapshot(store) == before
    result = cards.replace_card(store.ctx, store.manager, "88880001", "99990001")
    assert result.new.principal_fen == 10000
    assert card_row(store, "99990001").stock_batch_id is not None
    assert verify_ledger(store.ctx).ok
