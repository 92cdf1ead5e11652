"""Names, reasons and labels people type are refused with control characters in them (an
ESC that repaints a terminal, a NUL or CR that cuts a receipt line, a bidi override that
reverses what a report shows), before anything is written."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest
from sqlalchemy import func, select

from db.engine import read_session
from db.models import AuditEvent, Coupon, CouponTemplate, HeldSale, Operator, Shift, Store
from pos_app.domain.coupons import TemplateSpec
from pos_app.domain.errors import InvalidInput
from pos_app.domain.permissions import Permission
from pos_app.services import (
    cards,
    coupons,
    held_sales,
    members,
    points,
    shifts,
    store_setup,
    tiers,
)
from tests.conftest import StoreFixture
from tests.services.support import count, new_member, req, snapshot

ESC_NAME = "张\x1b[2J三"
CONTROLS = ["\x1b[31m", "\x00", "\r", "\n", "\t", "\u202e", "\x9b", "\x7f"]
TEMPLATE = TemplateSpec(code="T1", name="满20减8", kind="amount_off", amount_off_fen=800,
                        threshold_fen=2000, valid_days=30)  # fmt: skip


def state(store: StoreFixture) -> tuple[int, ...]:
    """Row counts of everything these use-cases write (audit events included)."""
    return (
        *snapshot(store),
        *(count(store, m) for m in (Operator, CouponTemplate, Coupon, HeldSale, Shift)),
    )


USE_CASES: dict[str, Callable[[StoreFixture, str, str], object]] = {
    "member register": lambda s, bad, _m: new_member(s, "13900139000", f"张{bad}三"),
    "member email": lambda s, bad, _m: new_member(s, "13900139000", email=f"a{bad}@b.cn"),
    "member edit name": lambda s, bad, m: members.update_member(
        s.ctx, s.cashier, m, name=f"张{bad}三"
    ),
    "member edit address": lambda s, bad, m: members.update_member(
        s.ctx, s.cashier, m, address=f"上海{bad}路"
    ),
    "operator add": lambda s, bad, _m: store_setup.add_operator(
        s.ctx, s.admin, "zhao", f"赵{bad}六", "cashier", "secret123"
    ),
    "store rename": lambda s, bad, _m: store_setup.update_store_info(s.ctx, s.admin, f"店{bad}名"),
    "coupon template": lambda s, bad, _m: coupons.add_template(
        s.ctx, s.manager, replace(TEMPLATE, code="T2", name=f"券{bad}名")
    ),
    "coupon batch label": lambda s, bad, _m: coupons.make_batch(
        s.ctx, s.manager, "T1", 1, f"合作{bad}商户"
    ),
    "coupon void reason": lambda s, bad, m: coupons.void_coupon(
        s.ctx, s.manager, coupons.member_coupons(s.ctx, s.manager, m)[0].code, f"错{bad}发"
    ),
    "paid out reason": lambda s, bad, _m: shifts.paid_out(s.ctx, s.cashier, 100, f"买{bad}胶带"),
    "paid in reason": lambda s, bad, _m: shifts.paid_in(s.ctx, s.cashier, 100, f"换{bad}零"),
    "points adjust reason": lambda s, bad, m: points.adjust_points(
        s.ctx, s.manager, m, 10, f"补{bad}录"
    ),
    "points give reason": lambda s, bad, m: points.give_participation_points(
        s.ctx, s.manager, m, 10, f"问卷{bad}", s.approval(Permission.POINTS_PARTICIPATION)
    ),
    "points redeem reason": lambda s, bad, m: points.redeem_points(
        s.ctx, s.cashier, 1, f"兑{bad}换", member_no=m
    ),
    "tier change reason": lambda s, bad, m: tiers.change_tier(
        s.ctx, s.manager, m, "gold", f"补{bad}录", s.approval(Permission.TIER_CHANGE)
    ),
    "card stock label": lambda s, bad, _m: cards.import_card_stock(
        s.ctx, s.manager, ["88889999"], label=f"第{bad}批"
    ),
    "hold label": lambda s, bad, _m: held_sales.hold_sale(
        s.ctx, s.cashier, req(("D001", 1)), f"挂{bad}单"
    ),
}


@pytest.mark.parametrize("bad", CONTROLS, ids=repr)
@pytest.mark.parametrize("use_case", USE_CASES)
def test_a_control_character_is_refused_and_nothing_is_written(
    store: StoreFixture, use_case: str, bad: str
) -> None:
    coupons.add_template(store.ctx, store.manager, TEMPLATE)
    shifts.open_shift(store.ctx, store.cashier, 10000)
    member_no = new_member(store).member_no
    coupons.issue_coupons(store.ctx, store.manager, "T1", member_no)
    before = state(store)
    with pytest.raises(InvalidInput) as info:
        USE_CASES[use_case](store, bad, member_no)
    assert "控制字符" in info.value.zh and "control characters" in info.value.en
    assert state(store) == before


def test_notes_may_have_several_lines_but_no_escape(store: StoreFixture) -> None:
    m = new_member(store)
    members.update_member(store.ctx, store.cashier, m.member_no, notes="一\n二")
    audits = count(store, AuditEvent)
    with pytest.raises(InvalidInput):
        members.update_member(store.ctx, store.cashier, m.member_no, notes="一\x1b[2J")
    assert count(store, AuditEvent) == audits


def test_the_store_name_is_checked_at_init_too(tmp_path) -> None:
    from pos_app.services.context import open_store

    ctx = open_store(tmp_path / "s")
    with pytest.raises(InvalidInput, match="control characters"):
        store_setup.init_store(ctx, "SH09", "南京路\x1b]0;pwned\x07", "admin", "secret123")
    with read_session(ctx.engine) as s:
        assert s.scalar(select(func.count()).select_from(Store)) == 0
    ctx.engine.dispose()
