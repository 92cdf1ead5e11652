"""The rules file format: the documented example parses, every mistake is named."""

from __future__ import annotations

import contextlib
import re
from typing import Any

import pytest
import tomlkit
from hypothesis import given, settings
from hypothesis import strategies as st

from pos_app.domain.errors import RulesError
from pos_app.domain.rules import (
    DEFAULT_RULES,
    MAX_MULTIPLIER_PERMILLE,
    MAX_REFERRAL_POINTS,
    BonusTier,
    parse_rules,
    rules_error,
    rules_to_dict,
)
from tests.conftest import EXAMPLE_RULES

EXAMPLE = EXAMPLE_RULES.read_text(encoding="utf-8")
PROMO_HEAD = '[[promotion]]\ncode = "X"\nkind = "points_multiplier"\nskus = ["A"]\n'


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


@pytest.mark.parametrize("text", ["", "\n\n", "   \n\t\n", "# only a comment\n\n# another\n"])
def test_an_empty_file_is_refused(text):
    with pytest.raises(RulesError) as info:
        parse_rules(text)
    assert "empty" in info.value.en and "空" in info.value.zh


def test_a_file_with_only_a_label_gives_the_defaults():
    rules = parse_rules('label = "最简"\n')
    assert rules.label == "最简"
    assert rules.stored_value == DEFAULT_RULES.stored_value
    assert rules.points == DEFAULT_RULES.points
    assert rules.tiers == DEFAULT_RULES.tiers


def test_a_stored_empty_version_still_reads_as_the_defaults():
    # Versions stored before the empty-file check are read as they were loaded.
    assert parse_rules("", strict=False) == parse_rules('label = "unnamed"')


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
        ('[stored_value]\ndaily_limit = "50,00"', "stored_value.daily_limit"),
        ('[stored_value]\ndaily_limit = "1e2"', "stored_value.daily_limit"),
        (PROMO_HEAD + 'multiplier = "1e9"', "promotion[0].multiplier"),
        (PROMO_HEAD + 'multiplier = "Infinity"', "promotion[0].multiplier"),
        (
            '[[tiers.level]]\ncode = "a"\npoints_multiplier = "NaN"',
            "tiers.level[0].points_multiplier",
        ),
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


# -- the checks a real chain's rules always pass ---------------------------------------------

PROMO = '[[promotion]]\ncode = "P"\nkind = "points_multiplier"\nskus = ["F001"]\n'
LEVELS = (
    '[[tiers.level]]\ncode = "normal"\n'
    '[[tiers.level]]\ncode = "silver"\nupgrade_cumulative_spend = "2000"\nupgrade_topup = "1000"\n'
    '[[tiers.level]]\ncode = "gold"\nupgrade_cumulative_spend = "5000"\nupgrade_topup = "{gold}"\n'
)


