"""Taking a till's batch (docs/sync-protocol.md, "Up"): check every entry, then store the
new ones and the replicated rows, all in one transaction, or nothing.

Per entry: well formed, re-hashed to its own hash, naming the signer as its till and the
till's own store; then against what HQ holds, under a lock on the till's row so two
requests of one till never both append: an entry HQ holds with the same hash is a duplicate
(a no-op), with another hash a fork (refused, kept aside in `fork`); the first new entry
must follow HQ's head (seq and hash), else it is a gap or a fork. Inserts go through Core
executemany, not ORM objects: a batch is up to 1,000 rows and ingest must keep up with a
whole chain of tills.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Engine, Table, func, select, update
from sqlalchemy.exc import IntegrityError

from hq.admin import iso
from hq.dialect_insert import conflict_insert
from hq.models import Fork, HqLedgerEntry, HqRow, Till
from hq.sync_refusals import BadEntry, BatchTooLarge, ChainFork, ChainGap, InvalidRequest
from pos_app.domain.ledger_chain import GENESIS_HASH, HASHED_FIELDS, chain_hash
from pos_app.domain.sync_signing import SyncForbidden, check_owner

MAX_BATCH_ITEMS = 1000
ENTRIES = cast(Table, HqLedgerEntry.__table__)
ROWS = cast(Table, HqRow.__table__)
FORKS = cast(Table, Fork.__table__)

_HEX64 = re.compile(r"[0-9a-f]{64}")
_TABLE = re.compile(r"[a-z][a-z0-9_]{0,31}")
_BIGINT = 2**63
# Wire field → (required, max length) for text; the till's columns bound the lengths.
_TEXT_FIELDS: dict[str, tuple[bool, int]] = {
    "entry_id": (True, 36),
    "store_id": (True, 36),
    "till_id": (False, 24),
    "kind": (True, 32),
    "member_id": (False, 36),
    "card_id": (False, 36),
    "operator_id": (True, 36),
    "approved_by_id": (False, 36),
    "business_time": (True, 32),
    "wall_time": (True, 32),
    "tender": (False, 16),
    "related_entry_id": (False, 36),
    "payload": (False, 1_000_000),
}
_INT_FIELDS = ("seq", "principal_delta", "bonus_delta", "points_delta", "amount_fen")
_COPIED = tuple(name for name in HASHED_FIELDS if name not in ("store_id", "store_seq"))


@dataclass(frozen=True)
class BatchResult:
    acked_seq: int
    head_hash: str | None
    acked_outbox_id: int
    accepted: int  # new entries stored
    duplicates: int  # entries HQ held already, identical
    rows: int  # replicated rows taken (an older version than HQ holds changes nothing)

    def as_json(self) -> dict[str, object]:
        return {
            "acked_seq": self.acked_seq,
            "head_hash": self.head_hash,
            "acked_outbox_id": self.acked_outbox_id,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rows": self.rows,
        }


@dataclass(frozen=True)
class _Row:
    outbox_id: int
    table: str
    key: str  # canonical JSON array
    op: str
    data: dict[str, Any] | None


def ingest_batch(engine: Engine, till: str, body: object, now: datetime) -> BatchResult:
    """Check and store one batch from `till` (already authenticated as the signer)."""
    entries, rows = _parse_batch(till, body)
    received_at = iso(now)
    try:
        with engine.begin() as conn:
            return _apply(conn, till, entries, rows, received_at)
    except IntegrityError:
        # Checked entries only clash with another till's: an entry id HQ holds already.
        raise BadEntry(
            "本批中有记录的 entry_id 已属于总部的另一条记录",
            "An entry of the batch reuses an entry_id HQ holds already",
            seq=None,
        ) from None
    except ChainFork as fork:
        # The batch is rolled back; the evidence is kept in a transaction of its own.
        with engine.begin() as conn:
            _keep_fork(conn, till, fork, received_at)
        raise


def _parse_batch(till: str, body: object) -> tuple[list[dict[str, Any]], list[_Row]]:
    if not isinstance(body, dict):
        raise InvalidRequest("请求内容应为 JSON 对象", "The request body must be a JSON object")
    entries = body.get("entries", [])
    rows = body.get("rows", [])
    if not isinstance(entries, list) or not isinstance(rows, list):
        raise InvalidRequest("entries 与 rows 应为数组", "entries and rows must be arrays")
    if len(entries) + len(rows) > MAX_BATCH_ITEMS:
        raise BatchTooLarge(
            f"一批最多 {MAX_BATCH_ITEMS} 条记录，收到 {len(entries) + len(rows)} 条",
            f"A batch holds at most {MAX_BATCH_ITEMS} records; "
            f"this one has {len(entries) + len(rows)}",
        )
    parsed = [_parse_entry(till, raw, index) for index, raw in enumerate(entries)]
    for before, after in zip(parsed, parsed[1:], strict=False):
        if after["seq"] != before["seq"] + 1:
            raise _bad(after["seq"], "序号不连续", "its seq does not follow the one before")
        if after["prev_hash"] != before["hash"]:
            raise _bad(after["seq"], "与前一条的链接不符", "its prev_hash is not the hash before")
    return parsed, _parse_rows(till, rows)


def _bad(seq: object, zh: str, en: str) -> BadEntry:
    return BadEntry(f"第 {seq} 条记录有误：{zh}", f"Entry {seq} is refused: {en}", seq=seq)


def _parse_entry(till: str, raw: object, index: int) -> dict[str, Any]:
    """The entry as HQ stores it, after checking its form and its hash."""
    if not isinstance(raw, dict):
        raise _bad(None, f"第 {index + 1} 项不是对象", f"item {index + 1} is not an object")
    seq = raw.get("seq")
    for name in _INT_FIELDS:
        value = raw.get(name)
        if type(value) is not int or not -_BIGINT <= value < _BIGINT:
            raise _bad(seq, f"{name} 应为整数", f"{name} must be an integer")
    if seq < 1:  # type: ignore[operator]
        raise _bad(seq, "序号应从 1 起", "seq starts at 1")
    rules_version = raw.get("rules_version")
    if type(rules_version) is not int or not 0 <= rules_version < 2**31:
        raise _bad(seq, "rules_version 应为整数", "rules_version must be an integer")
    for name, (required, limit) in _TEXT_FIELDS.items():
        value = raw.get(name)
        if value is None and not required:
            continue
        if not isinstance(value, str) or not value and required or len(value) > limit:
            raise _bad(seq, f"{name} 缺失或格式不对", f"{name} is missing or malformed")
        if "\x00" in value:
            raise _bad(seq, f"{name} 含有空字符", f"{name} holds a NUL character")
    for name in ("prev_hash", "hash"):
        value = raw.get(name)
        if not isinstance(value, str) or not _HEX64.fullmatch(value):
            raise _bad(seq, f"{name} 应为 64 位十六进制", f"{name} must be 64 hex digits")
    fields = {name: raw[name] for name in _COPIED}
    fields["store_id"] = raw["store_id"]
    fields["store_seq"] = seq
    fields["till_id"] = raw.get("till_id")
    if chain_hash(raw["prev_hash"], fields) != raw["hash"]:
        raise _bad(seq, "内容与其哈希不符", "its content does not match its hash")
    if fields["till_id"] is not None:
        check_owner(till, till=fields["till_id"])
    row = {name: raw[name] for name in _COPIED}
    row.update(
        seq=seq,
        source_store_id=raw["store_id"],
        source_till_id=raw.get("till_id"),
        prev_hash=raw["prev_hash"],
        hash=raw["hash"],
    )
    return row


def _parse_rows(till: str, raw_rows: list[Any]) -> list[_Row]:
    """The rows, one per (table, key): of several versions the highest outbox id wins."""
    newest: dict[tuple[str, str], _Row] = {}
    for raw in raw_rows:
        row = _parse_row(raw)
        if row.table == "till" and row.data is not None:
            check_owner(till, till=str(row.data.get("id")))
        if row.table == "store" and row.data is not None:
            check_owner(till, store=str(row.data.get("code")))
        held = newest.get((row.table, row.key))
        if held is None or held.outbox_id < row.outbox_id:
            newest[(row.table, row.key)] = row
    return sorted(newest.values(), key=lambda row: row.outbox_id)


def _parse_row(raw: object) -> _Row:
    def bad(zh: str, en: str) -> InvalidRequest:
        return InvalidRequest(f"同步的数据行有误：{zh}", f"A synced row is malformed: {en}")

    if not isinstance(raw, dict):
        raise bad("不是对象", "not an object")
    outbox_id, table, key, op = (raw.get(n) for n in ("outbox_id", "table", "key", "op"))
    data = raw.get("data")
    if type(outbox_id) is not int or not 0 < outbox_id < _BIGINT:
        raise bad("outbox_id 应为正整数", "outbox_id must be a positive integer")
    if not isinstance(table, str) or not _TABLE.fullmatch(table):
        raise bad("table 格式不对", "table is malformed")
    if (
        not isinstance(key, list)
        or not key
        or not all(k is None or type(k) in (str, int) for k in key)
    ):
        raise bad("key 应为非空数组", "key must be a non-empty array of values")
    if op not in ("I", "U", "D"):
        raise bad("op 应为 I、U 或 D", "op must be I, U or D")
    if (data is None) != (op == "D") or (data is not None and not isinstance(data, dict)):
        raise bad("data 应为对象（删除时为 null）", "data must be an object (null for a delete)")
    text = json.dumps(key, separators=(",", ":"), ensure_ascii=False)
    if "\x00" in text or (data is not None and "\\u0000" in json.dumps(data)):
        raise bad("含有空字符", "it holds a NUL character")
    return _Row(outbox_id, table, text, op, data)


def _apply(
    conn: Connection,
    till_code: str,
    entries: list[dict[str, Any]],
    rows: list[_Row],
    received_at: str,
) -> BatchResult:
    # Touching the till's row first takes its lock (PostgreSQL: a row lock; SQLite: the
    # write lock) before the head is read: a second request of the till waits here.
    locked = conn.execute(
        update(Till)
        .where(Till.code == till_code)
        .values(last_seen=received_at)
        .returning(
            Till.id, Till.acked_seq, Till.head_hash, Till.acked_outbox_id, Till.source_store_id
        )
    ).one()
    till_id, acked_seq, head_hash, acked_outbox_id, store_id = locked
    new, duplicates = _classify(conn, till_id, acked_seq, head_hash, entries)
    for entry in new:
        if store_id is None:
            store_id = entry["source_store_id"]
        elif entry["source_store_id"] != store_id:
            raise SyncForbidden(
                f"第 {entry['seq']} 条记录属于另一家门店，不是收银台 {till_code} 的",
                f"Entry {entry['seq']} belongs to another store than till {till_code}'s",
            )
    if new:
        conn.execute(
            ENTRIES.insert(),
            [{**entry, "till_id": till_id, "received_at": received_at} for entry in new],
        )
        acked_seq, head_hash = new[-1]["seq"], new[-1]["hash"]
    if rows:
        _upsert_rows(conn, till_id, rows, received_at)
        acked_outbox_id = max(acked_outbox_id, rows[-1].outbox_id)
    if new or rows:
        conn.execute(
            update(Till)
            .where(Till.id == till_id)
            .values(
                acked_seq=acked_seq,
                head_hash=head_hash,
                acked_outbox_id=acked_outbox_id,
                source_store_id=store_id,
            )
        )
    return BatchResult(acked_seq, head_hash, acked_outbox_id, len(new), duplicates, len(rows))


def _classify(
    conn: Connection,
    till_id: int,
    acked_seq: int,
    head_hash: str | None,
    entries: list[dict[str, Any]],
) -> tuple[list[dict[str, Any]], int]:
    """The entries HQ does not hold yet, and how many it held identically."""
    if not entries:
        return [], 0
    first, last = entries[0]["seq"], entries[-1]["seq"]
    held: dict[int, str] = {}
    if first <= acked_seq:
        held = dict(
            conn.execute(  # type: ignore[arg-type]
                select(HqLedgerEntry.seq, HqLedgerEntry.hash).where(
                    HqLedgerEntry.till_id == till_id,
                    HqLedgerEntry.seq.between(first, min(last, acked_seq)),
                )
            ).all()
        )
    duplicates = 0
    for entry in entries:
        seq = entry["seq"]
        if seq > acked_seq:
            break
        held_hash = held.get(seq)
        if held_hash != entry["hash"]:
            raise _fork(entry, held_hash)
        duplicates += 1
    new = entries[duplicates:]
    if new:
        if new[0]["seq"] > acked_seq + 1:
            raise ChainGap(
                f"总部只收到第 {acked_seq} 条，本批从第 {new[0]['seq']} 条开始，请从断处重发",
                f"HQ holds up to entry {acked_seq} but the batch starts at {new[0]['seq']}; "
                "resend from there",
                acked_seq=acked_seq,
            )
        if new[0]["prev_hash"] != (head_hash or GENESIS_HASH):
            raise _fork(new[0], head_hash)
    return new, duplicates


def _fork(entry: dict[str, Any], held_hash: str | None) -> ChainFork:
    seq = entry["seq"]
    fork = ChainFork(
        f"分叉：总部已有的第 {seq} 条记录与收到的不同，已拒收并留存备查",
        f"Fork: entry {seq} differs from what HQ holds; refused and kept aside",
        seq=seq,
        held_hash=held_hash,
        received_hash=entry["hash"],
    )
    fork.entry = entry
    return fork


def _keep_fork(conn: Connection, till_code: str, fork: ChainFork, detected_at: str) -> None:
    """Records a fork once: a till that resends the same forked entry adds no second row."""
    entry = fork.entry
    till_id = conn.execute(
        update(Till).where(Till.code == till_code).values(last_seen=detected_at).returning(Till.id)
    ).scalar_one()
    seen = conn.scalar(
        select(func.count())
        .select_from(Fork)
        .where(
            Fork.till_id == till_id,
            Fork.seq == entry["seq"],
            Fork.received_hash == entry["hash"],
        )
    )
    if not seen:
        record = {**entry, "store_id": entry["source_store_id"], "till_id": entry["source_till_id"]}
        for name in ("source_store_id", "source_till_id"):
            record.pop(name)
        conn.execute(
            FORKS.insert().values(
                till_id=till_id,
                seq=entry["seq"],
                received_hash=entry["hash"],
                received_record=json.dumps(record, sort_keys=True, ensure_ascii=False),
                detected_at=detected_at,
            )
        )


def _upsert_rows(conn: Connection, till_id: int, rows: Sequence[_Row], received_at: str) -> None:
    statement = conflict_insert(conn, ROWS)
    excluded = statement.excluded
    statement = statement.on_conflict_do_update(
        index_elements=["till_id", "table_name", "row_key"],
        set_={
            "op": excluded.op,
            "data": excluded.data,
            "outbox_id": excluded.outbox_id,
            "received_at": excluded.received_at,
        },
        where=ROWS.c.outbox_id < excluded.outbox_id,
    )
    conn.execute(
        statement,
        [
            {
                "till_id": till_id,
                "table_name": row.table,
                "row_key": row.key,
                "op": row.op,
                "data": row.data,
                "outbox_id": row.outbox_id,
                "received_at": received_at,
            }
            for row in rows
        ],
    )


def entries_after(conn: Connection, till_id: int, after: int, limit: int) -> list[dict[str, Any]]:
    """The till's entries after seq `after`, as the till sent them up."""
    result = conn.execute(
        select(ENTRIES)
        .where(ENTRIES.c.till_id == till_id, ENTRIES.c.seq > after)
        .order_by(ENTRIES.c.seq)
        .limit(limit)
    ).mappings()
    out = []
    for entry in result:
        wire = {name: entry[name] for name in _COPIED}
        wire.update(
            seq=entry["seq"],
            store_id=entry["source_store_id"],
            till_id=entry["source_till_id"],
            prev_hash=entry["prev_hash"],
            hash=entry["hash"],
        )
        out.append(wire)
    return out


def rows_after(conn: Connection, till_id: int, after: int, limit: int) -> list[dict[str, Any]]:
    """The newest version of each of the till's rows with an outbox id after `after`."""
    result = conn.execute(
        select(ROWS.c.outbox_id, ROWS.c.table_name, ROWS.c.row_key, ROWS.c.op, ROWS.c.data)
        .where(ROWS.c.till_id == till_id, ROWS.c.outbox_id > after)
        .order_by(ROWS.c.outbox_id)
        .limit(limit)
    )
    return [
        {"outbox_id": outbox_id, "table": table, "key": json.loads(key), "op": op, "data": data}
        for outbox_id, table, key, op, data in result
    ]
