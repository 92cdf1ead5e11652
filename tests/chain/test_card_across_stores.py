"""One card across the chain, down feed (docs/chain-protocol.md): a card topped up at SH01
works at BJ01 once SH01 pushed and BJ01 pulled — found by its number, with its balance and
points; spending there comes back to SH01; a card reported lost at SH01 is refused at BJ01;
re-pulling applies nothing; what BJ01 pulled goes back up as BJ01's copy, never as SH01's
data; SH01's own rows are never overwritten; both tills' verify and HQ's pass after every step."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.engine import read_session
from db.models import Card, LedgerEntry, Member, Operator, Store
from hq.models import ChainMember, FeedChange, HqRow
from hq.models import Till as HqTill
from pos_app.domain.entry_kinds import EntryKind
from pos_app.domain.errors import CardStateError
from pos_app.services import stored_value
from pos_app.services.cards import issue_card, report_card_lost
from pos_app.services.checkout import sell
from pos_app.services.members import lookup_by_card, register_member, update_member
from pos_app.sync.status import sync_status
from tests.chain.conftest import ChainTill, hq_verified, make_till
from tests.services.support import req
from tests.sync_support.hq_thread import HqThread

CARD = "88880001"


def _card(till: ChainTill) -> tuple[int, int, str]:
    with read_session(till.ctx.engine) as s:
        card = s.scalars(select(Card).where(Card.card_no == CARD)).one()
        return card.principal_fen, card.bonus_fen, card.state


def _points(till: ChainTill, member_no: str) -> int:
    with read_session(till.ctx.engine) as s:
        return s.scalars(select(Member.points_balance).where(Member.member_no == member_no)).one()


def _entries(till: ChainTill) -> int:
    with read_session(till.ctx.engine) as s:
        return s.scalar(select(func.count()).select_from(LedgerEntry)) or 0


def _issued_at_shanghai(shanghai: ChainTill) -> tuple[str, int]:
    member = register_member(shanghai.ctx, shanghai.admin, "13800138000", "张三")
    issue_card(shanghai.ctx, shanghai.admin, member.member_no, CARD)
    stored_value.top_up(shanghai.ctx, shanghai.admin, CARD, 50_000)
    sale = sell(shanghai.ctx, shanghai.admin, req(("V001", 2), card=CARD))
    assert sale.points_earned > 0
    return member.member_no, sale.points_earned


def test_a_card_of_shanghai_works_in_beijing(
    hq: HqThread, two_stores: tuple[ChainTill, ChainTill]
) -> None:
    shanghai, beijing = two_stores
    member_no, points = _issued_at_shanghai(shanghai)
    sh_balance = _card(shanghai)
    shanghai.push()
    pulled = beijing.pull()
    assert pulled.items == 3 and pulled.applied >= 2  # SH01 (its store), the member, the card

    # Found at BJ01 by the card's number, with SH01's balance and points.
    assert lookup_by_card(beijing.ctx, beijing.admin, CARD).member_no == member_no
    assert _card(beijing) == sh_balance
    assert _points(beijing, member_no) == points
    with read_session(beijing.ctx.engine) as s:
        member = s.scalars(select(Member).where(Member.member_no == member_no)).one()
        home = s.get(Store, member.store_id)
        registered_by = s.get(Operator, member.registered_by_id)
        assert home is not None and home.code == "SH01"
        assert registered_by is not None and registered_by.login == "hq-sync"
    status = sync_status(beijing.ctx)
    assert status.pulled_at is not None and status.feed_cursor == pulled.cursor > 0

    # Pulling again applies nothing and writes nothing.
    before = _entries(beijing)
    again = beijing.pull()
    assert (again.items, again.applied) == (0, 0) and _entries(beijing) == before
    beijing.verified()
    shanghai.verified()

    # BJ01 pushes its mirrors and its copies of the rows it was sent (HQ keeps them to
    # restore BJ01), but they are not SH01's: HQ's member stays SH01's row, and the copies
    # tell no till anything (no feed change for the member or SH01 comes from BJ01).
    with Session(hq.engine) as s:
        held_member = s.scalars(select(ChainMember).where(ChainMember.member_no == member_no))
        sh_row = held_member.one().data
        last_change = s.scalar(select(func.max(FeedChange.id))) or 0
    beijing.push()
    with Session(hq.engine) as s:
        bj = s.scalar(select(HqTill.id).where(HqTill.code == "BJ01-01"))
        copies = {
            (r.table_name, r.data.get("code") or r.data.get("member_no"))
            for r in s.scalars(
                select(HqRow).where(HqRow.till_id == bj, HqRow.table_name.in_(["member", "store"]))
            )
            if r.data
        }
        assert copies == {("store", "BJ01"), ("store", "SH01"), ("member", member_no)}
        held = s.scalars(select(ChainMember).where(ChainMember.member_no == member_no)).one()
        assert held.data == sh_row and held.data["registered_by_id"] == shanghai.admin.operator_id
        heard = s.execute(
            select(FeedChange.kind, FeedChange.key).where(FeedChange.id > last_change)
        ).all()
        # BJ01's first push: its own store, and the card (whose row is BJ01's projection).
        assert {kind for kind, _ in heard} == {"card", "store"}, heard
        assert ("store", "SH01") not in heard and ("member", held.id) not in heard
    hq_verified(hq)

    # Spent at BJ01: SH01 hears of it; both ledgers and HQ still verify.
    sale = sell(
        beijing.ctx, beijing.admin, req(("V001", 1), card=CARD, pay=[("stored_value", None)])
    )
    spent = sale.total_fen
    beijing.push()
    shanghai.pull()
    assert _card(shanghai)[0] + _card(shanghai)[1] == sh_balance[0] + sh_balance[1] - spent
    assert _card(beijing)[:2] == _card(shanghai)[:2]
    shanghai.push()
    beijing.pull()
    for till in (shanghai, beijing):
        till.verified()
    hq_verified(hq)


def test_a_card_reported_lost_at_shanghai_is_refused_in_beijing(
    hq: HqThread, two_stores: tuple[ChainTill, ChainTill]
) -> None:
    shanghai, beijing = two_stores
    _issued_at_shanghai(shanghai)
    shanghai.push()
    beijing.pull()
    report_card_lost(shanghai.ctx, shanghai.admin, CARD)
    shanghai.push()
    beijing.pull()
    assert _card(beijing)[2] == "lost"
    with pytest.raises(CardStateError):
        sell(beijing.ctx, beijing.admin, req(("V001", 1), card=CARD, pay=[("stored_value", None)]))
    # SH01 hears its own loss back and keeps it (one state entry, its own).
    shanghai.pull()
    assert _card(shanghai)[2] == "lost"
    with read_session(beijing.ctx.engine) as s:
        mirror = s.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.kind == EntryKind.CARD_SYNCED)
            .order_by(LedgerEntry.store_seq.desc())
        ).first()
        assert mirror is not None
        assert json.loads(mirror.payload or "{}")["state_source"] == "SH01-01"
    beijing.push()
    for till in (shanghai, beijing):
        till.verified()
    hq_verified(hq)


def test_points_earned_in_beijing_count_in_shanghai(
    hq: HqThread, two_stores: tuple[ChainTill, ChainTill]
) -> None:
    shanghai, beijing = two_stores
    member_no, points = _issued_at_shanghai(shanghai)
    shanghai.push()
    beijing.pull()
    earned = sell(beijing.ctx, beijing.admin, req(("V001", 3), card=CARD)).points_earned
    assert earned > 0
    beijing.push()
    shanghai.pull()
    assert _points(shanghai, member_no) == points + earned
    assert _points(beijing, member_no) == points + earned
    for till in (shanghai, beijing):
        till.verified()
    hq_verified(hq)


def test_the_home_store_keeps_its_own_member_row(
    hq: HqThread, two_stores: tuple[ChainTill, ChainTill]
) -> None:
    shanghai, beijing = two_stores
    member_no, _ = _issued_at_shanghai(shanghai)
    shanghai.push()
    beijing.pull()
    # A manager at SH01 corrects the name; before SH01 pushes, it pulls HQ's older copy.
    update_member(shanghai.ctx, shanghai.admin, member_no, name="张三丰")
    beijing.push()
    shanghai.pull()
    with read_session(shanghai.ctx.engine) as s:
        name = s.scalars(select(Member.name).where(Member.member_no == member_no)).one()
    assert name == "张三丰"
    shanghai.push()
    beijing.pull()
    with read_session(beijing.ctx.engine) as s:
        name = s.scalars(select(Member.name).where(Member.member_no == member_no)).one()
    assert name == "张三丰"
    for till in (shanghai, beijing):
        till.verified()
    hq_verified(hq)


def test_a_member_of_another_till_of_the_same_store_comes_down(
    hq: HqThread, two_stores: tuple[ChainTill, ChainTill], tmp_path: Path
) -> None:
    shanghai, _ = two_stores
    second = make_till(hq, tmp_path, "SH01", "上海南京路店", number=2)
    try:
        member = register_member(second.ctx, second.admin, "13900139000", "李四")
        issue_card(second.ctx, second.admin, member.member_no, CARD)
        stored_value.top_up(second.ctx, second.admin, CARD, 20_000)
        second.push()
        shanghai.pull()
        assert lookup_by_card(shanghai.ctx, shanghai.admin, CARD).member_no == member.member_no
        assert _card(shanghai) == _card(second)
        shanghai.verified()
        shanghai.push()
        second.pull()
        second.verified()
        hq_verified(hq)
    finally:
        second.ctx.engine.dispose()


def test_a_loss_reported_here_and_not_pushed_yet_is_kept_over_hqs_older_state(
    hq: HqThread, two_stores: tuple[ChainTill, ChainTill]
) -> None:
    """BJ01 reports SH01's card lost while it has not pushed; the card changes elsewhere, so
    BJ01's next pull brings HQ's card, still active: the card stays lost at BJ01 (it must
    not pay again there), and once pushed the loss reaches SH01."""
    shanghai, beijing = two_stores
    _issued_at_shanghai(shanghai)
    shanghai.push()
    beijing.pull()
    report_card_lost(beijing.ctx, beijing.admin, CARD)
    stored_value.top_up(shanghai.ctx, shanghai.admin, CARD, 10_000)
    shanghai.push()
    assert beijing.pull().applied  # the new balance came down with HQ's state
    assert _card(beijing)[2] == "lost"
    with pytest.raises(CardStateError):
        sell(beijing.ctx, beijing.admin, req(("V001", 1), card=CARD, pay=[("stored_value", None)]))
    beijing.verified()
    beijing.push()
    beijing.pull()
    shanghai.pull()
    assert _card(beijing)[2] == _card(shanghai)[2] == "lost"
    for till in (shanghai, beijing):
        till.verified()
    hq_verified(hq)
