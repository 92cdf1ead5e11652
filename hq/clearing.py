"""Monthly clearing (月结算, docs/chain-protocol.md "Monthly clearing"): per store per month,
what its tills took in and gave out of the chain's stored value, points and count cards, and
the store's net position against HQ.

Everything comes from `hq_ledger_entry` itself, mirror entries (`MIRROR_KINDS`) left out:
they only repeat on one till what other tills did. Each entry counts in one clearing month,
`clearing_month`, set here before anything is summed: its business month (Asia/Shanghai), or,
when that month was already closed when the entry got here, the first open month after it.
So a closed month never changes, and a late record is not lost.

The check: Σ net_fen over the stores + liability_change_fen = 0, where the liability at the end
of a month is Σ (principal + bonus) deltas of every entry counted in that month or earlier.
Counting the liability by clearing month rather than by business time keeps the check true for
late records too (one that fell into a later month moves that month's liability, not the
closed one's); the start of a month must also equal the end HQ froze for the month before.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from hq.admin import iso
from hq.errors import HqError, HqInvalidInput
from hq.models import ClearingLine, ClearingMonth, HqAudit, HqLedgerEntry, HqRow, Store, Till
from hq.reports import CHAIN_TIMEZONE
from pos_app.domain.entry_kinds import MIRROR_KINDS, EntryKind
from pos_app.domain.errors import RulesError
from pos_app.domain.rules import Rules, parse_rules

_MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")
_ZONE = ZoneInfo(CHAIN_TIMEZONE)
_MIRRORS = tuple(str(kind) for kind in MIRROR_KINDS)

_SOLD = {EntryKind.TOPUP, EntryKind.TOPUP_REFUNDED}
_SPENT = {EntryKind.SV_PAYMENT, EntryKind.SV_PAYMENT_REFUNDED}
_POINTS_ISSUED = {
    EntryKind.POINTS_EARNED,
    EntryKind.POINTS_REVERSED,
    EntryKind.REFERRAL_POINTS,
    EntryKind.PARTICIPATION_POINTS,
}
_POINTS_REDEEMED = {EntryKind.POINTS_REDEEMED, EntryKind.POINTS_RETURNED}


@dataclass(frozen=True)
class StoreLine:
    """One store's month. Money in fen, points as counted; signs as a store manager reads
    them (sold, redeemed and issued are positive when the store did that)."""

    store_id: int
    store: str  # the store code
    name: str
    stored_value_sold_fen: int  # principal topped up (cash in), less top-up refunds
    bonus_granted_fen: int  # bonus given with those top-ups
    stored_value_redeemed_fen: int  # principal + bonus spent on goods, less spend refunds
    stored_value_other_fen: int  # cancellations, corrections, opening balances, replacements
    points_issued: int
    points_redeemed: int
    points_other: int  # expired, adjusted, reset (as deltas: negative takes points away)
    points_issued_value_fen: int  # at the rules' redeem rate of each entry
    points_redeemed_value_fen: int
    points_value_fen: int  # issued less redeemed value: what the store added to points owed
    count_card_sold_fen: int  # count cards sold, less refunded
    count_card_used_fen: int  # value of the uses at the pass's unit price, less reversals
    net_fen: int  # −Σ(principal + bonus deltas): positive, HQ owes the store

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StoreLine:
        return cls(**{f.name: data[f.name] for f in fields(cls)})


@dataclass(frozen=True)
class Statement:
    month: str  # YYYY-MM
    closed: bool
    closed_at: str | None
    closed_by: str | None
    lines: list[StoreLine]
    liability_start_fen: int  # the chain's outstanding stored value at the month's start
    liability_end_fen: int
    liability_change_fen: int
    net_total_fen: int  # Σ net_fen over every store of the chain (not only those shown)
    invariant_ok: bool

    def as_json(self) -> dict[str, Any]:
        """The CLI contract's object: {"stores": […], "liability_change_fen", "invariant_ok"}
        plus the month's other figures."""
        return {
            "month": self.month,
            "closed": self.closed,
            "closed_at": self.closed_at,
            "closed_by": self.closed_by,
            "stores": [line.as_json() for line in self.lines],
            "liability_start_fen": self.liability_start_fen,
            "liability_end_fen": self.liability_end_fen,
            "liability_change_fen": self.liability_change_fen,
            "net_total_fen": self.net_total_fen,
            "invariant_ok": self.invariant_ok,
        }


