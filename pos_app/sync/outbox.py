"""What HQ does not hold yet, read as the wire format of docs/sync-protocol.md.

Two sources, both read in the caller's one read transaction (one snapshot):

- the ledger after HQ's acknowledged head: the ledger's own gap-free sequence is its outbox.
  Each entry goes up with its hashed fields, `prev_hash` and `hash` (`store_seq` as `seq`);
  never its `mac`, whose key stays on the till.
- `sync_outbox` after HQ's acknowledged outbox id: the triggers of migration 0007 write one
  row per insert, update or delete of a replicated table. Many changes of one row collapse
  into its newest outbox id, and the row goes up as it is now, every column; a row that is
  gone goes up as a delete (op D, data null).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, and_, func, select
from sqlalchemy.orm import Session

from db.models import Base, LedgerEntry, SyncOutbox
from pos_app.domain.ledger_chain import HASHED_FIELDS

MAX_BATCH_ITEMS = 1000

# The entry as it goes up: every hashed field (store_seq renamed), the till, the links.
_ENTRY_COLUMNS = (
    *(name for name in HASHED_FIELDS),
    "till_id",
    "prev_hash",
    "hash",
)
_SELECT_ENTRY = select(*(getattr(LedgerEntry, name) for name in _ENTRY_COLUMNS))


@dataclass(frozen=True)
class Batch:
    """One request's worth: entries in seq order, then rows in outbox-id order."""

    entries: list[dict[str, Any]]
    rows: list[dict[str, Any]]

    def __len__(self) -> int:
        return len(self.entries) + len(self.rows)

    def body(self) -> dict[str, Any]:
        return {"entries": self.entries, "rows": self.rows}


def entry_to_wire(values: dict[str, Any]) -> dict[str, Any]:
    """A ledger row's columns as the protocol sends them (`store_seq` as `seq`)."""
    out = dict(values)
    out["seq"] = out.pop("store_seq")
    out.pop("mac", None)
    return out


def entries_after(
    session: Session, store_id: str, after_seq: int, limit: int
) -> list[dict[str, Any]]:
    """Up to `limit` ledger entries after `after_seq`, in seq order, as sent."""
    if limit <= 0:
        return []
    rows = session.execute(
        _SELECT_ENTRY.where(LedgerEntry.store_id == store_id, LedgerEntry.store_seq > after_seq)
        .order_by(LedgerEntry.store_seq)
        .limit(limit)
    )
    return [entry_to_wire(dict(zip(_ENTRY_COLUMNS, row, strict=True))) for row in rows]


def rows_after(session: Session, after_outbox_id: int, limit: int) -> list[dict[str, Any]]:
    """Up to `limit` changed rows after `after_outbox_id`, each once under its newest outbox
    id, in that id's order, with the row as it is now."""
    if limit <= 0:
        return []
    newest = func.max(SyncOutbox.id)
    # SQLite gives the bare `op` column from the row holding the max(id): the newest change.
    changes = session.execute(
        select(newest, SyncOutbox.table_name, SyncOutbox.row_key, SyncOutbox.op)
        .where(SyncOutbox.id > after_outbox_id)
        .group_by(SyncOutbox.table_name, SyncOutbox.row_key)
        .order_by(newest)
        .limit(limit)
    ).all()
    out = []
    for outbox_id, table_name, row_key, newest_op in changes:
        key = json.loads(row_key)
        data = current_row(session, table_name, key)
        out.append(
            {
                "outbox_id": outbox_id,
                "table": table_name,
                "key": key,
                "op": "D" if data is None else ("I" if newest_op == "I" else "U"),
                "data": data,
            }
        )
    return out


def current_row(session: Session, table_name: str, key: list[Any]) -> dict[str, Any] | None:
    """Every column of one row of a replicated table, found by its primary key, or None."""
    table = replicated_table(table_name)
    pk = list(table.primary_key.columns)
    if len(pk) != len(key):
        raise ValueError(f"{table_name}: the key {key!r} does not fit {len(pk)} key columns")
    row = (
        session.execute(
            select(table).where(and_(*(col == value for col, value in zip(pk, key, strict=True))))
        )
        .mappings()
        .first()
    )
    return None if row is None else dict(row)


def replicated_table(table_name: str) -> Table:
    try:
        return Base.metadata.tables[table_name]
    except KeyError:
        raise ValueError(f"not a table of the store's database: {table_name!r}") from None


def next_batch(session: Session, store_id: str, acked_seq: int, acked_outbox_id: int) -> Batch:
    """What to send next: entries first (they are the ledger), rows fill the rest."""
    entries = entries_after(session, store_id, acked_seq, MAX_BATCH_ITEMS)
    rows = rows_after(session, acked_outbox_id, MAX_BATCH_ITEMS - len(entries))
    return Batch(entries, rows)


def pending_counts(
    session: Session, store_id: str, acked_seq: int, acked_outbox_id: int
) -> tuple[int, int, int]:
    """(head seq, entries not acknowledged, outbox rows not acknowledged)."""
    head = session.scalar(
        select(func.coalesce(func.max(LedgerEntry.store_seq), 0)).where(
            LedgerEntry.store_id == store_id
        )
    )
    rows = session.scalar(select(func.count()).where(SyncOutbox.id > acked_outbox_id))
    head = int(head or 0)
    return head, max(0, head - acked_seq), int(rows or 0)
