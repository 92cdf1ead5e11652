"""负债: what the store owes its members at the end of any day, as the ledger stood then.

Balances are today's projections less the entries made after the day (so a past day shows
what was owed then); cards and coupons are replayed from their entries up to the day's end.
Every read is an index range (`ix_ledger_entry_kind_time`) or a scan of a narrow table.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.engine import read_session
from db.models import Card, Coupon, CouponTemplate, LedgerEntry, Member, Sale, SaleLine
from pos_app.domain.entry_kinds import MIRROR_KINDS, EntryKind
from pos_app.domain.errors import InvalidInput
from pos_app.domain.liabilities import Liabilities, PassLiability, unused_share_fen
from pos_app.domain.passes import share_fen
from pos_app.domain.permissions import Permission
from pos_app.services.auth import Actor, Approval, authorize
from pos_app.services.context import StoreContext
from pos_app.services.rules_store import current_rules

_PASS_MOVES = (EntryKind.PASS_USED, EntryKind.PASS_USE_REVERSED, EntryKind.PASS_REVOKED)
_COUPON_MOVES = (EntryKind.COUPON_REDEEMED, EntryKind.COUPON_RESTORED, EntryKind.COUPON_VOIDED)


def liabilities(
    ctx: StoreContext, actor: Actor, day: date | None = None, approval: Approval | None = None
) -> Liabilities:
    """What was owed to members at the end of `day` (default today). A cashier sees it with
    a manager's approval."""
    day = day or ctx.business_day()
    if day > ctx.business_day():
        raise InvalidInput(
            f"不能查询未来日期的负债：{day.isoformat()}",
            f"Cannot show liabilities for a future day: {day.isoformat()}",
        )
    end = ctx.day_start_iso(day + timedelta(days=1))
    with read_session(ctx.engine) as s:
        authorize(s, actor, Permission.REPORT_STORE, approval)
        principal, bonus, points = _balances(s, end)
        _, rules = current_rules(s)
        coupons, face = _coupons(s, end, day)
        return Liabilities(
            day=day.isoformat(),
            sv_principal_fen=principal,
            sv_bonus_fen=bonus,
            points=points,
            points_per_yuan=rules.points.redeem_points_per_yuan,
            passes=_passes(ctx, s, end, day),
            coupons=coupons,
            coupons_face_fen=face,
        )


def _balances(s: Session, end: str) -> tuple[int, int, int]:
    """Stored value (principal, bonus) and points owed at `end`: the balances on the card and
    member rows now (projections `verify` proves equal to the ledger's sums) less what the
    entries made since moved. For today that is nothing, and a past day reads only the entries
    after it (one index range per kind) instead of every entry before it."""
    principal, bonus = s.execute(
        select(
            func.coalesce(func.sum(Card.principal_fen), 0),
            func.coalesce(func.sum(Card.bonus_fen), 0),
        )
    ).one()
    points = s.scalar(select(func.coalesce(func.sum(Member.points_balance), 0)))
    e = LedgerEntry
    sums = (
        func.coalesce(func.sum(e.principal_delta), 0),
        func.coalesce(func.sum(e.bonus_delta), 0),
        func.coalesce(func.sum(e.points_delta), 0),
    )
    own_kinds = [str(k) for k in EntryKind if k not in MIRROR_KINDS]
    after_p, after_b, after_pts = s.execute(
        select(*sums).where(e.kind.in_(own_kinds), e.business_time >= end)
    ).one()
    # The rows also hold what other stores' tills did (mirror entries): the chain owes that,
    # not this store, so every mirror ever written comes off.
    mirror_p, mirror_b, mirror_pts = s.execute(
        select(*sums).where(e.kind.in_([str(k) for k in MIRROR_KINDS]))
    ).one()
    return (
        int(principal) - int(after_p) - int(mirror_p),
        int(bonus) - int(after_b) - int(mirror_b),
        int(points or 0) - int(after_pts) - int(mirror_pts),
    )


def _payload(text: str | None) -> dict[str, object]:
    data = json.loads(text) if text else {}
    return data if isinstance(data, dict) else {}


