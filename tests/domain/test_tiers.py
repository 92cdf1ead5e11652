"""Tier upgrades by spend, single purchase or top-up; the yearly review."""

from __future__ import annotations

from datetime import date

import pytest

from pos_app.domain.rules import TierRules, parse_rules
from pos_app.domain.tiers import Activity, last_review_date, qualifies, review_level, upgrade_to
from tests.conftest import EXAMPLE_RULES

TIERS = parse_rules(EXAMPLE_RULES.read_text(encoding="utf-8")).tiers


def code(level):
    return None if level is None else level.code


@pytest.mark.parametrize(
    ("activity", "target"),
    [
        (Activity(), None),
        (Activity(cumulative_spend_fen=199999), None),
        (Activity(cumulative_spend_fen=200000), "silver"),
        (Activity(cumulative_spend_fen=500000), "gold"),
        (Activity(cumulative_spend_fen=2000000), "diamond"),
        (Activity(single_purchase_fen=99899), None),
        (Activity(single_purchase_fen=99900), "gold"),  # one receipt ≥ ¥999 → 金卡
        (Activity(topup_fen=99999), None),
        (Activity(topup_fen=100000), "silver"),
        (Activity(topup_fen=300000), "gold"),
        (Activity(topup_fen=1000000), "diamond"),
        # the highest level any condition reaches wins
        (Activity(cumulative_spend_fen=200000, single_purchase_fen=99900), "gold"),
    ],
)
def test_upgrade_from_normal(activity, target):
    assert code(upgrade_to(TIERS, "normal", activity)) == target


def test_no_downgrade_through_an_upgrade():
    assert upgrade_to(TIERS, "gold", Activity(topup_fen=100000)) is None
    assert upgrade_to(TIERS, "gold", Activity(single_purchase_fen=99900)) is None
    assert code(upgrade_to(TIERS, "gold", Activity(cumulative_spend_fen=2000000))) == "diamond"


def test_a_zero_threshold_means_the_condition_is_not_used():
    silver = TIERS.level("silver")
    assert silver.upgrade_single_purchase_fen == 0
    assert not qualifies(silver, Activity(single_purchase_fen=10**9))


@pytest.mark.parametrize(
    ("spend", "kept"),
    [
        (0, "normal"),
        (199999, "normal"),
        (200000, "silver"),
        (499999, "silver"),
        (500000, "gold"),
        (2000000, "diamond"),
    ],
)
def test_review_keeps_the_level_the_spend_still_earns(spend, kept):
    assert review_level(TIERS, spend).code == kept


def test_keep_threshold_may_differ_from_the_upgrade_threshold():
    tiers = parse_rules(
        '[[tiers.level]]\ncode = "normal"\n'
        '[[tiers.level]]\ncode = "vip"\nupgrade_topup = "1000"\nkeep_cumulative_spend = "300"\n'
    ).tiers
    assert review_level(tiers, 29999).code == "normal"
    assert review_level(tiers, 30000).code == "vip"


def test_a_level_without_a_keep_threshold_is_never_kept_at_review():
    tiers = parse_rules(
        '[[tiers.level]]\ncode = "normal"\n[[tiers.level]]\ncode = "vip"\nupgrade_topup = "1000"\n'
    ).tiers
    assert review_level(tiers, 10**9).code == "normal"


@pytest.mark.parametrize(
    ("review_date", "today", "last"),
    [
        ("01-01", date(2027, 1, 1), date(2027, 1, 1)),
        ("01-01", date(2026, 12, 31), date(2026, 1, 1)),
        ("07-01", date(2026, 3, 2), date(2025, 7, 1)),
        ("02-29", date(2026, 3, 2), date(2026, 2, 28)),
        ("02-29", date(2028, 2, 29), date(2028, 2, 29)),
    ],
)
def test_last_review_date(review_date, today, last):
    assert last_review_date(TierRules(review_date=review_date), today) == last
