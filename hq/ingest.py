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
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter
from typing import Any, cast

import psycopg
from sqlalchemy import Connection, Engine, Table, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hq import chain_views
from hq.admin import iso
from hq.dialect_insert import conflict_insert
from hq.models import Fork, HqLedgerEntry, HqRow, Till
from hq.sync_refusals import BadEntry, BatchTooLarge, ChainFork, ChainGap, InvalidRequest
from pos_app.domain.ledger_chain import GENESIS_HASH, HASHED_FIELDS, chain_hash
from pos_app.domain.sync_signing import SyncForbidden, check_owner, store_of

MAX_BATCH_ITEMS = 1000
ENTRIES = cast(Table, HqLedgerEntry.__table__)
ROWS = cast(Table, HqRow.__table__)
FORKS = cast(Table, Fork.__table__)

_HEX64 = re.compile(r"[0-9a-f]{64}")
_TABLE = re.compile(r"[a-z][a-z0-9_]{0,31}")
_BIGINT = 2**63
# Every field of an entry on the wire but seq and the hashes: (name, type, required, bound)
# — a text's longest length (the till's columns), an integer's magnitude.
_CHECKS: tuple[tuple[str, type, bool, int], ...] = (
    ("entry_id", str, True, 36),
    ("store_id", str, True, 36),
    ("till_id", str, False, 24),
    ("kind", str, True, 32),
    ("member_id", str, False, 36),
    ("card_id", str, False, 36),
    ("operator_id", str, True, 36),
    ("approved_by_id", str, False, 36),
    ("business_time", str, True, 32),
    ("wall_time", str, True, 32),
    ("tender", str, False, 16),
    ("related_entry_id", str, False, 36),
    ("payload", str, False, 1_000_000),
    ("principal_delta", int, True, _BIGINT),
    ("bonus_delta", int, True, _BIGINT),
    ("points_delta", int, True, _BIGINT),
    ("amount_fen", int, True, _BIGINT),
    ("rules_version", int, True, 2**31),
)
_TAKEN = (*(name for name, *_ in _CHECKS), "seq", "prev_hash", "hash")
_TAKE = itemgetter(*_TAKEN)
_COPIED = tuple(name for name in HASHED_FIELDS if name not in ("store_id", "store_seq"))
# HQ's column ← the till's field name.
_STORED = (
    *((name, name) for name in _COPIED),
    ("seq", "store_seq"),
    ("source_store_id", "store_id"),
    ("source_till_id", "till_id"),
    ("prev_hash", "prev_hash"),
    ("hash", "hash"),
)
_STORED_VALUES = itemgetter(*(field for _, field in _STORED))


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


def ingest_batch(engine: Engine, till: str, body: bytes, now: datetime) -> BatchResult:
    """Check and store one batch (the request body, JSON) from `till`, already
    authenticated as the signer."""
    entries, rows = _parse_batch(till, body)
    received_at = iso(now)
    try:
        with engine.begin() as conn:
            return _apply(conn, till, entries, rows, received_at)
    except IntegrityError:
        raise _entry_id_taken() from None
    except ChainFork as fork:
        # The batch is rolled back; the evidence is kept in a transaction of its own.
        with engine.begin() as conn:
            _keep_fork(conn, till, fork, received_at)
        raise


def _parse_batch(till: str, body: bytes) -> tuple[list[Any], list[_Row]]:
    """The batch's entries as sent (checked one by one as they are stored) and its rows."""
    # A NUL can only reach a string as the escape \u0000: one scan of the bytes refuses it
    # for every field at once (PostgreSQL cannot store it in text).
    if b"\\u0000" in body:
        raise _bad(None, "含有空字符", "the batch holds a NUL character")
    try:
        parsed_body = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise InvalidRequest(
            "请求内容不是有效的 JSON", "The request body is not valid JSON"
        ) from None
    if not isinstance(parsed_body, dict):
        raise InvalidRequest("请求内容应为 JSON 对象", "The request body must be a JSON object")
    entries = parsed_body.get("entries", [])
    rows = parsed_body.get("rows", [])
    if not isinstance(entries, list) or not isinstance(rows, list):
        raise InvalidRequest("entries 与 rows 应为数组", "entries and rows must be arrays")
    if len(entries) + len(rows) > MAX_BATCH_ITEMS:
        raise BatchTooLarge(
            f"一批最多 {MAX_BATCH_ITEMS} 条记录，收到 {len(entries) + len(rows)} 条",
            f"A batch holds at most {MAX_BATCH_ITEMS} records; "
            f"this one has {len(entries) + len(rows)}",
        )
    return entries, _parse_rows(till, rows)


