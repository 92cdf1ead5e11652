"""Points lots: earning, expiry (rolling and yearly), oldest first, debt after a refund."""

from __future__ import annotations

from datetime import date

import pytest

from pos_app.domain.errors import InsufficientBalance, InvalidInput
from pos_app.domain.points import (
    Allocation,
    Lot,
    allocate,
    allocate_for_redemption,
    earned_points,
    expired_lots,
    lot_expiry,
    oldest_first,
    settle_debt,
)
from pos_app.domain.rules import PointsRules


def test_earned_points_base_rate_times_multipliers_rounded_down():
    assert earned_points(12345, 1, 1000) == 123  # ¥123.45 at 1 point per yuan
    assert earned_points(12345, 2, 1000) == 246
    assert earned_points(10000, 1, 1500) == 150  # gold 1.5×
    assert earned_points(10000, 1, 1500 * 3) == 450  # gold × a 3× campaign
    assert earned_points(199, 1, 1000) == 1
    assert earned_points(0, 1, 1000) == 0
    assert earned_points(-500, 1, 1000) == 0


def test_excluded_products_earn_nothing():
    assert earned_points(10000, 1, 0) == 0


@pytest.mark.parametrize(
    ("earned", "months", "expires"),
    [
        (date(2026, 3, 2), 12, date(2027, 3, 2)),
        (date(2026, 1, 31), 1, date(2026, 2, 28)),  # no 31 February
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2026, 11, 15), 3, date(2027, 2, 15)),
        (date(2026, 12, 31), 24, date(2028, 12, 31)),
    ],
)
def test_rolling_expiry(earned, months, expires):
    assert lot_expiry(PointsRules(expiry="rolling", rolling_months=months), earned) == expires


def test_yearly_clear_out_keeps_points_until_the_end_of_the_next_year():
    rules = PointsRules(expiry="yearly", yearly_clear_date="12-31", yearly_keep_years=1)
    assert lot_expiry(rules, date(2026, 1, 1)) == date(2028, 1, 1)
    assert lot_expiry(rules, date(2026, 12, 31)) == date(2028, 1, 1)


def test_yearly_clear_out_in_the_same_year():
    rules = PointsRules(expiry="yearly", yearly_clear_date="06-30", yearly_keep_years=0)
    assert lot_expiry(rules, date(2026, 3, 2)) == date(2026, 7, 1)
    # earned after this year's clear date: cleared at next year's
    assert lot_expiry(rules, date(2026, 8, 1)) == date(2027, 7, 1)


def test_yearly_clear_date_29_february_in_a_common_year():
    rules = PointsRules(expiry="yearly", yearly_clear_date="02-29", yearly_keep_years=1)
    assert lot_expiry(rules, date(2026, 3, 2)) == date(2027, 3, 1)


def test_never_expiring_points():
    assert lot_expiry(PointsRules(expiry="never"), date(2026, 3, 2)) is None


def lots() -> list[Lot]:
    return [
        Lot("late", 100, date(2027, 6, 1), seq=3),
        Lot("never", 50, None, seq=1),
        Lot("early", 30, date(2027, 1, 1), seq=5),
        Lot("early-older", 20, date(2027, 1, 1), seq=2),
        Lot("empty", 0, date(2026, 1, 1), seq=0),
    ]


def test_oldest_lots_first_never_expiring_last_empty_skipped():
    assert [lot.lot_id for lot in oldest_first(lots())] == ["early-older", "early", "late", "never"]


def test_allocate_takes_from_the_oldest_lots():
    allocations, short = allocate(lots(), 60)
    assert allocations == [
        Allocation("early-older", 20),
        Allocation("early", 30),
        Allocation("late", 10),
    ]
    assert short == 0


def test_allocate_reports_a_shortfall():
    allocations, short = allocate(lots(), 250)
    assert sum(a.points for a in allocations) == 200
    assert short == 50


def test_allocate_needs_a_positive_amount():
    with pytest.raises(InvalidInput):
        allocate(lots(), 0)


def test_redemption_refused_when_short():
    with pytest.raises(InsufficientBalance, match="200 available"):
        allocate_for_redemption(lots(), 0, 201)
    assert sum(a.points for a in allocate_for_redemption(lots(), 0, 200)) == 200


def test_redemption_refused_while_the_balance_is_negative():
    # 200 in lots but a debt of 250: the balance is -50 and blocks every redemption.
    with pytest.raises(InsufficientBalance, match="negative"):
        allocate_for_redemption(lots(), 250, 1)
    # A debt smaller than the lots still blocks: the debt must be paid off by new points.
    with pytest.raises(InsufficientBalance):
        allocate_for_redemption(lots(), 10, 1)


def test_expired_lots():
    today = date(2027, 1, 1)
    assert expired_lots(lots(), today) == [Allocation("early", 30), Allocation("early-older", 20)]
    assert expired_lots(lots(), date(2026, 12, 31)) == []
    assert {a.lot_id for a in expired_lots(lots(), date(2099, 1, 1))} == {
        "late",
        "early",
        "early-older",
    }


def test_new_points_pay_off_a_debt_first():
    assert settle_debt(100, 0) == (100, 0)
    assert settle_debt(100, 30) == (70, 30)
    assert settle_debt(100, 150) == (0, 100)
