"""Stored value: bonus tiers, spending order, refunds to the right buckets, PIN, limits."""

from __future__ import annotations

import json

import pytest

from pos_app.domain.entry_kinds import EntryKind
from pos_app.domain.errors import (
    ApprovalRequired,
    CardStateError,
    InsufficientBalance,
    InvalidInput,
    LimitExceeded,
    NotFound,
    PinLocked,
    PinRequired,
    WrongPin,
)
from pos_app.domain.permissions import Permission
from pos_app.services import cards, stored_value
from pos_app.services.context import open_store
from pos_app.services.verify import verify_ledger
from tests.services.support import (
    buckets,
    card_row,
    entries,
    last_entry,
    member_with_card,
    rules_variant,
    snapshot,
)

# Money moves only inside the cashier's own shift (see the `till` fixture).
pytestmark = pytest.mark.usefixtures("till")

CARD = "88880001"
PIN = "246810"


def pay(store, amount_fen, card_no=CARD, pin=None):
    return stored_value.pay_with_stored_value(
        store.ctx, store.cashier, card_no, amount_fen, pin=pin
    )


# --- top-up bonus (充500送50, 充1000送150) ---------------------------------------------


@pytest.mark.parametrize(
    ("amount", "bonus"),
    [(5000, 0), (49999, 0), (50000, 5000), (99900, 5000), (100000, 15000), (200000, 15000)],
)
def test_top_up_bonus_of_the_highest_tier_reached(store, amount, bonus):
    member_with_card(store, CARD)
    result = stored_value.top_up(
        store.ctx, store.cashier, CARD, amount, tender="wechat", reference="WX123"
    )
    assert (result.amount_fen, result.bonus_fen, result.tender) == (amount, bonus, "wechat")
    assert buckets(store, CARD) == (amount, bonus)
    (topup,) = entries(store, EntryKind.TOPUP)
    assert (topup.principal_delta, topup.bonus_delta, topup.tender) == (amount, bonus, "wechat")
    assert topup.entry_id == result.entry_id
    assert json.loads(topup.payload) == {"reference": "WX123", "shift_no": 1}
    assert stored_value.preview_bonus(store.ctx, amount) == bonus


def test_top_ups_add_up(store):
    member_with_card(store, CARD)
    stored_value.top_up(store.ctx, store.cashier, CARD, 50000)
    stored_value.top_up(store.ctx, store.cashier, CARD, 100000)
    assert buckets(store, CARD) == (150000, 20000)
    assert stored_value.balance(store.ctx, store.cashier, CARD).stored_value_fen == 170000


@pytest.mark.parametrize(("amount", "tender"), [(4999, "cash"), (1, "cash"), (50000, "coupon")])
def test_a_refused_top_up_writes_nothing(store, amount, tender):
    member_with_card(store, CARD)
    before = snapshot(store)
    with pytest.raises(InvalidInput):
        stored_value.top_up(store.ctx, store.cashier, CARD, amount, tender=tender)
    assert snapshot(store) == before
    assert buckets(store, CARD) == (0, 0)


def test_top_up_of_an_unknown_or_unissued_card_is_refused(store):
    cards.import_card_stock(store.ctx, store.manager, ["99990001"])
    before = snapshot(store)
    with pytest.raises(NotFound):
        stored_value.top_up(store.ctx, store.cashier, "12345678", 50000)
    with pytest.raises(CardStateError):
        stored_value.top_up(store.ctx, store.cashier, "99990001", 50000)  # still in stock
    assert snapshot(store) == before


# --- spending order ------------------------------------------------------------------


def test_principal_first_by_default(store):
    member_with_card(store, CARD, topup_fen=50000)  # 500 + 50
    paid = pay(store, 49000)
    assert (paid.from_principal_fen, paid.from_bonus_fen) == (49000, 0)
    paid = pay(store, 2000)
    assert (paid.from_principal_fen, paid.from_bonus_fen) == (1000, 1000)
    assert buckets(store, CARD) == (0, 4000)
    entry = last_entry(store)
    assert (entry.kind, entry.principal_delta, entry.bonus_delta, entry.amount_fen) == (
        "sv_payment",
        -1000,
        -1000,
        2000,
    )


