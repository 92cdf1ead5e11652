"""Members: register at the till in seconds, edit later, find by card, mobile, name or number."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from db.counters import next_value
from db.engine import read_session
from db.ledger import new_id
from db.models import Card, Member
from pos_app.domain.entry_kinds import EntryKind
from pos_app.domain.errors import AlreadyExists, AuthenticationFailed, InvalidInput
from pos_app.domain.members import (
    check_card_no,
    check_name,
    check_profile_text,
    mask_mobile,
    normalize_mobile,
    parse_birthday,
)
from pos_app.domain.permissions import Permission, Role, check_permission, role_allows
from pos_app.domain.pin_policy import MAX_WRONG_TRIES
from pos_app.domain.rules import DEFAULT_RULES
from pos_app.services.audit import record
from pos_app.services.auth import Actor, authorize
from pos_app.services.context import StoreContext
from pos_app.services.coupons import issue_on_registration
from pos_app.services.lookup import card_by_no, member_by_mobile, member_by_no, member_of_card
from pos_app.services.rules_store import current_rules, rules_by_digest
from pos_app.services.use_case import use_case

GENDERS = ("male", "female", "other")


@dataclass(frozen=True)
class CardView:
    card_no: str
    media: str
    state: str
    principal_fen: int
    bonus_fen: int
    pin_set: bool
    pin_locked: bool

    @property
    def stored_value_fen(self) -> int:
        return self.principal_fen + self.bonus_fen


@dataclass(frozen=True)
class MemberView:
    """A member as an operator may see them: the mobile masked unless their role allows more."""

    member_no: str
    name: str
    mobile: str
    gender: str | None
    birthday: str | None
    email: str | None
    tier: str
    tier_name: str
    points: int
    registered_at: str
    referrer_no: str | None
    cards: tuple[CardView, ...] = field(default=())
    tier_locked_until: str | None = None  # a manager's manual tier held through this day


def card_view(card: Card) -> CardView:
    return CardView(
        card_no=card.card_no,
        media=card.media,
        state=card.state,
        principal_fen=card.principal_fen,
        bonus_fen=card.bonus_fen,
        pin_set=card.pin_hash is not None,
        pin_locked=card.pin_failures >= MAX_WRONG_TRIES,
    )


def member_view(session: Session, member: Member, role: Role, tier_name: str) -> MemberView:
    cards = session.scalars(
        select(Card).where(Card.member_id == member.id).order_by(Card.created_at)
    ).all()
    referrer_no = None
    if member.referrer_id:
        referrer = session.get(Member, member.referrer_id)
        referrer_no = referrer.member_no if referrer else None
    full = role_allows(role, Permission.MEMBER_VIEW_FULL_MOBILE)
    return MemberView(
        member_no=member.member_no,
        name=member.name,
        mobile=member.mobile if full else mask_mobile(member.mobile),
        gender=member.gender,
        birthday=member.birthday,
        email=member.email,
        tier=member.tier_code,
        tier_name=tier_name,
        points=member.points_balance,
        registered_at=member.created_at,
        referrer_no=referrer_no,
        cards=tuple(card_view(c) for c in cards),
        tier_locked_until=member.tier_locked_until,
    )


def next_member_no(session: Session, store_code: str, till_id: str) -> str:
    """Unique across the chain: till 01 numbers as it always did (SH010000001); another
    till puts its number after a dash (SH01-020000001), which no store code contains."""
    n = next_value(session, "member_no")
    till_no = till_id.rsplit("-", 1)[-1]
    return f"{store_code}{n:07d}" if till_no == "01" else f"{store_code}-{till_no}{n:07d}"


def register_member(
    ctx: StoreContext,
    actor: Actor,
    mobile: str,
    name: str,
    birthday: str | None = None,
    gender: str | None = None,
    email: str | None = None,
    referrer_no: str | None = None,
) -> MemberView:
    """Register a member: mobile and name are enough; the mobile must be new."""
    mobile = normalize_mobile(mobile)
    name = check_name(name)
    email = check_profile_text("email", email) if email is not None else None
    bday = parse_birthday(birthday, ctx.business_day()).isoformat() if birthday else None
    if gender is not None and gender not in GENDERS:
        raise InvalidInput(f"性别不正确：{gender}", f"Not a gender: {gender} (male/female/other)")
    with use_case(ctx, actor, Permission.MEMBER_REGISTER) as uc:
        s = uc.session
        if s.scalars(select(Member.id).where(Member.mobile == mobile)).first():
            raise AlreadyExists(
                f"手机号 {mask_mobile(mobile)} 已注册会员",
                f"{mask_mobile(mobile)} is already a member",
            )
        referrer = member_by_no(s, referrer_no) if referrer_no else None
        member = Member(
            id=new_id(),
            member_no=next_member_no(s, ctx.store.code, ctx.till_id),
            mobile=mobile,
            mobile_last4=mobile[-4:],
            name=name,
            gender=gender,
            birthday=bday,
            email=email,
            referrer_id=referrer.id if referrer else None,
            store_id=ctx.store.id,
            registered_by_id=actor.operator_id,
            created_at=uc.now_iso,
            tier_code=uc.rules.tiers.base.code,
            tier_since=uc.now_iso,
        )
        s.add(member)
        s.flush()
        # Profile details stay out of the permanent ledger; only the fact and the referral.
        uc.ledger.append(
            EntryKind.MEMBER_REGISTERED,
            member_id=member.id,
            payload={
                "member_no": member.member_no,
                "referrer_id": member.referrer_id,
                "tier": member.tier_code,
            },
        )
        issue_on_registration(uc, member)  # 新人券, if the rules name one
        return member_view(s, member, actor.role, uc.rules.tiers.base.name)


def update_member(
    ctx: StoreContext,
    actor: Actor,
    member_no: str,
    *,
    name: str | None = None,
    mobile: str | None = None,
    birthday: str | None = None,
    gender: str | None = None,
    email: str | None = None,
    address: str | None = None,
    notes: str | None = None,
) -> MemberView:
    """Edit a profile; every change is audited with the fields that changed (not their values)."""
    with use_case(ctx, actor, Permission.MEMBER_EDIT, target=member_no) as uc:
        s = uc.session
        member = member_by_no(s, member_no)
        changed = []
        if mobile is not None:
            number = normalize_mobile(mobile)
            if number != member.mobile:
                if s.scalars(select(Member.id).where(Member.mobile == number)).first():
                    raise AlreadyExists(
                        f"手机号 {mask_mobile(number)} 已被其他会员使用",
                        f"{mask_mobile(number)} belongs to another member",
                    )
                member.mobile, member.mobile_last4 = number, number[-4:]
                changed.append("mobile")
        if name is not None:
            member.name = check_name(name)
            changed.append("name")
        if birthday is not None:
            member.birthday = parse_birthday(birthday, ctx.business_day()).isoformat()
            changed.append("birthday")
        if gender is not None:
            if gender not in GENDERS:
                raise InvalidInput(f"性别不正确：{gender}", f"Not a gender: {gender}")
            member.gender = gender
            changed.append("gender")
        for attr, value in (("email", email), ("address", address), ("notes", notes)):
            if value is not None:
                setattr(member, attr, check_profile_text(attr, value))
                changed.append(attr)
        record(
            s,
            uc.now_iso,
            actor.operator_id,
            "member.edit",
            target=member.member_no,
            detail={"fields": changed},
        )
        return member_view(s, member, actor.role, uc.rules.tiers.level(member.tier_code).name)


def show_member(
    ctx: StoreContext,
    actor: Actor,
    *,
    card_no: str | None = None,
    mobile: str | None = None,
    member_no: str | None = None,
) -> MemberView:
    """One member, found by exactly one of card number, mobile or member number."""
    given = [x for x in (card_no, mobile, member_no) if x]
    if len(given) != 1:
        raise InvalidInput(
            "请只给出卡号、手机号或会员号中的一个",
            "Give exactly one of card, mobile or member number",
        )
    with read_session(ctx.engine) as s:
        authorize(s, actor, Permission.MEMBER_VIEW)
        if card_no:
            member = member_of_card(s, card_by_no(s, card_no))
        elif mobile:
            member = member_by_mobile(s, mobile)
        else:
            member = member_by_no(s, member_no or "")
        _, rules = current_rules(s)
        return member_view(s, member, actor.role, rules.tiers.level(member.tier_code).name)


@dataclass(frozen=True)
class MemberHit:
    member_no: str
    name: str
    mobile: str
    tier: str  # the code, for programs
    tier_name: str  # the rules' name for it (银卡), for people


def find_members(ctx: StoreContext, actor: Actor, text: str, limit: int = 20) -> list[MemberHit]:
    """Search by last 4 digits of the mobile, full mobile, member number, card number or name."""
    text = text.strip()
    if not text:
        raise InvalidInput("请输入要查找的内容", "Type something to search for")
    with read_session(ctx.engine) as s:
        authorize(s, actor, Permission.MEMBER_VIEW)
        conditions = [
            Member.member_no == text.upper(),
            Member.name.like(f"{_escape(text)}%", escape="\\"),
        ]
        if text.isdigit() and len(text) == 4:
            conditions.append(Member.mobile_last4 == text)
        if text.isdigit() and len(text) == 11:
            conditions.append(Member.mobile == text)
        card_owner = select(Card.member_id).where(Card.card_no == text.upper()).scalar_subquery()
        conditions.append(Member.id == card_owner)
        rows = s.scalars(
            select(Member).where(or_(*conditions)).order_by(Member.member_no).limit(limit)
        )
        full = role_allows(actor.role, Permission.MEMBER_VIEW_FULL_MOBILE)
        _, rules = current_rules(s)
        return [
            MemberHit(
                m.member_no,
                m.name,
                m.mobile if full else mask_mobile(m.mobile),
                m.tier_code,
                rules.tiers.level(m.tier_code).name,
            )
            for m in rows
        ]


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# -- The till's fast lookup ------------------------------------------------------------------
# A card swipe or a typed mobile must answer at once even in a store of a million members.
# `show_member` goes through the ORM (five queries and the objects behind them); these do
# the same permission check and return the same `MemberView` with two plain statements on
# one pooled connection: the operator (with the rules version in force), then the member,
# their referrer's number and all their cards in one indexed join.

_WHO = (
    "SELECT role, active, (SELECT sha256 FROM rules_version ORDER BY version DESC LIMIT 1)"
    " FROM operator WHERE id = ?"
)
_RULES_TEXT = "SELECT source_text FROM rules_version WHERE sha256 = ? ORDER BY version DESC"
_MEMBER_AND_CARDS = """
SELECT m.member_no, m.name, m.mobile, m.gender, m.birthday, m.email, m.tier_code,
       m.points_balance, m.created_at, r.member_no,
       c.card_no, c.media, c.state, c.principal_fen, c.bonus_fen, c.pin_hash IS NOT NULL,
       c.pin_failures, m.tier_locked_until