# -- Months ------------------------------------------------------------------------------------


def parse_month(text: str) -> str:
    """`YYYY-MM`, checked; anything else is invalid input."""
    if not _MONTH.fullmatch(text or ""):
        raise HqInvalidInput(f"月份应为 YYYY-MM：{text!r}", f"A month is YYYY-MM: {text!r}")
    return text


def month_start(month: str) -> datetime:
    """The first instant of the month in the chain's time zone."""
    year, mon = (int(part) for part in parse_month(month).split("-"))
    return datetime(year, mon, 1, tzinfo=_ZONE)


def next_month(month: str) -> str:
    year, mon = (int(part) for part in month.split("-"))
    return f"{year + mon // 12:04d}-{mon % 12 + 1:02d}"


def business_month(business_time: str) -> str:
    """The month (Asia/Shanghai) of a till's UTC business time."""
    moment = datetime.fromisoformat(business_time)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(_ZONE).strftime("%Y-%m")


def closed_months(session: Session) -> set[str]:
    return set(session.scalars(select(ClearingMonth.month)))


def assign_months(session: Session) -> int:
    """Give every entry without a clearing month its month (see the module's docstring).
    Writes: the caller commits. Returns how many entries got one."""
    closed = closed_months(session)
    pending = session.execute(
        select(HqLedgerEntry.till_id, HqLedgerEntry.seq, HqLedgerEntry.business_time).where(
            HqLedgerEntry.clearing_month.is_(None)
        )
    ).all()
    if not pending:
        return 0
    changes = []
    for till_id, seq, business_time in pending:
        month = business_month(business_time)
        while month in closed:
            month = next_month(month)
        changes.append({"till_id": till_id, "seq": seq, "clearing_month": month})
    for start in range(0, len(changes), 5000):
        session.execute(update(HqLedgerEntry), changes[start : start + 5000])
    return len(changes)


# -- The statement ----------------------------------------------------------------------------


def statement(session: Session, month: str, *, store_ids: list[int] | None = None) -> Statement:
    """The month's statement: frozen figures once it is closed, else computed now (after
    assigning months to newly arrived entries: the session writes, the caller commits).
    `store_ids` narrows the lines shown (a store manager's view); the check is always over
    the whole chain."""
    parse_month(month)
    closed = session.get(ClearingMonth, month)
    if closed is not None:
        return _frozen(session, closed, store_ids)
    assign_months(session)
    computed = _compute(session, month)
    if store_ids is not None:
        wanted = set(store_ids)
        computed = _with_lines(computed, [ln for ln in computed.lines if ln.store_id in wanted])
    return computed


def close_month(session: Session, month: str, actor_login: str, now: datetime) -> Statement:
    """Freeze the month: its lines go into `clearing_line`, and entries of it that arrive
    from now on count in the next open month. Months close in order, once each, and only
    after they have ended."""
    parse_month(month)
    if session.get(ClearingMonth, month) is not None:
        raise HqError("already_closed", f"{month} 已经月结", f"The month {month} is already closed")
    if now < month_start(next_month(month)):
        raise HqError(
            "month_not_over",
            f"{month} 尚未结束，不能月结",
            f"The month {month} is not over yet and cannot be closed",
        )
    assign_months(session)
    closed = closed_months(session)
    earlier = session.scalars(
        select(HqLedgerEntry.clearing_month)
        .where(HqLedgerEntry.clearing_month < month)
        .group_by(HqLedgerEntry.clearing_month)
        .order_by(HqLedgerEntry.clearing_month)
    ).all()
    still_open = [m for m in earlier if m is not None and m not in closed]
    if still_open:
        raise HqError(
            "earlier_month_open",
            f"请先月结 {still_open[0]}",
            f"Close {still_open[0]} first: months close in order",
        )
    computed = _compute(session, month)
    session.add(
        ClearingMonth(
            month=month,
            closed_at=iso(now),
            closed_by=actor_login,
            liability_start_fen=computed.liability_start_fen,
            liability_end_fen=computed.liability_end_fen,
            invariant_ok=computed.invariant_ok,
        )
    )
    session.flush()
    session.add_all(
        ClearingLine(month=month, store_id=line.store_id, figures=line.as_json())
        for line in computed.lines
    )
    session.add(
        HqAudit(
            at=iso(now),
            actor=actor_login,
            action="clearing_closed",
            outcome="ok",
            target=month,
            detail={
                "liability_change_fen": computed.liability_change_fen,
                "net_total_fen": computed.net_total_fen,
                "invariant_ok": computed.invariant_ok,
            },
        )
    )
    session.flush()
    return statement(session, month)


