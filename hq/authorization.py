"""Online authorization of a spend (docs/chain-protocol.md, "Spending a card anywhere"): HQ
holds stored value, points and coupons for one till's sale, so two tills never spend the
same yuan while HQ is up.

One transaction per hold. It first takes the `chain_card` row lock (`SELECT … FOR UPDATE`
on PostgreSQL; on SQLite the database's write lock), the lock ingest takes before it moves
the card's positions and confirms its holds, so positions and holds are read as one state:
either before an entry arrived (its hold still held) or after (its amount in the position,
the hold confirmed), never between; positions and holds are then summed in one statement
(one snapshot). Points lock the `chain_member` row the same way, and each coupon a
transaction-scoped advisory lock on its id (SQLite: the hold takes the database's write
lock before it reads anything).

Availability = Σ positions − Σ holds still `held` and not past `expires_at`. A hold's expiry
counts by time at once; the rows are marked `expired` lazily, by the next hold on the card.
The asking till may report its own position (its ledger, pushed or not): HQ then trusts it
over the position it holds of that till, and leaves that till's own holds out (its ledger
already holds the sales that confirmed them, or they failed and were released).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, and_, func, insert, or_, select, text, update
from uuid6 import uuid7

from hq.admin import iso
from hq.models import (
    CardPosition,
    ChainCard,
    ChainMember,
    Hold,
    HqLedgerEntry,
    MemberPosition,
    Till,
)
from hq.sync_refusals import InvalidRequest, SyncRefusal
from pos_app.domain.card_lifecycle import mask_card_no
from pos_app.domain.money import format_fen

HOLD_SECONDS = 120
BLOCKED_STATES = frozenset({"lost", "frozen", "replaced", "cancelled"})
MAX_COUPONS = 20
_MAX_AMOUNT = 2**53  # beyond any real balance, and exact as a JSON number everywhere
# The card row's columns a till needs to hold the card (the feed's `card` item, the same).
CARD_FIELDS = ("id", "card_no", "media", "member_id", "pin_hash", "replaced_by_id", "created_at")
_STATE_TEXT = {
    "lost": ("已挂失", "reported lost"),
    "frozen": ("已冻结", "frozen"),
    "replaced": ("已换卡", "replaced"),
    "cancelled": ("已注销", "cancelled"),
}


class CardUnknown(SyncRefusal):
    """HQ does not know the card (or member) yet: the till stands in for it offline."""

    code = "card_unknown"
    http_status = 404


class CardBlocked(SyncRefusal):
    code = "card_blocked"
    http_status = 409


class InsufficientChainBalance(SyncRefusal):
    code = "insufficient_balance"
    http_status = 409


class InsufficientChainPoints(SyncRefusal):
    code = "insufficient_points"
    http_status = 409


class CouponUsed(SyncRefusal):
    code = "coupon_used"
    http_status = 409


class HoldNotFound(SyncRefusal):
    code = "not_found"
    http_status = 404


@dataclass(frozen=True)
class HoldRequest:
    card_id: str | None
    member_id: str | None
    amount_fen: int
    points: int
    coupon_ids: tuple[str, ...]
    receipt_no: str | None
    # The till's own position, from its ledger (None: HQ uses what it holds of the till).
    own_principal_fen: int | None
    own_bonus_fen: int | None
    own_points: int | None


def parse_hold_request(body: object) -> HoldRequest:
    if not isinstance(body, dict):
        raise InvalidRequest("请求内容应为 JSON 对象", "The request body must be a JSON object")

    def ident(key: str) -> str | None:
        value = body.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not 1 <= len(value) <= 36:
            raise InvalidRequest(f"{key} 应为编号文字", f"{key} must be an id (text)")
        return value

    def count(key: str, *, optional: bool = False) -> int | None:
        value = body.get(key)
        if value is None and optional:
            return None
        value = 0 if value is None else value
        if not isinstance(value, int) or isinstance(value, bool) or abs(value) >= _MAX_AMOUNT:
            raise InvalidRequest(f"{key} 应为整数", f"{key} must be a whole number")
        if not optional and value < 0:
            raise InvalidRequest(f"{key} 不能为负", f"{key} cannot be negative")
        return value

    coupons = body.get("coupon_ids") or []
    if (
        not isinstance(coupons, list)
        or len(coupons) > MAX_COUPONS
        or not all(isinstance(c, str) and 1 <= len(c) <= 36 for c in coupons)
    ):
        raise InvalidRequest(
            f"coupon_ids 应为最多 {MAX_COUPONS} 个券编号的数组",
            f"coupon_ids must be an array of at most {MAX_COUPONS} coupon ids",
        )
    receipt_no = body.get("receipt_no")
    if receipt_no is not None and (not isinstance(receipt_no, str) or len(receipt_no) > 40):
        raise InvalidRequest("receipt_no 应为小票号文字", "receipt_no must be a receipt number")
    request = HoldRequest(
        card_id=ident("card_id"),
        member_id=ident("member_id"),
        amount_fen=count("amount_fen") or 0,
        points=count("points") or 0,
        coupon_ids=tuple(dict.fromkeys(coupons)),
        receipt_no=receipt_no,
        own_principal_fen=count("own_principal_fen", optional=True),
        own_bonus_fen=count("own_bonus_fen", optional=True),
        own_points=count("own_points", optional=True),
    )
    if request.amount_fen and request.card_id is None:
        raise InvalidRequest("储值支付需要 card_id", "A stored-value amount needs card_id")
    if request.points and request.member_id is None:
        raise InvalidRequest("积分支付需要 member_id", "Points need member_id")
    if not (request.amount_fen or request.points or request.coupon_ids):
        raise InvalidRequest("没有要授权的金额、积分或券", "Nothing to authorize")
    return request


def place_hold(engine: Engine, till: str, body: bytes, now: datetime) -> dict[str, Any]:
    """Authorize `till`'s spend (the request body, JSON) and hold it, or refuse."""
    try:
        parsed = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise InvalidRequest(
            "请求内容不是有效的 JSON", "The request body is not valid JSON"
        ) from None
    request = parse_hold_request(parsed)
    now_iso = iso(now)
    expires_at = iso(now + timedelta(seconds=HOLD_SECONDS))
    with engine.begin() as conn:
        postgres = conn.dialect.name == "postgresql"
        if postgres:
            # A hold lost in a crash of HQ within the WAL writer's delay costs at most a
            # conflict found later; the round trip is what every sale waits for. Set in
            # the till's lookup: one statement less on every hold.
            row = conn.execute(
                select(Till.id, func.set_config("synchronous_commit", "off", True)).where(
                    Till.code == till
                )
            ).one()
            till_id = int(row[0])
        else:
            # SQLite: take the write lock before reading, so a concurrent hold waits for this
            # one instead of reading the same balance (a write that changes nothing).
            conn.execute(update(Hold).where(Hold.id == "").values(state=Hold.state))
            till_id = conn.execute(select(Till.id).where(Till.code == till)).scalar_one()
        card = _lock_card(conn, request.card_id) if request.card_id else None
        if card is not None and card.state in BLOCKED_STATES:
            zh, en = _STATE_TEXT[card.state]
            raise CardBlocked(
                f"卡 {mask_card_no(card.card_no)} {zh}（{card.state_source}），不能使用",
                f"Card {mask_card_no(card.card_no)} is {en} ({card.state_source}) "
                "and cannot be used",
                state=card.state,
            )
        member_id = request.member_id or (card.member_id if card is not None else None)
        if request.points:
            _lock_member(conn, member_id)
        for coupon_id in sorted(request.coupon_ids):
            if postgres:
                conn.execute(
                    text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 14))"),
                    {"key": coupon_id},
                )
        card_out = None
        if card is not None:
            others, own, held, ran_out = _card_figures(conn, card.id, till_id, request, now_iso)
            if ran_out or request.points or request.coupon_ids:
                _expire_due(conn, request, now_iso)
            available = others[0] + others[1] + own - held
            if request.amount_fen > available:
                raise InsufficientChainBalance(
                    f"卡 {mask_card_no(card.card_no)} 全国可用余额 {format_fen(available)}，"
                    f"不够支付 {format_fen(request.amount_fen)}",
                    f"Card {mask_card_no(card.card_no)} has {format_fen(available)} available "
                    f"across the chain, not enough for {format_fen(request.amount_fen)}",
                    available_fen=max(0, available),
                )
            card_out = {
                **{name: card.data.get(name) for name in CARD_FIELDS},
                "id": card.id,
                "card_no": card.card_no,
                "member_id": card.member_id,
                "state": card.state,
                "state_source": card.state_source,
                "external_principal_fen": others[0],
                "external_bonus_fen": others[1],
            }
        elif request.points or request.coupon_ids:
            _expire_due(conn, request, now_iso)
        member_out = None
        if member_id is not None and request.points:
            others_points, own_points, held_points = _member_figures(
                conn, member_id, till_id, request, now_iso
            )
            available_points = others_points + own_points - held_points
            if request.points > available_points:
                raise InsufficientChainPoints(
                    f"会员全国可用积分 {max(0, available_points)}，不够使用 {request.points}",
                    f"The member has {max(0, available_points)} points available across the "
                    f"chain, not enough for {request.points}",
                    available_points=max(0, available_points),
                )
            member_out = {"id": member_id, "external_points": others_points}
        for coupon_id in request.coupon_ids:
            _check_coupon(conn, coupon_id, till_id, now_iso)
        hold_id = str(uuid7())
        rows = [
            {
                "id": hold_id,
                "till_id": till_id,
                "card_id": request.card_id,
                "member_id": member_id,
                "coupon_id": None,
                "amount_fen": request.amount_fen,
                "points": request.points,
                "state": "held",
                "created_at": now_iso,
                "expires_at": expires_at,
                "parent_id": None,
            }
        ]
        coupon_holds = {coupon_id: str(uuid7()) for coupon_id in request.coupon_ids}
        rows += [
            {
                **rows[0],
                "id": coupon_hold,
                "card_id": None,
                "coupon_id": coupon_id,
                "amount_fen": 0,
                "points": 0,
                "parent_id": hold_id,
            }
            for coupon_id, coupon_hold in coupon_holds.items()
        ]
        conn.execute(insert(Hold), rows)
    return {
        "hold_id": hold_id,
        "expires_at": expires_at,
        "card": card_out,
        "member": member_out,
        "coupon_holds": coupon_holds,
    }


