"""Conflicts (docs/chain-protocol.md, "Conflicts"): what the chain's tills did, each within
its own rules, that cannot all stand once HQ holds them together.

- `offline_overspend`: a card's chain balance (principal + bonus) below zero; the amount is
  how far below, and it is the member's debt.
- `points_overspend`: a member's chain points below zero; `points` how far.
- `coupon_reused`: one coupon redeemed by more than one entry (any tills), not restored.
- `card_used_while_blocked`: an entry moving a card's value at a business time when the
  card's chain state was lost or frozen (reported at another till, or at HQ).
- `mobile_duplicate`: two members of the chain (different ids, from different tills) with
  one mobile.

Balances are summed from `hq_ledger_entry` itself, mirror entries left out (they repeat on
one till what the others did). Detection runs again after every sync or when asked: a
conflict is one row by (kind, subject, first_entry), the unique index of `conflict`. While
unresolved, a balance conflict keeps following the balance (its amount is the debt now).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from itertools import groupby
from typing import Any, cast

from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

from hq import till_copies
from hq.admin import iso
from hq.dialect_insert import conflict_insert
from hq.errors import HqError, HqInvalidInput
from hq.models import Conflict, HqAudit, HqLedgerEntry, HqRow, Till
from pos_app.domain.card_lifecycle import mask_card_no
from pos_app.domain.entry_kinds import CARD_STATE_AFTER, MIRROR_KINDS, EntryKind
from pos_app.domain.members import mask_mobile

OFFLINE_OVERSPEND = "offline_overspend"
POINTS_OVERSPEND = "points_overspend"
COUPON_REUSED = "coupon_reused"
CARD_USED_WHILE_BLOCKED = "card_used_while_blocked"
MOBILE_DUPLICATE = "mobile_duplicate"
KINDS = (
    OFFLINE_OVERSPEND,
    POINTS_OVERSPEND,
    COUPON_REUSED,
    CARD_USED_WHILE_BLOCKED,
    MOBILE_DUPLICATE,
)
# A balance conflict follows its subject's balance while it is open.
_BALANCE_KINDS = (OFFLINE_OVERSPEND, POINTS_OVERSPEND)
_BLOCKED_STATES = ("lost", "frozen")
# The console's lost/freeze actions (hq_audit action, detail {"card_id", "state",
# "business_time"}), a source of a card's chain state beside the tills' entries.
HQ_CARD_STATE_ACTION = "card_state"

_MIRRORS = tuple(str(kind) for kind in MIRROR_KINDS)
_STATE_KINDS = tuple(str(kind) for kind in CARD_STATE_AFTER)
_CONFLICTS = cast(Table, Conflict.__table__)


@dataclass(frozen=True)
class ConflictView:
    id: int
    kind: str
    card_no_masked: str | None
    member_no: str | None
    amount_fen: int  # stored value: how far below zero, or the value used wrongly
    points: int
    tills: list[str]  # till codes involved (and "hq:<login>" for a state set at HQ)
    detected_at: str
    resolved_at: str | None
    resolved_by: str | None
    resolution: str | None
    detail: dict[str, Any]

    @property
    def resolved(self) -> bool:
        return self.resolved_at is not None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "card_no_masked": self.card_no_masked,
            "member_no": self.member_no,
            "amount_fen": self.amount_fen,
            "points": self.points,
            "tills": self.tills,
            "detected_at": self.detected_at,
            "resolved": self.resolved,
            "resolved_at": self.resolved_at,
            "resolved_by": self.resolved_by,
            "resolution": self.resolution,
            "detail": self.detail,
        }


@dataclass
class _Found:
    kind: str
    subject: str
    first_entry: str
    tills: set[str]
    card_id: str | None = None
    member_id: str | None = None
    amount_fen: int = 0
    points: int = 0
    detail: dict[str, Any] = field(default_factory=dict)


# -- Detection --------------------------------------------------------------------------------


def detect(session: Session, now: datetime) -> int:
    """Find the conflicts in what HQ holds now; returns how many are new. Open balance
    conflicts are brought up to date. Writes: the caller commits."""
    found = [
        *_card_overspends(session),
        *_points_overspends(session),
        *_coupons_reused(session),
        *_used_while_blocked(session),
        *_mobile_duplicates(session),
    ]
    return _record(session, found, iso(now))


def _record(session: Session, found: list[_Found], at: str) -> int:
    existing = {
        (c.kind, c.subject, c.first_entry): c for c in session.scalars(select(Conflict)).all()
    }
    open_balance = {
        (c.kind, c.subject): c
        for c in existing.values()
        if c.kind in _BALANCE_KINDS and c.resolved_at is None
    }
    new = 0
    still_negative: set[tuple[str, str]] = set()
    for f in found:
        held = existing.get((f.kind, f.subject, f.first_entry))
        if held is None and f.kind in _BALANCE_KINDS:
            held = open_balance.get((f.kind, f.subject))
        if f.kind in _BALANCE_KINDS:
            still_negative.add((f.kind, f.subject))
        if held is not None:
            if held.resolved_at is None:
                _update(held, f)
            continue
        # ON CONFLICT DO NOTHING: a detection running at the same time may have written it.
        statement = (
            conflict_insert(session.connection(), _CONFLICTS)
            .values(
                kind=f.kind,
                subject=f.subject,
                first_entry=f.first_entry,
                card_id=f.card_id,
                member_id=f.member_id,
                amount_fen=f.amount_fen,
                points=f.points,
                tills=_join_tills(f.tills),
                detail=f.detail,
                detected_at=at,
            )
            .on_conflict_do_nothing(index_elements=["kind", "subject", "first_entry"])
            .returning(_CONFLICTS.c.id)
        )
        if session.execute(statement).first() is not None:
            new += 1
    # An open balance conflict whose balance came back: the debt is paid, the record stays
    # for a person to resolve.
    for key, held in open_balance.items():
        if key not in still_negative and (held.amount_fen or held.points):
            held.amount_fen = 0
            held.points = 0
            held.detail = {**held.detail, "settled": True}
    session.flush()
    return new


def _update(held: Conflict, f: _Found) -> None:
    held.amount_fen = f.amount_fen
    held.points = f.points
    held.tills = _join_tills(f.tills | set(_split_tills(held.tills)))
    held.detail = f.detail


def _join_tills(tills: Iterable[str]) -> str:
    return ",".join(sorted(tills))[:200]


def _split_tills(text: str) -> list[str]:
    return [t for t in text.split(",") if t]


def _till_codes(session: Session) -> dict[int, str]:
    return {till_id: code for till_id, code in session.execute(select(Till.id, Till.code))}


def _card_overspends(session: Session) -> list[_Found]:
    """Cards whose chain balance (principal + bonus) is below zero now. The conflict is the
    negative stretch the balance is in: it starts at the entry (by business time) that took
    the card below zero after it last stood at or above zero.

    The sum, not each bucket: two tills that spend the card at once, each within what HQ
    authorized, each take principal first from what they last heard, so the chain's
    principal can fall below zero while its bonus still covers it. The member then owes
    nothing; the detail keeps the buckets for the accountant."""
    value = HqLedgerEntry.principal_delta + HqLedgerEntry.bonus_delta
    negative = (
        select(HqLedgerEntry.card_id)
        .where(HqLedgerEntry.card_id.is_not(None), HqLedgerEntry.kind.not_in(_MIRRORS))
        .group_by(HqLedgerEntry.card_id)
        .having(func.sum(value) < 0)
    )
    rows = session.execute(
        select(
            HqLedgerEntry.card_id,
            HqLedgerEntry.entry_id,
            HqLedgerEntry.member_id,
            HqLedgerEntry.principal_delta,
            HqLedgerEntry.bonus_delta,
            HqLedgerEntry.business_time,
            Till.code,
        )
        .join(Till, Till.id == HqLedgerEntry.till_id)
        .where(
            HqLedgerEntry.card_id.in_(negative),
            HqLedgerEntry.kind.not_in(_MIRRORS),
            value != 0,
        )
        .order_by(HqLedgerEntry.card_id, HqLedgerEntry.business_time, Till.code, HqLedgerEntry.seq)
    ).all()
    found = []
    for card_id, entries in groupby(rows, key=lambda row: str(row[0])):
        principal = bonus = 0
        start: Any = None
        member: str | None = None
        spenders: set[str] = set()
        # Tills that spent since the card was last credited: they spent the same money.
        recent: set[str] = set()
        for _card, entry_id, member_id, d_principal, d_bonus, moment, till in entries:
            was_negative = principal + bonus < 0
            principal += d_principal
            bonus += d_bonus
            member = member_id or member
            if d_principal + d_bonus < 0:
                recent.add(till)
            else:
                recent = set()
            if principal + bonus < 0:
                if not was_negative:
                    start, spenders = (entry_id, moment), set(recent)
                if d_principal + d_bonus < 0:
                    spenders.add(till)
        if start is None:
            continue
        found.append(
            _Found(
                OFFLINE_OVERSPEND,
                card_id,
                start[0],
                spenders,
                card_id=card_id,
                member_id=member,
                amount_fen=-(principal + bonus),
                detail={"principal_fen": principal, "bonus_fen": bonus, "since": start[1]},
            )
        )
    return found


def _points_overspends(session: Session) -> list[_Found]:
    """Members whose chain points are below zero now (as for cards)."""
    negative = (
        select(HqLedgerEntry.member_id)
        .where(HqLedgerEntry.member_id.is_not(None), HqLedgerEntry.kind.not_in(_MIRRORS))
        .group_by(HqLedgerEntry.member_id)
        .having(func.sum(HqLedgerEntry.points_delta) < 0)
    )
    rows = session.execute(
        select(
            HqLedgerEntry.member_id,
            HqLedgerEntry.entry_id,
            HqLedgerEntry.points_delta,
            HqLedgerEntry.business_time,
            Till.code,
        )
        .join(Till, Till.id == HqLedgerEntry.till_id)
        .where(
            HqLedgerEntry.member_id.in_(negative),
            HqLedgerEntry.kind.not_in(_MIRRORS),
            HqLedgerEntry.points_delta != 0,
        )
        .order_by(
            HqLedgerEntry.member_id, HqLedgerEntry.business_time, Till.code, HqLedgerEntry.seq
        )
    ).all()
    found = []
    for member_id, entries in groupby(rows, key=lambda row: str(row[0])):
        points = 0
        start: Any = None
        spenders: set[str] = set()
        for _member, entry_id, delta, moment, till in entries:
            was_negative = points < 0
            points += delta
            if points < 0 and not was_negative:
                start, spenders = (entry_id, moment), set()
            if delta < 0:
                spenders.add(till)
        if start is None:
            continue
        found.append(
            _Found(
                POINTS_OVERSPEND,
                member_id,
                start[0],
                spenders,
                member_id=member_id,
                points=-points,
                detail={"points": points, "since": start[1]},
            )
        )
    return found


def _payload(text: str | None) -> dict[str, Any]:
    try:
        data = json.loads(text) if text else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _coupons_reused(session: Session) -> list[_Found]:
    """Coupons (by the `coupon_id` of their coupon_redeemed / coupon_restored entries) that
    stand redeemed more than once. The first entry is the first redemption made while the
    coupon was already used."""
    rows = session.execute(
        select(
            HqLedgerEntry.kind,
            HqLedgerEntry.entry_id,
            HqLedgerEntry.member_id,
            HqLedgerEntry.amount_fen,
            HqLedgerEntry.business_time,
            HqLedgerEntry.payload,
            Till.code,
        )
        .join(Till, Till.id == HqLedgerEntry.till_id)
        .where(HqLedgerEntry.kind.in_([EntryKind.COUPON_REDEEMED, EntryKind.COUPON_RESTORED]))
        .order_by(HqLedgerEntry.business_time, Till.code, HqLedgerEntry.seq)
    ).all()
    by_coupon: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        coupon_id = _payload(row.payload).get("coupon_id")
        if isinstance(coupon_id, str) and coupon_id:
            by_coupon[coupon_id].append(row)
    found = []
    for coupon_id, entries in by_coupon.items():
        standing = 0
        reuses = []
        redemptions = []
        for row in entries:
            if row.kind == EntryKind.COUPON_REDEEMED:
                if standing >= 1:
                    reuses.append(row)
                standing += 1
                redemptions.append(row)
            else:
                standing = max(standing - 1, 0)
        if standing <= 1 or not reuses:
            continue
        found.append(
            _Found(
                COUPON_REUSED,
                coupon_id,
                reuses[0].entry_id,
                {row.code for row in redemptions},
                member_id=redemptions[0].member_id,
                amount_fen=sum(int(row.amount_fen) for row in reuses),
                detail={
                    "coupon_id": coupon_id,
                    "redemptions": [
                        {
                            "till": row.code,
                            "receipt_no": _payload(row.payload).get("receipt_no"),
                            "business_time": row.business_time,
                            "amount_fen": int(row.amount_fen),
                        }
                        for row in redemptions
                    ],
                },
            )
        )
    return found


@dataclass(frozen=True)
class _StateChange:
    at: str  # business time
    state: str
    source: str  # till code, or "hq:<login>"


def card_state_history(session: Session, card_ids: Iterable[str]) -> dict[str, list[_StateChange]]:
    """Each card's chain state changes in business-time order: the state-change entries of
    every till (mirrors left out), and HQ's own lost/freeze actions."""
    wanted = list(dict.fromkeys(card_ids))
    history: dict[str, list[_StateChange]] = defaultdict(list)
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        rows = session.execute(
            select(
                HqLedgerEntry.card_id, HqLedgerEntry.business_time, HqLedgerEntry.kind, Till.code
            )
            .join(Till, Till.id == HqLedgerEntry.till_id)
            .where(HqLedgerEntry.card_id.in_(chunk), HqLedgerEntry.kind.in_(_STATE_KINDS))
        )
        for card_id, moment, kind, till in rows:
            history[card_id].append(_StateChange(moment, CARD_STATE_AFTER[EntryKind(kind)], till))
    chosen = set(wanted)
    for actor, detail in session.execute(
        select(HqAudit.actor, HqAudit.detail).where(
            HqAudit.action == HQ_CARD_STATE_ACTION, HqAudit.outcome == "ok"
        )
    ):
        if not isinstance(detail, dict) or detail.get("card_id") not in chosen:
            continue
        state, moment = detail.get("state"), detail.get("business_time")
        if isinstance(state, str) and isinstance(moment, str):
            history[detail["card_id"]].append(_StateChange(moment, state, f"hq:{actor or ''}"))
    for changes in history.values():
        changes.sort(key=lambda change: change.at)
    return dict(history)


