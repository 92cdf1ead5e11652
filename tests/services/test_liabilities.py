"""负债 on a date, from the ledger: stored value, points, cards' unused value and coupons,
each recomputed by hand from what the test did, for today and for a day in the past."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from db.engine import read_session
from db.models import LedgerEntry
from pos_app.domain.coupons import TemplateSpec
from pos_app.domain.errors import ApprovalRequired, InvalidInput
from pos_app.domain.permissions import Permission
from pos_app.services import shifts, stored_value
from pos_app.services.catalogue import load_demo_catalogue
from pos_app.services.checkout import sell
from pos_app.services.coupons import add_template, issue_coupons
from pos_app.services.liabilities import liabilities
from tests.conftest import StoreFixture
from tests.services.support import card_row, member_row, member_with_card, req

CARD = "88880001"
DAY = date(2026, 3, 2)


@pytest.fixture
def shop(store: StoreFixture) -> StoreFixture:
    load_demo_catalogue(store.ctx, store.manager)
    shifts.open_shift(store.ctx, store.cashier, 0)
    return store


def test_liabilities_today_and_on_a_past_day(shop: StoreFixture) -> None:
    store = shop
    member = member_with_card(store, CARD)
    top = stored_value.top_up(store.ctx, store.cashier, CARD, 50_000)
    card = sell(store.ctx, store.cashier, req(("C010", 1), card=CARD, pay=[("cash", None)]))
    add_template(
        store.ctx,
        store.manager,
        TemplateSpec(
            code="T10",
            name="满50减10",
            kind="amount_off",
            threshold_fen=5_000,
            amount_off_fen=1_000,
            valid_days=30,
        ),
    )
    issue_coupons(store.ctx, store.manager, "T10", member.member_no, 2)
    first_day = liabilities(store.ctx, store.manager)
    points_day1 = member_row(store, member.member_no).points_balance

    # The next day: two washes from the card and laundry liquid from stored value.
    store.clock.advance(days=1)
    sell(store.ctx, store.cashier, req(("SV01", 2), card=CARD, pay=[("count_card", None)]))
    laundry = sell(
        store.ctx, store.cashier, req(("H001", 1), card=CARD, pay=[("stored_value", None)])
    )
    now = liabilities(store.ctx, store.manager)
    again = liabilities(store.ctx, store.manager, DAY)

    # Day one: ¥500 principal and its bonus, the ¥400 card untouched, two ¥10 coupons.
    assert first_day == again  # the past day is read from the ledger, not the projections
    assert (first_day.sv_principal_fen, first_day.sv_bonus_fen) == (50_000, top.bonus_fen)
    assert first_day.points == points_day1 > 0
    assert [(p.kind, p.passes, p.uses_left, p.value_fen) for p in first_day.passes] == [
        ("count", 1, 10, card.total_fen)
    ]
    assert (first_day.coupons, first_day.coupons_face_fen) == (2, 2_000)

    with read_session(store.ctx.engine) as s:
        e = LedgerEntry
        by_ledger = s.execute(
            select(
                func.sum(e.principal_delta), func.sum(e.bonus_delta), func.sum(e.points_delta)
            ).where(e.business_time < store.ctx.day_start_iso(DAY + timedelta(days=1)))
        ).one()
    assert tuple(by_ledger) == (again.sv_principal_fen, again.sv_bonus_fen, again.points)
    # Today: the projections agree, and 8 of 10 uses are left: 8/10 of ¥400.
    principal, bonus = card_row(store, CARD).principal_fen, card_row(store, CARD).bonus_fen
    assert (now.sv_principal_fen, now.sv_bonus_fen) == (principal, bonus)
    assert now.sv_fen == 50_000 + top.bonus_fen - laundry.total_fen
    assert now.points == member_row(store, member.member_no).points_balance
    assert now.points_value_fen == now.points * 100 // now.points_per_yuan
    assert [(p.kind, p.passes, p.uses_left, p.value_fen) for p in now.passes] == [
        ("count", 1, 8, 40_000 * 8 // 10)
    ]
    assert now.total_fen == now.sv_fen + now.points_value_fen + 32_000 + 2_000


def test_liabilities_need_a_manager_and_no_future_day(shop: StoreFixture) -> None:
    with pytest.raises(ApprovalRequired):
        liabilities(shop.ctx, shop.cashier)
    assert liabilities(shop.ctx, shop.cashier, None, shop.approval(Permission.REPORT_STORE))
    with pytest.raises(InvalidInput):
        liabilities(shop.ctx, shop.manager, DAY + timedelta(days=1))
