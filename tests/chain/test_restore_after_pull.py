"""A till that pulled and spent another store's card is restored from HQ after its disk
died (docs/sync-protocol.md, "Head and restore"; docs/chain-protocol.md, "Down"): the rows
the feed apply wrote went up as the till's copy, so the rebuilt database holds every row its
mirror entries name; it verifies, sells again, pushes onto the same chain, and its next pull
applies nothing twice. On SQLite and PostgreSQL HQs."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.engine import read_session
from db.models import Card, Coupon, LedgerEntry, Member, PointLot, Store
from hq import admin, conflicts
from hq.chain_catalogue import import_products
from hq.models import ChainMember
from hq.operators import add_operator
from pos_app.domain.coupons import TemplateSpec
from pos_app.services import coupons, stored_value
from pos_app.services.cards import issue_card
from pos_app.services.checkout import sell
from pos_app.services.members import register_member, update_member
from pos_app.services.sign_in import sign_in
from pos_app.services.sync_restore import restore_from_hq
from pos_app.sync.status import sync_status
from tests.chain.conftest import ChainTill, hq_verified, make_till
from tests.conftest import PASSWORD, hand_till_to
from tests.services.support import req
from tests.sync_support.hq_thread import HqThread

CARD = "88880001"
SPEC = TemplateSpec(
    code="VEG20-8",
    name="蔬菜满20减8",
    kind="amount_off",
    threshold_fen=2000,
    amount_off_fen=800,
    valid_days=30,
)


def _now() -> datetime:
    return datetime.now(UTC)


def _snapshot(till: ChainTill) -> dict[str, object]:
    with read_session(till.ctx.engine) as s:
        card = s.scalars(select(Card).where(Card.card_no == CARD)).one()
        member = s.get(Member, card.member_id)
        assert member is not None
        return {
            "card": (card.principal_fen, card.bonus_fen, card.state),
            "points": (member.points_balance, member.points_debt, member.tier_code),
            "lots": sorted(
                (lot.id, lot.points, lot.remaining)
                for lot in s.scalars(select(PointLot).where(PointLot.member_id == member.id))
            ),
            "stores": sorted(s.scalars(select(Store.code))),
            "coupons": sorted(s.execute(select(Coupon.code, Coupon.state)).tuples()),
            "entries": s.scalar(select(func.count()).select_from(LedgerEntry)),
        }


def test_a_till_that_spent_another_stores_card_restores_from_hq(
    hq: HqThread, two_stores: tuple[ChainTill, ChainTill], tmp_path: Path
) -> None:
    shanghai, beijing = two_stores
    # HQ's master data: a chain product and a manager of BJ01 (both come down to BJ01).
    now = _now()
    with Session(hq.engine) as session, session.begin():
        import_products(
            session, "sku,barcodes,name,category,price\nH001,,茶,饮料,6.00\n".encode(), now
        )
        add_operator(
            session, "bj-mgr", "王经理", "manager", "store", "hq-pass-1", now, store_code="BJ01"
        )
    member = register_member(shanghai.ctx, shanghai.admin, "13800138000", "张三")
    issue_card(shanghai.ctx, shanghai.admin, member.member_no, CARD)
    stored_value.top_up(shanghai.ctx, shanghai.admin, CARD, 50_000)
    sell(shanghai.ctx, shanghai.admin, req(("V001", 2), card=CARD))
    coupons.add_template(shanghai.ctx, shanghai.admin, SPEC)  # SH01's own template
    coupons.issue_coupons(shanghai.ctx, shanghai.admin, "VEG20-8", member.member_no)
    shanghai.push()
    beijing.pull()
    # Spent at BJ01 online by HQ's manager, on HQ's product; then SH01 tops up and BJ01
    # hears it.
    manager = sign_in(beijing.ctx, "bj-mgr", "hq-pass-1")
    hand_till_to(beijing.ctx, manager, 10_000)
    sell(beijing.ctx, manager, req(("H001", 1), card=CARD, pay=[("stored_value", None)]))
    beijing.push()
    stored_value.top_up(shanghai.ctx, shanghai.admin, CARD, 10_000)
    shanghai.push()
    beijing.pull()
    beijing.push()
    before = _snapshot(beijing)
    assert [state for _, state in before["coupons"]] == ["issued"]  # SH01's, as BJ01 holds it
    beijing.ctx.engine.dispose()

    # BJ01's disk dies.
    with Session(hq.engine) as session, session.begin():
        token = admin.enroll_till(session, "BJ01", _now(), "BJ01-01").token
    data_dir, key_dir = tmp_path / "new-disk" / "data", tmp_path / "new-disk" / "keys"
    result, ctx = restore_from_hq(data_dir, hq.url, token, key_dir=key_dir, clock=_now)
    restored = ChainTill("BJ01-01", ctx, sign_in(ctx, "admin", PASSWORD))
    try:
        assert result.verified, result.problems
        after = _snapshot(restored)
        assert after["entries"] == before["entries"] + result.new_head_seq - result.head_seq
        assert {k: v for k, v in after.items() if k != "entries"} == {
            k: v for k, v in before.items() if k != "entries"
        }
        assert sign_in(ctx, "bj-mgr", "hq-pass-1").login == "bj-mgr"
        # A pull applies nothing twice: HQ's values are already mirrored here.
        entries = after["entries"]
        assert sync_status(ctx).feed_cursor == 0  # HQ keeps no cursor: the feed again
        assert restored.pull().items >= 3  # SH01, the member, the card, HQ's master data
        assert _snapshot(restored)["entries"] == entries
        # It goes on: the card spent again, pushed onto the same chain; SH01 hears of it.
        hand_till_to(ctx, restored.admin, 10_000)
        sell(ctx, restored.admin, req(("V001", 1), card=CARD, pay=[("stored_value", None)]))
        restored.push()
        shanghai.pull()
        assert _snapshot(shanghai)["card"] == _snapshot(restored)["card"]
        restored.verified()
        shanghai.verified()
        hq_verified(hq)
    finally:
        ctx.engine.dispose()


def test_a_tills_copy_of_a_member_is_not_taken_for_the_home_stores(
    hq: HqThread, two_stores: tuple[ChainTill, ChainTill]
) -> None:
    """BJ01's copy of an SH01 member keeps the old mobile after SH01 changed it and gave it
    to a new member: no `mobile_duplicate` (the copy is not SH01's data)."""
    shanghai, beijing = two_stores
    first = register_member(shanghai.ctx, shanghai.admin, "13800138000", "张三")
    shanghai.push()
    beijing.pull()
    beijing.push()  # BJ01's copy, with 13800138000
    update_member(shanghai.ctx, shanghai.admin, first.member_no, mobile="13900139000")
    register_member(shanghai.ctx, shanghai.admin, "13800138000", "李四")
    shanghai.push()
    with Session(hq.engine) as session, session.begin():
        conflicts.detect(session, _now())
        found = conflicts.list_conflicts(session, include_resolved=True)
    assert [c.kind for c in found if c.kind == "mobile_duplicate"] == []
    # Two members of one mobile at two stores still are one.
    register_member(beijing.ctx, beijing.admin, "13900139000", "王五")
    beijing.push()
    with Session(hq.engine) as session, session.begin():
        conflicts.detect(session, _now())
        found = conflicts.list_conflicts(session, include_resolved=True)
    assert [c.kind for c in found] == ["mobile_duplicate"]


def test_a_till_that_pulled_a_member_of_its_own_stores_other_till_restores(
    hq: HqThread, two_stores: tuple[ChainTill, ChainTill], tmp_path: Path
) -> None:
    """SH01-01 spends a card SH01-02 issued; its copy of the member (same store) is not taken
    for SH01-02's row at HQ; SH01-01 restores, verifies and goes on."""
    shanghai, _ = two_stores
    second = make_till(hq, tmp_path, "SH01", "上海南京路店", number=2)
    try:
        member = register_member(second.ctx, second.admin, "13900139000", "李四")
        issue_card(second.ctx, second.admin, member.member_no, CARD)
        stored_value.top_up(second.ctx, second.admin, CARD, 20_000)
        second.push()
        shanghai.pull()
        sell(
            shanghai.ctx, shanghai.admin, req(("V001", 1), card=CARD, pay=[("stored_value", None)])
        )
        shanghai.push()
        with Session(hq.engine) as session:
            held = session.scalars(
                select(ChainMember).where(ChainMember.member_no == member.member_no)
            ).one()
            assert held.data["registered_by_id"] == second.admin.operator_id
        before = _snapshot(shanghai)
        shanghai.ctx.engine.dispose()
        with Session(hq.engine) as session, session.begin():
            token = admin.enroll_till(session, "SH01", _now(), "SH01-01").token
        data_dir, key_dir = tmp_path / "new-disk" / "data", tmp_path / "new-disk" / "keys"
        result, ctx = restore_from_hq(data_dir, hq.url, token, key_dir=key_dir, clock=_now)
        restored = ChainTill("SH01-01", ctx, sign_in(ctx, "admin", PASSWORD))
        try:
            assert result.verified, result.problems
            assert (result.store_code, _snapshot(restored)["card"]) == ("SH01", before["card"])
            restored.pull()
            hand_till_to(ctx, restored.admin, 10_000)
            sell(ctx, restored.admin, req(("V001", 1), card=CARD, pay=[("stored_value", None)]))
            restored.push()
            second.pull()
            assert _snapshot(second)["card"] == _snapshot(restored)["card"]
            for till in (restored, second):
                till.verified()
            hq_verified(hq)
        finally:
            ctx.engine.dispose()
    finally:
        second.ctx.engine.dispose()
