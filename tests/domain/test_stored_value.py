"""Stored-value buckets: bonus tiers, spending order, limits, top-up refund, cancellation."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pos_app.domain.errors import InsufficientBalance, InvalidInput, LimitExceeded
from pos_app.domain.rules import BonusTier, StoredValueRules
from pos_app.domain.stored_value import (
    Buckets,
    bonus_for_topup,
    check_daily_limit,
    check_topup_amount,
    pin_needed,
    refund_topup,
    settle_cancel,
    split_spend,
)

# 充500送50, 充1000送150, minimum top-up 50 yuan, as in the example rules.
SEED = StoredValueRules(
    min_topup_fen=5000,
    daily_limit_fen=500000,
    cancel_fee_fen=1000,
    bonus=(BonusTier(50000, 5000), BonusTier(100000, 15000)),
)


@pytest.mark.parametrize(
    ("amount", "bonus"),
    [
        (5000, 0),  # below every tier
        (49999, 0),  # one fen short of 充500
        (50000, 5000),  # 充500送50
        (80000, 5000),  # between tiers: the lower one applies
        (99999, 5000),
        (100000, 15000),  # 充1000送150: the highest reached, not both added
        (300000, 15000),
    ],
)
def test_bonus_of_the_highest_tier_reached(amount, bonus):
    assert bonus_for_topup(SEED, amount) == bonus


def test_no_bonus_rules_no_bonus():
    assert bonus_for_topup(StoredValueRules(), 1_000_000) == 0


def test_top_up_below_the_minimum_is_refused():
    check_topup_amount(SEED, 5000)
    with pytest.raises(InvalidInput, match="at least ¥50.00"):
        check_topup_amount(SEED, 4999)


def test_principal_first():
    assert split_spend("principal_first", 10000, 2000, 3000) == Buckets(3000, 0)
    assert split_spend("principal_first", 10000, 2000, 11000) == Buckets(10000, 1000)


def test_bonus_first():
    assert split_spend("bonus_first", 10000, 2000, 1500) == Buckets(0, 1500)
    assert split_spend("bonus_first", 10000, 2000, 5000) == Buckets(3000, 2000)


def test_pro_rata():
    # 500 principal + 50 bonus: 11 yuan is 10 from principal and 1 from bonus.
    assert split_spend("pro_rata", 50000, 5000, 1100) == Buckets(1000, 100)
    # rounding goes to the member's advantage: the bonus share is rounded down
    assert split_spend("pro_rata", 50000, 5000, 1) == Buckets(1, 0)
    assert split_spend("pro_rata", 50000, 5000, 55000) == Buckets(50000, 5000)


def test_a_spend_above_the_balance_is_refused():
    with pytest.raises(InsufficientBalance, match="short"):
        split_spend("principal_first", 100, 50, 151)


@pytest.mark.parametrize("amount", [0, -1])
def test_a_spend_must_be_positive(amount):
    with pytest.raises(InvalidInput):
        split_spend("principal_first", 100, 50, amount)


def test_an_unknown_order_is_refused():
    with pytest.raises(InvalidInput):
        split_spend("last_in_first_out", 100, 50, 10)


@given(
    order=st.sampled_from(["principal_first", "bonus_first", "pro_rata"]),
    principal=st.integers(0, 10**9),
    bonus=st.integers(0, 10**8),
    data=st.data(),
)
def test_a_split_always_adds_up_and_stays_within_the_buckets(order, principal, bonus, data):
    if principal + bonus == 0:
        return
    amount = data.draw(st.integers(1, principal + bonus))
    split = split_spend(order, principal, bonus, amount)
    assert split.total == amount
    assert 0 <= split.principal <= principal
    assert 0 <= split.bonus <= bonus


def test_daily_limit():
    check_daily_limit(SEED, 400000, 100000)  # exactly at the limit
    with pytest.raises(LimitExceeded, match="¥0.01 left") as info:
        check_daily_limit(SEED, 499999, 2)
    assert "每日" in info.value.zh
    check_daily_limit(StoredValueRules(daily_limit_fen=0), 10**9, 10**9)  # 0 = no limit


def test_pin_threshold():
    rules = StoredValueRules(pin_threshold_fen=10000)
    assert not pin_needed(rules, 10000, card_has_pin=True)
    assert pin_needed(rules, 10001, card_has_pin=True)
    assert not pin_needed(rules, 10**6, card_has_pin=False)
    assert pin_needed(StoredValueRules(pin_threshold_fen=0), 1, card_has_pin=True)


def test_top_up_refund_with_its_bonus_untouched():
    r = refund_topup(Buckets(50000, 5000), 50000, 5000, already_refunded=False)
    assert r.taken == Buckets(50000, 5000)
    assert r.cash_out_fen == 50000
    assert r.bonus_already_spent_fen == 0


def test_top_up_refund_less_the_bonus_already_spent():
    # 500 + 50 bonus; 30 of the bonus was spent: 20 bonus withdrawn, 470 back in cash.
    r = refund_topup(Buckets(50000, 5000), 60000, 2000, already_refunded=False)
    assert r.taken == Buckets(50000, 2000)
    assert r.bonus_already_spent_fen == 3000
    assert r.cash_out_fen == 47000


def test_top_up_refund_after_the_principal_was_spent_is_refused():
    with pytest.raises(InsufficientBalance):
        refund_topup(Buckets(50000, 5000), 49999, 5000, already_refunded=False)


def test_a_top_up_is_refunded_once():
    with pytest.raises(InvalidInput, match="already refunded"):
        refund_topup(Buckets(50000, 5000), 50000, 5000, already_refunded=True)


def test_cancel_refunds_principal_less_fee_and_forfeits_bonus():
    s = settle_cancel(SEED, 50000, 5000)
    assert (s.refund_fen, s.fee_fen, s.forfeited_bonus_fen) == (49000, 1000, 5000)


def test_cancel_fee_never_exceeds_the_principal():
    s = settle_cancel(SEED, 600, 300)
    assert (s.refund_fen, s.fee_fen, s.forfeited_bonus_fen) == (0, 600, 300)