def _with_lines(computed: Statement, lines: list[StoreLine]) -> Statement:
    return Statement(
        **{**{f.name: getattr(computed, f.name) for f in fields(Statement)}, "lines": lines}
    )


def _frozen(session: Session, closed: ClearingMonth, store_ids: list[int] | None) -> Statement:
    figures = session.scalars(
        select(ClearingLine.figures).where(ClearingLine.month == closed.month)
    ).all()
    lines = sorted((StoreLine.from_json(f) for f in figures), key=lambda ln: ln.store)
    net_total = sum(line.net_fen for line in lines)
    if store_ids is not None:
        wanted = set(store_ids)
        lines = [line for line in lines if line.store_id in wanted]
    return Statement(
        month=closed.month,
        closed=True,
        closed_at=closed.closed_at,
        closed_by=closed.closed_by,
        lines=lines,
        liability_start_fen=closed.liability_start_fen,
        liability_end_fen=closed.liability_end_fen,
        liability_change_fen=closed.liability_end_fen - closed.liability_start_fen,
        net_total_fen=net_total,
        invariant_ok=closed.invariant_ok,
    )


def _liability_through(session: Session, month: str, *, inclusive: bool) -> int:
    """Σ (principal + bonus) deltas of the entries counted in months up to `month`."""
    bound = (
        HqLedgerEntry.clearing_month <= month if inclusive else HqLedgerEntry.clearing_month < month
    )
    total = session.scalar(
        select(
            func.coalesce(func.sum(HqLedgerEntry.principal_delta + HqLedgerEntry.bonus_delta), 0)
        ).where(bound, HqLedgerEntry.kind.not_in(_MIRRORS))
    )
    return int(total or 0)


@dataclass
class _Sums:
    sold: int = 0
    bonus: int = 0
    redeemed: int = 0
    other: int = 0
    points_issued: int = 0
    points_redeemed: int = 0
    points_other: int = 0
    issued_value: int = 0
    redeemed_value: int = 0
    card_sold: int = 0
    card_used: int = 0
    net: int = 0