"""
_BY_CARD = (
    _MEMBER_AND_CARDS
    + """FROM card AS k
JOIN member AS m ON m.id = k.member_id
LEFT JOIN member AS r ON r.id = m.referrer_id
LEFT JOIN card AS c ON c.member_id = m.id
WHERE k.card_no = ?
ORDER BY c.created_at, c.rowid"""
)
_BY_MOBILE = (
    _MEMBER_AND_CARDS
    + """FROM member AS m
LEFT JOIN member AS r ON r.id = m.referrer_id
LEFT JOIN card AS c ON c.member_id = m.id
WHERE m.mobile = ?
ORDER BY c.created_at, c.rowid"""
)


def lookup_by_card(ctx: StoreContext, actor: Actor, card_no: str) -> MemberView:
    """The member holding a card (swiped, tapped or scanned): `show_member(card_no=…)`, fast.

    Refusals are the same: a bad number, an unknown card, a card not issued to anyone.
    """
    number = check_card_no(card_no)
    view = _lookup(ctx, actor, _BY_CARD, number)
    return view if view is not None else show_member(ctx, actor, card_no=number)


def lookup_by_mobile(ctx: StoreContext, actor: Actor, mobile: str) -> MemberView:
    """The member with this full mobile number: `show_member(mobile=…)`, fast."""
    number = normalize_mobile(mobile)
    view = _lookup(ctx, actor, _BY_MOBILE, number)
    return view if view is not None else show_member(ctx, actor, mobile=number)


def _lookup(ctx: StoreContext, actor: Actor, sql: str, key: str) -> MemberView | None:
    """The view, or None when nothing matched (the caller then lets `show_member` explain)."""
    conn = ctx.engine.raw_connection()
    try:
        cur = conn.cursor()
        # The operator is re-read on every lookup, as `authorize` does: a deactivated
        # operator or a changed role takes effect at once.
        who = cur.execute(_WHO, (actor.operator_id,)).fetchone()
        if who is None or not who[1]:
            raise AuthenticationFailed("操作员已停用", "This operator is no longer active")
        role = Role(who[0])
        check_permission(role, Permission.MEMBER_VIEW)
        rows = cur.execute(sql, (key,)).fetchall()
        if not rows:
            return None
        digest = who[2]
        rules = (
            DEFAULT_RULES
            if digest is None
            else rules_by_digest(digest, lambda: cur.execute(_RULES_TEXT, (digest,)).fetchone()[0])
        )
    finally:
        conn.close()
    first = rows[0]
    mobile = first[2]
    full = role_allows(role, Permission.MEMBER_VIEW_FULL_MOBILE)
    return MemberView(
        member_no=first[0],
        name=first[1],
        mobile=mobile if full else mask_mobile(mobile),
        gender=first[3],
        birthday=first[4],
        email=first[5],
        tier=first[6],
        tier_name=rules.tiers.level(first[6]).name,
        points=first[7],
        registered_at=first[8],
        referrer_no=first[9],
        cards=tuple(
            CardView(
                card_no=r[10],
                media=r[11],
                state=r[12],
                principal_fen=r[13],
                bonus_fen=r[14],
                pin_set=bool(r[15]),
                pin_locked=r[16] >= MAX_WRONG_TRIES,
            )
            for r in rows
            if r[10] is not None
        ),
        tier_locked_until=first[17],
    )