def test_bonus_first(store):
    rules_variant(store, ('spend_order = "principal_first"', 'spend_order = "bonus_first"'))
    member_with_card(store, CARD, topup_fen=50000)
    paid = pay(store, 3000)
    assert (paid.from_principal_fen, paid.from_bonus_fen) == (0, 3000)
    paid = pay(store, 3000)
    assert (paid.from_principal_fen, paid.from_bonus_fen) == (1000, 2000)
    assert buckets(store, CARD) == (49000, 0)


def test_pro_rata(store):
    rules_variant(store, ('spend_order = "principal_first"', 'spend_order = "pro_rata"'))
    member_with_card(store, CARD, topup_fen=50000)  # 500 : 50 = 10 : 1
    paid = pay(store, 11000)
    assert (paid.from_principal_fen, paid.from_bonus_fen) == (10000, 1000)
    assert buckets(store, CARD) == (40000, 4000)


def test_insufficient_balance_is_refused_with_nothing_written(store):
    member_with_card(store, CARD, topup_fen=50000)
    before = snapshot(store)
    with pytest.raises(InsufficientBalance):
        pay(store, 55001)
    with pytest.raises(InvalidInput):
        pay(store, 0)
    assert snapshot(store) == before
    assert buckets(store, CARD) == (50000, 5000)
    assert pay(store, 55000).balance.stored_value_fen == 0


# --- refunds -------------------------------------------------------------------------


def test_a_payment_refund_returns_to_the_buckets_it_came_from(store):
    member_with_card(store, CARD, topup_fen=50000)
    pay(store, 45000)
    paid = pay(store, 8000)  # 5000 principal + 3000 bonus
    assert (paid.from_principal_fen, paid.from_bonus_fen) == (5000, 3000)
    assert buckets(store, CARD) == (0, 2000)
    before = snapshot(store)
    with pytest.raises(ApprovalRequired):
        stored_value.refund_stored_value_payment(store.ctx, store.cashier, paid.entry_id)
    assert snapshot(store)[:4] == before[:4]
    refund = stored_value.refund_stored_value_payment(
        store.ctx,
        store.cashier,
        paid.entry_id,
        approval=store.approval(Permission.STORED_VALUE_REFUND),
    )
    assert (refund.returned.principal, refund.returned.bonus) == (5000, 3000)
    assert buckets(store, CARD) == (5000, 5000)
    entry = last_entry(store)
    assert (entry.kind, entry.related_entry_id, entry.approved_by_id) == (
        "sv_payment_refunded",
        paid.entry_id,
        store.manager.operator_id,
    )
    with pytest.raises(InvalidInput, match="already refunded"):
        stored_value.refund_stored_value_payment(store.ctx, store.manager, paid.entry_id)
    assert buckets(store, CARD) == (5000, 5000)
    assert verify_ledger(store.ctx).ok


def test_a_payment_refund_after_the_card_was_replaced_goes_to_the_new_card(store):
    member_with_card(store, CARD, topup_fen=50000)
    paid = pay(store, 52000)  # 50000 principal + 2000 bonus
    cards.report_card_lost(store.ctx, store.cashier, CARD)
    cards.replace_card(store.ctx, store.manager, CARD, "88880002")
    cards.report_card_lost(store.ctx, store.cashier, "88880002")
    cards.replace_card(store.ctx, store.manager, "88880002", "88880003")
    assert buckets(store, "88880003") == (0, 3000)
    refund = stored_value.refund_stored_value_payment(store.ctx, store.manager, paid.entry_id)
    assert refund.balance.card_no == "88880003"
    assert buckets(store, "88880003") == (50000, 5000)
    assert buckets(store, CARD) == buckets(store, "88880002") == (0, 0)
    assert last_entry(store).card_id == card_row(store, "88880003").id
    assert verify_ledger(store.ctx).ok