def release_hold(engine: Engine, till: str, hold_id: str, now: datetime) -> dict[str, Any]:
    """The till's sale failed: its hold (and its coupons' holds) stop counting. Releasing a
    hold already confirmed, released or expired changes nothing."""
    with engine.begin() as conn:
        till_id = conn.scalar(select(Till.id).where(Till.code == till))
        state = conn.scalar(select(Hold.state).where(Hold.id == hold_id, Hold.till_id == till_id))
        if state is None:
            raise HoldNotFound(
                f"本收银机没有这笔授权：{hold_id}", f"This till holds no authorization {hold_id}"
            )
        conn.execute(
            update(Hold)
            .where(
                or_(Hold.id == hold_id, Hold.parent_id == hold_id),
                Hold.till_id == till_id,
                Hold.state == "held",
            )
            .values(state="released", settled_at=iso(now))
        )
        state = conn.scalar(select(Hold.state).where(Hold.id == hold_id))
    return {"hold_id": hold_id, "state": state}


def _lock_card(conn: Connection, card_id: str) -> ChainCard:
    row = conn.execute(
        select(ChainCard.__table__).where(ChainCard.id == card_id).with_for_update()
    ).one_or_none()
    if row is None:
        raise CardUnknown("总部还没有这张卡", "HQ does not know this card yet")
    return row  # type: ignore[return-value]