def _compute(session: Session, month: str) -> Statement:
    grouped = session.execute(
        select(
            Till.store_id,
            HqLedgerEntry.till_id,
            HqLedgerEntry.kind,
            HqLedgerEntry.rules_version,
            func.sum(HqLedgerEntry.principal_delta),
            func.sum(HqLedgerEntry.bonus_delta),
            func.sum(HqLedgerEntry.points_delta),
        )
        .join(Till, Till.id == HqLedgerEntry.till_id)
        .where(HqLedgerEntry.clearing_month == month, HqLedgerEntry.kind.not_in(_MIRRORS))
        .group_by(
            Till.store_id, HqLedgerEntry.till_id, HqLedgerEntry.kind, HqLedgerEntry.rules_version
        )
    ).all()
    rates = _RedeemRates(session)
    sums: dict[int, _Sums] = defaultdict(_Sums)
    for store_id, till_id, kind, version, principal, bonus, points in grouped:
        s = sums[store_id]
        principal, bonus, points = (int(v or 0) for v in (principal, bonus, points))
        s.net -= principal + bonus
        if kind in _SOLD:
            s.sold += principal
            s.bonus += bonus
        elif kind in _SPENT:
            s.redeemed -= principal + bonus
        else:
            s.other += principal + bonus
        rate = rates.rate(till_id, version) if points else 0
        if kind in _POINTS_ISSUED:
            s.points_issued += points
            s.issued_value += points_value_fen(points, rate)
        elif kind in _POINTS_REDEEMED:
            s.points_redeemed -= points
            s.redeemed_value -= points_value_fen(points, rate)
        else:
            s.points_other += points
    for store_id, (card_sold, card_used) in _count_cards(session, month).items():
        sums[store_id].card_sold += card_sold
        sums[store_id].card_used += card_used
    lines = [
        StoreLine(
            store_id=store.id,
            store=store.code,
            name=store.name,
            stored_value_sold_fen=s.sold,
            bonus_granted_fen=s.bonus,
            stored_value_redeemed_fen=s.redeemed,
            stored_value_other_fen=s.other,
            points_issued=s.points_issued,
            points_redeemed=s.points_redeemed,
            points_other=s.points_other,
            points_issued_value_fen=s.issued_value,
            points_redeemed_value_fen=s.redeemed_value,
            points_value_fen=s.issued_value - s.redeemed_value,
            count_card_sold_fen=s.card_sold,
            count_card_used_fen=s.card_used,
            net_fen=s.net,
        )
        for store in session.scalars(select(Store).order_by(Store.code))
        for s in (sums.get(store.id, _Sums()),)
    ]
    start = _liability_through(session, month, inclusive=False)
    end = _liability_through(session, month, inclusive=True)
    net_total = sum(line.net_fen for line in lines)
    before = session.scalar(
        select(ClearingMonth)
        .where(ClearingMonth.month < month)
        .order_by(ClearingMonth.month.desc())
        .limit(1)
    )
    # Nothing counts in a month between the last closed one and this (they close in order),
    # so this month must start where the last closed one ended.
    continuous = (
        before is None
        or _liability_through(session, before.month, inclusive=True) == before.liability_end_fen
    )
    return Statement(
        month=month,
        closed=False,
        closed_at=None,
        closed_by=None,
        lines=lines,
        liability_start_fen=start,
        liability_end_fen=end,
        liability_change_fen=end - start,
        net_total_fen=net_total,
        invariant_ok=net_total + (end - start) == 0 and continuous,
    )


def points_value_fen(points: int, redeem_points_per_yuan: int) -> int:
    """What `points` pay for at the rate (points per ¥1), in whole fen toward zero."""
    if redeem_points_per_yuan <= 0:
        return 0
    value = abs(points) * 100 // redeem_points_per_yuan
    return value if points >= 0 else -value


