"""HQ's chain views, kept up by the ingest (docs/chain-protocol.md, "Balances" and "Down").

In the transaction that stores a till's batch, after its entries and rows are stored:

- `chain_member` / `chain_card` take the member and card rows the till sent (a member's row
  only from its home store's tills once HQ knows it, and never a till's copy of what the feed
  sent it (`hq.till_copies`): the feed hands out the row "as its home till sent it"; a card's
  from any till, newest received wins);
- `card_position` / `member_position` add the till's new entries, mirrors excepted, after the
  `chain_card` row of every card the batch touches is locked (PostgreSQL: `FOR UPDATE`, in card
  id order, the same lock an authorization takes; missing rows are made first);
- a card's chain state follows its state-change entries by business time;
- holds named by the entries are confirmed (`hq.hold_confirm`);
- one `feed_change` per member, card, coupon, service pass and store touched (a store only
  by its own tills), so every other till hears of it at its next pull.

`rebuild` runs the same code over everything HQ held before this version (tills that pushed
under schema 0002), when `pos-hq init` upgrades across 0003.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, delete, select, update
from sqlalchemy.orm import Session

from hq import hold_confirm, till_copies
from hq.dialect_insert import conflict_insert
from hq.feed_changes import Change, record_changes
from hq.models import (
    CardPosition,
    ChainCard,
    ChainMember,
    HqLedgerEntry,
    HqRow,
    MemberPosition,
    Store,
    Till,
)
from pos_app.domain.entry_kinds import CARD_STATE_AFTER, MIRROR_KINDS

CARDS = cast(Table, ChainCard.__table__)
MEMBERS = cast(Table, ChainMember.__table__)
CARD_POSITIONS = cast(Table, CardPosition.__table__)
MEMBER_POSITIONS = cast(Table, MemberPosition.__table__)
_MIRRORS = frozenset(str(k) for k in MIRROR_KINDS)
_STATE_AFTER = {str(k): v for k, v in CARD_STATE_AFTER.items()}
REBUILD_CHUNK = 5000


@dataclass(frozen=True)
class SentRow:
    """A replicated row as the ingest took it (the newest of its key in the batch)."""

    table: str
    key: str
    op: str
    data: dict[str, Any] | None
    outbox_id: int


@dataclass(frozen=True)
class _Till:
    id: int
    code: str
    store_id: int


def apply_batch(
    session: Session,
    till_id: int,
    entries: Sequence[dict[str, Any]],
    rows: Sequence[SentRow],
    now: str,
) -> None:
    """Fold one stored batch of `till_id` into the chain views (the caller's transaction).
    `entries` are the batch's new entries (the till's field names, `store_seq`); `rows` the
    rows the ingest took — a row older than the version HQ holds is skipped here too."""
    code, store_id = session.execute(
        select(Till.code, Till.store_id).where(Till.id == till_id)
    ).one()
    till = _Till(till_id, code, store_id)
    taken = _taken(session, till_id, rows)
    changes = _Changes(till_id)
    own_code = session.scalar(select(Store.code).where(Store.id == store_id))
    hq_sync_id = (
        till_copies.hq_sync_ids(session, [till_id]).get(till_id)
        if any(row.table == "member" for row in taken)
        else None
    )
    _lock_cards(session, till, entries, taken)
    for row in taken:
        data = row.data
        if data is None:
            continue
        if row.table == "member":
            if till_copies.is_member_copy(data, hq_sync_id):
                continue  # the till's copy of what the feed sent it: HQ holds the original
            _upsert_member(session, till, data, now)
            changes.add("member", data.get("id"))
        elif row.table == "card":
            if _upsert_card(session, till, data, now):
                changes.add("card", data.get("id"))
        elif row.table == "coupon":
            changes.add("coupon", data.get("id"))
        elif row.table == "service_pass":
            changes.add("service_pass", data.get("id"))
        elif row.table == "service_pass_item":
            changes.add("service_pass", data.get("pass_id"))
        elif row.table == "store" and data.get("code") == own_code:
            # Only the till's own store: another store's row is its copy from the feed.
            changes.add("store", data.get("code"))
    session.flush()  # the rows' changes, before Core statements and the states below
    _add_positions(session, till, entries, changes)
    _follow_states(session, till, entries, changes)
    hold_confirm.confirm(session, till_id, entries)
    record_changes(session, changes.list(), now)
    session.flush()


class _Changes:
    def __init__(self, till_id: int) -> None:
        self.till_id = till_id
        self.keys: dict[tuple[str, str], None] = {}

    def add(self, kind: str, key: object) -> None:
        if isinstance(key, str) and key:
            self.keys[(kind, key)] = None

    def list(self) -> list[Change]:
        return [Change(kind, key, origin_till_id=self.till_id) for kind, key in self.keys]


def _taken(session: Session, till_id: int, rows: Sequence[SentRow]) -> list[SentRow]:
    """The rows whose version HQ now holds (a resent older version changes nothing)."""
    wanted = [row for row in rows if row.table in _ROW_TABLES]
    if not wanted:
        return []
    held: dict[tuple[str, str], int] = {}
    for table in {row.table for row in wanted}:
        keys = [row.key for row in wanted if row.table == table]
        for i in range(0, len(keys), 500):
            for key, outbox_id in session.execute(
                select(HqRow.row_key, HqRow.outbox_id).where(
                    HqRow.till_id == till_id,
                    HqRow.table_name == table,
                    HqRow.row_key.in_(keys[i : i + 500]),
                )
            ):
                held[(table, key)] = outbox_id
    return [row for row in wanted if held.get((row.table, row.key)) == row.outbox_id]


_ROW_TABLES = frozenset({"member", "card", "coupon", "service_pass", "service_pass_item", "store"})


def _home_store(session: Session, till: _Till, source_store_id: object) -> int:
    """HQ's store of a till's store UUID (a member's `store_id`), else the sending till's."""
    if isinstance(source_store_id, str):
        found = session.scalars(
            select(Till.store_id).where(Till.source_store_id == source_store_id).limit(1)
        ).first()
        if found is not None:
            return found
    return till.store_id


def _upsert_member(session: Session, till: _Till, data: dict[str, Any], now: str) -> None:
    member_id = data.get("id")
    if not isinstance(member_id, str):
        return
    held = session.get(ChainMember, member_id)
    if held is None:
        session.add(
            ChainMember(
                id=member_id,
                member_no=str(data.get("member_no") or ""),
                mobile=str(data.get("mobile") or ""),
                name=str(data.get("name") or ""),
                home_store_id=_home_store(session, till, data.get("store_id")),
                tier_code=data.get("tier_code"),
                data=data,
                updated_at=now,
            )
        )
        session.flush()
        return
    if held.home_store_id is not None and held.home_store_id != till.store_id:
        return  # another store's copy: the feed hands out the home till's row
    held.member_no = str(data.get("member_no") or held.member_no)
    held.mobile = str(data.get("mobile") or held.mobile)
    held.name = str(data.get("name") or held.name)
    held.tier_code = data.get("tier_code")
    held.data = data
    held.updated_at = now


def _upsert_card(session: Session, till: _Till, data: dict[str, Any], now: str) -> bool:
    card_id = data.get("id")
    if not isinstance(card_id, str):
        return False
    held = session.get(ChainCard, card_id)
    if held is None:
        if data.get("member_id") is None:
            return False  # a blank card in a store's stock is not the chain's yet
        session.add(
            ChainCard(
                id=card_id,
                card_no=str(data.get("card_no") or ""),
                member_id=data.get("member_id"),
                home_store_id=till.store_id,
                state=str(data.get("state") or "active"),
                state_at="",  # any state-change entry wins over the row's projection
                state_source=till.code,
                data=data,
                updated_at=now,
            )
        )
        session.flush()
        return True
    held.card_no = str(data.get("card_no") or held.card_no)
    held.member_id = data.get("member_id") or held.member_id
    if held.home_store_id is None:
        held.home_store_id = till.store_id
    if not held.state_at:  # no state-change entry yet: the row's projection will do
        held.state = str(data.get("state") or held.state)
    held.data = data
    held.updated_at = now
    return True


def _card_ids(
    entries: Sequence[dict[str, Any]], moved: set[str], rows: Iterable[SentRow]
) -> dict[str, str | None]:
    """Card id → member id of every card the batch moves, changes the state of, or sends."""
    out: dict[str, str | None] = {}
    for e in entries:
        if e.get("card_id") in moved:
            out.setdefault(e["card_id"], e.get("member_id"))
    for row in rows:
        if row.table == "card" and row.data is not None and isinstance(row.data.get("id"), str):
            out.setdefault(row.data["id"], row.data.get("member_id"))
    return out


def _lock_cards(
    session: Session, till: _Till, entries: Sequence[dict[str, Any]], rows: Sequence[SentRow]
) -> None:
    """Make the missing `chain_card` rows the entries need, then lock every touched one in
    card id order (an authorization takes the same lock: no deadlock, no lost update)."""
    moved = _entry_cards(entries)
    cards = _card_ids(entries, moved, rows)
    if not cards:
        return
    ids = sorted(cards)
    conn = session.connection()
    placeholders: list[dict[str, Any]] = [
        {
            "id": card_id,
            "card_no": "",
            "member_id": cards[card_id],
            "home_store_id": till.store_id,
            "state": "active",
            "state_at": "",
            "state_source": till.code,
            "data": {},
            "updated_at": "",
        }
        for card_id in ids
        if card_id in moved
    ]
    if placeholders:
        statement = conflict_insert(conn, CARDS).on_conflict_do_nothing(index_elements=["id"])
        conn.execute(statement, placeholders)
    if conn.dialect.name == "postgresql":
        for i in range(0, len(ids), 1000):
            conn.execute(
                select(CARDS.c.id)
                .where(CARDS.c.id.in_(ids[i : i + 1000]))
                .order_by(CARDS.c.id)
                .with_for_update()
            ).all()


def _entry_cards(entries: Sequence[dict[str, Any]]) -> set[str]:
    return {
        e["card_id"]
        for e in entries
        if e.get("card_id")
        and e["kind"] not in _MIRRORS
        and (e.get("principal_delta") or e.get("bonus_delta") or e["kind"] in _STATE_AFTER)
    }


def _add_positions(
    session: Session, till: _Till, entries: Sequence[dict[str, Any]], changes: _Changes
) -> None:
    cards: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    members: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for e in entries:
        if e["kind"] in _MIRRORS:
            continue
        seq = e["store_seq"]
        card_id, member_id = e.get("card_id"), e.get("member_id")
        if card_id and (e.get("principal_delta") or e.get("bonus_delta")):
            c = cards[card_id]
            c[0] += e["principal_delta"]
            c[1] += e["bonus_delta"]
            c[2] = seq
        if member_id and e.get("points_delta"):
            m = members[member_id]
            m[0] += e["points_delta"]
            m[1] = seq
        kind = e["kind"]
        payload = e.get("payload")
        if payload and (kind.startswith("coupon_") or kind.startswith("pass_")):
            data = _load(payload)
            changes.add("coupon", data.get("coupon_id"))
            changes.add("service_pass", data.get("pass_id"))
    conn = session.connection()
    if cards:
        statement = conflict_insert(conn, CARD_POSITIONS)
        excluded = statement.excluded
        conn.execute(
            statement.on_conflict_do_update(
                index_elements=["card_id", "till_id"],
                set_={
                    "principal_fen": CARD_POSITIONS.c.principal_fen + excluded.principal_fen,
                    "bonus_fen": CARD_POSITIONS.c.bonus_fen + excluded.bonus_fen,
                    "last_seq": excluded.last_seq,
                },
            ),
            [
                {
                    "card_id": card_id,
                    "till_id": till.id,
                    "principal_fen": p,
                    "bonus_fen": b,
                    "last_seq": seq,
                }
                for card_id, (p, b, seq) in sorted(cards.items())
            ],
        )
        for card_id in cards:
            changes.add("card", card_id)
    if members:
        statement = conflict_insert(conn, MEMBER_POSITIONS)
        excluded = statement.excluded
        conn.execute(
            statement.on_conflict_do_update(
                index_elements=["member_id", "till_id"],
                set_={
                    "points": MEMBER_POSITIONS.c.points + excluded.points,
                    "last_seq": excluded.last_seq,
                },
            ),
            [
                {"member_id": member_id, "till_id": till.id, "points": pts, "last_seq": seq}
                for member_id, (pts, seq) in sorted(members.items())
            ],
        )
        for member_id in members:
            changes.add("member", member_id)


def _follow_states(
    session: Session, till: _Till, entries: Sequence[dict[str, Any]], changes: _Changes
) -> None:
    """A card's chain state is its latest state change by business time, from any till."""
    for e in entries:
        after = _STATE_AFTER.get(e["kind"])
        card_id = e.get("card_id")
        if after is None or not card_id:
            continue
        at = e["business_time"]
        result = session.execute(
            update(ChainCard)
            .where(ChainCard.id == card_id, ChainCard.state_at <= at)
            .values(state=after, state_at=at, state_source=till.code)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount:  # type: ignore[attr-defined]
            changes.add("card", card_id)
    session.expire_all()


def _load(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


# --- Folding in what HQ held before the chain views existed ------------------------------------

_ENTRY_COLUMNS = (
    "entry_id",
    "kind",
    "member_id",
    "card_id",
    "business_time",
    "wall_time",
    "principal_delta",
    "bonus_delta",
    "points_delta",
    "payload",
)


def rebuild(session: Session, now: str) -> int:
    """Recompute the chain views from every entry and row HQ holds, till by till (the
    caller's transaction). Positions start again from nothing, so running it twice gives the
    same views. Returns the number of entries folded in."""
    session.execute(delete(CardPosition))
    session.execute(delete(MemberPosition))
    total = 0
    for till_id in session.scalars(select(Till.id).order_by(Till.id)).all():
        rows = [
            SentRow(table, key, op, data, outbox_id)
            for table, key, op, data, outbox_id in session.execute(
                select(HqRow.table_name, HqRow.row_key, HqRow.op, HqRow.data, HqRow.outbox_id)
                .where(HqRow.till_id == till_id, HqRow.table_name.in_(sorted(_ROW_TABLES)))
                .order_by(HqRow.outbox_id)
            )
        ]
        after = 0
        while True:
            chunk = [
                {**dict(zip(_ENTRY_COLUMNS, values, strict=True)), "store_seq": seq}
                for seq, *values in session.execute(
                    select(HqLedgerEntry.seq, *(getattr(HqLedgerEntry, c) for c in _ENTRY_COLUMNS))
                    .where(HqLedgerEntry.till_id == till_id, HqLedgerEntry.seq > after)
                    .order_by(HqLedgerEntry.seq)
                    .limit(REBUILD_CHUNK)
                )
            ]
            apply_batch(session, till_id, chunk, rows, now)
            rows = []  # the rows once, with the first chunk
            total += len(chunk)
            if len(chunk) < REBUILD_CHUNK:
                break
            after = chunk[-1]["store_seq"]
    return total
