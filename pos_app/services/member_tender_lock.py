"""The PIN lock over a member's tenders: five wrong PINs lock stored value, points, service
cards and the member's own coupons alike, at checkout and on every direct path (redeeming
points, exchanging them for a coupon), until a manager resets the PIN."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Card, Member
from pos_app.domain.card_lifecycle import CardState
from pos_app.domain.pin_policy import MAX_WRONG_TRIES, is_locked, pin_locked_error


def member_tenders_locked(session: Session, member: Member, card: Card | None) -> bool:
    """Whether the member's tenders are locked: the card presented is locked, or, for a
    member found without a card (by number or mobile), any of their active cards is — else
    reading out the mobile number would walk round a lock the card earned."""
    if card is not None:
        return is_locked(card.pin_failures)
    locked = session.scalar(
        select(Card.id)
        .where(
            Card.member_id == member.id,
            Card.state == CardState.ACTIVE.value,
            Card.pin_failures >= MAX_WRONG_TRIES,
        )
        .limit(1)
    )
    return locked is not None


def refuse_if_locked(session: Session, member: Member, card: Card | None) -> None:
    """Refuse a member tender while the PIN lock holds (PinLocked)."""
    if member_tenders_locked(session, member, card):
        raise pin_locked_error()
