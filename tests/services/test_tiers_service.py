"""Tiers: upgrades by cumulative spend, single purchase and top-up; the yearly review;
points kept or reset on upgrade; manual changes and their locks; the fall back when a refund
takes away what a tier rested on."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from pos_app.domain.entry_kinds import EntryKind
from pos_app.domain.errors import ApprovalRequired, InvalidInput, PermissionDenied
from pos_app.domain.permissions import Permission
from pos_app.domain.sale_request import LineRequest
from pos_app.services import points, stored_value, tiers
from pos_app.services.cards import issue_card
from pos_app.services.sale_refund import refund_sale
from pos_app.services.verify import verify_ledger
from tests.services.support import buy as buy_at_till
from tests.services.support import (
    entries,
    last_entry,
    member_row,
    new_member,
    rules_variant,
    snapshot,
)

# Money moves only inside the cashier's own shift (see the `till` fixture).
pytestmark = pytest.mark.usefixtures("till")


def buy(store, member_no, yuan):
    """A real till sale of `yuan` yuan for the member."""
    return buy_at_till(store, yuan, member_no=member_no)


def tier(store, member_no):
    return member_row(store, member_no).tier_code


def test_cumulative_spend_in_the_window(store):
    m = new_member(store)
    assert buy(store, m.member_no, 700).tier == "normal"
    assert buy(store, m.member_no, 700).tier == "normal"
    third = buy(store, m.member_no, 700)  # 2100 ≥ 2000 → silver
    assert (third.tier, third.tier_changed) == ("silver", True)
    change = last_entry(store)
    assert change.kind == "tier_changed"
    assert json.loads(change.payload) == {
        "from": "normal",
        "to": "silver",
        "reason": "purchase",
        "note": "",
    }


def test_spend_outside_the_window_does_not_count(store):
    m = new_member(store)
    buy(store, m.member_no, 700)
    buy(store, m.member_no, 700)
    store.clock.advance(days=366)
    assert buy(store, m.member_no, 700).tier == "normal"
    assert buy(store, m.member_no, 700).tier == "normal"
    assert buy(store, m.member_no, 700).tier == "silver"


def test_one_receipt_of_999_makes_a_gold_member(store):
    m = new_member(store)
    assert buy(store, m.member_no, 998).tier == "normal"
    assert buy(store, m.member_no, 999).tier == "gold"
    (change,) = entries(store, EntryKind.TIER_CHANGED)
    assert json.loads(change.payload)["to"] == "gold"


@pytest.mark.parametrize(
    ("yuan", "level"), [(999, "normal"), (1000, "silver"), (3000, "gold"), (10000, "diamond")]
)
def test_a_top_up_lifts_the_tier(store, yuan, level):
    m = new_member(store)
    issue_card(store.ctx, store.cashier, m.member_no, "88880001")
    result = stored_value.top_up(store.ctx, store.cashier, "88880001", yuan * 100)
    assert tier(store, m.member_no) == level
    assert result.new_tier == (None if level == "normal" else level)


def test_an_upgrade_never_lowers_the_tier(store):
    m = new_member(store)
    buy(store, m.member_no, 999)
    issue_card(store.ctx, store.cashier, m.member_no, "88880001")
    stored_value.top_up(store.ctx, store.cashier, "88880001", 100000)  # silver's top-up
    assert tier(store, m.member_no) == "gold"
    assert len(entries(store, EntryKind.TIER_CHANGED)) == 1


@pytest.fixture
def year_of_members(store):
    """Four members who reached their tiers in March 2026 in different ways."""
    single = new_member(store, "13800000001", "一次金")
    buy(store, single.member_no, 999)  # gold by one receipt, 999 spent in the year
    big = new_member(store, "13800000002", "大客户")
    for _ in range(6):
        buy(store, big.member_no, 900)  # 5400 in the window: gold, and keeps it
    topup = new_member(store, "13800000003", "充值银")
    issue_card(store.ctx, store.cashier, topup.member_no, "88880003")
    stored_value.top_up(store.ctx, store.cashier, "88880003", 100000)  # silver, no spending
    steady = new_member(store, "13800000004", "常客")
    for _ in range(3):
        buy(store, steady.member_no, 700)  # 2100: silver, and keeps it
    levels = {m.member_no: tier(store, m.member_no) for m in (single, big, topup, steady)}
    assert list(levels.values()) == ["gold", "gold", "silver", "silver"]
    return single, big, topup, steady


def test_nothing_is_reviewed_before_the_review_date(store, year_of_members):
    store.clock.set(datetime(2026, 12, 31, 15, 59, tzinfo=UTC))  # 23:59 on 12-31 in Shanghai
    before = snapshot(store)
    assert tiers.review_tiers(store.ctx, store.manager) == []
    assert snapshot(store) == before


def test_the_review_lowers_those_whose_spend_no_longer_earns_their_level(store, year_of_members):
    single, big, topup, steady = year_of_members
    with pytest.raises(PermissionDenied):
        tiers.review_tiers(store.ctx, store.cashier)
    store.clock.set(datetime(2027, 1, 2, 1, 0, tzinfo=UTC))  # 2027-01-02 09:00 Shanghai
    changes = tiers.review_tiers(store.ctx, store.manager)
    assert sorted((c.member_no, c.old_tier, c.new_tier) for c in changes) == [
        (single.member_no, "gold", "normal"),
        (topup.member_no, "silver", "normal"),
    ]
    assert tier(store, big.member_no) == "gold"
    assert tier(store, steady.member_no) == "silver"
    review_entries = entries(store, EntryKind.TIER_CHANGED)[-2:]
    assert {json.loads(e.payload)["reason"] for e in review_entries} == {"review"}
    assert {json.loads(e.payload)["note"] for e in review_entries} == {"2027-01-01"}

    # running it again changes nothing more
    before = snapshot(store)
    assert tiers.review_tiers(store.ctx, store.manager) == []
    assert snapshot(store) == before
    assert verify_ledger(store.ctx).ok


def test_a_member_upgraded_since_the_review_date_is_not_reviewed(store, year_of_members):
    single, _, topup, _ = year_of_members
    store.clock.set(datetime(2027, 1, 1, 2, 0, tzinfo=UTC))  # 2027-01-01 10:00 Shanghai
    stored_value.top_up(store.ctx, store.cashier, "88880003", 300000)  # silver → gold today
    assert tier(store, topup.member_no) == "gold"
    store.clock.set(datetime(2027, 1, 5, 2, 0, tzinfo=UTC))  # the review runs a few days late
    changes = tiers.review_tiers(store.ctx, store.manager)
    assert [(c.member_no, c.new_tier) for c in changes] == [(single.member_no, "normal")]
    assert tier(store, topup.member_no) == "gold"


def test_points_are_kept_on_upgrade_by_default(store):
    m = new_member(store)
    buy(store, m.member_no, 500)
    issue_card(store.ctx, store.cashier, m.member_no, "88880001")
    stored_value.top_up(store.ctx, store.cashier, "88880001", 100000)
    assert (tier(store, m.member_no), member_row(store, m.member_no).points_balance) == (
        "silver",
        500,
    )
    assert entries(store, EntryKind.POINTS_RESET) == []


def test_points_are_reset_on_upgrade_when_the_rules_say_so(store):
    rules_variant(store, ("reset_on_upgrade = false", "reset_on_upgrade = true"))
    m = new_member(store)
    buy(store, m.member_no, 300)
    buy(store, m.member_no, 200)
    issue_card(store.ctx, store.cashier, m.member_no, "88880001")
    stored_value.top_up(store.ctx, store.cashier, "88880001", 100000)
    row = member_row(store, m.member_no)
    assert (row.tier_code, row.points_balance, row.points_debt) == ("silver", 0, 0)
    (reset,) = entries(store, EntryKind.POINTS_RESET)
    assert reset.points_delta == -500
    # a manual downgrade is not an upgrade: nothing to reset, and points earned later stay
    buy(store, m.member_no, 100)
    tiers.change_tier(store.ctx, store.manager, m.member_no, "normal", "会员要求")
    assert member_row(store, m.member_no).points_balance == 120  # silver 1.2× before the change
    assert len(entries(store, EntryKind.POINTS_RESET)) == 1
    assert verify_ledger(store.ctx).ok


def test_a_manual_change_needs_a_reason_and_a_manager(store):
    m = new_member(store)
    before = snapshot(store)
    with pytest.raises(InvalidInput, match="reason"):
        tiers.change_tier(store.ctx, store.manager, m.member_no, "gold", " ")
    with pytest.raises(InvalidInput, match="No such tier"):
        tiers.change_tier(store.ctx, store.manager, m.member_no, "platinum", "VIP")
    with pytest.raises(ApprovalRequired):
        tiers.change_tier(store.ctx, store.cashier, m.member_no, "gold", "VIP 客户")
    assert snapshot(store)[:4] == before[:4]
    assert tier(store, m.member_no) == "normal"

    change = tiers.change_tier(
        store.ctx,
        store.cashier,
        m.member_no,
        "gold",
        "VIP 客户",
        approval=store.approval(Permission.TIER_CHANGE),
    )
    assert (change.old_tier, change.new_tier) == ("normal", "gold")
    entry = last_entry(store)
    assert entry.approved_by_id == store.manager.operator_id
    assert entry.operator_id == store.cashier.operator_id
    assert json.loads(entry.payload) == {
        "from": "normal",
        "to": "gold",
        "reason": "manual",
        "note": "VIP 客户",
        "locked_until": None,
    }

    tiers.change_tier(store.ctx, store.manager, m.member_no, "silver", "纠正")
    assert last_entry(store).approved_by_id == store.manager.operator_id
    assert tier(store, m.member_no) == "silver"
    assert verify_ledger(store.ctx).ok


# --- refunds take back what a tier rested on ------------------------------------------------


def reasons(store):
    return [json.loads(e.payload)["reason"] for e in entries(store, EntryKind.TIER_CHANGED)]


def test_returning_the_receipt_that_made_a_member_gold_takes_gold_back(store):
    m = new_member(store)
    buy(store, m.member_no, 300)
    big = buy(store, m.member_no, 999)  # gold by one receipt
    assert tier(store, m.member_no) == "gold"
    store.at_till(store.manager)  # the manager's own drawer pays it back
    refund_sale(store.ctx, store.manager, big.receipt_no)
    assert tier(store, m.member_no) == "normal"  # ¥300 left earns nothing
    change = last_entry(store)
    assert change.kind == "tier_changed"
    payload = json.loads(change.payload)
    assert (payload["from"], payload["to"], payload["reason"]) == ("gold", "normal", "refund")
    assert payload["note"] == entries(store, EntryKind.PURCHASE_REFUNDED)[-1].entry_id
    assert verify_ledger(store.ctx).ok


def test_a_partial_return_lowers_to_what_the_rest_still_earns(store):
    m = new_member(store)
    for _ in range(3):
        buy(store, m.member_no, 700)  # 2100 in the window: silver
    assert tier(store, m.member_no) == "silver"
    big = buy(store, m.member_no, 999)  # gold; 3099 in the window
    store.at_till(store.manager)  # the manager's own drawer pays it back
    refund_sale(store.ctx, store.manager, big.receipt_no, (LineRequest("X001", 99),))
    # ¥900 of the receipt stays: no single receipt ≥ ¥999 now, 3000 earns silver.
    assert tier(store, m.member_no) == "silver"
    assert reasons(store) == ["purchase", "purchase", "refund"]


def test_a_refund_that_leaves_the_tier_earned_changes_nothing(store):
    m = new_member(store)
    buy(store, m.member_no, 999)
    small = buy(store, m.member_no, 50)
    refund_sale(store.ctx, store.cashier, small.receipt_no)
    assert tier(store, m.member_no) == "gold"
    assert reasons(store) == ["purchase"]


def test_a_refunded_top_up_takes_back_the_tier_it_earned(store):
    m = new_member(store)
    issue_card(store.ctx, store.cashier, m.member_no, "88880001")
    topup = stored_value.top_up(store.ctx, store.cashier, "88880001", 100000)  # silver
    assert tier(store, m.member_no) == "silver"
    store.at_till(store.manager)  # the manager's own drawer pays it back
    stored_value.refund_top_up(store.ctx, store.manager, topup.entry_id)
    assert tier(store, m.member_no) == "normal"
    assert reasons(store) == ["topup", "refund"]
    assert verify_ledger(store.ctx).ok


def test_a_refunded_purchase_without_a_receipt_takes_back_its_tier(store):
    rules_variant(store, ('manual_purchase_max = "500"', 'manual_purchase_max = "1000"'))
    m = new_member(store)
    credited = points.record_manual_purchase(
        store.ctx, store.manager, member_no=m.member_no, amount_fen=99900, reason="旧系统"
    )
    assert credited.tier == "gold"
    points.refund_purchase(store.ctx, store.manager, credited.purchase_entry_id)
    assert tier(store, m.member_no) == "normal"


def test_a_manual_tier_is_not_taken_by_a_refund_of_something_else(store):
    m = new_member(store)
    tiers.change_tier(store.ctx, store.manager, m.member_no, "gold", "VIP")
    sale = buy(store, m.member_no, 100)
    refund_sale(store.ctx, store.cashier, sale.receipt_no)
    assert tier(store, m.member_no) == "gold"


# --- a manual change locked through a date --------------------------------------------------


def test_a_locked_manual_tier_survives_the_review_until_its_date(store):
    m = new_member(store)
    with pytest.raises(InvalidInput, match="in the past"):
        tiers.change_tier(
            store.ctx, store.manager, m.member_no, "gold", "VIP", locked_until=date(2026, 3, 1)
        )
    change = tiers.change_tier(
        store.ctx,
        store.manager,
        m.member_no,
        "gold",
        "年度大客户",
        locked_until=date(2027, 6, 30),
    )
    assert change.locked_until == "2027-06-30"
    assert json.loads(last_entry(store).payload)["locked_until"] == "2027-06-30"
    assert member_row(store, m.member_no).tier_locked_until == "2027-06-30"

    store.clock.set(datetime(2027, 1, 2, 1, 0, tzinfo=UTC))  # the 2027-01-01 review
    assert tiers.review_tiers(store.ctx, store.manager) == []
    assert tier(store, m.member_no) == "gold"

    store.clock.set(datetime(2028, 1, 2, 1, 0, tzinfo=UTC))  # the lock ended 2027-06-30
    (dropped,) = tiers.review_tiers(store.ctx, store.manager)
    assert (dropped.member_no, dropped.new_tier) == (m.member_no, "normal")
    assert verify_ledger(store.ctx).ok


def test_a_lock_is_a_floor_for_refunds_and_a_change_without_it_clears_it(store):
    m = new_member(store)
    tiers.change_tier(
        store.ctx, store.manager, m.member_no, "silver", "补偿", locked_until=date(2026, 12, 31)
    )
    big = buy(store, m.member_no, 999)  # an upgrade still lifts a locked member
    assert tier(store, m.member_no) == "gold"
    store.at_till(store.manager)  # the manager's own drawer pays it back
    refund_sale(store.ctx, store.manager, big.receipt_no)
    assert tier(store, m.member_no) == "silver"  # back to the lock, not below it
    # The same tier again without a date: the lock is lifted, and that is recorded too.
    tiers.change_tier(store.ctx, store.manager, m.member_no, "silver", "取消锁定")
    assert member_row(store, m.member_no).tier_locked_until is None
    assert json.loads(last_entry(store).payload)["locked_until"] is None
    assert verify_ledger(store.ctx).ok


def test_verify_catches_a_lock_written_behind_the_apps_back(store):
    import sqlite3
    from contextlib import closing

    from pos_app.services.context import DB_FILENAME

    m = new_member(store)
    store.ctx.engine.dispose()
    with closing(sqlite3.connect(store.data_dir / DB_FILENAME)) as conn:
        conn.execute(
            "UPDATE member SET tier_locked_until = '2099-12-31' WHERE member_no = ?",
            (m.member_no,),
        )
        conn.commit()
    report = verify_ledger(store.ctx)
    assert any("tier_locked_until" in p.message for p in report.problems)