def _blocked_cards(session: Session) -> set[str]:
    cards = set(
        session.scalars(
            select(HqLedgerEntry.card_id)
            .where(HqLedgerEntry.kind.in_([EntryKind.CARD_LOST, EntryKind.CARD_FROZEN]))
            .distinct()
        )
    )
    for detail in session.scalars(
        select(HqAudit.detail).where(HqAudit.action == HQ_CARD_STATE_ACTION)
    ):
        if isinstance(detail, dict) and detail.get("state") in _BLOCKED_STATES:
            cards.add(detail.get("card_id"))
    return {card for card in cards if isinstance(card, str)}


def _used_while_blocked(session: Session) -> list[_Found]:
    """Entries moving a card's stored value while its chain state was lost or frozen. A
    replacement or cancellation is the proper way out of a lost card, not a conflict."""
    blocked = _blocked_cards(session)
    if not blocked:
        return []
    history = card_state_history(session, blocked)
    found = []
    cards = sorted(blocked)
    for start in range(0, len(cards), 500):
        rows = session.execute(
            select(
                HqLedgerEntry.card_id,
                HqLedgerEntry.entry_id,
                HqLedgerEntry.member_id,
                HqLedgerEntry.kind,
                HqLedgerEntry.principal_delta,
                HqLedgerEntry.bonus_delta,
                HqLedgerEntry.business_time,
                Till.code,
            )
            .join(Till, Till.id == HqLedgerEntry.till_id)
            .where(
                HqLedgerEntry.card_id.in_(cards[start : start + 500]),
                HqLedgerEntry.kind.not_in((*_MIRRORS, *_STATE_KINDS)),
                (HqLedgerEntry.principal_delta != 0) | (HqLedgerEntry.bonus_delta != 0),
            )
        )
        for card_id, entry_id, member_id, kind, principal, bonus, moment, till in rows:
            state = _state_at(history.get(card_id, []), moment)
            if state is None or state.state not in _BLOCKED_STATES:
                continue
            found.append(
                _Found(
                    CARD_USED_WHILE_BLOCKED,
                    card_id,
                    entry_id,
                    {till, state.source},
                    card_id=card_id,
                    member_id=member_id,
                    amount_fen=abs(principal + bonus),
                    detail={
                        "state": state.state,
                        "state_source": state.source,
                        "state_at": state.at,
                        "entry_kind": kind,
                        "business_time": moment,
                        "till": till,
                    },
                )
            )
    return found


