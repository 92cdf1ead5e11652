"""销售流水: finding any receipt by number, days, member or amount, newest first, in pages.

Each filter rides an index: the receipt number (unique), business time (ix_sale_time), the
member (ix_sale_member_id); an amount alone narrows the rows the others found. A page reads
`limit + 1` rows to know whether there is another.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.engine import read_session
from db.models import Member, Operator, Sale, SaleTender
from pos_app.domain.errors import InvalidInput
from pos_app.domain.members import mask_mobile
from pos_app.domain.permissions import Permission
from pos_app.services.auth import Actor, authorize
from pos_app.services.context import StoreContext
from pos_app.services.member_history import find_member
from pos_app.services.reports import check_range

MAX_PAGE = 500


@dataclass(frozen=True)
class JournalQuery:
    """What to look for; every field left None matches everything."""

    receipt_no: str | None = None  # the whole number, or its end (the sequence digits)
    date_from: date | None = None
    date_to: date | None = None  # inclusive
    member: str | None = None  # member number, mobile or card number
    amount_fen: int | None = None  # the receipt's total (a refund's as a positive amount)


@dataclass(frozen=True)
class JournalLine:
    receipt_no: str
    kind: str  # sale, refund
    at: str  # business time, ISO UTC
    operator: str  # the cashier's login
    member_no: str | None
    member_name: str | None
    member_mobile: str | None  # masked
    total_fen: int  # negative for a refund
    tenders: tuple[str, ...]
    original_receipt_no: str | None = None  # a refund's sale


@dataclass(frozen=True)
class JournalPage:
    lines: tuple[JournalLine, ...]
    offset: int
    has_more: bool


def sales_journal(
    ctx: StoreContext, actor: Actor, query: JournalQuery, offset: int = 0, limit: int = 100
) -> JournalPage:
    """A page of the receipts matching `query`, newest first."""
    if not 1 <= limit <= MAX_PAGE or offset < 0:
        raise InvalidInput(f"每页 1–{MAX_PAGE} 条", f"A page holds 1–{MAX_PAGE} lines")
    with read_session(ctx.engine) as s:
        authorize(s, actor, Permission.REPORT_SHIFT)
        stmt = select(Sale).order_by(Sale.business_time.desc(), Sale.receipt_no.desc())
        if query.receipt_no and query.receipt_no.strip():
            number = query.receipt_no.strip()
            whole = s.scalar(select(Sale.id).where(Sale.receipt_no == number))
            if whole is not None:
                stmt = stmt.where(Sale.id == whole)
            else:
                # Its tail, as read off a crumpled receipt: a scan, narrowed by any dates.
                stmt = stmt.where(Sale.receipt_no.like(f"%-{_escape(number)}", "\\"))
        if query.date_from or query.date_to:
            first = query.date_from or query.date_to
            last = query.date_to or query.date_from
            assert first is not None and last is not None
            check_range(first, last)
            stmt = stmt.where(
                Sale.business_time >= ctx.day_start_iso(first),
                Sale.business_time < ctx.day_start_iso(last + timedelta(days=1)),
            )
        if query.member and query.member.strip():
            stmt = stmt.where(Sale.member_id == find_member(s, query.member).id)
        if query.amount_fen is not None:
            stmt = stmt.where(Sale.total_fen.in_([query.amount_fen, -query.amount_fen]))
        rows = list(s.scalars(stmt.offset(offset).limit(limit + 1)))
        lines = _lines(s, rows[:limit])
    return JournalPage(tuple(lines), offset, has_more=len(rows) > limit)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _lines(s: Session, rows: list[Sale]) -> list[JournalLine]:
    ids = [r.id for r in rows]
    tenders: dict[str, list[str]] = {}
    for sale_id, tender in s.execute(
        select(SaleTender.sale_id, SaleTender.tender)
        .where(SaleTender.sale_id.in_(ids))
        .order_by(SaleTender.sale_id, SaleTender.seq)
    ):
        names = tenders.setdefault(sale_id, [])
        if tender not in names:
            names.append(tender)
    members = {
        m.id: m
        for m in s.scalars(
            select(Member).where(Member.id.in_({r.member_id for r in rows if r.member_id}))
        )
    }
    logins: dict[str, str] = {
        op_id: login
        for op_id, login in s.execute(
            select(Operator.id, Operator.login).where(
                Operator.id.in_({r.operator_id for r in rows})
            )
        )
    }
    originals: dict[str, str] = {
        sale_id: receipt_no
        for sale_id, receipt_no in s.execute(
            select(Sale.id, Sale.receipt_no).where(
                Sale.id.in_({r.original_sale_id for r in rows if r.original_sale_id})
            )
        )
    }
    result = []
    for r in rows:
        m = members.get(r.member_id) if r.member_id else None
        result.append(
            JournalLine(
                receipt_no=r.receipt_no,
                kind=r.kind,
                at=r.business_time,
                operator=logins.get(r.operator_id, r.operator_id),
                member_no=m.member_no if m else None,
                member_name=m.name if m else None,
                member_mobile=mask_mobile(m.mobile) if m else None,
                total_fen=r.total_fen,
                tenders=tuple(tenders.get(r.id, ())),
                original_receipt_no=originals.get(r.original_sale_id)
                if r.original_sale_id
                else None,
            )
        )
    return result