@pytest.mark.parametrize(
    ("text", "named", "said"),
    [
        # impossible dates and a window that ends before it starts
        (PROMO + 'from = "2026-02-30"', "promotion[0].from", "not a date in the calendar"),
        (PROMO + 'to = "2026-13-01"', "promotion[0].to", "not a date in the calendar"),
        (PROMO + 'from = "2026-06-01"\nto = "2026-05-31"', "promotion[0].to", "before from"),
        (PROMO + 'from = "٢٠٢٦-٠١-٠١"', "promotion[0].from", "YYYY-MM-DD"),
        ('[points]\nyearly_clear_date = "02-30"', "points.yearly_clear_date", "not a day"),
        ('[tiers]\nreview_date = "04-31"', "tiers.review_date", "not a day"),
        # multipliers and points beyond sane bounds
        (PROMO + 'multiplier = "1000000000"', "promotion[0].multiplier", "at most 100"),
        (PROMO + 'multiplier = "101"', "promotion[0].multiplier", "at most 100"),
        ('[[tiers.level]]\ncode = "a"\npoints_multiplier = 150', "points_multiplier", "at most"),
        ("[points]\nreferral_points = 100000000000000000000000", "referral_points", "at most"),
        ("[points]\nper_yuan = 101", "points.per_yuan", "at most 100"),
        ("[points]\nredeem_points_per_yuan = 10001", "redeem_points_per_yuan", "at most"),
        ("[points]\nrolling_months = 121", "points.rolling_months", "at most 120"),
        ("[points]\nyearly_keep_years = 11", "points.yearly_keep_years", "at most 10"),
        ("[tiers]\nwindow_days = 3661", "tiers.window_days", "at most 3660"),
        ('[stored_value]\ncancel_fee = "1001"', "stored_value.cancel_fee", "too large"),
        ('[stored_value]\nmin_topup = "100001"', "stored_value.min_topup", "too large"),
        ('[checkout]\nrefund_limit = "1000001"', "checkout.refund_limit", "too large"),
        ("[checkout]\nmanual_price_max_drop_pct = 101", "manual_price_max_drop_pct", "at most"),
        ("[checkout]\norder_discount_max_pct = -1", "order_discount_max_pct", "at least 0"),
        ('[checkout]\nmanual_rounding_max = "100.01"', "manual_rounding_max", "too large"),
        ("[checkout]\nscale_barcode = 1", "checkout.scale_barcode", "array of tables"),
        (
            '[[checkout.scale_barcode]]\nlayout = "FFPPPP$$$$C"',
            "checkout.scale_barcode[1]",
            "13 or 18",
        ),
        (
            '[[checkout.scale_barcode]]\nlayout = "FFPPPPP$$$$$C"\nprefixes = ["2"]',
            "checkout.scale_barcode[1]",
            "2 digits",
        ),
        ('[[checkout.scale_barcode]]\nprefixes = ["27"]', "scale_barcode[1].layout", "required"),
        (
            '[[checkout.scale_barcode]]\nlayout = "FFPPPPP$$$$$C"\nplu = 5',
            "checkout.scale_barcode[1]",
            "plu",
        ),
        # a bonus above the money paid, too many coupons with it
        (
            '[[stored_value.bonus]]\nmin_topup = "500"\nbonus = "501"',
            "stored_value.bonus[0].bonus",
            "above its min_topup",
        ),
        (
            '[[stored_value.bonus]]\nmin_topup = "500"\nbonus = "50"\ncoupon = "A"\n'
            "coupon_count = 101",
            "stored_value.bonus[0].coupon_count",
            "at most 100",
        ),
        # tiers whose thresholds do not rise with the level
        (LEVELS.format(gold="1000"), "tiers.level[2].upgrade_topup", "above silver's"),
        (LEVELS.format(gold="500"), "tiers.level[2].upgrade_topup", "¥1000.00"),
        (
            LEVELS.format(gold="3000") + 'keep_cumulative_spend = "1500"',
            "tiers.level[2].keep_cumulative_spend",
            "above silver's",
        ),
        # control characters in labels and names
        ('label = "标准\\u001b[2J"', "label", "control characters"),
        ('[[tiers.level]]\ncode = "a"\nname = "金\\u202e卡"', "tiers.level[0].name", "control"),
        (PROMO + 'name = "三倍\\r积分"', "promotion[0].name", "control characters"),
        ("label = 5.5", "label", "text in quotes"),
    ],
)
def test_values_a_real_chain_never_uses_are_refused(text, named, said):
    with pytest.raises(RulesError) as info:
        parse_rules(text)
    assert named in info.value.en and named in info.value.zh
    assert said in info.value.en


def test_good_edges_are_accepted():
    rules = parse_rules(
        PROMO
        + 'multiplier = "100"\nfrom = "2028-02-29"\nto = "2028-02-29"\n'
        + '[points]\nper_yuan = 100\nreferral_points = 100000\nyearly_clear_date = "02-29"\n'
        + '[[stored_value.bonus]]\nmin_topup = "500"\nbonus = "500"\n'
        + LEVELS.format(gold="3000")
    )
    assert rules.promotions[0].multiplier_permille == 100_000
    assert rules.points.referral_points == 100_000
    assert rules.stored_value.bonus[0].bonus_fen == 50000


def test_a_threshold_left_at_zero_is_not_compared():
    # Gold sets no top-up threshold: only spend upgrades to it; silver's 1000 is no bar.
    rules = parse_rules(LEVELS.format(gold="0"))
    assert rules.tiers.level("gold").upgrade_topup_fen == 0


def test_a_multiplier_reads_exactly():
    for written, permille in (('"1.5"', 1500), ("1.5", 1500), ("2", 2000), ('"0.125"', 125)):
        rules = parse_rules(f'[[tiers.level]]\ncode = "a"\npoints_multiplier = {written}')
        assert rules.tiers.base.points_multiplier_permille == permille


# -- every message names its line ------------------------------------------------------------


def line_number(message: str) -> int:
    match = re.search(r"\(line (\d+)\)", message)
    assert match, message
    return int(match[1])