def _lock_member(conn: Connection, member_id: str | None) -> None:
    found = (
        conn.scalar(select(ChainMember.id).where(ChainMember.id == member_id).with_for_update())
        if member_id
        else None
    )
    if found is None:
        raise CardUnknown("总部还没有这位会员", "HQ does not know this member yet")


def _live(now_iso: str) -> Any:
    return and_(Hold.state == "held", Hold.expires_at > now_iso)


def _expire_due(conn: Connection, request: HoldRequest, now_iso: str) -> None:
    """Mark the holds of this card and member that ran out (they stopped counting at
    expires_at already; this only records it)."""
    subjects = []
    if request.card_id:
        subjects.append(Hold.card_id == request.card_id)
    if request.member_id:
        subjects.append(Hold.member_id == request.member_id)
    if request.coupon_ids:
        subjects.append(Hold.coupon_id.in_(request.coupon_ids))
    conn.execute(
        update(Hold)
        .where(or_(*subjects), Hold.state == "held", Hold.expires_at <= now_iso)
        .values(state="expired", settled_at=now_iso)
    )


def _card_figures(
    conn: Connection, card_id: str, till_id: int, request: HoldRequest, now_iso: str
) -> tuple[tuple[int, int], int, int, int]:
    """((principal, bonus) of the other tills, the asking till's own total, held amount,
    holds of the card past expiry still marked held), read in one statement: one snapshot
    of positions and holds."""
    reported = request.own_principal_fen is not None and request.own_bonus_fen is not None
    pos = CardPosition
    other = pos.card_id == card_id, pos.till_id != till_id
    holds = [Hold.card_id == card_id, _live(now_iso)]
    if reported:
        holds.append(Hold.till_id != till_id)
    row = conn.execute(
        select(
            select(func.coalesce(func.sum(pos.principal_fen), 0)).where(*other).scalar_subquery(),
            select(func.coalesce(func.sum(pos.bonus_fen), 0)).where(*other).scalar_subquery(),
            select(func.coalesce(func.sum(pos.principal_fen + pos.bonus_fen), 0))
            .where(pos.card_id == card_id, pos.till_id == till_id)
            .scalar_subquery(),
            select(func.coalesce(func.sum(Hold.amount_fen), 0)).where(*holds).scalar_subquery(),
            select(func.count())
            .select_from(Hold)
            .where(Hold.card_id == card_id, Hold.state == "held", Hold.expires_at <= now_iso)
            .scalar_subquery(),
        )
    ).one()
    own = (
        (request.own_principal_fen or 0) + (request.own_bonus_fen or 0) if reported else int(row[2])
    )
    return (int(row[0]), int(row[1])), own, int(row[3]), int(row[4])


