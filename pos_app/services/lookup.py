"""Finding the rows a use-case works on, with a clear refusal when they are not there."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Card, Member
from pos_app.domain.card_lifecycle import mask_card_no
from pos_app.domain.errors import NotFound
from pos_app.domain.members import check_card_no, normalize_mobile


def card_by_no(session: Session, card_no: str) -> Card:
    number = check_card_no(card_no)
    card = session.scalars(select(Card).where(Card.card_no == number)).first()
    if card is None:
        masked = mask_card_no(number)
        raise NotFound(f"没有这张卡：{masked}", f"No such card: {masked}")
    return card


def member_of_card(session: Session, card: Card) -> Member:
    member = session.get(Member, card.member_id) if card.member_id else None
    if member is None:
        masked = mask_card_no(card.card_no)
        raise NotFound(f"卡 {masked} 尚未发给会员", f"Card {masked} is not issued to a member")
    return member


def member_by_no(session: Session, member_no: str) -> Member:
    member = session.scalars(select(Member).where(Member.member_no == member_no.strip())).first()
    if member is None:
        raise NotFound(f"没有这个会员号：{member_no}", f"No member with number {member_no}")
    return member


def member_by_mobile(session: Session, mobile: str) -> Member:
    number = normalize_mobile(mobile)
    member = session.scalars(select(Member).where(Member.mobile == number)).first()
    if member is None:
        raise NotFound("没有使用这个手机号的会员", "No member has this mobile number")
    return member