class _RedeemRates:
    """The redeem rate of the rules an entry was written under: the rules text its till sent
    up (`rules_version` rows), or the default rules when HQ has none."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._rates: dict[tuple[int, int], int] = {}
        self._default = Rules().points.redeem_points_per_yuan

    def rate(self, till_id: int, version: int) -> int:
        key = (till_id, version)
        if key not in self._rates:
            self._rates[key] = self._lookup(till_id, version)
        return self._rates[key]

    def _lookup(self, till_id: int, version: int) -> int:
        data = self._session.scalar(
            select(HqRow.data).where(
                HqRow.till_id == till_id,
                HqRow.table_name == "rules_version",
                HqRow.row_key == json.dumps([version], separators=(",", ":")),
            )
        )
        text = data.get("source_text") if isinstance(data, dict) else None
        if not isinstance(text, str):
            return self._default
        try:
            return parse_rules(text, strict=False).points.redeem_points_per_yuan
        except RulesError:
            return self._default


def _count_cards(session: Session, month: str) -> dict[int, tuple[int, int]]:
    """Store id → (value of the count cards its tills sold in the month less those refunded,
    value of the uses its tills gave less those given back).

    A `pass_granted` entry names the sale (related_entry_id: the purchase, whose payload
    holds the sale id) and the card product's SKU; its value is what that sale line charged
    per card. `pass_revoked` takes the value of the pass it revokes back out. A use is
    worth its share of the pass's value (a tenth of a ten-wash card per wash), wherever the
    card was sold; a pass without a count (a time card) is valued as the till valued it."""
    entries = session.execute(
        select(
            Till.store_id,
            HqLedgerEntry.kind,
            HqLedgerEntry.till_id,
            HqLedgerEntry.amount_fen,
            HqLedgerEntry.related_entry_id,
            HqLedgerEntry.payload,
        )
        .join(Till, Till.id == HqLedgerEntry.till_id)
        .where(
            HqLedgerEntry.clearing_month == month,
            HqLedgerEntry.kind.in_(
                [
                    EntryKind.PASS_GRANTED,
                    EntryKind.PASS_REVOKED,
                    EntryKind.PASS_USED,
                    EntryKind.PASS_USE_REVERSED,
                ]
            ),
        )
    ).all()
    passes = _Passes(session)
    sold: dict[int, int] = defaultdict(int)
    used: dict[int, int] = defaultdict(int)
    for store_id, kind, till_id, amount, related, payload in entries:
        data = _payload(payload)
        if kind == EntryKind.PASS_GRANTED:
            sold[store_id] += _pass_value(session, till_id, amount, related, payload)
        elif kind == EntryKind.PASS_REVOKED:  # related_entry_id: the pass's pass_granted
            sold[store_id] -= passes.value(related)
        elif kind == EntryKind.PASS_USED:
            used[store_id] += passes.use_value(data.get("pass_id"), data.get("qty"), amount)
        else:  # pass_use_reversed gives back part of a use, valued the same way
            used[store_id] -= passes.use_value(data.get("pass_id"), data.get("qty"), amount)
    return {store: (sold.get(store, 0), used.get(store, 0)) for store in {*sold, *used}}


class _Passes:
    """Passes by id (the id of their pass_granted entry): what each was sold for and how
    many uses it holds."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._held: dict[str, tuple[int, int | None]] = {}

    def _pass(self, pass_id: object) -> tuple[int, int | None]:
        if not isinstance(pass_id, str):
            return 0, None
        if pass_id not in self._held:
            granted = self._session.execute(
                select(
                    HqLedgerEntry.till_id,
                    HqLedgerEntry.amount_fen,
                    HqLedgerEntry.related_entry_id,
                    HqLedgerEntry.payload,
                ).where(HqLedgerEntry.entry_id == pass_id)
            ).first()
            if granted is None:
                self._held[pass_id] = (0, None)
            else:
                items = _payload(granted.payload).get("items")
                counts = list(items.values()) if isinstance(items, dict) else []
                uses = (
                    sum(counts)
                    if counts and all(isinstance(c, int) and c > 0 for c in counts)
                    else None
                )
                self._held[pass_id] = (_pass_value(self._session, *granted), uses)
        return self._held[pass_id]

    def value(self, pass_id: object) -> int:
        return self._pass(pass_id)[0]

    def use_value(self, pass_id: object, qty: object, till_amount: int) -> int:
        value, uses = self._pass(pass_id)
        if not uses or not isinstance(qty, int) or qty <= 0:
            return int(till_amount)
        return value * qty // uses


def _payload(text: str | None) -> dict[str, Any]:
    try:
        data = json.loads(text) if text else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _pass_value(
    session: Session, till_id: int, amount_fen: int, sale_entry: str | None, payload: str | None
) -> int:
    if amount_fen:
        return int(amount_fen)
    sku = _payload(payload).get("sku")
    if not sale_entry or not isinstance(sku, str):
        return 0
    purchase = session.scalar(
        select(HqLedgerEntry.payload).where(HqLedgerEntry.entry_id == sale_entry)
    )
    sale_id = _payload(purchase).get("sale_id")
    if not isinstance(sale_id, str):
        return 0
    prefix = json.dumps([sale_id], separators=(",", ":"), ensure_ascii=False)[:-1] + ","
    lines = session.scalars(
        select(HqRow.data).where(
            HqRow.till_id == till_id,
            HqRow.table_name == "sale_line",
            HqRow.row_key.startswith(prefix, autoescape=True),
        )
    ).all()
    for line in lines:
        if isinstance(line, dict) and line.get("sku") == sku and int(line.get("qty") or 0) > 0:
            return int(line.get("net_fen") or 0) // int(line["qty"])
    return 0
