"""Count, time, package and trial cards: the spec, the expiry day, and how uses are planned."""

from __future__ import annotations

from datetime import date

import pytest

from pos_app.domain.errors import InvalidInput
from pos_app.domain.passes import (
    HeldPass,
    PassSpec,
    PassUse,
    ServiceLine,
    parse_pass_spec,
    plan_uses,
    share_fen,
    uses_text,
    valid_until,
)

TODAY = date(2026, 3, 2)


def held(
    pass_id: str,
    items: dict[str, int | None],
    until: date = date(2026, 12, 31),
    *,
    granted_at: str = "2026-01-01T00:00:00.000000+00:00",
    state: str = "active",
    kind: str = "count",
) -> HeldPass:
    return HeldPass(pass_id, f"卡{pass_id}", kind, until, items, granted_at, state)


# -- The spec ---------------------------------------------------------------------------------


def test_a_count_card_spec():
    spec = parse_pass_spec("count_card", '{"services": {"WASH": 10}, "valid_days": 365}')
    assert spec == PassSpec("count", {"WASH": 10}, 365)


def test_a_trial_card_is_a_count_pass_and_a_package_holds_several_services():
    assert parse_pass_spec("trial_card", '{"services": {"WASH": 1}, "valid_days": 7}').kind == (
        "count"
    )
    spec = parse_pass_spec("package", '{"services": {"WASH": 5, "WAX": 2}, "valid_days": 90}')
    assert spec == PassSpec("package", {"WASH": 5, "WAX": 2}, 90)


def test_a_time_card_spec_has_unlimited_uses():
    spec = parse_pass_spec("time_card", '{"services": {"GYM": null}, "valid_days": 31}')
    assert spec == PassSpec("time", {"GYM": None}, 31)


@pytest.mark.parametrize(
    ("kind", "text", "en_part"),
    [
        ("goods", '{"services": {"WASH": 1}, "valid_days": 1}', "is not a count"),
        ("service", '{"services": {"WASH": 1}, "valid_days": 1}', "is not a count"),
        ("count_card", None, "no pass_spec"),
        ("count_card", "  ", "no pass_spec"),
        ("count_card", "{not json", "not valid JSON"),
        ("count_card", "[1, 2]", "JSON object"),
        ("count_card", '{"services": {}, "valid_days": 30}', "at least one service"),
        ("count_card", '{"services": ["WASH"], "valid_days": 30}', "at least one service"),
        ("count_card", '{"services": {"WASH": 10}}', "valid_days"),
        ("count_card", '{"services": {"WASH": 10}, "valid_days": 0}', "valid_days"),
        ("count_card", '{"services": {"WASH": 10}, "valid_days": "30"}', "valid_days"),
        ("count_card", '{"services": {"WASH": 10}, "valid_days": 3661}', "valid_days"),
        ("count_card", '{"services": {"WASH": 10}, "valid_days": true}', "valid_days"),
        ("count_card", '{"services": {"WASH": 10}, "valid_day": 30}', "Unknown field"),
        ("count_card", '{"services": {"WASH": 0}, "valid_days": 30}', "uses of WASH"),
        ("count_card", '{"services": {"WASH": null}, "valid_days": 30}', "uses of WASH"),
        ("count_card", '{"services": {"WASH": 2.5}, "valid_days": 30}', "uses of WASH"),
        ("count_card", '{"services": {"WASH": true}, "valid_days": 30}', "uses of WASH"),
        ("package", '{"services": {"WASH": 5, "WAX": 10000}, "valid_days": 30}', "uses of WAX"),
        ("trial_card", '{"services": {"WASH": -1}, "valid_days": 30}', "uses of WASH"),
        ("time_card", '{"services": {"GYM": 30}, "valid_days": 30}', "must be null"),
        ("count_card", '{"services": {" WASH": 1}, "valid_days": 30}', "Not a service SKU"),
        ("count_card", '{"services": {"": 1}, "valid_days": 30}', "Not a service SKU"),
    ],
)
def test_bad_specs_are_refused_in_both_languages(kind, text, en_part):
    with pytest.raises(InvalidInput) as caught:
        parse_pass_spec(kind, text)
    assert en_part in caught.value.en
    assert caught.value.zh and caught.value.zh != caught.value.en


