"""Loading rules: each load is a new version, each entry records the version it used, and a
bad file is refused naming the setting, with nothing stored."""

from __future__ import annotations

import pytest

from db.models import RulesVersion
from pos_app.domain.errors import RulesError
from pos_app.services import stored_value
from pos_app.services.rules import load_rules, show_rules
from tests.conftest import load_rules_text
from tests.services.support import (
    EXAMPLE_TEXT,
    count,
    entries,
    member_with_card,
    rules_variant,
    snapshot,
)

CARD = "88880001"


def test_each_load_is_a_new_version(store):
    assert show_rules(store.ctx).version == 1  # the example rules loaded by the fixture
    loaded = load_rules(store.ctx, store.admin, EXAMPLE_TEXT, "again.toml")
    assert loaded.version == 2
    assert loaded.label == "2026 标准规则 / standard rules"
    loaded = load_rules(store.ctx, store.admin, 'label = "最简"\n', "minimal.toml")
    assert loaded.version == 3
    shown = show_rules(store.ctx)
    assert (shown.version, shown.label) == (3, "最简")
    assert count(store, RulesVersion) == 3


def test_each_entry_records_the_rules_version_it_used(store):
    member_with_card(store, CARD)
    first = stored_value.top_up(store.ctx, store.cashier, CARD, 50000)
    assert first.bonus_fen == 5000  # 充500送50 under version 1
    rules_variant(store, ('min_topup = "500"\nbonus = "50"', 'min_topup = "500"\nbonus = "80"'))
    second = stored_value.top_up(store.ctx, store.cashier, CARD, 50000)
    assert second.bonus_fen == 8000  # 充500送80 under version 2
    by_id = {e.entry_id: e for e in entries(store)}
    assert by_id[first.entry_id].rules_version == 1
    assert by_id[second.entry_id].rules_version == 2
    # (the operators were recorded at set-up, before any rules were loaded: version 0)
    assert {e.rules_version for e in entries(store) if e.kind != "operator_changed"} == {1, 2}


@pytest.mark.parametrize(
    ("old", "new", "named"),
    [
        (
            'daily_limit = "5000"',
            'daily_limit = "5000"\ndaily_limt = "100"',
            "stored_value.daily_limt",
        ),
        ('cancel_fee = "10"', "cancel_fee = 10.5", "stored_value.cancel_fee"),
        (
            'spend_order = "principal_first"',
            'spend_order = "cheapest_first"',
            "stored_value.spend_order",
        ),
        ('code = "gold"', 'code = "silver"', "tiers.level"),
        ("[points]", "[point]", "point"),
    ],
)
def test_a_bad_file_is_refused_naming_the_setting_and_nothing_is_stored(store, old, new, named):
    assert old in EXAMPLE_TEXT
    bad = EXAMPLE_TEXT.replace(old, new, 1)
    before = snapshot(store), count(store, RulesVersion)
    with pytest.raises(RulesError) as info:
        load_rules_text(store, bad)
    assert named in info.value.en
    assert (snapshot(store), count(store, RulesVersion)) == before
    assert show_rules(store.ctx).version == 1
    assert show_rules(store.ctx).rules.stored_value.spend_order == "principal_first"


def test_the_duplicate_level_message(store):
    bad = EXAMPLE_TEXT.replace('code = "gold"', 'code = "silver"', 1)
    with pytest.raises(RulesError, match="tiers.level two levels have the same code"):
        load_rules_text(store, bad)
