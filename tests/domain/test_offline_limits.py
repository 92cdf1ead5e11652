"""Stand-in limits (rules `[chain]`): every limit at, just within and just beyond its bound."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pos_app.domain.errors import RulesError
from pos_app.domain.offline_limits import StandInAsk, StandInToday, stand_in_refusal
from pos_app.domain.rules import ChainSpendRules, parse_rules

NOTHING_YET = StandInToday()
RULES = ChainSpendRules()  # 500.00 per card, 5,000.00 per till, 10,000 points, 24 h
FRESH = timedelta(minutes=5)


def code(ask: StandInAsk, today: StandInToday = NOTHING_YET, ago=FRESH, rules=RULES):
    refusal = stand_in_refusal(rules, ask, today, ago)
    if refusal is not None:
        assert refusal.zh and refusal.en and refusal.zh != refusal.en
    return None if refusal is None else refusal.code


def test_defaults_are_the_contracts():
    assert ChainSpendRules(50000, 500000, 10000, True, 24) == RULES


def test_nothing_asked_needs_no_stand_in_even_when_stale():
    assert code(StandInAsk(), ago=None) is None


@pytest.mark.parametrize(
    ("spent", "ask", "expected"),
    [
        (0, 50000, None),
        (0, 50001, "offline_limit_card"),
        (49999, 1, None),
        (50000, 1, "offline_limit_card"),
    ],
)
def test_stored_value_per_card_per_day(spent, ask, expected):
    assert code(StandInAsk(stored_value_fen=ask), StandInToday(card_fen=spent)) == expected


@pytest.mark.parametrize(
    ("spent", "ask", "expected"),
    [
        (450000, 50000, None),
        (450001, 50000, "offline_limit_till"),
        (500000, 1, "offline_limit_till"),
    ],
)
def test_stored_value_per_till_per_day(spent, ask, expected):
    today = StandInToday(card_fen=0, till_fen=spent)
    assert code(StandInAsk(stored_value_fen=ask), today) == expected


@pytest.mark.parametrize(
    ("used", "ask", "expected"),
    [
        (0, 10000, None),
        (0, 10001, "offline_limit_points"),
        (9000, 1000, None),
        (9001, 1000, "offline_limit_points"),
    ],
)
def test_points_per_member_per_day(used, ask, expected):
    assert code(StandInAsk(points=ask), StandInToday(member_points=used)) == expected


def test_coupons_offline_follow_the_switch():
    assert code(StandInAsk(coupons=1)) is None
    off = ChainSpendRules(offline_coupons=False)
    assert code(StandInAsk(coupons=1), rules=off) == "offline_coupons_off"
    assert code(StandInAsk(stored_value_fen=100), rules=off) is None


@pytest.mark.parametrize(
    ("ago", "expected"),
    [
        (timedelta(hours=24), None),
        (timedelta(hours=24, seconds=1), "offline_stale"),
        (None, "offline_stale"),
    ],
)
def test_only_from_a_balance_heard_within_the_staleness_window(ago, expected):
    assert code(StandInAsk(stored_value_fen=100), ago=ago) == expected
    assert code(StandInAsk(points=1), ago=ago) == expected


def test_zero_allows_no_stand_in_of_that_kind():
    none = ChainSpendRules(offline_card_daily_fen=0, offline_points_daily=0)
    assert code(StandInAsk(stored_value_fen=1), rules=none) == "offline_limit_card"
    assert code(StandInAsk(points=1), rules=none) == "offline_limit_points"


def test_the_refusal_says_what_is_left():
    refusal = stand_in_refusal(
        RULES, StandInAsk(stored_value_fen=20000), StandInToday(card_fen=40000), FRESH
    )
    assert refusal is not None
    assert "100.00" in refusal.zh and "100.00" in refusal.en and "500.00" in refusal.en


def test_the_chain_section_of_a_rules_file():
    rules = parse_rules(
        '[chain]\noffline_card_daily = "300"\noffline_till_daily = "2000.50"\n'
        "offline_points_daily = 500\noffline_coupons = false\noffline_staleness_hours = 6\n"
    )
    assert rules.chain == ChainSpendRules(30000, 200050, 500, False, 6)
    assert parse_rules('label = "x"\n').chain == ChainSpendRules()


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("offline_card_daily = 1.5", "chain.offline_card_daily"),
        ('offline_card_daily = "-1"', "chain.offline_card_daily"),
        ("offline_staleness_hours = 0", "chain.offline_staleness_hours"),
        ("offline_staleness_hours = 721", "chain.offline_staleness_hours"),
        ('offline_coupons = "yes"', "chain.offline_coupons"),
        ("offline_points_daily = -1", "chain.offline_points_daily"),
        ("offline_card_daily_fen = 100", "chain.offline_card_daily_fen"),
    ],
)
def test_mistakes_in_the_chain_section_are_named_with_their_line(text, where):
    with pytest.raises(RulesError) as caught:
        parse_rules(f'label = "x"\n[chain]\n{text}\n')
    assert where in caught.value.en and "line 3" in caught.value.en
