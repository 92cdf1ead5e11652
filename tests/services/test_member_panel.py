"""The checkout's member panel on a real store: found by card, mobile or member number, with
stored value, points, coupons and service cards, and each alert (lost, frozen, cancelled,
replaced, PIN locked, birthday, dormant); the latest-purchase query uses the sale's index."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from sqlalchemy.dialects.sqlite import dialect as sqlite_dialect

from pos_app.domain.coupons import TemplateSpec
from pos_app.domain.errors import (
    AuthenticationFailed,
    InvalidInput,
    NotFound,
    PinLocked,
    WrongPin,
)
from pos_app.domain.permissions import Role
from pos_app.services import cards, checkout, coupons, stored_value
from pos_app.services.auth import Actor
from pos_app.services.catalogue import load_demo_catalogue
from pos_app.services.context import DB_FILENAME
from pos_app.services.member_panel import (
    DORMANT_DAYS,
    latest_purchase_query,
    member_panel,
)
from tests.conftest import StoreFixture
from tests.services.support import member_with_card, new_member, req

CARD = "88880001"
MOBILE = "13800138000"
PIN = "123456"
VEG8 = TemplateSpec(
    code="VEG8",
    name="蔬菜满20减8",
    kind="amount_off",
    threshold_fen=2000,
    amount_off_fen=800,
    categories=("蔬菜",),
    valid_days=30,
)


@pytest.fixture
def zhang(store: StoreFixture) -> StoreFixture:
    """张三 with card 88880001 (PIN 123456) and ¥500 topped up (+¥50 bonus)."""
    member_with_card(store, CARD, MOBILE, "张三", pin=PIN, topup_fen=50000)
    return store


def test_by_card_shows_the_member_their_money_and_the_presented_card(zhang):
    panel = member_panel(zhang.ctx, zhang.cashier, card_no=CARD)
    assert panel.member.name == "张三"
    assert panel.member.mobile == "138****8000"  # a cashier sees it masked
    assert panel.member.tier_name == "普通会员"
    assert (panel.tier_text("zh"), panel.tier_text("en")) == ("普通会员", "Regular")
    assert panel.presented_card_no == CARD
    assert panel.card is not None and panel.card.card_no == CARD
    assert (panel.card.principal_fen, panel.card.bonus_fen) == (50000, 5000)
    assert panel.card_can_pay and panel.presented_card_ok
    assert panel.alerts == ()  # registered today, no birthday given, card active
    assert panel.coupons == () and panel.passes == ()
    assert panel.last_purchase_at is None
    assert panel.business_day == "2026-03-02"


def test_by_mobile_and_by_member_number_find_the_same_member_without_a_presented_card(zhang):
    by_mobile = member_panel(zhang.ctx, zhang.cashier, mobile="138 0013 8000")
    by_no = member_panel(zhang.ctx, zhang.cashier, member_no=by_mobile.member.member_no)
    for panel in (by_mobile, by_no):
        assert panel.member.name == "张三"
        assert panel.presented_card_no is None  # nobody showed a card
        assert panel.card is not None and panel.card.card_no == CARD  # the card that pays
        assert panel.presented_card_ok


def test_a_manager_sees_the_full_mobile(zhang):
    panel = member_panel(zhang.ctx, zhang.manager, card_no=CARD)
    assert panel.member.mobile == MOBILE


def test_lookups_that_match_nobody_or_ask_twice_are_refused(zhang):
    with pytest.raises(NotFound):
        member_panel(zhang.ctx, zhang.cashier, card_no="99999999")
    with pytest.raises(NotFound):
        member_panel(zhang.ctx, zhang.cashier, mobile="13999999999")
    with pytest.raises(NotFound):
        member_panel(zhang.ctx, zhang.cashier, member_no="SH019999999")
    with pytest.raises(InvalidInput):
        member_panel(zhang.ctx, zhang.cashier, card_no=CARD, mobile=MOBILE)
    with pytest.raises(InvalidInput):
        member_panel(zhang.ctx, zhang.cashier)


def test_a_lost_card_shows_its_member_with_a_danger_alert_and_cannot_pay(zhang):
    cards.report_card_lost(zhang.ctx, zhang.cashier, CARD)
    panel = member_panel(zhang.ctx, zhang.cashier, card_no=CARD)
    assert panel.member.name == "张三"
    assert not panel.card_can_pay and not panel.presented_card_ok
    (alert,) = panel.alerts
    assert (alert.code, alert.level) == ("card_lost", "danger")
    assert "已挂失" in alert.text("zh") and "88****01" in alert.zh
    assert "reported lost" in alert.text("en") and "cannot be used" in alert.en


def test_frozen_cancelled_and_replaced_cards_each_have_their_alert(zhang):
    cards.freeze_card(zhang.ctx, zhang.manager, CARD)
    panel = member_panel(zhang.ctx, zhang.cashier, card_no=CARD)
    assert [a.code for a in panel.alerts] == ["card_frozen"]
    assert "frozen" in panel.alerts[0].en
    cards.unfreeze_card(zhang.ctx, zhang.manager, CARD)
    cards.replace_card(zhang.ctx, zhang.manager, CARD, "88880009")
    old = member_panel(zhang.ctx, zhang.cashier, card_no=CARD)
    assert [a.code for a in old.alerts] == ["card_replaced"]
    assert "use the new card" in old.alerts[0].en and not old.card_can_pay
    new = member_panel(zhang.ctx, zhang.cashier, card_no="88880009")
    assert new.alerts == () and new.card is not None
    assert new.card.principal_fen == 50000  # the balances moved to the new card
    # Found by mobile, the panel is about the card that can pay, not the dead one.
    assert member_panel(zhang.ctx, zhang.cashier, mobile=MOBILE).card.card_no == "88880009"
    zhang.at_till(zhang.manager)  # the principal is paid out of the manager's drawer
    cards.cancel_card(zhang.ctx, zhang.manager, "88880009")
    gone = member_panel(zhang.ctx, zhang.cashier, card_no="88880009")
    assert [a.code for a in gone.alerts] == ["card_cancelled"]


def test_five_wrong_pins_show_a_pin_locked_alert(zhang):
    assert not member_panel(zhang.ctx, zhang.cashier, card_no=CARD).has_alert("pin_locked")
    for _ in range(4):
        with pytest.raises(WrongPin):
            stored_value.pay_with_stored_value(zhang.ctx, zhang.cashier, CARD, 100, pin="000000")
    with pytest.raises(PinLocked):  # the fifth wrong try locks it
        stored_value.pay_with_stored_value(zhang.ctx, zhang.cashier, CARD, 100, pin="000000")
    panel = member_panel(zhang.ctx, zhang.cashier, card_no=CARD)
    assert [(a.code, a.level) for a in panel.alerts] == [("pin_locked", "danger")]
    assert panel.card_can_pay  # the card still identifies the member; only stored value stops


def test_birthday_today_and_not_tomorrow(store):
    new_member(store, "13700137000", "王五", birthday="1990-03-02")
    new_member(store, "13700137001", "赵六", birthday="1990-03-03")
    panel = member_panel(store.ctx, store.cashier, mobile="13700137000")
    assert [(a.code, a.level) for a in panel.alerts] == [("birthday", "info")]
    assert panel.alerts[0].text("en") == "Birthday today"
    assert member_panel(store.ctx, store.cashier, mobile="13700137001").alerts == ()


def test_a_29_february_birthday_is_kept_on_28_february_in_other_years(store):
    new_member(store, "13700137002", "闰年", birthday="2000-02-29")
    store.clock.set(datetime(2027, 2, 28, 2, 0, tzinfo=UTC))
    panel = member_panel(store.ctx, store.cashier, mobile="13700137002")
    assert "birthday" in [a.code for a in panel.alerts]


def test_dormant_after_the_days_without_a_purchase(zhang):
    load_demo_catalogue(zhang.ctx, zhang.manager)
    zhang.at_till(zhang.cashier)
    sale = checkout.sell(zhang.ctx, zhang.cashier, req(("V001", 1), card=CARD))
    panel = member_panel(zhang.ctx, zhang.cashier, card_no=CARD)
    assert panel.last_purchase_at is not None and not panel.has_alert("dormant")
    assert sale.total_fen > 0
    zhang.clock.advance(days=DORMANT_DAYS)
    assert not member_panel(zhang.ctx, zhang.cashier, card_no=CARD).has_alert("dormant")
    zhang.clock.advance(days=2)
    panel = member_panel(zhang.ctx, zhang.cashier, card_no=CARD)
    (alert,) = panel.alerts
    assert (alert.code, alert.level) == ("dormant", "warning")
    assert f"{DORMANT_DAYS + 2} days" in alert.en


def test_a_member_who_never_bought_is_dormant_counted_from_joining(store):
    new_member(store, "13700137003", "孙七")
    store.clock.advance(days=DORMANT_DAYS + 10)
    (alert,) = member_panel(store.ctx, store.cashier, mobile="13700137003").alerts
    assert alert.code == "dormant" and "since joining" in alert.en


def test_usable_coupons_and_service_cards_are_listed(zhang):
    load_demo_catalogue(zhang.ctx, zhang.manager)
    zhang.at_till(zhang.cashier)
    coupons.add_template(zhang.ctx, zhang.manager, VEG8)
    later = replace(
        VEG8, code="LATER", valid_days=None, valid_from=date(2026, 4, 1), valid_to=date(2026, 4, 30)
    )
    coupons.add_template(zhang.ctx, zhang.manager, later)
    member_no = member_panel(zhang.ctx, zhang.cashier, card_no=CARD).member.member_no
    (veg,) = coupons.issue_coupons(zhang.ctx, zhang.manager, "VEG8", member_no)
    coupons.issue_coupons(zhang.ctx, zhang.manager, "LATER", member_no)  # not usable today
    checkout.sell(zhang.ctx, zhang.cashier, req(("C010", 1), card=CARD))  # 洗车10次卡
    panel = member_panel(zhang.ctx, zhang.cashier, card_no=CARD)
    assert [c.code for c in panel.coupons] == [veg.code]
    (wash,) = panel.passes
    assert wash.product_sku == "C010" and "10" in wash.text("zh")


def test_the_latest_purchase_is_found_through_the_sale_member_index(zhang):
    sql = latest_purchase_query("SH010000001").compile(
        dialect=sqlite_dialect(), compile_kwargs={"literal_binds": True}
    )
    with sqlite3.connect(zhang.data_dir / DB_FILENAME) as conn:
        plan = conn.execute(f"EXPLAIN QUERY PLAN {sql}").fetchall()
    details = " | ".join(str(row[-1]) for row in plan)
    # Both the member (by number) and their sales (by member) come through an index: the
    # panel never scans the sale table.
    assert "SEARCH sale USING INDEX ix_sale_member_id" in details, details
    assert "SEARCH member USING" in details and "SCAN" not in details, details


def test_an_operator_who_is_no_longer_active_is_refused(zhang):
    ghost = Actor.sealed("no-such-operator", "ghost", "Ghost", Role.CASHIER)
    with pytest.raises(AuthenticationFailed):
        member_panel(zhang.ctx, ghost, card_no=CARD)


def test_the_panel_refers_to_the_business_day_it_was_read_on(zhang):
    zhang.clock.advance(days=1)
    assert member_panel(zhang.ctx, zhang.cashier, card_no=CARD).business_day == "2026-03-03"


def test_a_tier_held_by_a_manager_shows_until_when(zhang):
    from pos_app.services.members import show_member
    from pos_app.services.tiers import change_tier

    member_no = show_member(zhang.ctx, zhang.cashier, card_no=CARD).member_no
    change_tier(zhang.ctx, zhang.manager, member_no, "gold", "VIP", locked_until=date(2026, 12, 31))
    panel = member_panel(zhang.ctx, zhang.cashier, card_no=CARD)  # the fast path by card
    assert panel.member.tier_locked_until == "2026-12-31"
    assert panel.tier_text("zh") == "金卡（保级至 2026-12-31）"
    assert panel.tier_text("en") == "Gold (held until 2026-12-31)"
    zhang.clock.set(datetime(2027, 1, 1, 1, 0, tzinfo=UTC))  # the hold is over
    assert member_panel(zhang.ctx, zhang.cashier, card_no=CARD).tier_text("zh") == "金卡"