def _member_figures(
    conn: Connection, member_id: str, till_id: int, request: HoldRequest, now_iso: str
) -> tuple[int, int, int]:
    pos = MemberPosition
    holds = [Hold.member_id == member_id, Hold.coupon_id.is_(None), _live(now_iso)]
    if request.own_points is not None:
        holds.append(Hold.till_id != till_id)
    row = conn.execute(
        select(
            select(func.coalesce(func.sum(pos.points), 0))
            .where(pos.member_id == member_id, pos.till_id != till_id)
            .scalar_subquery(),
            select(func.coalesce(func.sum(pos.points), 0))
            .where(pos.member_id == member_id, pos.till_id == till_id)
            .scalar_subquery(),
            select(func.coalesce(func.sum(Hold.points), 0)).where(*holds).scalar_subquery(),
        )
    ).one()
    own = request.own_points if request.own_points is not None else int(row[1])
    return int(row[0]), own, int(row[2])


def _check_coupon(conn: Connection, coupon_id: str, till_id: int, now_iso: str) -> None:
    """Refuse a coupon another till holds or has redeemed (and not restored). The asking
    till's own use of it is its own database's business: it checks the coupon row there."""
    holder = conn.scalar(
        select(Till.code)
        .join(Hold, Hold.till_id == Till.id)
        .where(Hold.coupon_id == coupon_id, Hold.till_id != till_id, _live(now_iso))
        .limit(1)
    )
    if holder is None:
        marker = f'%"coupon_id":"{coupon_id}"%'
        uses = conn.execute(
            select(HqLedgerEntry.kind, Till.code)
            .join(Till, Till.id == HqLedgerEntry.till_id)
            .where(
                HqLedgerEntry.kind.in_(("coupon_redeemed", "coupon_restored")),
                HqLedgerEntry.till_id != till_id,
                HqLedgerEntry.payload.like(marker),
            )
            .order_by(HqLedgerEntry.business_time, HqLedgerEntry.seq)
        ).all()
        balance = 0
        for kind, code in uses:
            balance += 1 if kind == "coupon_redeemed" else -1
            if balance > 0:
                holder = code
        if balance <= 0:
            holder = None
    if holder is not None:
        raise CouponUsed(
            f"这张券已在 {holder} 使用",
            f"This coupon was used at {holder}",
            coupon_id=coupon_id,
            till=holder,
        )
