"""Member and card lookup across the chain for the console, within the viewer's scope.

A card or member is visible to a scoped viewer when its home store is theirs or it has
entries at one of their stores; otherwise it is "not found" (404), never a hint that it
exists. The history lists only the viewer's stores' entries, but the chain balance is the
chain's: a store serving the member needs the whole figure. Mirror entries (what HQ told a
till of the others) are left out everywhere: they are copies, not money moved.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session

from hq.console.sign_in import Viewer
from hq.models import ChainCard, ChainMember, HqLedgerEntry, Store, Till
from pos_app.domain.card_lifecycle import mask_card_no
from pos_app.domain.entry_kinds import MIRROR_KINDS
from pos_app.domain.members import mask_mobile

HISTORY_LIMIT = 200
_NOT_MIRROR = HqLedgerEntry.kind.not_in(sorted(MIRROR_KINDS))


@dataclass(frozen=True)
class HistoryLine:
    store_code: str
    till_code: str
    business_time: str
    kind: str
    principal_delta: int
    bonus_delta: int
    points_delta: int
    amount_fen: int
    tender: str | None


@dataclass(frozen=True)
class CardView:
    id: str
    card_no: str  # masked unless the viewer is an HQ admin
    state: str
    state_at: str
    state_source: str
    home_store: str | None
    member_id: str | None
    member_no: str | None
    member_name: str | None
    principal_fen: int  # chain balance: Σ non-mirror deltas of every till
    bonus_fen: int
    history: list[HistoryLine]

    @property
    def balance_fen(self) -> int:
        return self.principal_fen + self.bonus_fen


@dataclass(frozen=True)
class MemberView:
    id: str
    member_no: str
    name: str
    mobile: str  # masked unless the viewer is an HQ admin
    home_store: str | None
    tier_code: str | None
    points: int  # chain points: Σ non-mirror points deltas of every till
    cards: list[tuple[str, str, str]]  # (card id, card number shown, state)
    history: list[HistoryLine]


@dataclass(frozen=True)
class Found:
    kind: str  # "card" or "member"
    id: str
    label: str  # card or member number as shown
    name: str | None
    state: str | None


def show_card_no(viewer: Viewer, card_no: str) -> str:
    return card_no if viewer.is_hq_admin else mask_card_no(card_no)


def show_mobile(viewer: Viewer, mobile: str) -> str:
    return mobile if viewer.is_hq_admin else mask_mobile(mobile)


def _in_scope(viewer: Viewer, home_store_id: Any, column: Any) -> Any:
    """A condition: the row's home store is the viewer's, or one of their tills has an
    entry naming it (`column` is HqLedgerEntry.card_id or .member_id, compared to the id)."""
    assert viewer.store_ids is not None
    stores = sorted(viewer.store_ids)
    used_here = exists(
        select(HqLedgerEntry.seq)
        .join(Till, Till.id == HqLedgerEntry.till_id)
        .where(column, Till.store_id.in_(stores))
    )
    return or_(home_store_id.in_(stores), used_here)


def visible_cards(viewer: Viewer) -> Any:
    query = select(ChainCard)
    if viewer.store_ids is not None:
        query = query.where(
            _in_scope(viewer, ChainCard.home_store_id, HqLedgerEntry.card_id == ChainCard.id)
        )
    return query


def visible_members(viewer: Viewer) -> Any:
    query = select(ChainMember)
    if viewer.store_ids is not None:
        query = query.where(
            _in_scope(viewer, ChainMember.home_store_id, HqLedgerEntry.member_id == ChainMember.id)
        )
    return query


def search(session: Session, viewer: Viewer, text: str) -> list[Found]:
    """Cards by card number, members by mobile or member number (exact matches)."""
    text = text.strip()
    if not text:
        return []
    found = [
        Found("card", c.id, show_card_no(viewer, c.card_no), None, c.state)
        for c in session.scalars(
            visible_cards(viewer).where(ChainCard.card_no == text).order_by(ChainCard.id)
        )
    ]
    members = session.scalars(
        visible_members(viewer)
        .where(or_(ChainMember.mobile == text, ChainMember.member_no == text))
        .order_by(ChainMember.member_no)
    )
    found += [Found("member", m.id, m.member_no, m.name, None) for m in members]
    return found


def _history(session: Session, viewer: Viewer, condition: Any) -> list[HistoryLine]:
    query = (
        select(
            Store.code,
            Till.code,
            HqLedgerEntry.business_time,
            HqLedgerEntry.kind,
            HqLedgerEntry.principal_delta,
            HqLedgerEntry.bonus_delta,
            HqLedgerEntry.points_delta,
            HqLedgerEntry.amount_fen,
            HqLedgerEntry.tender,
        )
        .join(Till, Till.id == HqLedgerEntry.till_id)
        .join(Store, Store.id == Till.store_id)
        .where(condition, _NOT_MIRROR)
        .order_by(HqLedgerEntry.business_time.desc(), Till.code, HqLedgerEntry.seq.desc())
        .limit(HISTORY_LIMIT)
    )
    if viewer.store_ids is not None:
        query = query.where(Till.store_id.in_(sorted(viewer.store_ids)))
    return [HistoryLine(*row) for row in session.execute(query)]


def _store_code(session: Session, store_id: int | None) -> str | None:
    return session.scalar(select(Store.code).where(Store.id == store_id)) if store_id else None


def card_view(session: Session, viewer: Viewer, card_id: str) -> CardView | None:
    """The card, its chain balance and history; None when it is not the viewer's to see."""
    card = session.scalar(visible_cards(viewer).where(ChainCard.id == card_id))
    if card is None:
        return None
    principal, bonus = session.execute(
        select(
            func.coalesce(func.sum(HqLedgerEntry.principal_delta), 0),
            func.coalesce(func.sum(HqLedgerEntry.bonus_delta), 0),
        ).where(HqLedgerEntry.card_id == card.id, _NOT_MIRROR)
    ).one()
    member = session.get(ChainMember, card.member_id) if card.member_id else None
    return CardView(
        id=card.id,
        card_no=show_card_no(viewer, card.card_no),
        state=card.state,
        state_at=card.state_at,
        state_source=card.state_source,
        home_store=_store_code(session, card.home_store_id),
        member_id=card.member_id,
        member_no=member.member_no if member else None,
        member_name=member.name if member else None,
        principal_fen=int(principal),
        bonus_fen=int(bonus),
        history=_history(session, viewer, HqLedgerEntry.card_id == card.id),
    )


def member_view(session: Session, viewer: Viewer, member_id: str) -> MemberView | None:
    """The member, chain points, cards and history; None when not the viewer's to see."""
    member = session.scalar(visible_members(viewer).where(ChainMember.id == member_id))
    if member is None:
        return None
    points = session.scalar(
        select(func.coalesce(func.sum(HqLedgerEntry.points_delta), 0)).where(
            HqLedgerEntry.member_id == member.id, _NOT_MIRROR
        )
    )
    cards = session.scalars(
        select(ChainCard).where(ChainCard.member_id == member.id).order_by(ChainCard.card_no)
    )
    return MemberView(
        id=member.id,
        member_no=member.member_no,
        name=member.name,
        mobile=show_mobile(viewer, member.mobile),
        home_store=_store_code(session, member.home_store_id),
        tier_code=member.tier_code,
        points=int(points or 0),
        cards=[(c.id, show_card_no(viewer, c.card_no), c.state) for c in cards],
        history=_history(session, viewer, HqLedgerEntry.member_id == member.id),
    )
