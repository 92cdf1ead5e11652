"""Loading rules: each load is a new version, each entry records the version it used, and a
bad file is refused naming the setting, with nothing stored."""

from __future__ import annotations

import re

import pytest

from db.engine import write_session
from db.models import RulesVersion
from pos_app.domain.coupons import TemplateSpec
from pos_app.domain.errors import RulesError
from pos_app.domain.permissions import Permission
from pos_app.domain.rules import MAX_MULTIPLIER_PERMILLE, MAX_POINTS_PER_YUAN, MAX_REFERRAL_POINTS
from pos_app.domain.sale_request import MAX_QTY, LineRequest, SaleRequest, TenderRequest
from pos_app.services import checkout, coupons, members, stored_value, tiers
from pos_app.services.catalogue import load_demo_catalogue
from pos_app.services.rules import load_rules, show_rules
from pos_app.services.verify import verify_ledger
from tests.conftest import load_rules_text
from tests.services.support import (
    EXAMPLE_TEXT,
    count,
    entries,
    member_with_card,
    rules_variant,
    snapshot,
)

# Money moves only inside the cashier's own shift (see the `till` fixture).
pytestmark = pytest.mark.usefixtures("till")

CARD = "88880001"
MAX_MULTIPLIER = MAX_MULTIPLIER_PERMILLE // 1000


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


# -- checks against what the store holds ----------------------------------------------------


def refused(store, text: str) -> RulesError:
    """Load `text`, expect a refusal, and check that nothing was stored."""
    before = snapshot(store), count(store, RulesVersion)
    with pytest.raises(RulesError) as info:
        load_rules_text(store, text)
    assert (snapshot(store), count(store, RulesVersion)) == before
    return info.value


def line_named(error: RulesError) -> str:
    """The text of the line the message names."""
    match = re.search(r"\(line (\d+)\)", error.en)
    assert match, error.en
    assert f"第 {match[1]} 行" in error.zh
    return EXAMPLE_TEXT.splitlines()[int(match[1]) - 1] if match else ""


def test_an_empty_file_is_refused_and_nothing_is_stored(store):
    error = refused(store, "# nothing here yet\n")
    assert "empty" in error.en


def test_an_unknown_gift_sku_is_refused_once_there_is_a_catalogue(store):
    load_demo_catalogue(store.ctx, store.manager)
    error = refused(store, EXAMPLE_TEXT.replace('gift_sku = "G001"', 'gift_sku = "G0001"'))
    assert "promotion[2].gift_sku" in error.en and "G0001" in error.en
    assert "商品目录中没有这个商品" in error.zh
    assert line_named(error) == 'gift_sku = "G001"'  # that line of the unchanged example


def test_an_unknown_promotion_sku_is_refused_once_there_is_a_catalogue(store):
    load_demo_catalogue(store.ctx, store.manager)
    error = refused(store, EXAMPLE_TEXT.replace('skus = ["F001"]', 'skus = ["F001", "F999"]'))
    assert "promotion[0].skus" in error.en and "F999" in error.en
    assert line_named(error).startswith("skus = ")


def test_an_unknown_coupon_template_is_refused_once_there_are_templates(store):
    coupons.add_template(
        store.ctx,
        store.manager,
        TemplateSpec(code="NEW10", name="新人券", kind="amount_off", amount_off_fen=1000,
                     valid_days=30),
    )  # fmt: skip
    ok = EXAMPLE_TEXT.replace('# registration_coupon = "NEW10"', 'registration_coupon = "new10"')
    assert load_rules_text(store, ok) is None  # template codes are matched as typed at the till
    error = refused(store, ok.replace('registration_coupon = "new10"', 'registration_coupon = "X"'))
    assert "checkout.registration_coupon" in error.en and "X" in error.en
    bonus = EXAMPLE_TEXT.replace('min_topup = "1000"\nbonus = "150"',
                                 'min_topup = "1000"\nbonus = "150"\ncoupon = "NOPE"')  # fmt: skip
    error = refused(store, bonus)
    assert "stored_value.bonus[1].coupon" in error.en and "NOPE" in error.en