def _state_at(changes: list[_StateChange], moment: str) -> _StateChange | None:
    """The change in force just before `moment` (business times compare as text: every
    till writes them as UTC ISO-8601 with microseconds)."""
    current = None
    for change in changes:
        if change.at >= moment:
            break
        current = change
    return current


def _mobile_duplicates(session: Session) -> list[_Found]:
    """Members of the chain sharing a mobile: the member rows tills sent up, by member id.
    The earliest registered keeps the mobile; each later one is a conflict."""
    members: dict[str, dict[str, Any]] = {}
    holders: dict[str, set[str]] = defaultdict(set)
    codes = _till_codes(session)
    hq_sync_ids = till_copies.hq_sync_ids(session)
    for till_id, data in session.execute(
        select(HqRow.till_id, HqRow.data).where(HqRow.table_name == "member")
    ):
        if not isinstance(data, dict) or not isinstance(data.get("id"), str):
            continue
        if till_copies.is_member_copy(data, hq_sync_ids.get(till_id)):
            continue  # a till's copy of another till's member (an older mobile, maybe)
        if not isinstance(data.get("mobile"), str) or not data["mobile"]:
            continue
        members[data["id"]] = data
        holders[data["id"]].add(codes[till_id])
    by_mobile: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for data in members.values():
        by_mobile[data["mobile"]].append(data)
    found = []
    for mobile, same in by_mobile.items():
        if len(same) < 2:
            continue
        same.sort(key=lambda data: (str(data.get("created_at") or ""), data["id"]))
        tills = set().union(*(holders[data["id"]] for data in same))
        for later in same[1:]:
            found.append(
                _Found(
                    MOBILE_DUPLICATE,
                    mobile,
                    later["id"],
                    tills,
                    member_id=later["id"],
                    detail={
                        "mobile_masked": mask_mobile(mobile),
                        "member_nos": [str(data.get("member_no")) for data in same],
                        "member_ids": [data["id"] for data in same],
                    },
                )
            )
    return found


