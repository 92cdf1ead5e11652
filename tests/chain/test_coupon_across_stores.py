"""A coupon issued at SH01 works at BJ01 (docs/chain-protocol.md, "Coupons of another
store"): it comes down with its template and its chain state as a `coupon_synced` mirror;
used at BJ01 online, HQ holds it and SH01 can no longer use it online; used offline at both
tills, HQ finds `coupon_reused`. Both tills' verify and HQ's pass. On SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.engine import read_session, write_session
from db.models import Coupon, CouponTemplate, LedgerEntry, SyncState
from hq import conflicts
from pos_app.domain.coupons import TemplateSpec
from pos_app.domain.entry_kinds import EntryKind
from pos_app.domain.errors import DomainError
from pos_app.services import coupons
from pos_app.services.cards import issue_card
from pos_app.services.checkout import sell
from pos_app.services.members import register_member
from tests.chain.conftest import ChainTill, hq_verified
from tests.services.support import req
from tests.sync_support.hq_process import free_port
from tests.sync_support.hq_thread import HqThread

CARD = "88880002"
SPEC = TemplateSpec(
    code="VEG20-8",
    name="蔬菜满20减8",
    kind="amount_off",
    threshold_fen=2000,
    amount_off_fen=800,
    categories=("蔬菜",),
    valid_days=30,
)


def _coupon_of_shanghai(shanghai: ChainTill, beijing: ChainTill) -> str:
    member = register_member(shanghai.ctx, shanghai.admin, "13800138000", "张三")
    issue_card(shanghai.ctx, shanghai.admin, member.member_no, CARD)
    coupons.add_template(shanghai.ctx, shanghai.admin, SPEC)
    (issued,) = coupons.issue_coupons(shanghai.ctx, shanghai.admin, "VEG20-8", member.member_no)
    shanghai.push()
    beijing.pull()
    return issued.code


def _state(till: ChainTill, code: str) -> str:
    with read_session(till.ctx.engine) as s:
        return s.scalars(select(Coupon.state).where(Coupon.code == code)).one()


def _point_at(till: ChainTill, url: str) -> str:
    with write_session(till.ctx.engine) as session:
        state = session.get(SyncState, 1)
        assert state is not None
        was, state.hq_url = state.hq_url, url
        return str(was)


def test_a_coupon_of_shanghai_is_used_in_beijing_online(
    hq: HqThread, two_stores: tuple[ChainTill, ChainTill]
) -> None:
    shanghai, beijing = two_stores
    code = _coupon_of_shanghai(shanghai, beijing)
    with read_session(beijing.ctx.engine) as s:
        template = s.scalars(select(CouponTemplate).where(CouponTemplate.code == "VEG20-8")).one()
        assert not template.active  # BJ01 does not issue SH01's coupons
        mirror = s.scalars(
            select(LedgerEntry).where(LedgerEntry.kind == EntryKind.COUPON_SYNCED)
        ).one()
        assert json.loads(mirror.payload or "{}")["state"] == "issued"
    assert _state(beijing, code) == "issued"
    beijing.verified()

    sale = sell(beijing.ctx, beijing.admin, req(("V001", 3), card=CARD, coupons=[code]))
    assert sale.receipt.coupons_used == (f"{code} 蔬菜满20减8",)
    with read_session(beijing.ctx.engine) as s:
        redeemed = s.scalars(
            select(LedgerEntry).where(LedgerEntry.kind == EntryKind.COUPON_REDEEMED)
        ).one()
        assert "hold_id" in json.loads(redeemed.payload or "{}")
    beijing.push()
    # HQ holds it used: SH01, online, is refused.
    with pytest.raises(DomainError) as refused:
        sell(shanghai.ctx, shanghai.admin, req(("V001", 3), card=CARD, coupons=[code]))
    assert refused.value.code == "coupon_used"
    # BJ01 hears its own use back and writes nothing.
    beijing.pull()
    with read_session(beijing.ctx.engine) as s:
        kinds = s.scalars(select(LedgerEntry.kind).where(LedgerEntry.kind.like("coupon_%")))
        assert sorted(kinds) == ["coupon_redeemed", "coupon_synced"]
    assert _state(beijing, code) == "used"
    # SH01 hears the use: its own coupon is used here too (offline it is refused as well).
    assert _state(shanghai, code) == "issued"
    shanghai.pull()
    assert _state(shanghai, code) == "used"
    with read_session(shanghai.ctx.engine) as s:
        used_on = s.scalars(select(Coupon.used_receipt_no).where(Coupon.code == code)).one()
    assert used_on == sale.receipt_no
    for till in (shanghai, beijing):
        till.verified()
    hq_verified(hq)


def test_a_coupon_used_offline_at_two_tills_is_caught(
    hq: HqThread, two_stores: tuple[ChainTill, ChainTill]
) -> None:
    shanghai, beijing = two_stores
    code = _coupon_of_shanghai(shanghai, beijing)
    shanghai.pull()  # heard from HQ within the offline limits' hours
    down = f"http://127.0.0.1:{free_port()}"
    urls = [_point_at(till, down) for till in (shanghai, beijing)]
    for till in (shanghai, beijing):
        sale = sell(till.ctx, till.admin, req(("V001", 3), card=CARD, coupons=[code]))
        assert sale.receipt.notes == ("离线授权 / offline authorization",)
    for till, url in zip((shanghai, beijing), urls, strict=True):
        _point_at(till, url)
        till.push()
    with Session(hq.engine) as session, session.begin():
        conflicts.detect(session, shanghai.ctx.clock())
        found = conflicts.list_conflicts(session)
    reused = [c for c in found if c.kind == "coupon_reused"]
    assert len(reused) == 1 and set(reused[0].tills) == {"SH01-01", "BJ01-01"}
    for till in (shanghai, beijing):
        till.pull()
        assert _state(till, code) == "used"
        till.verified()
    hq_verified(hq)
