"""Points: earning with multipliers, the one-level referral, lots and expiry, refunds and debt;
a purchase credited without a receipt only with a manager, a reason and within the cap."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from pos_app.domain.entry_kinds import EntryKind
from pos_app.domain.errors import (
    ApprovalRequired,
    InsufficientBalance,
    InvalidInput,
    LimitExceeded,
    PermissionDenied,
)
from pos_app.domain.permissions import Permission
from pos_app.services import points
from pos_app.services.checkout import sell
from pos_app.services.sale_refund import refund_sale
from pos_app.services.verify import verify_ledger
from tests.services.support import (
    audit_rows,
    entries,
    last_entry,
    lots,
    member_row,
    member_with_card,
    new_member,
    req,
    rules_variant,
    snapshot,
)
from tests.services.support import buy as buy_at_till

# Money moves only inside the cashier's own shift (see the `till` fixture).
pytestmark = pytest.mark.usefixtures("till")


def buy(store, member_no, yuan, sku="X001"):
    """A real till sale of `yuan` yuan for the member."""
    return buy_at_till(store, yuan, member_no=member_no, sku=sku)


def manual(store, member_no, yuan, actor=None, **kwargs):
    kwargs.setdefault("reason", "旧系统小票补录")
    return points.record_manual_purchase(
        store.ctx, actor or store.manager, member_no=member_no, amount_fen=yuan * 100, **kwargs
    )


def balance(store, member_no):
    row = member_row(store, member_no)
    return row.points_balance, row.points_debt


# --- earning -------------------------------------------------------------------------


def test_a_purchase_earns_points_at_the_base_rate(store):
    m = new_member(store)
    result = buy(store, m.member_no, 123)
    assert (result.points_earned, result.points_balance) == (123, 123)
    purchase, earned = entries(store)[-2:]
    assert (purchase.kind, purchase.amount_fen) == ("purchase", 12300)
    assert json.loads(purchase.payload)["receipt_no"] == result.receipt_no
    assert (earned.kind, earned.points_delta, earned.related_entry_id) == (
        "points_earned",
        123,
        purchase.entry_id,
    )
    (lot,) = lots(store, m.member_no)
    assert (lot.id, lot.points, lot.remaining, lot.expires_on) == (
        earned.entry_id,
        123,
        123,
        "2027-03-02",
    )


def test_tier_campaign_multipliers_and_excluded_products(store):
    rules_variant(store, ('skus = ["F001"]', 'skus = ["F001", "X003"]'))  # 3× points on X003
    m = new_member(store)
    first = buy(store, m.member_no, 999)  # one receipt ≥ ¥999 → 金卡 (earned at the old tier)
    assert (first.points_earned, first.tier, first.tier_changed) == (999, "gold", True)
    assert buy(store, m.member_no, 100).points_earned == 150  # gold 1.5×
    assert buy(store, m.member_no, 100, sku="X003").points_earned == 450
    half = sell(store.ctx, store.cashier, req(("X001", 50), ("X000", 50), member_no=m.member_no))
    assert half.points_earned == 75  # X000 earns nothing
    assert buy(store, m.member_no, 100, sku="X000").points_earned == 0
    assert balance(store, m.member_no) == (999 + 150 + 450 + 75, 0)


# --- a purchase without a receipt: a manager, a reason, a cap ------------------------------


def test_a_typed_in_amount_earns_nothing_without_a_manager_and_a_cap(store):
    """The issue's case: `purchase 1000000 --card …` by a cashier gave a million points and
    the top tier. Points and tier credit now need a receipt, or a manager within the cap."""
    m = member_with_card(store)
    before = snapshot(store)
    with pytest.raises(ApprovalRequired):
        points.record_manual_purchase(
            store.ctx, store.cashier, card_no="88880001", amount_fen=100_000_000, reason="x"
        )
    with pytest.raises(LimitExceeded, match="at most ¥500.00"):
        manual(store, m.member_no, 1_000_000)
    assert snapshot(store)[:4] == before[:4]
    row = member_row(store, m.member_no)
    assert (row.points_balance, row.tier_code) == (0, "normal")
    refused = [a for a in audit_rows(store) if a.outcome == "refused"]
    assert refused[-1].action == "purchase.manual"  # the refused try is on the audit trail


def test_a_managers_purchase_without_a_receipt_is_approved_reasoned_and_audited(store):
    m = new_member(store)
    result = points.record_manual_purchase(
        store.ctx,
        store.cashier,
        member_no=m.member_no,
        amount_fen=30000,
        eligible_fen=20000,
        reason=" 旧系统小票 A123 ",
        approval=store.approval(Permission.PURCHASE_MANUAL),
    )
    assert (result.points_earned, result.points_balance) == (200, 200)
    purchase = entries(store, EntryKind.PURCHASE)[-1]
    assert purchase.approved_by_id == store.manager.operator_id
    assert purchase.operator_id == store.cashier.operator_id
    assert json.loads(purchase.payload) == {
        "manual": True,
        "reason": "旧系统小票 A123",
        "eligible_fen": 20000,
    }
    (event,) = [a for a in audit_rows(store) if a.action == "purchase.manual"]
    assert event.outcome == "ok" and "旧系统小票 A123" in (event.detail or "")
    assert verify_ledger(store.ctx).ok


def test_a_bad_manual_purchase_is_refused_with_nothing_written(store):
    m = new_member(store)
    before = snapshot(store)
    for kwargs in (
        {"amount_fen": 0},
        {"amount_fen": 100, "eligible_fen": 101},
        {"amount_fen": 100, "eligible_fen": -1},
        {"amount_fen": 100, "reason": "  "},
    ):
        kwargs.setdefault("reason", "补录")
        with pytest.raises(InvalidInput):
            points.record_manual_purchase(store.ctx, store.manager, member_no=m.member_no, **kwargs)
    with pytest.raises(InvalidInput):
        points.record_manual_purchase(store.ctx, store.manager, amount_fen=100, reason="补录")
    assert snapshot(store) == before


def test_the_rules_can_forbid_purchases_without_a_receipt(store):
    rules_variant(store, ('manual_purchase_max = "500"', 'manual_purchase_max = "0"'))
    m = new_member(store)
    with pytest.raises(LimitExceeded, match="no purchase without a receipt"):
        manual(store, m.member_no, 1)


# --- referral: one level only (禁止传销条例 art. 7) ---------------------------------------


def test_only_the_direct_referrer_is_rewarded_and_only_once(store):
    a = new_member(store, "13800000001", "甲")
    b = new_member(store, "13800000002", "乙", referrer_no=a.member_no)
    c = new_member(store, "13800000003", "丙", referrer_no=b.member_no)

    first = buy(store, c.member_no, 50)
    assert balance(store, b.member_no) == (100, 0)
    assert balance(store, a.member_no) == (0, 0)  # the referrer's referrer gets nothing
    (reward,) = entries(store, EntryKind.REFERRAL_POINTS)
    assert reward.member_id == member_row(store, b.member_no).id
    assert reward.related_entry_id == first.purchase_entry_id
    assert json.loads(reward.payload)["referred_member_id"] == member_row(store, c.member_no).id

    buy(store, c.member_no, 50)
    assert balance(store, b.member_no) == (100, 0)
    assert balance(store, a.member_no) == (0, 0)
    assert len(entries(store, EntryKind.REFERRAL_POINTS)) == 1

    # B's own first purchase rewards B's direct referrer, A — still one level
    buy(store, b.member_no, 10)
    assert balance(store, a.member_no) == (100, 0)
    assert balance(store, b.member_no) == (110, 0)
    assert verify_ledger(store.ctx).ok


def test_no_referral_points_when_the_rules_give_none(store):
    rules_variant(store, ("referral_points = 100", "referral_points = 0"))
    a = new_member(store, "13800000001", "甲")
    b = new_member(store, "13800000002", "乙", referrer_no=a.member_no)
    buy(store, b.member_no, 50)
    assert balance(store, a.member_no) == (0, 0)
    assert entries(store, EntryKind.REFERRAL_POINTS) == []


# --- redeeming, oldest lots first ----------------------------------------------------


def test_redemption_takes_the_oldest_lots_first(store):
    m = new_member(store)
    buy(store, m.member_no, 100)
    store.clock.advance(days=30)
    buy(store, m.member_no, 50)
    result = points.redeem_points(store.ctx, store.cashier, 120, "礼品兑换", member_no=m.member_no)
    assert (result.points_delta, result.points_balance) == (-120, 30)
    assert [(lot.points, lot.remaining) for lot in lots(store, m.member_no)] == [(100, 0), (50, 30)]
    entry = last_entry(store)
    assert entry.kind == "points_redeemed" and entry.points_delta == -120
    first, second = lots(store, m.member_no)
    assert json.loads(entry.payload)["lots"] == [[first.id, 100], [second.id, 20]]
    with pytest.raises(InsufficientBalance):
        points.redeem_points(store.ctx, store.cashier, 31, "x", member_no=m.member_no)
    assert verify_ledger(store.ctx).ok


# --- expiry --------------------------------------------------------------------------


def test_rolling_expiry_run_by_the_nightly_job(store):
    m = new_member(store)
    buy(store, m.member_no, 100)  # 2026-03-02: valid until 2027-03-01 inclusive
    store.clock.advance(days=200)
    buy(store, m.member_no, 40)
    with pytest.raises(PermissionDenied):
        points.expire_points(store.ctx, store.cashier)
    store.clock.set(datetime(2027, 2, 28, 15, 59, tzinfo=UTC))  # 2027-02-28 23:59 Shanghai
    assert points.expire_points(store.ctx, store.manager) == 0
    store.clock.set(datetime(2027, 2, 28, 16, 1, tzinfo=UTC))  # 2027-03-01 00:01 Shanghai
    assert points.expire_points(store.ctx, store.manager) == 0
    store.clock.set(datetime(2027, 3, 1, 16, 1, tzinfo=UTC))  # 2027-03-02 00:01 Shanghai
    assert points.expire_points(store.ctx, store.manager) == 100
    assert balance(store, m.member_no) == (40, 0)
    expired = last_entry(store)
    assert (expired.kind, expired.points_delta) == ("points_expired", -100)
    assert points.expire_points(store.ctx, store.manager) == 0  # nothing twice
    assert verify_ledger(store.ctx).ok


def test_yearly_clear_out(store):
    rules_variant(store, ('expiry = "rolling"', 'expiry = "yearly"'))
    m = new_member(store)
    buy(store, m.member_no, 100)  # earned 2026: kept until 2027-12-31
    (lot,) = lots(store, m.member_no)
    assert lot.expires_on == "2028-01-01"
    store.clock.set(datetime(2027, 12, 31, 15, 0, tzinfo=UTC))  # 23:00 on 12-31 in Shanghai
    assert points.expire_points(store.ctx, store.manager) == 0
    buy(store, m.member_no, 30)  # earned 2027: kept until 2028-12-31
    store.clock.set(datetime(2027, 12, 31, 16, 30, tzinfo=UTC))  # 2028-01-01 00:30 Shanghai
    assert points.expire_points(store.ctx, store.manager) == 100
    assert balance(store, m.member_no) == (30, 0)


def test_redemption_never_spends_expired_points(store):
    m = new_member(store)
    buy(store, m.member_no, 100)
    store.clock.advance(days=400)  # the lot has expired but the nightly job has not run
    buy(store, m.member_no, 20)
    with pytest.raises(InsufficientBalance, match="20 available"):
        points.redeem_points(store.ctx, store.cashier, 21, "x", member_no=m.member_no)
    # the refused redemption rolled back whole; the expiry comes with the next write
    assert balance(store, m.member_no) == (120, 0)
    points.redeem_points(store.ctx, store.cashier, 20, "x", member_no=m.member_no)
    assert balance(store, m.member_no) == (0, 0)
    assert [e.kind for e in entries(store)][-2:] == ["points_expired", "points_redeemed"]
    assert verify_ledger(store.ctx).ok


# --- refunds and debt ----------------------------------------------------------------


def test_a_refund_reverses_points_and_a_spent_reversal_becomes_a_debt(store):
    m = new_member(store)
    purchase = manual(store, m.member_no, 200)
    points.redeem_points(store.ctx, store.cashier, 150, "兑换", member_no=m.member_no)
    assert balance(store, m.member_no) == (50, 0)
    with pytest.raises(ApprovalRequired):
        points.refund_purchase(store.ctx, store.cashier, purchase.purchase_entry_id)
    result = points.refund_purchase(
        store.ctx,
        store.cashier,
        purchase.purchase_entry_id,
        approval=store.approval(Permission.PURCHASE_REFUND),
    )
    assert (result.points_delta, result.points_balance) == (-200, -150)
    assert balance(store, m.member_no) == (-150, 150)
    reversed_ = last_entry(store)
    assert (reversed_.kind, reversed_.points_delta) == ("points_reversed", -200)
    assert json.loads(reversed_.payload)["debt_added"] == 150
    with pytest.raises(InvalidInput, match="already refunded"):
        points.refund_purchase(store.ctx, store.manager, purchase.purchase_entry_id)

    # a negative balance blocks redemption
    before = snapshot(store)
    with pytest.raises(InsufficientBalance, match="negative"):
        points.redeem_points(store.ctx, store.cashier, 1, "x", member_no=m.member_no)
    assert snapshot(store) == before

    # new points pay off the debt first
    buy(store, m.member_no, 100)
    assert balance(store, m.member_no) == (-50, 50)
    with pytest.raises(InsufficientBalance):
        points.redeem_points(store.ctx, store.cashier, 1, "x", member_no=m.member_no)
    buy(store, m.member_no, 80)
    assert balance(store, m.member_no) == (30, 0)
    assert lots(store, m.member_no)[-1].remaining == 30
    points.redeem_points(store.ctx, store.cashier, 30, "x", member_no=m.member_no)
    assert balance(store, m.member_no) == (0, 0)
    assert verify_ledger(store.ctx).ok


def test_a_refund_takes_back_its_own_lot_first(store):
    m = new_member(store)
    buy(store, m.member_no, 100)
    store.clock.advance(days=1)
    later = buy(store, m.member_no, 60)
    store.at_till(store.manager)  # the manager's own drawer pays it back
    refund_sale(store.ctx, store.manager, later.receipt_no)
    assert [(lot.points, lot.remaining) for lot in lots(store, m.member_no)] == [
        (100, 100),
        (60, 0),
    ]
    assert balance(store, m.member_no) == (100, 0)


def test_a_refund_removes_the_spend_from_the_tier_window(store):
    m = new_member(store)
    refunded = buy(store, m.member_no, 1500)  # gold by single purchase
    store.at_till(store.manager)  # the manager's own drawer pays it back
    refund_sale(store.ctx, store.manager, refunded.receipt_no)
    # The receipt that made the member gold went back: so did the tier.
    assert member_row(store, m.member_no).tier_code == "normal"
    assert buy(store, m.member_no, 600).tier == "normal"
    purchases = entries(store, EntryKind.PURCHASE_REFUNDED)
    assert [e.amount_fen for e in purchases] == [150000]


def test_a_till_sale_is_refunded_by_a_return_not_by_purchase_refund(store):
    m = new_member(store)
    sale = buy(store, m.member_no, 100)
    with pytest.raises(InvalidInput, match="use a return"):
        points.refund_purchase(store.ctx, store.manager, sale.purchase_entry_id)


# --- participation points and adjustments --------------------------------------------


def test_participation_points_need_a_reason_and_a_managers_approval(store):
    m = new_member(store)
    before = snapshot(store)
    with pytest.raises(InvalidInput, match="reason"):
        points.give_participation_points(store.ctx, store.manager, m.member_no, 50, "  ")
    with pytest.raises(InvalidInput):
        points.give_participation_points(store.ctx, store.manager, m.member_no, 0, "问卷")
    with pytest.raises(ApprovalRequired):
        points.give_participation_points(store.ctx, store.cashier, m.member_no, 50, "问卷")
    assert snapshot(store)[:4] == before[:4]
    result = points.give_participation_points(
        store.ctx,
        store.cashier,
        m.member_no,
        50,
        " 门店活动问卷 ",
        approval=store.approval(Permission.POINTS_PARTICIPATION),
    )
    assert result.points_balance == 50
    entry = last_entry(store)
    assert (entry.kind, entry.approved_by_id) == ("participation_points", store.manager.operator_id)
    assert json.loads(entry.payload)["reason"] == "门店活动问卷"


def test_manual_adjustment_by_a_manager_with_a_reason(store):
    m = new_member(store)
    buy(store, m.member_no, 100)
    before = snapshot(store)
    with pytest.raises(PermissionDenied):
        points.adjust_points(store.ctx, store.cashier, m.member_no, 10, "补录")
    with pytest.raises(InvalidInput):
        points.adjust_points(store.ctx, store.manager, m.member_no, 10, "")
    with pytest.raises(InvalidInput):
        points.adjust_points(store.ctx, store.manager, m.member_no, 0, "补录")
    with pytest.raises(InsufficientBalance, match="at most 100"):
        points.adjust_points(store.ctx, store.manager, m.member_no, -101, "纠错")
    assert snapshot(store)[:4] == before[:4]
    added = points.adjust_points(store.ctx, store.manager, m.member_no, 25, "补录")
    assert added.points_balance == 125
    taken = points.adjust_points(store.ctx, store.manager, m.member_no, -40, "纠错")
    assert taken.points_balance == 85
    assert last_entry(store).approved_by_id is None  # not a privileged act: no approver
    assert verify_ledger(store.ctx).ok
