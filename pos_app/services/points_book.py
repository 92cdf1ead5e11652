"""Moving points in and out of a member's lots, inside a use-case's transaction.

Every points entry says in its payload which lots it touched, so `verify` can replay lots
exactly; this module is the one place that writes those payloads and the lot projection.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from db.models import Member, PointLot
from pos_app.domain.entry_kinds import EntryKind
from pos_app.domain.points import Allocation, Lot, allocate, expired_lots, lot_expiry, settle_debt
from pos_app.services.use_case import UseCase


def member_lots(uc: UseCase, member_id: str) -> list[PointLot]:
    return list(
        uc.session.scalars(
            select(PointLot).where(PointLot.member_id == member_id, PointLot.remaining > 0)
        )
    )


def as_domain(lots: list[PointLot]) -> list[Lot]:
    return [
        Lot(
            lot.id,
            lot.remaining,
            date.fromisoformat(lot.expires_on) if lot.expires_on else None,
            lot.seq,
        )
        for lot in lots
    ]


def add_lot(
    uc: UseCase,
    member: Member,
    kind: EntryKind,
    points: int,
    *,
    related_entry_id: str | None = None,
    extra: dict[str, object] | None = None,
) -> str:
    """Credit points as a new lot (first paying off any debt). Returns the entry id."""
    earned_on = uc.ctx.business_day()
    expires = lot_expiry(uc.rules.points, earned_on)
    remaining, debt_paid = settle_debt(points, member.points_debt)
    payload: dict[str, object] = {
        "expires_on": expires.isoformat() if expires else None,
        "debt_paid": debt_paid,
        **(extra or {}),
    }
    entry = uc.ledger.append(
        kind,
        member_id=member.id,
        points_delta=points,
        related_entry_id=related_entry_id,
        payload=payload,
    )
    uc.session.flush()
    uc.session.add(
        PointLot(
            id=entry.entry_id,
            member_id=member.id,
            seq=entry.store_seq,
            earned_at=uc.now_iso,
            expires_on=payload["expires_on"],
            points=points,
            remaining=remaining,
        )
    )
    member.points_balance += points
    member.points_debt -= debt_paid
    return entry.entry_id


def take_points(
    uc: UseCase,
    member: Member,
    kind: EntryKind,
    allocations: list[Allocation],
    debt_added: int = 0,
    *,
    related_entry_id: str | None = None,
    extra: dict[str, object] | None = None,
) -> str:
    """Debit points from the given lots (plus any debt). Returns the entry id."""
    total = sum(a.points for a in allocations) + debt_added
    entry = uc.ledger.append(
        kind,
        member_id=member.id,
        points_delta=-total,
        related_entry_id=related_entry_id,
        payload={
            "lots": [[a.lot_id, a.points] for a in allocations],
            "debt_added": debt_added,
            **(extra or {}),
        },
    )
    for a in allocations:
        lot = uc.session.get(PointLot, a.lot_id)
        assert lot is not None and lot.remaining >= a.points
        lot.remaining -= a.points
    member.points_balance -= total
    member.points_debt += debt_added
    return entry.entry_id


def expire_due(uc: UseCase, member: Member) -> int:
    """Expire this member's lots that are past their date; returns the points expired."""
    due = expired_lots(as_domain(member_lots(uc, member.id)), uc.ctx.business_day())
    if not due:
        return 0
    take_points(uc, member, EntryKind.POINTS_EXPIRED, due)
    return sum(a.points for a in due)


def reverse_points(
    uc: UseCase, member: Member, points: int, lot_first: str | None, related_entry_id: str
) -> None:
    """Take back points a refunded purchase earned: from its own lot first, then oldest first;
    whatever is already spent becomes a debt (a negative balance)."""
    lots = as_domain(member_lots(uc, member.id))
    own = [lot for lot in lots if lot.lot_id == lot_first]
    others = [lot for lot in lots if lot.lot_id != lot_first]
    allocations: list[Allocation] = []
    left = points
    if own:
        take = min(own[0].remaining, left)
        if take:
            allocations.append(Allocation(own[0].lot_id, take))
            left -= take
    if left and others:
        more, left = allocate(others, left)
        allocations.extend(more)
    take_points(
        uc,
        member,
        EntryKind.POINTS_REVERSED,
        allocations,
        debt_added=left,
        related_entry_id=related_entry_id,
    )
