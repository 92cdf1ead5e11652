"""Small helpers the service tests share: counting rows, reading projections, rules variants."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from db.engine import read_session
from db.models import AuditEvent, Card, LedgerEntry, Member, PointLot
from pos_app.domain.sale_request import LineRequest, SaleRequest, TenderRequest
from pos_app.services import members, stored_value
from pos_app.services.cards import issue_card
from tests.conftest import EXAMPLE_RULES, StoreFixture, load_rules_text

EXAMPLE_TEXT = EXAMPLE_RULES.read_text(encoding="utf-8")


def rules_variant(store: StoreFixture, *replacements: tuple[str, str]) -> None:
    """Load the example rules with some lines replaced (each old text must be present)."""
    text = EXAMPLE_TEXT
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    load_rules_text(store, text)


def count(store: StoreFixture, model: Any) -> int:
    with read_session(store.ctx.engine) as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def ledger_count(store: StoreFixture) -> int:
    return count(store, LedgerEntry)


def audit_count(store: StoreFixture) -> int:
    return count(store, AuditEvent)


def snapshot(store: StoreFixture) -> tuple[int, ...]:
    """Row counts of every table a use-case writes, to show that nothing was written."""
    return tuple(count(store, m) for m in (LedgerEntry, Member, Card, PointLot, AuditEvent))


def entries(store: StoreFixture, kind: str | None = None) -> list[LedgerEntry]:
    with read_session(store.ctx.engine) as s:
        q = select(LedgerEntry).order_by(LedgerEntry.store_seq)
        if kind is not None:
            q = q.where(LedgerEntry.kind == kind)
        rows = list(s.scalars(q))
        s.expunge_all()
        return rows


def last_entry(store: StoreFixture) -> LedgerEntry:
    return entries(store)[-1]


def card_row(store: StoreFixture, card_no: str) -> Card:
    with read_session(store.ctx.engine) as s:
        card = s.scalars(select(Card).where(Card.card_no == card_no)).one()
        s.expunge(card)
        return card


def member_row(store: StoreFixture, member_no: str) -> Member:
    with read_session(store.ctx.engine) as s:
        member = s.scalars(select(Member).where(Member.member_no == member_no)).one()
        s.expunge(member)
        return member


def lots(store: StoreFixture, member_no: str) -> list[PointLot]:
    with read_session(store.ctx.engine) as s:
        member = s.scalars(select(Member).where(Member.member_no == member_no)).one()
        rows = list(
            s.scalars(
                select(PointLot).where(PointLot.member_id == member.id).order_by(PointLot.seq)
            )
        )
        s.expunge_all()
        return rows


def buckets(store: StoreFixture, card_no: str) -> tuple[int, int]:
    card = card_row(store, card_no)
    return card.principal_fen, card.bonus_fen


def new_member(
    store: StoreFixture, mobile: str = "13800138000", name: str = "张三", **kwargs: Any
) -> members.MemberView:
    return members.register_member(store.ctx, store.cashier, mobile, name, **kwargs)


def member_with_card(
    store: StoreFixture,
    card_no: str = "88880001",
    mobile: str = "13800138000",
    name: str = "张三",
    *,
    pin: str | None = None,
    topup_fen: int = 0,
) -> members.MemberView:
    """A member with one card, optionally a PIN and an opening top-up (by the cashier)."""
    member = new_member(store, mobile, name)
    issue_card(store.ctx, store.cashier, member.member_no, card_no, pin=pin)
    if topup_fen:
        stored_value.top_up(store.ctx, store.cashier, card_no, topup_fen)
    return member


CARD = "88880001"


def req(
    *lines: tuple[str, int],
    pay: Any = (("cash", None),),
    card: str | None = None,
    pin: str | None = None,
    coupons: Any = (),
    member_no: str | None = None,
) -> SaleRequest:
    """A sale request: req(("D001", 2), pay=[("stored_value", None), ("cash", 5000)])."""
    return SaleRequest(
        lines=tuple(LineRequest(code, qty) for code, qty in lines),
        tenders=tuple(TenderRequest(t, a) for t, a in pay),
        card_no=card,
        member_no=member_no,
        pin=pin,
        coupon_codes=tuple(coupons),
    )