# -- Listing and resolving ----------------------------------------------------------------------


def list_conflicts(
    session: Session, *, store_ids: list[int] | None = None, include_resolved: bool = False
) -> list[ConflictView]:
    """Conflicts, oldest first; open ones only unless `include_resolved`. `store_ids` keeps
    those a till of one of the stores took part in (a store manager's view)."""
    query = select(Conflict).order_by(Conflict.detected_at, Conflict.id)
    if not include_resolved:
        query = query.where(Conflict.resolved_at.is_(None))
    rows = list(session.scalars(query))
    if store_ids is not None:
        in_scope = set(session.scalars(select(Till.code).where(Till.store_id.in_(list(store_ids)))))
        rows = [c for c in rows if in_scope.intersection(_split_tills(c.tills))]
    card_nos = _newest_values(session, "card", {c.card_id for c in rows if c.card_id}, "card_no")
    member_nos = _newest_values(
        session, "member", {c.member_id for c in rows if c.member_id}, "member_no"
    )
    return [
        _view(c, card_nos.get(c.card_id or ""), member_nos.get(c.member_id or "")) for c in rows
    ]


def member_debts(session: Session, *, store_ids: list[int] | None = None) -> list[ConflictView]:
    """Open overspends with something still owed: the members' debts, not hidden."""
    return [
        c
        for c in list_conflicts(session, store_ids=store_ids)
        if c.kind in _BALANCE_KINDS and (c.amount_fen > 0 or c.points > 0)
    ]