def test_removing_a_tier_that_members_hold_is_refused(store):
    member_with_card(store, CARD)
    stored_value.top_up(store.ctx, store.cashier, CARD, 300000)  # ¥3000: silver → gold
    without_gold = EXAMPLE_TEXT.replace('code = "gold"', 'code = "gold2"')
    error = refused(store, without_gold)
    assert "'gold'" in error.en and "1 member" in error.en
    assert "gold" in error.zh and "1 位会员" in error.zh
    assert line_named(error) == "[[tiers.level]]"
    # Renaming a tier nobody holds is fine.
    load_rules_text(store, EXAMPLE_TEXT.replace('code = "diamond"', 'code = "platinum"'))
    assert show_rules(store.ctx).version == 2


def test_a_stored_version_that_no_longer_reads_can_be_replaced(store):
    # A version stored by an older release that took "50,00" as ¥5,000.
    with write_session(store.ctx.engine) as s:
        s.add(
            RulesVersion(
                version=2,
                label="old",
                source_text='[stored_value]\nmin_topup = "50,00"',
                sha256="old",
                loaded_at="2026-01-01T00:00:00+00:00",
                loaded_by_id=store.admin.operator_id,
            )
        )
    with pytest.raises(RulesError) as info:  # a clear refusal, not a wrong bonus
        member_with_card(store, CARD)
    assert "stored_value.min_topup" in info.value.en
    loaded = load_rules(store.ctx, store.admin, EXAMPLE_TEXT, "fixed.toml")
    assert loaded.version == 3
    member_with_card(store, CARD)


def test_the_largest_values_a_file_may_hold_still_fit_the_database(store):
    # The reproductions were a 1e9 multiplier (1.77 trillion points) and a 1e23 referral
    # reward, which overflowed SQLite on the referred member's first purchase so that the
    # member could not buy at all. Both are refused now; at the bounds (100 points per yuan,
    # a 100x tier and a 100x promotion, the largest referral reward), the referred member's
    # first sale of the most a line may hold still earns, records and verifies.
    top = (
        EXAMPLE_TEXT.replace("per_yuan = 1 ", f"per_yuan = {MAX_POINTS_PER_YUAN} ")
        .replace("referral_points = 100 ", f"referral_points = {MAX_REFERRAL_POINTS} ")
        .replace('points_multiplier = "2"', f'points_multiplier = "{MAX_MULTIPLIER}"')
        .replace('multiplier = "3"', f'multiplier = "{MAX_MULTIPLIER}"')
    )
    for too_much in (
        top.replace(f"referral_points = {MAX_REFERRAL_POINTS} ", f"referral_points = {10**23} "),
        top.replace(f'multiplier = "{MAX_MULTIPLIER}"', 'multiplier = "1000000000"'),
    ):
        refused(store, too_much)
    load_demo_catalogue(store.ctx, store.manager)
    load_rules_text(store, top)
    store.at_till(store.cashier)
    referrer = members.register_member(store.ctx, store.cashier, "13900139000", "李四")
    member = members.register_member(
        store.ctx, store.cashier, "13800138000", "张三", referrer_no=referrer.member_no
    )
    tiers.change_tier(store.ctx, store.manager, member.member_no, "diamond", "VIP",
                      store.approval(Permission.TIER_CHANGE))  # fmt: skip
    request = SaleRequest(
        lines=(LineRequest("F001", MAX_QTY),),  # 3x points on apples, here 100x
        tenders=(TenderRequest("cash"),),
        member_no=member.member_no,
    )
    sale = checkout.sell(store.ctx, store.cashier, request)
    paid_yuan = sale.total_fen // 100
    assert sale.points_earned >= paid_yuan * MAX_POINTS_PER_YUAN * MAX_MULTIPLIER**2 * 9 // 10
    assert members.show_member(store.ctx, store.manager, member_no=referrer.member_no).points == (
        MAX_REFERRAL_POINTS
    )
    assert verify_ledger(store.ctx).ok
