"""The rules file format: the documented example parses, every mistake is named."""

from __future__ import annotations

import pytest

from pos_app.domain.errors import RulesError
from pos_app.domain.rules import DEFAULT_RULES, BonusTier, parse_rules, rules_to_dict
from tests.conftest import EXAMPLE_RULES

EXAMPLE = EXAMPLE_RULES.read_text(encoding="utf-8")


def test_the_documented_example_parses_to_the_seed_values():
    rules = parse_rules(EXAMPLE)
    sv = rules.stored_value
    assert sv.spend_order == "principal_first"
    assert sv.min_topup_fen == 5000
    assert sv.pin_threshold_fen == 0
    assert sv.daily_limit_fen == 500000
    assert sv.cancel_fee_fen == 1000
    assert sv.bonus == (BonusTier(50000, 5000), BonusTier(100000, 15000))
    pts = rules.points
    assert (pts.per_yuan, pts.expiry, pts.rolling_months) == (1, "rolling", 12)
    assert (pts.referral_points, pts.reset_on_upgrade) == (100, False)
    tiers = rules.tiers
    assert [lvl.code for lvl in tiers.levels] == ["normal", "silver", "gold", "diamond"]
    assert [lvl.rank for lvl in tiers.levels] == [0, 1, 2, 3]
    gold = tiers.level("gold")
    assert gold.name == "金卡"
    assert gold.discount_percent == 95
    assert gold.points_multiplier_permille == 1500
    assert gold.upgrade_single_purchase_fen == 99900
    assert gold.upgrade_cumulative_spend_fen == 500000
    # keep_cumulative_spend defaults to the upgrade threshold
    assert gold.keep_cumulative_spend_fen == 500000
    assert tiers.level("silver").upgrade_topup_fen == 100000
    assert tiers.base.code == "normal"


def test_bonus_rows_are_sorted_by_threshold_whatever_the_file_order():
    rules = parse_rules(
        """
        [[stored_value.bonus]]
        min_topup = "1000"
        bonus = "150"
        [[stored_value.bonus]]
        min_topup = 500
        bonus = 50
        """
    )
    assert [b.min_topup_fen for b in rules.stored_value.bonus] == [50000, 100000]


def test_an_empty_file_gives_the_defaults():
    rules = parse_rules("")
    assert rules.stored_value == DEFAULT_RULES.stored_value
    assert rules.points == DEFAULT_RULES.points
    assert rules.tiers == DEFAULT_RULES.tiers


def test_unknown_tier_code_falls_back_to_the_base_level():
    rules = parse_rules(EXAMPLE)
    assert rules.tiers.level("platinum").code == "normal"


def test_rules_to_dict_is_plain_data():
    data = rules_to_dict(parse_rules(EXAMPLE))
    assert data["stored_value"]["cancel_fee_fen"] == 1000
    assert data["tiers"]["levels"][2]["code"] == "gold"


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('colour = "red"', "colour"),
        ('[stored_value]\nspend_ordr = "bonus_first"', "stored_value.spend_ordr"),
        ("[points]\nper_yaun = 2", "points.per_yaun"),
        ('[[tiers.level]]\ncode = "normal"\ndiscount = 95', "tiers.level[0].discount"),
        (
            '[[stored_value.bonus]]\nmin_topup = "500"\nbonus = "50"\nextra = 1',
            "stored_value.bonus[0].extra",
        ),
        ("[stored_value]\nmin_topup = 12.5", "stored_value.min_topup"),
        (
            '[[stored_value.bonus]]\nmin_topup = 500.0\nbonus = "50"',
            "stored_value.bonus[0].min_topup",
        ),
        ('[stored_value]\ncancel_fee = "1.234"', "stored_value.cancel_fee"),
        ('[stored_value]\nspend_order = "random"', "stored_value.spend_order"),
        ('[[stored_value.bonus]]\nbonus = "50"', "stored_value.bonus[0].min_topup"),
        (
            '[[stored_value.bonus]]\nmin_topup = "500"\nbonus = "50"\n'
            '[[stored_value.bonus]]\nmin_topup = "500"\nbonus = "80"',
            "stored_value.bonus",
        ),
        ('[[tiers.level]]\ncode = "normal"\n[[tiers.level]]\ncode = "normal"', "tiers.level"),
        ('[[tiers.level]]\ncode = "Gold Card"', "tiers.level[0].code"),
        (
            '[[tiers.level]]\ncode = "gold"\ndiscount_percent = 120',
            "tiers.level[0].discount_percent",
        ),
        (
            '[[tiers.level]]\ncode = "gold"\npoints_multiplier = "1.2345"',
            "tiers.level[0].points_multiplier",
        ),
        ('[points]\nexpiry = "sometimes"', "points.expiry"),
        ('[points]\nyearly_clear_date = "13-01"', "points.yearly_clear_date"),
        ("[points]\nrolling_months = 0", "points.rolling_months"),
        ('[points]\nper_yuan = "1"', "points.per_yuan"),
        ('[points]\nreset_on_upgrade = "yes"', "points.reset_on_upgrade"),
        ('[tiers]\nreview_date = "1-1"', "tiers.review_date"),
        ("[stored_value]\nmin_topup = -5", "stored_value.min_topup"),
    ],
)
def test_a_bad_file_is_refused_naming_the_setting(text, named):
    with pytest.raises(RulesError) as info:
        parse_rules(text)
    assert named in info.value.en
    assert named in info.value.zh


def test_the_duplicate_level_message_says_what_is_wrong():
    with pytest.raises(RulesError, match="same code"):
        parse_rules('[[tiers.level]]\ncode = "a"\n[[tiers.level]]\ncode = "a"')


def test_a_float_amount_message_says_how_to_write_it():
    with pytest.raises(RulesError, match='"12.50"'):
        parse_rules("[stored_value]\ndaily_limit = 12.5")


def test_invalid_toml_is_refused():
    with pytest.raises(RulesError, match="not valid TOML"):
        parse_rules("[stored_value\nspend_order = 1")


def test_a_section_that_is_not_a_table_is_refused():
    with pytest.raises(RulesError, match="stored_value"):
        parse_rules('stored_value = "principal_first"')