def _passes(ctx: StoreContext, s: Session, end: str, day: date) -> tuple[PassLiability, ...]:
    e = LedgerEntry
    granted = [
        (str(entry_id), str(at), payload)
        for entry_id, at, payload in s.execute(
            select(e.entry_id, e.business_time, e.payload)
            .where(e.kind == EntryKind.PASS_GRANTED.value, e.business_time < end)
            .order_by(e.store_seq)
        )
    ]
    used: dict[tuple[str, str], int] = defaultdict(int)
    revoked: set[str] = set()
    for kind, payload in s.execute(
        select(e.kind, e.payload).where(
            e.kind.in_([str(k) for k in _PASS_MOVES]), e.business_time < end
        )
    ):
        data = _payload(payload)
        pass_id = str(data.get("pass_id"))
        if kind == EntryKind.PASS_REVOKED:
            revoked.add(pass_id)
            continue
        qty = int(str(data.get("qty") or 0))
        sign = 1 if kind == EntryKind.PASS_USED else -1
        used[(pass_id, str(data.get("service_sku")))] += sign * qty
    prices = _card_prices(s, granted)
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for entry_id, business_time, payload in granted:
        data = _payload(payload)
        until = date.fromisoformat(str(data.get("valid_until")))
        if entry_id in revoked or until < day:
            continue  # refunded, or expired: owed nothing any more
        items = data.get("items")
        items = items if isinstance(items, dict) else {}
        price = prices.get(entry_id, 0)
        kind = str(data.get("kind"))
        if any(uses is None for uses in items.values()):
            granted_day = ctx.business_day(datetime.fromisoformat(business_time))
            left = (until - day).days
            value = unused_share_fen(price, (until - granted_day).days + 1, left)
            uses_left = 0
        else:
            total = sum(int(u) for u in items.values())
            uses_left = sum(int(u) - used[(entry_id, sku)] for sku, u in items.items())
            value = unused_share_fen(price, total, uses_left)
        row = totals[kind]
        row[0] += 1
        row[1] += uses_left
        row[2] += value
    return tuple(PassLiability(k, *totals[k]) for k in sorted(totals))


def _card_prices(s: Session, granted: list[tuple[str, str, str | None]]) -> dict[str, int]:
    """What each pass was sold for: its share of the card line on the sale that granted it
    (a line of two cards grants two passes, each worth its share of the line)."""
    wanted: dict[tuple[str, str], list[str]] = defaultdict(list)
    for entry_id, _, payload in granted:
        data = _payload(payload)
        receipt_no = data.get("receipt_no")
        if receipt_no:
            wanted[(str(receipt_no), str(data.get("sku")))].append(entry_id)
    prices: dict[str, int] = {}
    receipts = sorted({r for r, _ in wanted})
    for i in range(0, len(receipts), 500):
        for receipt_no, sku, qty, net_fen in s.execute(
            select(Sale.receipt_no, SaleLine.sku, SaleLine.qty, SaleLine.net_fen)
            .join(SaleLine, SaleLine.sale_id == Sale.id)
            .where(Sale.receipt_no.in_(receipts[i : i + 500]), Sale.kind == "sale")
        ):
            ids = wanted.get((receipt_no, sku), [])
            for n, pass_id in enumerate(ids[:qty]):
                if pass_id not in prices:
                    prices[pass_id] = share_fen(net_fen, qty, n, n + 1)
    return prices


def _coupons(s: Session, end: str, day: date) -> tuple[int, int]:
    e = LedgerEntry
    coupon_id = func.json_extract(e.payload, "$.coupon_id")
    state: dict[str, int] = defaultdict(int)  # > 0: used (or void) at the end of the day
    for kind, cid, count in s.execute(
        select(e.kind, coupon_id, func.count())
        .where(e.kind.in_([str(k) for k in _COUPON_MOVES]), e.business_time < end)
        .group_by(e.kind, coupon_id)
    ):
        if kind == EntryKind.COUPON_VOIDED:
            state[str(cid)] += 1_000_000  # void for good
        elif kind == EntryKind.COUPON_REDEEMED:
            state[str(cid)] += count
        else:
            state[str(cid)] -= count
    count = face = 0
    for cid, kind, amount_off in s.execute(
        select(Coupon.id, CouponTemplate.kind, CouponTemplate.amount_off_fen)
        .join(CouponTemplate, CouponTemplate.id == Coupon.template_id)
        .where(Coupon.issued_at < end, Coupon.valid_to >= day.isoformat())
    ):
        if state.get(cid, 0) > 0:
            continue
        count += 1
        if kind == "amount_off":
            face += amount_off
    return count, face