def test_a_top_up_refund_returns_principal_less_the_bonus_already_spent(store):
    rules_variant(store, ('spend_order = "principal_first"', 'spend_order = "bonus_first"'))
    member_with_card(store, CARD, topup_fen=10000)  # 100, no bonus
    topup = stored_value.top_up(store.ctx, store.cashier, CARD, 50000)  # 500 + 50
    assert buckets(store, CARD) == (60000, 5000)
    pay(store, 3000)  # bonus first: 30 of the 50 bonus spent
    assert buckets(store, CARD) == (60000, 2000)
    with pytest.raises(ApprovalRequired):
        stored_value.refund_top_up(store.ctx, store.cashier, topup.entry_id)
    refund = stored_value.refund_top_up(
        store.ctx, store.cashier, topup.entry_id, approval=store.approval(Permission.TOPUP_REFUND)
    )
    assert refund.cash_out_fen == 47000  # 500 less the 30 bonus already spent
    assert (refund.returned.principal, refund.returned.bonus) == (50000, 2000)
    assert buckets(store, CARD) == (10000, 0)  # the first top-up's principal is untouched
    entry = last_entry(store)
    assert (entry.kind, entry.amount_fen, entry.principal_delta, entry.bonus_delta) == (
        "topup_refunded",
        47000,
        -50000,
        -2000,
    )
    assert entry.tender == "cash" and entry.related_entry_id == topup.entry_id
    assert json.loads(entry.payload) == {"bonus_already_spent_fen": 3000, "shift_no": 1}
    store.at_till(store.manager)  # the manager's own drawer pays it back
    with pytest.raises(InvalidInput, match="already refunded"):
        stored_value.refund_top_up(store.ctx, store.manager, topup.entry_id)
    assert verify_ledger(store.ctx).ok


def test_a_top_up_whose_principal_was_spent_cannot_be_refunded(store):
    member_with_card(store, CARD)
    topup = stored_value.top_up(store.ctx, store.cashier, CARD, 50000)
    pay(store, 1000)
    store.at_till(store.manager)
    before = snapshot(store)
    with pytest.raises(InsufficientBalance):
        stored_value.refund_top_up(store.ctx, store.manager, topup.entry_id)
    assert snapshot(store) == before


def test_refund_of_something_that_is_not_a_payment_is_refused(store):
    member_with_card(store, CARD)
    topup = stored_value.top_up(store.ctx, store.cashier, CARD, 50000)
    with pytest.raises(NotFound):
        stored_value.refund_stored_value_payment(store.ctx, store.manager, topup.entry_id)
    with pytest.raises(NotFound):
        stored_value.refund_top_up(store.ctx, store.manager, "no-such-entry")


# --- PIN -----------------------------------------------------------------------------


def test_five_wrong_pins_lock_until_a_manager_resets_even_across_a_restart(store):
    member_with_card(store, CARD, pin=PIN, topup_fen=50000)
    with pytest.raises(PinRequired):
        pay(store, 1000)
    for left in (4, 3, 2, 1):
        with pytest.raises(WrongPin, match=f"{left} tries left"):
            pay(store, 1000, pin="135790")
    with pytest.raises(PinLocked):
        pay(store, 1000, pin="135790")
    assert card_row(store, CARD).pin_failures == 5
    assert len(entries(store, EntryKind.PIN_FAILED)) == 5
    before = snapshot(store)
    with pytest.raises(PinLocked):
        pay(store, 1000, pin=PIN)  # even the right PIN
    assert snapshot(store) == before

    # the lock survives a restart of the app
    store.ctx.engine.dispose()
    store.ctx = open_store(store.data_dir, clock=store.clock)
    with pytest.raises(PinLocked):
        pay(store, 1000, pin=PIN)
    assert stored_value.balance(store.ctx, store.cashier, CARD).pin_locked

    with pytest.raises(ApprovalRequired):
        cards.reset_pin(store.ctx, store.cashier, CARD, "112233")
    assert card_row(store, CARD).pin_failures == 5
    view = cards.reset_pin(
        store.ctx, store.cashier, CARD, "112233", approval=store.approval(Permission.PIN_RESET)
    )
    assert not view.pin_locked
    reset = last_entry(store)
    assert (reset.kind, reset.approved_by_id) == ("pin_reset", store.manager.operator_id)
    with pytest.raises(WrongPin):
        pay(store, 1000, pin=PIN)  # the old PIN is gone
    assert pay(store, 1000, pin="112233").balance.principal_fen == 49000
    assert verify_ledger(store.ctx).ok


def test_a_right_pin_clears_earlier_wrong_tries(store):
    member_with_card(store, CARD, pin=PIN, topup_fen=50000)
    for _ in range(3):
        with pytest.raises(WrongPin):
            pay(store, 1000, pin="000000")
    pay(store, 1000, pin=PIN)
    assert card_row(store, CARD).pin_failures == 0
    for left in (4, 3):
        with pytest.raises(WrongPin, match=f"{left} tries left"):
            pay(store, 1000, pin="000000")
    assert verify_ledger(store.ctx).ok