def _bad(seq: object, zh: str, en: str) -> BadEntry:
    return BadEntry(f"第 {seq} 条记录有误：{zh}", f"Entry {seq} is refused: {en}", seq=seq)


def _parse_entry(till: str, raw: object, index: int) -> dict[str, Any]:
    """The entry's hashed fields by the till's names (`store_seq`, `store_id`, `till_id`)
    with its `prev_hash` and `hash`, after checking its form and its hash.

    The hot loop of ingest: the fields are taken in one C call and checked against a
    prepared table, not looked up one by one."""
    if type(raw) is not dict:
        raise _bad(None, f"第 {index + 1} 项不是对象", f"item {index + 1} is not an object")
    try:
        values = _TAKE(raw)
    except KeyError:  # an optional field left out: the same as null
        values = tuple(raw.get(name) for name in _TAKEN)
    seq, prev_hash, digest = values[-3:]
    if type(seq) is not int or not 1 <= seq < _BIGINT:
        raise _bad(seq, "seq 应为正整数", "seq must be a positive integer")
    for value, (name, kind, required, limit) in zip(values, _CHECKS, strict=False):
        if value is None:
            if required:
                raise _bad(seq, f"缺少 {name}", f"{name} is missing")
        elif kind is str:
            if type(value) is not str or len(value) > limit or (required and not value):
                raise _bad(seq, f"{name} 格式不对", f"{name} is malformed")
        elif type(value) is not int or not -limit <= value < limit:
            raise _bad(seq, f"{name} 应为整数", f"{name} must be an integer")
    for name, value in (("prev_hash", prev_hash), ("hash", digest)):
        if type(value) is not str or not _HEX64.fullmatch(value):
            raise _bad(seq, f"{name} 应为 64 位十六进制", f"{name} must be 64 hex digits")
    fields = dict(zip(_TAKEN, values, strict=True))
    del fields["seq"]
    fields["store_seq"] = seq
    if chain_hash(prev_hash, fields) != digest:
        raise _bad(seq, "内容与其哈希不符", "its content does not match its hash")
    if fields["till_id"] is not None:
        check_owner(till, till=fields["till_id"])
    return fields


def _parse_rows(till: str, raw_rows: list[Any]) -> list[_Row]:
    """The rows, one per (table, key): of several versions the highest outbox id wins."""
    newest: dict[tuple[str, str], _Row] = {}
    for raw in raw_rows:
        row = _parse_row(raw)
        if row.table == "till" and row.data is not None:
            check_owner(till, till=str(row.data.get("id")))
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
    entries: list[Any],
    rows: list[_Row],
    received_at: str,
) -> BatchResult:
    """Each entry is checked and, if new, handed to the database at once: on PostgreSQL the
    COPY stream takes it while the next one is hashed, so the two cores work side by side.
    Any refusal raises, and the caller's transaction takes everything back."""
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
    held = _held_hashes(conn, till_id, entries, acked_seq)
    accepted = duplicates = 0
    previous: dict[str, Any] | None = None
    new_entries: list[dict[str, Any]] = []
    with _entry_sink(conn, till_id, received_at) as store:
        for index, raw in enumerate(entries):
            entry = _parse_entry(till_code, raw, index)
            seq = entry["store_seq"]
            if previous is not None:
                if seq != previous["store_seq"] + 1:
                    raise _bad(seq, "序号不连续", "its seq does not follow the one before")
                if entry["prev_hash"] != previous["hash"]:
                    raise _bad(seq, "与前一条的链接不符", "its prev_hash is not the hash before")
            previous = entry
            if seq <= acked_seq:  # HQ holds this seq: the same entry, or a fork
                if held.get(seq) != entry["hash"]:
                    raise _fork(entry, held.get(seq))
                duplicates += 1
                continue
            if not accepted:  # the first new entry must follow HQ's head
                if seq > acked_seq + 1:
                    raise ChainGap(
                        f"总部只收到第 {acked_seq} 条，本批从第 {seq} 条开始，请从断处重发",
                        f"HQ holds up to entry {acked_seq} but the batch starts at {seq}; "
                        "resend from there",
                        acked_seq=acked_seq,
                    )
                if entry["prev_hash"] != (head_hash or GENESIS_HASH):
                    raise _fork(entry, head_hash)
            if store_id is None:
                store_id = entry["store_id"]
            elif entry["store_id"] != store_id:
                raise SyncForbidden(
                    f"第 {seq} 条记录属于另一家门店，不是收银机 {till_code} 的",
                    f"Entry {seq} belongs to another store than till {till_code}'s",
                )
            store(entry)
            new_entries.append(entry)
            accepted += 1
    if accepted:
        assert previous is not None
        acked_seq, head_hash = previous["store_seq"], previous["hash"]
    if rows:
        _check_store_rows(till_code, store_id, rows)
        _upsert_rows(conn, till_id, rows, received_at)
        acked_outbox_id = max(acked_outbox_id, rows[-1].outbox_id)
    if accepted or rows:
        # The chain views (positions, members, cards, holds, the down feed) move with the
        # batch, in its transaction.
        with Session(bind=conn) as session:
            chain_views.apply_batch(
                session,
                till_id,
                new_entries,
                [chain_views.SentRow(r.table, r.key, r.op, r.data, r.outbox_id) for r in rows],
                received_at,
            )
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
    return BatchResult(acked_seq, head_hash, acked_outbox_id, accepted, duplicates, len(rows))


