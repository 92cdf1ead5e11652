"""Coupon rules: template validation, validity windows, whether a coupon may be used, codes,
the value text on the wallet, top-up bonus coupons and the replay verify relies on."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from random import Random

import pytest

from pos_app.domain.coupons import (
    CODE_ALPHABET,
    TemplateSpec,
    check_issuable,
    check_usable,
    describe,
    new_code,
    normalize_code,
    replay,
    topup_coupons,
    usable_on,
    validate_template,
    validity_window,
)
from pos_app.domain.entry_kinds import EntryKind
from pos_app.domain.errors import InvalidInput
from pos_app.domain.rules import BonusTier

MAN20_JIAN8 = TemplateSpec(
    code=" veg8 ",
    name=" 蔬菜满20减8 ",
    kind="amount_off",
    threshold_fen=2000,
    amount_off_fen=800,
    categories=(" 蔬菜 ", "蔬菜", ""),
    valid_days=30,
)


def test_a_valid_template_comes_back_normalized():
    spec = validate_template(MAN20_JIAN8)
    assert spec.code == "VEG8"
    assert spec.name == "蔬菜满20减8"
    assert spec.categories == ("蔬菜",)
    assert spec.kind == "amount_off"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"code": "新人券"}, "Not a template code"),
        ({"code": ""}, "Not a template code"),
        ({"name": "  "}, "A coupon name is required"),
        ({"kind": "bogo"}, "Not a coupon kind"),
        ({"amount_off_fen": 0}, "needs an amount above zero"),
        ({"threshold_fen": 500}, "threshold cannot be below the amount off"),
        ({"percent_off": 10}, "Only a percent-off coupon"),
        ({"gift_sku": "G001"}, "Only gift and exchange coupons"),
        ({"valid_days": 0}, "number of days"),
        ({"valid_days": None}, "Give fixed dates or a number of days"),
        ({"valid_from": date(2026, 3, 1), "valid_to": date(2026, 3, 31)}, "not both"),
        ({"valid_days": None, "valid_from": date(2026, 3, 1)}, "both a start and an end"),
        (
            {"valid_days": None, "valid_from": date(2026, 4, 1), "valid_to": date(2026, 3, 1)},
            "starts after it ends",
        ),
        ({"per_member_limit": -1}, "per-member limit"),
        ({"points_cost": -5}, "points cost"),
    ],
)
def test_bad_templates_are_refused_in_both_languages(changes, message):
    with pytest.raises(InvalidInput) as err:
        validate_template(replace(MAN20_JIAN8, **changes))
    assert message in err.value.en
    assert err.value.zh and err.value.zh != err.value.en


def test_a_no_threshold_voucher_is_allowed():
    voucher = replace(MAN20_JIAN8, threshold_fen=0, amount_off_fen=11100, categories=())
    assert validate_template(voucher).threshold_fen == 0


def test_percent_off_needs_1_to_99_and_may_be_capped():
    base = TemplateSpec(code="P15", name="8.5折", kind="percent_off", valid_days=7)
    for bad in (0, 100):
        with pytest.raises(InvalidInput, match="1 to 99"):
            validate_template(replace(base, percent_off=bad))
    ok = validate_template(replace(base, percent_off=15, cap_fen=5000))
    assert (ok.percent_off, ok.cap_fen) == (15, 5000)
    with pytest.raises(InvalidInput, match="Only an amount-off"):
        validate_template(replace(base, percent_off=15, amount_off_fen=100))


@pytest.mark.parametrize("kind", ["gift", "exchange"])
def test_gift_and_exchange_need_a_product(kind):
    base = TemplateSpec(code="G", name="赠品", kind=kind, valid_days=7)
    with pytest.raises(InvalidInput, match="needs a product SKU"):
        validate_template(base)
    assert validate_template(replace(base, gift_sku=" G001 ")).gift_sku == "G001"


def test_n_days_from_issue_count_the_issue_day():
    spec = validate_template(MAN20_JIAN8)
    assert validity_window(spec, date(2026, 3, 2)) == (date(2026, 3, 2), date(2026, 3, 31))
    one_day = replace(spec, valid_days=1)
    assert validity_window(one_day, date(2026, 3, 2)) == (date(2026, 3, 2), date(2026, 3, 2))


def test_fixed_dates_are_the_templates_whenever_issued():
    spec = validate_template(
        replace(
            MAN20_JIAN8, valid_days=None, valid_from=date(2026, 4, 1), valid_to=date(2026, 4, 30)
        )
    )
    assert validity_window(spec, date(2026, 3, 2)) == (date(2026, 4, 1), date(2026, 4, 30))
    check_issuable(date(2026, 4, 30), date(2026, 4, 30), "X")
    with pytest.raises(InvalidInput, match="has expired") as err:
        check_issuable(date(2026, 4, 30), date(2026, 5, 1), "X")
    assert "有效期至 2026-04-30" in err.value.zh


TODAY = date(2026, 3, 10)
FROM, TO = date(2026, 3, 1), date(2026, 3, 31)


def test_an_issued_coupon_in_its_window_is_usable():
    check_usable("issued", FROM, TO, TODAY, None, None)  # a partner code, no member
    check_usable("issued", FROM, TO, TODAY, None, "m1")  # a partner code used by a member
    check_usable("issued", FROM, TO, TODAY, "m1", "m1")
    check_usable("issued", FROM, TO, FROM, "m1", "m1")  # first and last days count
    check_usable("issued", FROM, TO, TO, "m1", "m1")
    assert usable_on("issued", FROM, TO, TODAY)
    assert not usable_on("used", FROM, TO, TODAY)
    assert not usable_on("issued", FROM, TO, date(2026, 4, 1))


@pytest.mark.parametrize(
    ("args", "code", "zh", "en"),
    [
        (("used", FROM, TO, TODAY, "m1", "m1"), "coupon_used", "这张券已经用过了", "R0001"),
        (("void", FROM, TO, TODAY, "m1", "m1"), "coupon_void", "已作废", "voided"),
        (
            ("issued", FROM, TO, date(2026, 4, 1), "m1", "m1"),
            "coupon_expired",
            "有效期至 2026-03-31",
            "expired",
        ),
        (
            ("issued", FROM, TO, date(2026, 2, 28), "m1", "m1"),
            "coupon_not_yet_valid",
            "2026-03-01 起可用",
            "not valid yet",
        ),
        (("issued", FROM, TO, TODAY, "m1", "m2"), "coupon_other_member", "其他会员", "another"),
        (("issued", FROM, TO, TODAY, "m1", None), "coupon_needs_member", "会员", "member"),
    ],
)
def test_unusable_coupons_are_refused_with_the_reason(args, code, zh, en):
    with pytest.raises(InvalidInput) as err:
        check_usable(*args, used_receipt_no="R0001")
    assert err.value.code == code
    assert zh in err.value.zh
    assert en in err.value.en


def test_the_used_message_names_the_receipt():
    with pytest.raises(InvalidInput) as err:
        check_usable("used", FROM, TO, TODAY, None, None, used_receipt_no="SH01-0042")
    assert err.value.zh == "这张券已经用过了（小票 SH01-0042）"
    assert err.value.en == "This coupon has already been used (receipt SH01-0042)"


def test_codes_are_random_unambiguous_and_10_to_12_long():
    rng = Random(7)
    codes = [new_code(rng) for _ in range(2000)]
    assert len(set(codes)) == len(codes)
    assert all(len(c) == 10 and set(c) <= set(CODE_ALPHABET) for c in codes)
    assert not set("0O1I") & set(CODE_ALPHABET)
    assert len(new_code(rng, 12)) == 12
    assert new_code(Random(1)) == new_code(Random(1))  # the source decides, nothing else
    for bad in (9, 13):
        with pytest.raises(InvalidInput):
            new_code(rng, bad)


def test_typed_codes_are_normalized():
    assert normalize_code(" ab2c-d3ef 4g ") == "AB2CD3EF4G"


@pytest.mark.parametrize(
    ("args", "zh", "en"),
    [
        (("amount_off", 2000, 800, 0, 0), "满20减8", "¥8 off over ¥20"),
        (("amount_off", 0, 11100, 0, 0), "无门槛减111", "¥111 off"),
        (("amount_off", 1990, 550, 0, 0), "满19.9减5.5", "¥5.5 off over ¥19.9"),
        (("percent_off", 0, 0, 15, 5000), "8.5折 最高减¥50", "15% off, up to ¥50"),
        (("percent_off", 10000, 0, 20, 0), "满100 8折", "20% off over ¥100"),
        (("gift", 10000, 0, 0, 0, "环保袋"), "满100送环保袋", "Free 环保袋 over ¥100"),
        (("exchange", 0, 0, 0, 0, "洗车"), "兑换洗车", "Exchange for 洗车"),
    ],
)
def test_value_text(args, zh, en):
    assert describe(*args) == (zh, en)


def test_value_text_names_the_scope():
    zh, en = describe("amount_off", 2000, 800, 0, 0, None, ("蔬菜",), ("F001",))
    assert zh == "满20减8（限蔬菜、F001）"
    assert en == "¥8 off over ¥20 (only 蔬菜, F001)"


def test_the_highest_bonus_tier_reached_decides_the_topup_coupons():
    tiers = (
        BonusTier(50000, 5000, "veg8", 2),
        BonusTier(100000, 15000),  # the higher tier gives no coupon
    )
    assert topup_coupons(tiers, 49999) is None
    assert topup_coupons(tiers, 50000) == ("VEG8", 2)
    assert topup_coupons(tiers, 99999) == ("VEG8", 2)
    assert topup_coupons(tiers, 100000) is None


ISS, RED, RES, VOI = (
    EntryKind.COUPON_ISSUED,
    EntryKind.COUPON_REDEEMED,
    EntryKind.COUPON_RESTORED,
    EntryKind.COUPON_VOIDED,
)


@pytest.mark.parametrize(
    ("kinds", "state", "problem"),
    [
        ([ISS], "issued", None),
        ([ISS, RED], "used", None),
        ([ISS, RED, RES], "issued", None),
        ([ISS, RED, RES, RED], "used", None),
        ([ISS, VOI], "void", None),
        ([ISS, RED, RED], "used", "used twice"),
        ([ISS, ISS], "issued", "issued more than once"),
        ([RED], None, "before the coupon was issued"),
        ([ISS, RES], "issued", "restored while not used"),
        ([ISS, VOI, RED], "used", "after it was voided"),
        ([ISS, RED, VOI], "void", "voided while used"),
    ],
)
def test_replay(kinds, state, problem):
    got, problems = replay(kinds)
    assert got == state
    if problem is None:
        assert problems == []
    else:
        assert any(problem in p for p in problems), problems