def resolve(
    session: Session, conflict_id: int, actor_login: str, note: str, now: datetime
) -> ConflictView:
    """A person settles a conflict (the member paid, the coupon was written off …): kept,
    with who, when and why, and in `hq_audit`."""
    note = note.strip()
    if not note or len(note) > 1000:
        raise HqInvalidInput(
            "请写明处理说明（1–1000 个字）", "Say how it was resolved (1-1000 characters)"
        )
    conflict = session.get(Conflict, conflict_id)
    if conflict is None:
        raise HqError(
            "not_found", f"没有编号为 {conflict_id} 的冲突", f"No conflict with id {conflict_id}"
        )
    if conflict.resolved_at is not None:
        raise HqError(
            "already_resolved",
            f"冲突 {conflict_id} 已于 {conflict.resolved_at} 处理",
            f"Conflict {conflict_id} was resolved at {conflict.resolved_at}",
        )
    at = iso(now)
    conflict.resolved_at = at
    conflict.resolved_by = actor_login
    conflict.resolution = note
    session.add(
        HqAudit(
            at=at,
            actor=actor_login,
            action="conflict_resolved",
            outcome="ok",
            target=str(conflict_id),
            detail={"kind": conflict.kind, "note": note},
        )
    )
    session.flush()
    views = [v for v in list_conflicts(session, include_resolved=True) if v.id == conflict_id]
    return views[0]


