"""消费/充值明细: a member's purchases, refunds and stored-value movements, newest first.

Purchases come from `sale` (by member, ix_sale_member_id), top-ups and other card money from
the member's ledger entries (ix_ledger_entry_member_seq); each page reads at most
`offset + limit` rows of either, so a member with years of history pages quickly.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.engine import read_session
from db.models import LedgerEntry, Member, Sale, SaleTender
from pos_app.domain.entry_kinds import EntryKind
from pos_app.domain.errors import InvalidInput, NotFound
from pos_app.domain.members import normalize_mobile
from pos_app.domain.permissions import Permission
from pos_app.services.auth import Actor, authorize
from pos_app.services.context import StoreContext
from pos_app.services.lookup import card_by_no, member_by_mobile, member_of_card

MAX_PAGE = 200
# Ledger entries that move a member's card money outside a sale (a sale's stored-value
# tender is shown with the sale).
MONEY_KINDS = {
    EntryKind.TOPUP: ("充值", "Top-up"),
    EntryKind.TOPUP_REFUNDED: ("退充值", "Top-up refund"),
    EntryKind.OPENING_BALANCE: ("期初余额", "Opening balance"),
    EntryKind.CARD_CANCELLED: ("注销退款", "Card cancelled"),
    # What the other stores of the chain did, as HQ told this till (no money of this store).
    EntryKind.CARD_SYNCED: ("其他门店", "Other stores"),
    EntryKind.POINTS_SYNCED: ("其他门店积分", "Points at other stores"),
}
SALE_KINDS = {"sale": ("消费", "Purchase"), "refund": ("退货", "Refund")}


def find_member(session: Session, key: str) -> Member:
    """The member a cashier names by member number, mobile number or card number."""
    key = key.strip()
    if not key:
        raise InvalidInput("请输入会员号、手机号或卡号", "Give a member, mobile or card number")
    member = session.scalars(select(Member).where(Member.member_no == key)).first()
    if member is not None:
        return member
    try:
        mobile = normalize_mobile(key)
    except InvalidInput:
        mobile = None
    if mobile is not None:
        return member_by_mobile(session, mobile)
    try:
        return member_of_card(session, card_by_no(session, key))
    except InvalidInput:
        raise NotFound(f"找不到会员：{key}", f"No member found for {key}") from None


@dataclass(frozen=True)
class HistoryLine:
    """One purchase, refund or stored-value movement of the member."""

    at: str  # business time, ISO UTC
    kind: str  # sale, refund, or a MONEY_KINDS entry kind
    receipt_no: str | None
    amount_fen: int  # a sale's total (negative for a refund), money paid in or out
    stored_value_fen: int  # the change to the card's balance (principal + bonus)
    points: int  # points earned (sales) or moved
    tenders: tuple[str, ...] = ()


@dataclass(frozen=True)
class MemberHistory:
    member_no: str
    name: str
    lines: tuple[HistoryLine, ...]
    offset: int
    has_more: bool


def member_history(
    ctx: StoreContext, actor: Actor, key: str, offset: int = 0, limit: int = 50
) -> MemberHistory:
    """A page of the member's history, newest first: `limit` lines after the first `offset`."""
    if not 1 <= limit <= MAX_PAGE or offset < 0:
        raise InvalidInput(
            f"每页 1–{MAX_PAGE} 条", f"A page holds 1–{MAX_PAGE} lines, from offset 0 on"
        )
    with read_session(ctx.engine) as s:
        authorize(s, actor, Permission.MEMBER_VIEW)
        member = find_member(s, key)
        wanted = offset + limit + 1
        sales = s.execute(
            select(
                Sale.id,
                Sale.business_time,
                Sale.kind,
                Sale.receipt_no,
                Sale.total_fen,
                Sale.points_earned,
            )
            .where(Sale.member_id == member.id)
            .order_by(Sale.business_time.desc(), Sale.receipt_no.desc())
            .limit(wanted)
        ).all()
        e = LedgerEntry
        moves = s.execute(
            select(
                e.business_time,
                e.kind,
                e.amount_fen,
                e.principal_delta,
                e.bonus_delta,
                e.points_delta,
                e.tender,
                e.store_seq,
            )
            .where(e.member_id == member.id, e.kind.in_([str(k) for k in MONEY_KINDS]))
            .order_by(e.store_seq.desc())
            .limit(wanted)
        ).all()
        merged: list[tuple[str, int, HistoryLine | str]] = []
        sv_by_sale = _stored_value_of_sales(s, [row.id for row in sales])
        for row in sales:
            merged.append((row.business_time, 0, row.id))
        lines_by_sale = {
            row.id: HistoryLine(
                at=row.business_time,
                kind=row.kind,
                receipt_no=row.receipt_no,
                amount_fen=row.total_fen,
                stored_value_fen=-sv_by_sale.get(row.id, (0, ()))[0],
                points=row.points_earned,
                tenders=sv_by_sale.get(row.id, (0, ()))[1],
            )
            for row in sales
        }
        for m in moves:
            paid = m.amount_fen if m.kind != EntryKind.CARD_CANCELLED else -m.amount_fen
            if m.kind == EntryKind.TOPUP_REFUNDED:
                paid = -m.amount_fen
            merged.append(
                (
                    m.business_time,
                    m.store_seq,
                    HistoryLine(
                        at=m.business_time,
                        kind=str(m.kind),
                        receipt_no=None,
                        amount_fen=paid,
                        stored_value_fen=m.principal_delta + m.bonus_delta,
                        points=m.points_delta,
                        tenders=(m.tender,) if m.tender else (),
                    ),
                )
            )
        merged.sort(key=lambda item: (item[0], item[1]), reverse=True)
        page = [
            item if isinstance(item, HistoryLine) else lines_by_sale[item]
            for _, _, item in merged[offset : offset + limit + 1]
        ]
        return MemberHistory(
            member.member_no,
            member.name,
            tuple(page[:limit]),
            offset,
            has_more=len(page) > limit,
        )


def _stored_value_of_sales(
    s: Session, sale_ids: list[str]
) -> dict[str, tuple[int, tuple[str, ...]]]:
    """Per sale: what stored value paid (negative on a refund) and the tenders used."""
    result: dict[str, tuple[int, tuple[str, ...]]] = {}
    for i in range(0, len(sale_ids), 500):
        for sale_id, tender, amount in s.execute(
            select(SaleTender.sale_id, SaleTender.tender, SaleTender.amount_fen)
            .where(SaleTender.sale_id.in_(sale_ids[i : i + 500]))
            .order_by(SaleTender.sale_id, SaleTender.seq)
        ):
            sv, tenders = result.get(sale_id, (0, ()))
            if tender == "stored_value":
                sv += amount
            if tender not in tenders:
                tenders = (*tenders, tender)
            result[sale_id] = (sv, tenders)
    return result