def test_pin_threshold(store):
    rules_variant(store, ('pin_threshold = "0"', 'pin_threshold = "100"'))
    member_with_card(store, CARD, pin=PIN, topup_fen=50000)
    assert pay(store, 10000).amount_fen == 10000  # not above the threshold: no PIN asked
    with pytest.raises(PinRequired):
        pay(store, 10001)
    assert pay(store, 10001, pin=PIN).amount_fen == 10001


def test_a_card_without_a_pin_pays_without_one(store):
    member_with_card(store, CARD, topup_fen=50000)
    assert pay(store, 1000).amount_fen == 1000


def test_a_locked_card_pays_nothing_even_below_the_pin_threshold(store):
    rules_variant(store, ('pin_threshold = "0"', 'pin_threshold = "100"'))
    member_with_card(store, CARD, pin=PIN, topup_fen=50000)
    for _ in range(4):
        with pytest.raises(WrongPin):
            pay(store, 20000, pin="000000")
    with pytest.raises(PinLocked):
        pay(store, 20000, pin="000000")
    before = snapshot(store)
    with pytest.raises(PinLocked):
        pay(store, 100)
    assert snapshot(store) == before


def test_an_unchecked_pin_below_the_threshold_does_not_clear_wrong_tries(store):
    # Otherwise a guesser could reset the counter with a small payment and guess forever.
    rules_variant(store, ('pin_threshold = "0"', 'pin_threshold = "100"'))
    member_with_card(store, CARD, pin=PIN, topup_fen=50000)
    for _ in range(4):
        with pytest.raises(WrongPin):
            pay(store, 20000, pin="000000")
    pay(store, 100, pin="999999")  # below the threshold: the PIN is not checked
    assert card_row(store, CARD).pin_failures == 4
    with pytest.raises(PinLocked):
        pay(store, 20000, pin="000001")
    assert verify_ledger(store.ctx).ok


# --- daily limit ---------------------------------------------------------------------


def test_daily_limit_resets_on_the_next_business_day_in_shanghai(store):
    # The clock starts at 10:00 in Shanghai (02:00 UTC). The limit is 5000 yuan a day.
    member_with_card(store, CARD, topup_fen=600000)
    pay(store, 300000)
    pay(store, 200000)
    before = snapshot(store)
    with pytest.raises(LimitExceeded):
        pay(store, 1)
    assert snapshot(store) == before
    store.clock.advance(hours=13, minutes=59)  # 23:59 in Shanghai: still the same day
    with pytest.raises(LimitExceeded):
        pay(store, 1)
    store.clock.advance(minutes=2)  # 00:01 in Shanghai, though still the same UTC day
    assert pay(store, 100000).amount_fen == 100000


def test_a_refund_gives_back_room_under_the_daily_limit(store):
    member_with_card(store, CARD, topup_fen=600000)
    paid = pay(store, 500000)
    with pytest.raises(LimitExceeded):
        pay(store, 1)
    stored_value.refund_stored_value_payment(store.ctx, store.manager, paid.entry_id)
    assert pay(store, 500000).amount_fen == 500000


def test_yesterdays_spending_does_not_count(store):
    member_with_card(store, CARD, topup_fen=600000)
    pay(store, 500000)
    store.clock.advance(days=1)
    assert pay(store, 100000).amount_fen == 100000


def test_the_daily_limit_is_per_member_so_a_replacement_card_does_not_reset_it(store):
    member_with_card(store, CARD, topup_fen=600000)
    pay(store, 500000)
    cards.report_card_lost(store.ctx, store.cashier, CARD)
    cards.replace_card(store.ctx, store.manager, CARD, "88880099")
    before = snapshot(store)
    with pytest.raises(LimitExceeded):
        stored_value.pay_with_stored_value(store.ctx, store.cashier, "88880099", 1)
    assert snapshot(store) == before
    store.clock.advance(days=1)
    paid = stored_value.pay_with_stored_value(store.ctx, store.cashier, "88880099", 100000)
    assert paid.balance.card_no == "88880099"