def _newest_values(session: Session, table: str, ids: set[str], column: str) -> dict[str, str]:
    """Id → `column` of the newest row HQ holds of each (any till)."""
    if not ids:
        return {}
    keys = [json.dumps([i], separators=(",", ":")) for i in sorted(ids)]
    out: dict[str, str] = {}
    for start in range(0, len(keys), 500):
        rows = session.execute(
            select(HqRow.data)
            .where(HqRow.table_name == table, HqRow.row_key.in_(keys[start : start + 500]))
            .order_by(HqRow.received_at, HqRow.outbox_id)
        )
        for (data,) in rows:
            if isinstance(data, dict) and isinstance(data.get(column), str):
                out[str(data.get("id"))] = data[column]
    return out


def _view(conflict: Conflict, card_no: str | None, member_no: str | None) -> ConflictView:
    return ConflictView(
        id=conflict.id,
        kind=conflict.kind,
        card_no_masked=mask_card_no(card_no) if card_no else None,
        member_no=member_no,
        amount_fen=int(conflict.amount_fen),
        points=int(conflict.points),
        tills=_split_tills(conflict.tills),
        detected_at=conflict.detected_at,
        resolved_at=conflict.resolved_at,
        resolved_by=conflict.resolved_by,
        resolution=conflict.resolution,
        detail=dict(conflict.detail or {}),
    )