def test_valid_until_counts_the_day_of_sale():
    assert valid_until(date(2026, 3, 2), 1) == date(2026, 3, 2)
    assert valid_until(date(2026, 3, 2), 31) == date(2026, 4, 1)
    assert valid_until(date(2026, 3, 2), 365) == date(2027, 3, 1)
    with pytest.raises(InvalidInput):
        valid_until(date(2026, 3, 2), 0)


# -- Planning uses ----------------------------------------------------------------------------


def test_share_fen_splits_exactly():
    parts = [share_fen(1000, 3, i, i + 1) for i in range(3)]
    assert parts == [333, 333, 334]
    assert sum(parts) == 1000
    assert share_fen(1000, 3, 0, 3) == 1000


def test_a_line_fully_covered_by_one_card():
    uses = plan_uses([held("A", {"WASH": 10})], [ServiceLine(1, "WASH", 2, 6000)], TODAY)
    assert uses == [PassUse("A", "WASH", 1, 2, 6000)]


def test_partial_cover_when_the_card_is_short():
    uses = plan_uses([held("A", {"WASH": 1})], [ServiceLine(1, "WASH", 2, 5999)], TODAY)
    assert uses == [PassUse("A", "WASH", 1, 1, 2999)]  # the other unit is paid otherwise


def test_goods_and_other_services_are_not_covered():
    lines = [ServiceLine(1, "SODA", 1, 300), ServiceLine(2, "WAX", 1, 5000)]
    assert plan_uses([held("A", {"WASH": 10})], lines, TODAY) == []


def test_expired_and_revoked_cards_are_skipped():
    passes = [
        held("OLD", {"WASH": 5}, until=date(2026, 3, 1)),
        held("GONE", {"WASH": 5}, state="revoked"),
        held("LAST_DAY", {"WASH": 1}, until=TODAY),
    ]
    uses = plan_uses(passes, [ServiceLine(1, "WASH", 3, 3000)], TODAY)
    assert uses == [PassUse("LAST_DAY", "WASH", 1, 1, 1000)]  # valid through its last day


def test_the_card_that_expires_first_is_used_first():
    passes = [
        held("LATER", {"WASH": 10}, until=date(2026, 12, 31)),
        held("SOONER", {"WASH": 2}, until=date(2026, 6, 30)),
    ]
    uses = plan_uses(passes, [ServiceLine(1, "WASH", 3, 3000)], TODAY)
    assert uses == [
        PassUse("SOONER", "WASH", 1, 2, 2000),
        PassUse("LATER", "WASH", 1, 1, 1000),
    ]


def test_on_the_same_expiry_an_unlimited_card_goes_first_then_the_oldest():
    passes = [
        held("COUNT", {"GYM": 10}, until=date(2026, 4, 1)),
        held("TIME", {"GYM": None}, until=date(2026, 4, 1), kind="time"),
    ]
    uses = plan_uses(passes, [ServiceLine(1, "GYM", 3, 900)], TODAY)
    assert uses == [PassUse("TIME", "GYM", 1, 3, 900)]
    twins = [
        held("NEWER", {"WASH": 1}, granted_at="2026-02-01T00:00:00.000000+00:00"),
        held("OLDER", {"WASH": 1}, granted_at="2026-01-01T00:00:00.000000+00:00"),
    ]
    assert [u.pass_id for u in plan_uses(twins, [ServiceLine(1, "WASH", 1, 100)], TODAY)] == [
        "OLDER"
    ]


def test_a_card_that_expires_sooner_beats_an_unlimited_one():
    passes = [
        held("TIME", {"GYM": None}, until=date(2026, 12, 31), kind="time"),
        held("COUNT", {"GYM": 1}, until=date(2026, 3, 31)),
    ]
    uses = plan_uses(passes, [ServiceLine(1, "GYM", 2, 1000)], TODAY)
    assert uses == [PassUse("COUNT", "GYM", 1, 1, 500), PassUse("TIME", "GYM", 1, 1, 500)]


