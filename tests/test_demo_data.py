"""Demo data: a realistic store made through the public services, fully in the ledger."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from db.engine import read_session
from db.models import Card, LedgerEntry, Member, PointLot, RulesVersion
from pos_app.domain.entry_kinds import EntryKind
from pos_app.domain.errors import PermissionDenied
from pos_app.domain.members import normalize_mobile
from pos_app.services import stored_value
from pos_app.services.context import open_store
from pos_app.services.demo_data import DemoSummary, fill_demo_store
from pos_app.services.sign_in import sign_in
from pos_app.services.store_setup import init_store
from pos_app.services.verify import verify_ledger
from tests.conftest import FakeClock, StoreFixture

CHINESE_NAME = re.compile(r"^[\u4e00-\u9fff]{2,4}$")


def kinds(store: StoreFixture) -> dict[str, int]:
    with read_session(store.ctx.engine) as s:
        rows = s.execute(select(LedgerEntry.kind, func.count()).group_by(LedgerEntry.kind)).all()
    return {kind: n for kind, n in rows}


@pytest.fixture
def filled(store: StoreFixture) -> tuple[StoreFixture, DemoSummary, list[tuple[int, int]]]:
    calls: list[tuple[int, int]] = []
    summary = fill_demo_store(
        store.ctx, store.admin, members=40, progress=lambda d, t: calls.append((d, t))
    )
    return store, summary, calls


def test_demo_store_fills_and_verifies(
    filled: tuple[StoreFixture, DemoSummary, list[tuple[int, int]]],
) -> None:
    store, summary, calls = filled
    report = verify_ledger(store.ctx)
    assert report.ok, report.problems
    assert report.members == summary.members == 40
    assert summary.cards >= 40 and summary.stock_cards >= 10
    assert summary.topups > 0 and summary.payments > 0 and summary.purchases > 0
    assert summary.refunds >= 2 and summary.lost_replaced >= 1
    assert 1 <= summary.pins <= 20 and summary.referrals > 0 and summary.tier_upgrades > 0
    # Every kind of activity is really in the ledger.
    seen = kinds(store)
    assert seen[EntryKind.MEMBER_REGISTERED] == 40
    assert seen[EntryKind.CARD_ISSUED] == summary.cards
    assert seen[EntryKind.TOPUP] == summary.topups
    # The till's member sales pay from stored value too, on top of the direct payments.
    assert seen[EntryKind.SV_PAYMENT] > summary.payments
    assert seen[EntryKind.PURCHASE] == summary.purchases + summary.sales
    assert summary.sales >= 30 and summary.coupons > 0
    assert seen[EntryKind.PURCHASE_REFUNDED] >= 2 and seen[EntryKind.PASS_USED] == 1
    assert seen[EntryKind.CARD_STOCK_IMPORTED] == 1
    assert seen[EntryKind.CARD_LOST] == seen[EntryKind.CARD_REPLACED_OUT] == summary.lost_replaced
    assert seen[EntryKind.PIN_SET] == summary.pins
    assert seen[EntryKind.POINTS_EARNED] > 0 and seen[EntryKind.REFERRAL_POINTS] > 0
    # Upgrades, and any tier a return or a top-up refund took back.
    assert seen[EntryKind.TIER_CHANGED] == summary.tier_upgrades + summary.tier_downgrades
    assert EntryKind.POINTS_REVERSED in seen or EntryKind.PURCHASE_REFUNDED in seen
    refunds = sum(
        seen.get(k, 0)
        for k in (
            EntryKind.PURCHASE_REFUNDED,
            EntryKind.SV_PAYMENT_REFUNDED,
            EntryKind.TOPUP_REFUNDED,
        )
    )
    assert refunds == summary.refunds
    # Progress ran from the start to the end.
    assert calls[0][0] < calls[-1][0] == calls[-1][1]
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_names_are_chinese_and_mobiles_valid_and_unique(
    filled: tuple[StoreFixture, DemoSummary, list[tuple[int, int]]],
) -> None:
    store, _, _ = filled
    with read_session(store.ctx.engine) as s:
        rows = s.execute(select(Member.name, Member.mobile, Member.gender, Member.birthday)).all()
    assert len(rows) == 40
    assert all(CHINESE_NAME.match(name) for name, _, _, _ in rows)
    mobiles = [mobile for _, mobile, _, _ in rows]
    assert all(normalize_mobile(m) == m for m in mobiles)
    assert len(set(mobiles)) == 40
    assert {g for _, _, g, _ in rows} == {"male", "female"}
    assert any(b for _, _, _, b in rows)


def test_tiers_points_and_a_replaced_card_whose_balance_moved(
    filled: tuple[StoreFixture, DemoSummary, list[tuple[int, int]]],
) -> None:
    store, summary, _ = filled
    with read_session(store.ctx.engine) as s:
        tiers = set(s.scalars(select(Member.tier_code)))
        lots = s.scalar(select(func.count()).select_from(PointLot))
        old = s.scalars(select(Card).where(Card.state == "replaced")).first()
        assert old is not None and old.replaced_by_id is not None
        new = s.get(Card, old.replaced_by_id)
        assert new is not None
        moved_out = s.scalars(
            select(LedgerEntry).where(
                LedgerEntry.card_id == old.id, LedgerEntry.kind == EntryKind.CARD_REPLACED_OUT
            )
        ).one()
        old_balance = (old.principal_fen, old.bonus_fen)
        new_member, old_member, new_state = new.member_id, old.member_id, new.state
        moved = -(moved_out.principal_delta + moved_out.bonus_delta)
    assert tiers - {"normal"}, "at least one member was upgraded"
    assert {"silver", "gold"} <= tiers  # the ¥1000 top-up and the ¥1499 receipt
    assert lots and lots > 0
    assert old_balance == (0, 0) and moved > 0
    assert new_member == old_member and new_state == "active"


def test_sample_cards_are_active_and_hold_stored_value(
    filled: tuple[StoreFixture, DemoSummary, list[tuple[int, int]]],
) -> None:
    store, summary, _ = filled
    assert 1 <= len(summary.sample_cards) <= 5
    for card_no in summary.sample_cards:
        shown = stored_value.balance(store.ctx, store.cashier, card_no)
        assert shown.card_state == "active" and shown.stored_value_fen > 0
    # A sample card pays at the till with no PIN.
    paid = stored_value.pay_with_stored_value(
        store.ctx, store.cashier, summary.sample_cards[0], 100
    )
    assert paid.amount_fen == 100


def test_same_seed_same_people_and_a_second_run_adds_more(store: StoreFixture) -> None:
    first = fill_demo_store(store.ctx, store.admin, members=5, seed=7)
    second = fill_demo_store(store.ctx, store.admin, members=5, seed=7)
    assert first.members == second.members == 5
    report = verify_ledger(store.ctx)
    assert report.ok, report.problems
    with read_session(store.ctx.engine) as s:
        mobiles = list(s.scalars(select(Member.mobile)))
        names = list(s.scalars(select(Member.name).order_by(Member.member_no)))
    assert len(set(mobiles)) == 10  # the repeated seed's mobiles were taken: new ones drawn
    assert names[:3] == names[5:8]  # the same seed tells the same story


def test_only_an_admin_may_fill_a_demo_store(store: StoreFixture) -> None:
    for actor in (store.manager, store.cashier):
        with pytest.raises(PermissionDenied):
            fill_demo_store(store.ctx, actor, members=3)
    with read_session(store.ctx.engine) as s:
        assert s.scalar(select(func.count()).select_from(Member)) == 0


def test_a_store_without_rules_gets_the_example_rules(tmp_path: Path) -> None:
    ctx = open_store(tmp_path / "fresh", clock=FakeClock())
    try:
        init_store(ctx, "BJ01", "北京店", "admin", "secret123")
        admin = sign_in(ctx, "admin", "secret123")
        summary = fill_demo_store(ctx, admin, members=3)
        with read_session(ctx.engine) as s:
            labels = list(s.scalars(select(RulesVersion.label)))
        assert labels == ["2026 标准规则 / standard rules"]
        assert summary.topups >= 1
        # The first top-up (¥1000) got the 充1000送150 bonus under the loaded rules.
        with read_session(ctx.engine) as s:
            first = s.scalars(
                select(LedgerEntry)
                .where(LedgerEntry.kind == EntryKind.TOPUP)
                .order_by(LedgerEntry.store_seq)
            ).first()
            assert first is not None
            assert (first.principal_delta, first.bonus_delta) == (100000, 15000)
        assert verify_ledger(ctx).ok
    finally:
        ctx.engine.dispose()