@pytest.mark.parametrize(
    ("old", "new", "named"),
    [
        ('upgrade_topup = "3000"', 'upgrade_topup = "30000000"', "tiers.level[2].upgrade_topup"),
        ('multiplier = "3"', 'multiplier = "1000000000"', "promotion[0].multiplier"),
        ('to = "2026-12-31"', 'to = "2025-12-31"', "promotion[0].to"),
        ('bonus = "150"', 'bonus = "1500"', "stored_value.bonus[1].bonus"),
        ('name_en = "Gold"', 'name_en = "Gold\\u0000"', "tiers.level[2].name_en"),
        ("referral_points = 100 ", "referral_points = 10000000 ", "points.referral_points"),
        ('gift_sku = "G001"', 'gift_sku = "G001"\nbogus = 1', "promotion[2].bogus"),
    ],
)
def test_the_message_names_the_key_and_its_line_in_the_file(old, new, named):
    assert old in EXAMPLE
    text = EXAMPLE.replace(old, new, 1)
    with pytest.raises(RulesError) as info:
        parse_rules(text)
    line = line_number(info.value.en)
    assert named in info.value.en
    assert f"第 {line} 行" in info.value.zh
    written = new.split("\n")[-1]
    assert text.splitlines()[line - 1].startswith(written.split(" ")[0])


def test_a_missing_key_is_placed_at_its_table():
    text = 'label = "x"\n\n[[stored_value.bonus]]\nbonus = "50"\n'
    with pytest.raises(RulesError) as info:
        parse_rules(text)
    assert "stored_value.bonus[0].min_topup" in info.value.en
    assert line_number(info.value.en) == 3


def test_rules_error_names_the_line_of_any_setting():
    error = rules_error(EXAMPLE, "promotion[2].gift_sku", "names no product", "没有这个商品")
    line = line_number(error.en)
    assert EXAMPLE.splitlines()[line - 1] == 'gift_sku = "G001"'
    assert error.zh == f"规则文件错误（第 {line} 行）：promotion[2].gift_sku 没有这个商品"


# Values of every shape, under the real keys: what a hand-edited file may hold.
_VALUE = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.booleans(),
    st.text(max_size=12),
    st.sampled_from(["1e999999", "1,000", "50,00", "02-30", "2026-02-30", "NaN", "gold"]),
    st.lists(st.one_of(st.integers(-9, 9), st.text(max_size=4)), max_size=3),
)
_SECTIONS = {
    "stored_value": ["spend_order", "min_topup", "pin_threshold", "daily_limit", "cancel_fee"],
    "points": ["per_yuan", "expiry", "rolling_months", "yearly_clear_date", "referral_points",
               "redeem_points_per_yuan", "redeem_max_percent", "reset_on_upgrade"],
    "tiers": ["window_days", "review_date"],
    "checkout": ["rounding", "refund_limit", "registration_coupon", "manual_price_max_drop_pct",
                 "order_discount_max_pct", "manual_rounding_max", "scale_barcode"],
}  # fmt: skip
_ROWS = {
    "level": ["code", "name", "discount_percent", "points_multiplier", "upgrade_topup",
              "upgrade_cumulative_spend", "keep_cumulative_spend"],
    "promotion": ["code", "kind", "from", "to", "skus", "multiplier", "percent_off",
                  "threshold", "gift_sku", "weekdays"],
}  # fmt: skip


@st.composite
def rules_documents(draw: st.DrawFn) -> str:
    data: dict[str, Any] = {}
    for section, keys in _SECTIONS.items():
        data[section] = draw(st.dictionaries(st.sampled_from(keys), _VALUE, max_size=3))
    for name, keys in _ROWS.items():
        rows = draw(st.lists(st.dictionaries(st.sampled_from(keys), _VALUE), max_size=3))
        if name == "level":
            data["tiers"]["level"] = rows
        else:
            data[name] = rows
    return tomlkit.dumps(data)


@settings(max_examples=300, deadline=None)
@given(rules_documents())
def test_any_rules_document_parses_or_is_a_rules_error(text):
    with contextlib.suppress(RulesError):
        rules = parse_rules(text)
        assert rules.points.referral_points <= MAX_REFERRAL_POINTS
        for level in rules.tiers.levels:
            assert level.points_multiplier_permille <= MAX_MULTIPLIER_PERMILLE


def test_the_example_sets_the_manual_limits_and_the_scale_label_layouts():
    co = parse_rules(EXAMPLE).checkout
    assert (co.manual_price_max_drop_pct, co.order_discount_max_pct) == (10, 5)
    assert co.manual_rounding_max_fen == 100
    layouts = [(f.layout, f.prefixes) for f in co.scale_barcodes]
    assert layouts == [
        ("FFPPPPP$$$$$C", ("27", "28")),
        ("FFPPPPPWWWWWC", ("29",)),
        ("FFPPPPP$$$$$WWWWWC", ("27", "28", "29")),
    ]
    # None unless the store has label scales.
    assert parse_rules('[checkout]\nrounding = "jiao"').checkout.scale_barcodes == ()