def _check_store_rows(till_code: str, store_id: str | None, rows: list[_Row]) -> None:
    """A till sends its own store's row, and its copies of other stores' rows (the down feed
    made them for its members of other stores; HQ keeps them only to restore the till). A
    row of another store's code is taken as a copy only once HQ knows the till's own store
    id (from its entries) and the row is not that store: a till may not rename its store
    to another's, nor send another store's row before it has a store of its own."""
    for row in rows:
        if row.table != "store" or row.data is None:
            continue
        code = str(row.data.get("code"))
        if code != store_of(till_code) and (store_id is None or row.data.get("id") == store_id):
            check_owner(till_code, store=code)


def _held_hashes(
    conn: Connection, till_id: int, entries: list[Any], acked_seq: int
) -> dict[int, str]:
    """The hashes HQ holds under the seqs the batch claims at or below its head (the
    claimed range is only a hint: each entry is checked before it is compared)."""
    first = entries[0].get("seq") if entries and isinstance(entries[0], dict) else None
    if type(first) is not int or first > acked_seq:
        return {}
    last = min(first + len(entries) - 1, acked_seq)
    return dict(
        conn.execute(  # type: ignore[arg-type]
            select(HqLedgerEntry.seq, HqLedgerEntry.hash).where(
                HqLedgerEntry.till_id == till_id, HqLedgerEntry.seq.between(first, last)
            )
        ).all()
    )


@contextmanager
def _entry_sink(
    conn: Connection, till_id: int, received_at: str
) -> Iterator[Callable[[dict[str, Any]], None]]:
    """A function that stores one checked entry. PostgreSQL: a COPY in the batch's
    transaction (the entries were checked under the till's lock, so nothing is left to
    decide row by row, and COPY costs a fraction of an INSERT per row). SQLite: one
    executemany at the end."""
    if conn.dialect.name != "postgresql":
        pending: list[dict[str, Any]] = []

        def collect(entry: dict[str, Any]) -> None:
            pending.append(
                {
                    **{column: entry[field] for column, field in _STORED},
                    "till_id": till_id,
                    "received_at": received_at,
                }
            )

        yield collect
        if pending:
            conn.execute(ENTRIES.insert(), pending)
        return
    columns = ", ".join((*(column for column, _ in _STORED), "till_id", "received_at"))
    driver = conn.connection.driver_connection
    assert isinstance(driver, psycopg.Connection)
    try:
        with (
            driver.cursor() as cursor,
            cursor.copy(f"COPY hq_ledger_entry ({columns}) FROM STDIN") as copy,
        ):

            def send(entry: dict[str, Any]) -> None:
                copy.write_row((*_STORED_VALUES(entry), till_id, received_at))

            yield send
    except psycopg.errors.UniqueViolation:
        raise _entry_id_taken() from None


def _entry_id_taken() -> BadEntry:
    # Checked entries only clash with another till's: an entry id HQ holds already.
    return BadEntry(
        "本批中有记录的 entry_id 已属于总部的另一条记录",
        "An entry of the batch reuses an entry_id HQ holds already",
        seq=None,
    )


def _fork(entry: dict[str, Any], held_hash: str | None) -> ChainFork:
    seq = entry["store_seq"]
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
            Fork.seq == entry["store_seq"],
            Fork.received_hash == entry["hash"],
        )
    )
    if not seen:
        # Kept as the till sent it (its store_seq as seq).
        record = {name: value for name, value in entry.items() if name != "store_seq"}
        record["seq"] = entry["store_seq"]
        conn.execute(
            FORKS.insert().values(
                till_id=till_id,
                seq=entry["store_seq"],
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
