"""Verify the ledger: check the hash chain and the sequence, replay every entry, and compare
the recomputed balances, states, PIN counters, tiers and points lots with the stored ones.

It reads only, and reads everything; it reports the first broken link of the chain by its
sequence number and entry id, and every projection that does not match what the entries say.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.engine import read_session
from db.models import Card, LedgerEntry, Member, PointLot
from pos_app.domain.card_lifecycle import mask_card_no
from pos_app.domain.entry_kinds import CARD_STATE_AFTER, EntryKind
from pos_app.domain.ledger_chain import GENESIS_HASH, HASHED_FIELDS, chain_hash
from pos_app.services.context import StoreContext
from pos_app.services.coupons import verify_coupons
from pos_app.services.passes import verify_passes

MAX_PROBLEMS = 50


@dataclass(frozen=True)
class Problem:
    where: str
    message: str
    store_seq: int | None = None
    entry_id: str | None = None


@dataclass
class VerifyReport:
    entries: int = 0
    cards: int = 0
    members: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_bad_entry(self) -> Problem | None:
        with_seq = [p for p in self.problems if p.store_seq is not None]
        return min(with_seq, key=lambda p: p.store_seq or 0) if with_seq else None

    def add(self, problem: Problem) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)


@dataclass
class _CardState:
    principal: int = 0
    bonus: int = 0
    state: str | None = None
    pin_failures: int = 0
    last_seq: int = 0


@dataclass
class _MemberState:
    points: int = 0
    debt: int = 0
    tier: str | None = None
    tier_locked_until: str | None = None
    lots: dict[str, int] = field(default_factory=dict)
    last_seq: int = 0


def verify_ledger(ctx: StoreContext, progress: Callable[[int], None] | None = None) -> VerifyReport:
    """Recompute everything from the entries and compare. Read-only."""
    report = VerifyReport()
    cards: dict[str, _CardState] = defaultdict(_CardState)
    members: dict[str, _MemberState] = defaultdict(_MemberState)
    moves: dict[str, tuple[int, int, int]] = {}
    store_id = ctx.store.id
    with read_session(ctx.engine) as s:
        prev_hash, expected_seq = GENESIS_HASH, 1
        rows = s.execute(
            select(LedgerEntry)
            .where(LedgerEntry.store_id == store_id)
            .order_by(LedgerEntry.store_seq)
            .execution_options(yield_per=5000)
        ).scalars()
        for e in rows:
            report.entries += 1
            where = f"#{e.store_seq} {e.entry_id}"
            if e.store_seq != expected_seq:
                report.add(
                    Problem(
                        where, f"sequence gap: expected {expected_seq}", e.store_seq, e.entry_id
                    )
                )
            expected_seq = e.store_seq + 1
            fields = {name: getattr(e, name) for name in HASHED_FIELDS}
            if e.prev_hash != prev_hash:
                report.add(
                    Problem(
                        where,
                        "prev_hash does not link to the previous entry",
                        e.store_seq,
                        e.entry_id,
                    )
                )
            if chain_hash(e.prev_hash, fields) != e.hash:
                report.add(
                    Problem(
                        where,
                        "hash does not match the entry's content (altered outside the app)",
                        e.store_seq,
                        e.entry_id,
                    )
                )
            prev_hash = e.hash
            _replay(e, cards, members, report, where)
            _check_amounts(e, moves, report, where)
            if progress and report.entries % 50_000 == 0:
                progress(report.entries)
        _compare_cards(s, cards, report)
        _compare_members(s, members, report)
        # Coupons and service passes keep their own projections; each module replays its own.
        for where, message in verify_coupons(s) + verify_passes(s):
            report.add(Problem(where, message))
    return report


# Kinds that may move money on a card; any other kind with a money delta is forged.
_MONEY_KINDS = frozenset(
    {
        EntryKind.TOPUP,
        EntryKind.TOPUP_REFUNDED,
        EntryKind.SV_PAYMENT,
        EntryKind.SV_PAYMENT_REFUNDED,
        EntryKind.CARD_REPLACED_OUT,
        EntryKind.CARD_REPLACED_IN,
        EntryKind.CARD_CANCELLED,
        EntryKind.OPENING_BALANCE,
    }
)


def _check_amounts(
    e: LedgerEntry, moves: dict[str, tuple[int, int, int]], report: VerifyReport, where: str
) -> None:
    """Each money entry must agree with itself and with the entry it reverses: a rewritten and
    rehashed entry whose amount and balance change disagree is caught here."""
    p, b, amount = e.principal_delta, e.bonus_delta, e.amount_fen
    payload = json.loads(e.payload) if e.payload else {}
    kind = e.kind
    ok = True
    if (p or b) and kind not in _MONEY_KINDS:
        ok = False
    elif kind == EntryKind.TOPUP:
        ok = amount == p > 0 and b >= 0
    elif kind == EntryKind.SV_PAYMENT:
        ok = amount == -(p + b) > 0 and p <= 0 and b <= 0
    elif kind == EntryKind.CARD_CANCELLED:
        ok = amount + int(payload.get("fee_fen", 0)) == -p and b <= 0
    elif kind == EntryKind.SV_PAYMENT_REFUNDED:
        # A payment may come back in parts (a sale returned line by line), never beyond itself.
        original = moves.get(e.related_entry_id or "")
        ok = (
            original is not None
            and amount == p + b > 0
            and 0 <= p <= -original[0]
            and 0 <= b <= -original[1]
        )
        if original is not None and ok:
            left = (original[0] + p, original[1] + b, original[2] - amount)
            moves[e.related_entry_id or ""] = left
    elif kind == EntryKind.CARD_REPLACED_IN:
        original = moves.pop(e.related_entry_id or "", None)  # pop: reversed at most once
        ok = original is not None and (p, b) == (-original[0], -original[1])
    elif kind == EntryKind.TOPUP_REFUNDED:
        original = moves.pop(e.related_entry_id or "", None)
        ok = (
            original is not None
            and p == -original[0]
            and -original[1] <= b <= 0
            and amount == max(0, original[0] - (original[1] + b))
        )
    if kind in (EntryKind.SV_PAYMENT, EntryKind.CARD_REPLACED_OUT, EntryKind.TOPUP):
        moves[e.entry_id] = (p, b, amount)
    if not ok:
        report.add(
            Problem(
                where,
                f"{kind}: amounts do not agree with the balance change "
                "or with the entry it reverses",
                e.store_seq,
                e.entry_id,
            )
        )


def _replay(
    e: LedgerEntry,
    cards: dict[str, _CardState],
    members: dict[str, _MemberState],
    report: VerifyReport,
    where: str,
) -> None:
    payload = json.loads(e.payload) if e.payload else {}
    kind = e.kind
    if e.card_id is not None:
        c = cards[e.card_id]
        c.last_seq = e.store_seq
        c.principal += e.principal_delta
        c.bonus += e.bonus_delta
        if c.principal < 0 or c.bonus < 0:
            report.add(Problem(where, "a card balance went below zero", e.store_seq, e.entry_id))
        if kind in CARD_STATE_AFTER:
            c.state = CARD_STATE_AFTER[EntryKind(kind)]
        if kind == EntryKind.PIN_FAILED:
            c.pin_failures += 1
        elif kind in (EntryKind.PIN_RESET, EntryKind.PIN_SET):
            c.pin_failures = 0
        elif kind == EntryKind.CARD_REPLACED_IN:
            c.pin_failures = int(payload.get("pin_failures", 0))
    elif e.principal_delta or e.bonus_delta:
        report.add(Problem(where, "money moved without a card", e.store_seq, e.entry_id))
    if e.member_id is None:
        return
    m = members[e.member_id]
    m.last_seq = e.store_seq
    if kind == EntryKind.MEMBER_REGISTERED:
        m.tier = payload.get("tier")
    elif kind == EntryKind.TIER_CHANGED:
        m.tier = payload.get("to")
        if payload.get("reason") == "manual":  # a manual change sets or clears the lock
            m.tier_locked_until = payload.get("locked_until")
    if e.points_delta > 0:
        debt_paid = int(payload.get("debt_paid", 0))
        m.lots[e.entry_id] = e.points_delta - debt_paid
        m.debt -= debt_paid
    elif e.points_delta < 0:
        taken = 0
        for lot_id, pts in payload.get("lots", []):
            m.lots[lot_id] = m.lots.get(lot_id, 0) - pts
            taken += pts
            if m.lots[lot_id] < 0:
                report.add(Problem(where, "a points lot went below zero", e.store_seq, e.entry_id))
        debt_added = int(payload.get("debt_added", 0))
        m.debt += debt_added
        if taken + debt_added != -e.points_delta:
            report.add(
                Problem(where, "points taken from lots do not add up", e.store_seq, e.entry_id)
            )
    m.points += e.points_delta
    if m.debt < 0:
        report.add(Problem(where, "points debt went below zero", e.store_seq, e.entry_id))


def _compare_cards(s: Session, cards: dict[str, _CardState], report: VerifyReport) -> None:
    for card in s.execute(select(Card).execution_options(yield_per=5000)).scalars():
        report.cards += 1
        r = cards.get(card.id, _CardState())
        expected_state = r.state or ("in_stock" if card.stock_batch_id else None)
        checks = (
            ("principal_fen", card.principal_fen, r.principal),
            ("bonus_fen", card.bonus_fen, r.bonus),
            ("state", card.state, expected_state),
            ("pin_failures", card.pin_failures, r.pin_failures),
        )
        for name, stored, recomputed in checks:
            if stored != recomputed:
                report.add(
                    Problem(
                        f"card {mask_card_no(card.card_no)}",
                        f"{name} is {stored} but the ledger says {recomputed}"
                        + (f" (last entry #{r.last_seq})" if r.last_seq else ""),
                    )
                )


def _compare_members(s: Session, members: dict[str, _MemberState], report: VerifyReport) -> None:
    lots = {
        lot_id: (member_id, remaining)
        for lot_id, member_id, remaining in s.execute(
            select(PointLot.id, PointLot.member_id, PointLot.remaining)
        )
    }
    for member in s.execute(select(Member).execution_options(yield_per=5000)).scalars():
        report.members += 1
        r = members.get(member.id, _MemberState())
        checks = (
            ("points_balance", member.points_balance, r.points),
            ("points_debt", member.points_debt, r.debt),
            ("tier_code", member.tier_code, r.tier),
            ("tier_locked_until", member.tier_locked_until, r.tier_locked_until),
        )
        for name, stored, recomputed in checks:
            if stored != recomputed:
                report.add(
                    Problem(
                        f"member {member.member_no}",
                        f"{name} is {stored} but the ledger says {recomputed}"
                        + (f" (last entry #{r.last_seq})" if r.last_seq else ""),
                    )
                )
        for lot_id, remaining in r.lots.items():
            stored_lot = lots.pop(lot_id, None)
            if stored_lot is None or stored_lot != (member.id, remaining):
                report.add(
                    Problem(
                        f"member {member.member_no}",
                        f"points lot {lot_id} holds {stored_lot[1] if stored_lot else 'nothing'} "
                        f"but the ledger says {remaining}",
                    )
                )
        if sum(r.lots.values()) - r.debt != r.points:
            report.add(Problem(f"member {member.member_no}", "lots less debt differ from points"))
    for lot_id in lots:
        report.add(Problem(f"points lot {lot_id}", "no ledger entry created this lot"))