def test_a_line_split_over_cards_adds_up_to_its_net():
    passes = [
        held("A", {"WASH": 1}, until=date(2026, 4, 1)),
        held("B", {"WASH": 1}, until=date(2026, 5, 1)),
        held("C", {"WASH": 5}, until=date(2026, 6, 1)),
    ]
    uses = plan_uses(passes, [ServiceLine(1, "WASH", 3, 1000)], TODAY)
    assert [(u.pass_id, u.qty, u.amount_fen) for u in uses] == [
        ("A", 1, 333),
        ("B", 1, 333),
        ("C", 1, 334),
    ]
    assert sum(u.amount_fen for u in uses) == 1000


def test_several_lines_of_the_same_service_share_the_uses_left():
    passes = [held("A", {"WASH": 3})]
    lines = [ServiceLine(1, "WASH", 2, 5000), ServiceLine(3, "WASH", 2, 4000)]
    uses = plan_uses(passes, lines, TODAY)
    assert uses == [PassUse("A", "WASH", 1, 2, 5000), PassUse("A", "WASH", 3, 1, 2000)]


def test_a_package_covers_each_of_its_services():
    passes = [held("P", {"WASH": 5, "WAX": 1}, kind="package")]
    lines = [
        ServiceLine(1, "WASH", 1, 3000),
        ServiceLine(2, "SODA", 1, 300),
        ServiceLine(3, "WAX", 2, 10000),
    ]
    uses = plan_uses(passes, lines, TODAY)
    assert uses == [PassUse("P", "WASH", 1, 1, 3000), PassUse("P", "WAX", 3, 1, 5000)]


def test_used_up_items_and_a_free_line():
    passes = [held("EMPTY", {"WASH": 0}), held("A", {"WASH": 2})]
    uses = plan_uses(passes, [ServiceLine(1, "WASH", 1, 0)], TODAY)
    assert uses == [PassUse("A", "WASH", 1, 1, 0)]


def test_plan_does_not_change_the_passes_given():
    passes = [held("A", {"WASH": 2})]
    plan_uses(passes, [ServiceLine(1, "WASH", 2, 100)], TODAY)
    assert passes[0].items == {"WASH": 2}


@pytest.mark.parametrize(
    "lines",
    [
        [ServiceLine(1, "WASH", 0, 100)],
        [ServiceLine(1, "WASH", 1, -1)],
        [ServiceLine(1, "WASH", 1, 100), ServiceLine(1, "WAX", 1, 100)],
    ],
)
def test_bad_lines_are_refused(lines):
    with pytest.raises(InvalidInput):
        plan_uses([held("A", {"WASH": 2})], lines, TODAY)


# -- Text -------------------------------------------------------------------------------------


def test_uses_text_for_a_count_card():
    card = HeldPass(
        "A",
        "洗车10次卡",
        "count",
        date(2027, 3, 1),
        {"WASH": 7},
        name_en="Car wash 10-visit card",
        service_names={"WASH": ("精致洗车", "Deluxe wash")},
    )
    assert uses_text(card, "zh") == "洗车10次卡 精致洗车 剩余 7 次 (至 2027-03-01)"
    assert (
        uses_text(card, "en") == "Car wash 10-visit card Deluxe wash 7 uses left (until 2027-03-01)"
    )


def test_uses_text_for_a_time_card_and_a_package():
    gym = HeldPass("T", "健身月卡", "time", date(2026, 4, 1), {"GYM": None})
    assert uses_text(gym, "zh") == "健身月卡 不限次 至 2026-04-01"
    assert uses_text(gym, "en") == "健身月卡 unlimited until 2026-04-01"  # no English name
    package = HeldPass(
        "P",
        "洗车套餐",
        "package",
        date(2027, 3, 1),
        {"WASH": 3, "WAX": 1},
        service_names={"WASH": ("精致洗车", "Deluxe wash"), "WAX": ("打蜡", None)},
    )
    assert uses_text(package) == "洗车套餐 精致洗车 剩余 3 次，打蜡 剩余 1 次 (至 2027-03-01)"
    assert uses_text(package, "en") == (
        "洗车套餐 Deluxe wash 3 uses left, 打蜡 1 use left (until 2027-03-01)"
    )
    unnamed = HeldPass("C", "次卡", "count", date(2027, 3, 1), {"WASH": 2})
    assert uses_text(unnamed) == "次卡 WASH 剩余 2 次 (至 2027-03-01)"
