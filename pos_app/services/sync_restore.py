"""Rebuilding a till whose disk died from HQ's copy: `pos-app sync restore`.

The database and the key folder are gone; HQ holds the till's ledger up to its acknowledged
head and the newest version of every replicated row. With a re-enrollment token from HQ
(`pos-hq till enroll --store SH01 --till SH01-01`) the till, in an empty data folder:

1. enrolls again with a new key pair (the old private key died with the disk). Without
   `till_id` it learns which till the token is for from HQ's `enroll_till_mismatch`
   answer, which names it and spends nothing;
2. rebuilds the database: the schema by the migrations, HQ's rows table by table in
   foreign-key order, the ledger entries exactly as received, each re-hashed and linked to
   the one before while it is written, and the whole chain ending at HQ's head; the outbox
   the inserts filled is emptied (HQ holds all of it) and its ids continue above HQ's mark;
3. gives the store a new key (the old one is lost with the disk): it seals the chain from
   the next entry on, the first of which is `store_restored` saying where the ledger came
   from, followed by every operator sealed again under the new key;
4. records HQ's head in `sync_state`, so the next entry links to it and the next push
   continues the same chain: no fork;
5. verifies the restored store as `pos-app verify` would.

Entries restored from HQ carry no MAC (HQ never had the old key): they stand below the new
key's first sealed entry, as the entries of a store made before keys existed do; their
hashes, links and HQ's head are what vouch for them. Employee cards are keyed with the lost
key, so they must be issued again.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, Table, delete, select, text
from sqlalchemy.orm import Session

from db.engine import make_engine, write_session
from db.ledger import LedgerWriter
from db.migrate import upgrade
from db.models import Base, Operator, Store, SyncOutbox, SyncState, Till, own_store
from pos_app.domain.entry_kinds import HQ_SYNC_LOGIN, EntryKind
from pos_app.domain.errors import AlreadyExists, DomainError
from pos_app.domain.ledger_chain import GENESIS_HASH, chain_hash
from pos_app.domain.permissions import Role
from pos_app.domain.sync_signing import store_of
from pos_app.services.audit import record
from pos_app.services.chain_head import head_record_path, write_head
from pos_app.services.context import DB_FILENAME, StoreContext, iso, open_store, utc_now
from pos_app.services.operator_records import record_operator_change
from pos_app.services.rules_store import current_rules
from pos_app.services.store_secret import create_keys, default_key_dir, key_path, load_keys
from pos_app.services.sync_identity import (
    create_key_pair,
    load_private_key,
    public_key_text,
    sync_key_path,
)
from pos_app.services.use_case import UseCase
from pos_app.services.verify import verify_ledger
from pos_app.sync.client import HqClient, check_hq_url, tls_context
from pos_app.sync.errors import HqRefused
from pos_app.sync.outbox import MAX_BATCH_ITEMS
from pos_app.sync.state import STATE_ID

log = logging.getLogger(__name__)

# Stand-in till id for the first enrollment try when the till's own id is not known: HQ's
# `enroll_till_mismatch` answer names the token's till and leaves the token unspent.
_PROBE_TILL = "restore-probe"
_LEDGER = "ledger_entry"
_ENTRY_COLUMNS = frozenset(c.name for c in Base.metadata.tables[_LEDGER].columns)

Progress = Callable[[str, int, int], None]  # (stage, done, total): "rows" / "entries"


class RestoreFailed(DomainError):
    code = "sync_restore_failed"


@dataclass(frozen=True)
class RestoreResult:
    till_id: str
    store_code: str
    hq_url: str
    head_seq: int  # HQ's head: the last entry restored
    head_hash: str | None
    entries: int
    rows: int
    new_head_seq: int  # after store_restored and the operators sealed again
    verified: bool
    problems: list[str]


def restore_from_hq(
    data_dir: Path,
    hq_url: str,
    token: str,
    ca_file: str | Path | None = None,
    *,
    till_id: str | None = None,
    key_dir: Path | None = None,
    clock: Callable[[], datetime] = utc_now,
    progress: Progress | None = None,
) -> tuple[RestoreResult, StoreContext]:
    """Rebuild the till in the empty `data_dir` from HQ (see the module's doc). Returns the
    result and the context on the restored store."""
    url = check_hq_url(hq_url)
    ca = str(Path(ca_file).expanduser().resolve()) if ca_file else None
    tls_context(ca)
    key_dir = key_dir or default_key_dir()
    db_path = Path(data_dir) / DB_FILENAME
    if db_path.exists():
        raise AlreadyExists(
            f"数据目录 {data_dir} 里已经有门店数据库；从总部恢复只能恢复到空的数据目录",
            f"The data folder {data_dir} already holds a store database; a restore from HQ "
            "goes into an empty data folder only",
            code="sync_restore_not_empty",
        )
    Path(data_dir).mkdir(parents=True, exist_ok=True)
    stamp = clock().strftime("%Y%m%d%H%M%S")
    till_id = till_id or _till_of_token(url, ca, token)
    retired = _set_aside(sync_key_path(key_dir, till_id), stamp)
    try:
        create_key_pair(key_dir, till_id)
        key = load_private_key(key_dir, till_id)
        with HqClient(url, till_id, key, ca, clock=clock) as hq:
            answer = hq.enroll(token, public_key_text(key))
            if answer.get("till") != till_id:
                raise _failed(
                    f"总部登记的是收银机 {answer.get('till')}，不是 {till_id}",
                    f"HQ enrolled till {answer.get('till')}, not {till_id}",
                )
            head_seq = _count(answer.get("acked_seq"))
            head_hash = answer.get("head_hash") if head_seq else None
            outbox_mark = _count(answer.get("acked_outbox_id"))
            engine = make_engine(db_path)
            try:
                upgrade(engine)
                counts = _rebuild(engine, hq, till_id, head_seq, head_hash, outbox_mark, progress)
            finally:
                engine.dispose()
    except BaseException:
        _discard(db_path)
        sync_key_path(key_dir, till_id).unlink(missing_ok=True)
        if retired is not None:
            os.replace(retired, sync_key_path(key_dir, till_id))
        raise
    ctx = _reseal(
        data_dir, key_dir, clock, url, ca, till_id, (head_seq, head_hash, outbox_mark), stamp
    )
    report = verify_ledger(ctx)
    result = RestoreResult(
        till_id=till_id,
        store_code=ctx.store.code,
        hq_url=url,
        head_seq=head_seq,
        head_hash=head_hash if isinstance(head_hash, str) else None,
        entries=counts[0],
        rows=counts[1],
        new_head_seq=report.head_seq,
        verified=report.ok,
        problems=[f"{p.where}: {p.message}" for p in report.problems],
    )
    log.warning(
        "till %s restored from HQ %s: %d entries to #%d, %d rows; verify %s",
        till_id, url, counts[0], head_seq, counts[1], "ok" if report.ok else "FAILED",
    )  # fmt: skip
    return result, ctx


def _till_of_token(url: str, ca: str | None, token: str) -> str:
    """Which till HQ issued the token for: asked with a throwaway key, which HQ refuses
    (naming the till) without spending the token."""
    probe = public_key_text(Ed25519PrivateKey.generate())
    with HqClient(url, _PROBE_TILL, None, ca) as hq:
        try:
            hq.enroll(token, probe)
        except HqRefused as exc:
            named = exc.body.get("till")
            if exc.code == "enroll_till_mismatch" and isinstance(named, str) and named:
                return named
            raise
    raise _failed(
        "总部接受了试探登记，请向总部索取新的令牌",
        "HQ accepted a probe enrollment; ask HQ for a new token",
    )


def _rebuild(
    engine: Engine,
    hq: HqClient,
    till_id: str,
    head_seq: int,
    head_hash: Any,
    outbox_mark: int,
    progress: Progress | None,
) -> tuple[int, int]:
    rows = _fetch_rows(hq, till_id, progress)
    entries = 0
    with write_session(engine) as session:
        # Checked at commit: rows may refer to each other in cycles (a sale and its entry).
        session.execute(text("PRAGMA defer_foreign_keys = ON"))
        for table in Base.metadata.sorted_tables:
            if table.name == _LEDGER:
                entries = _load_entries(session, hq, till_id, head_seq, head_hash, progress)
            elif rows.get(table.name):
                session.execute(table.insert(), [_fit(table, r) for r in rows[table.name]])
        # The inserts filled the outbox; HQ holds every one of those rows already, and new
        # changes must be numbered above what HQ acknowledged.
        session.execute(delete(SyncOutbox))
        session.execute(
            text("DELETE FROM sqlite_sequence WHERE name = :name"), {"name": "sync_outbox"}
        )
        session.execute(
            text("INSERT INTO sqlite_sequence (name, seq) VALUES (:name, :seq)"),
            {"name": "sync_outbox", "seq": outbox_mark},
        )
        # The till's own store (HQ may hold no till row of a till from before the till
        # table): other stores' rows are there too, for the members the feed brought.
        store = session.scalars(select(Store).where(Store.code == store_of(till_id))).first()
        if store is None:
            raise _failed("总部没有这个收银机的门店记录", "HQ holds no store row for this till")
        if session.get(Till, till_id) is None:
            session.add(Till(id=till_id, store_id=store.id, created_at=store.created_at))
    return entries, sum(len(r) for r in rows.values())


def _fetch_rows(
    hq: HqClient, till_id: str, progress: Progress | None
) -> dict[str, list[dict[str, Any]]]:
    by_table: dict[str, list[dict[str, Any]]] = {}
    after, count = 0, 0
    while True:
        page = _list(
            hq.get(f"/v1/tills/{till_id}/rows", {"after": after, "limit": MAX_BATCH_ITEMS}),
            "rows",
        )
        if not page:
            return by_table
        for row in page:
            outbox_id = row.get("outbox_id")
            if not isinstance(outbox_id, int) or outbox_id <= after:
                raise _failed("总部发来的数据行顺序不对", "HQ's rows are not in outbox-id order")
            after = outbox_id
            data = row.get("data")
            if row.get("op") == "D" or data is None:
                continue
            table = row.get("table")
            if not isinstance(table, str) or table not in Base.metadata.tables:
                raise _failed(
                    f"总部发来未知表的数据行：{table!r}",
                    f"HQ sent a row of an unknown table: {table!r}",
                )
            by_table.setdefault(table, []).append(data)
            count += 1
        if progress is not None:
            progress("rows", count, 0)


def _load_entries(
    session: Session,
    hq: HqClient,
    till_id: str,
    head_seq: int,
    head_hash: Any,
    progress: Progress | None,
) -> int:
    """Fetch, check and insert the entries 1..head_seq: each must follow the one before and
    hash to its own hash; the last must be HQ's head."""
    seq, prev = 0, GENESIS_HASH
    table = Base.metadata.tables[_LEDGER]
    if progress is not None:
        progress("entries", 0, head_seq)
    while seq < head_seq:
        limit = min(MAX_BATCH_ITEMS, head_seq - seq)
        page = _list(
            hq.get(f"/v1/tills/{till_id}/entries", {"after": seq, "limit": limit}), "entries"
        )
        if not page:
            raise _failed(
                f"总部的账本记录到 #{seq} 就结束了，未到其确认位置 #{head_seq}",
                f"HQ's entries end at #{seq}, before its head #{head_seq}",
            )
        batch = []
        for wire in page[:limit]:
            fields = {k: v for k, v in wire.items() if k in _ENTRY_COLUMNS}
            fields["store_seq"] = wire.get("seq")
            fields["mac"] = None
            if fields["store_seq"] != seq + 1:
                raise _failed(
                    f"应为第 #{seq + 1} 条，总部发来 #{fields['store_seq']}",
                    f"entry #{seq + 1} expected, HQ sent #{fields['store_seq']}",
                )
            if fields.get("prev_hash") != prev or chain_hash(prev, fields) != fields.get("hash"):
                raise _failed(
                    f"总部发来的第 #{seq + 1} 条哈希或链接不对",
                    f"entry #{seq + 1} from HQ does not re-hash or link",
                )
            seq, prev = seq + 1, str(fields["hash"])
            batch.append(fields)
        session.execute(table.insert(), batch)
        if progress is not None:
            progress("entries", seq, head_seq)
    if head_seq and prev != head_hash:
        raise _failed(
            f"总部发来的账本链没有结束在其确认位置 #{head_seq}",
            f"the chain from HQ does not end at HQ's head #{head_seq}",
        )
    return seq


def _reseal(
    data_dir: Path,
    key_dir: Path,
    clock: Callable[[], datetime],
    url: str,
    ca: str | None,
    till_id: str,
    hq_marks: tuple[int, Any, int],
    stamp: str,
) -> StoreContext:
    """The new store key, `store_restored`, the operators sealed again, and `sync_state`."""
    head_seq, head_hash, outbox_mark = hq_marks
    engine = make_engine(Path(data_dir) / DB_FILENAME)
    try:
        with write_session(engine) as session:
            store = session.scalars(own_store()).one()
            store_id, store_code = store.id, store.code
    finally:
        engine.dispose()
    old_key = key_path(key_dir, store_id)
    if old_key.exists():  # a key folder that survived the disk holds a key of other MACs
        _set_aside(old_key, stamp)
    now = iso(clock())
    keys = create_keys(key_dir, store_id, head_seq + 1, now)
    ctx = StoreContext(
        engine=make_engine(Path(data_dir) / DB_FILENAME),
        clock=clock,
        data_dir=Path(data_dir),
        key_dir=key_dir,
    )
    head_record_path(keys, Path(data_dir)).unlink(missing_ok=True)
    with write_session(ctx.engine) as session:
        operators = list(session.scalars(select(Operator).order_by(Operator.created_at)))
        # The store's own admin signs the restore, before any HQ sends down, hq-sync last.
        local = sorted(operators, key=lambda op: (op.hq_managed, op.login == HQ_SYNC_LOGIN))
        admins = [op for op in local if op.role == Role.ADMIN.value] or local
        if not admins:
            raise _failed("总部没有这个门店的操作员", "HQ holds no operator of this store")
        version, rules = current_rules(session)
        ledger = LedgerWriter(
            session=session,
            store_id=store_id,
            operator_id=admins[0].id,
            rules_version=version,
            now_iso=now,
            mac_key=keys.ledger_mac,
        )
        ledger.append(
            EntryKind.STORE_RESTORED,
            payload={
                "from": "hq",
                "hq": url,
                "till": till_id,
                "hq_head_seq": head_seq,
                "hq_head_hash": head_hash,
            },
        )
        uc = UseCase(ctx, session, ledger, rules, None, keys)
        for op in operators:
            record_operator_change(uc, op, "resealed")
        state = SyncState(
            id=STATE_ID,
            hq_url=url,
            ca_file=ca,
            store_code=store_code,
            enrolled_at=now,
            acked_seq=head_seq,
            acked_hash=head_hash if head_seq else None,
            acked_outbox_id=outbox_mark,
        )
        session.add(state)
        record(
            session,
            now,
            admins[0].id,
            "sync.restored",
            target=till_id,
            detail={"hq": url, "head_seq": head_seq},
        )
        new_head = ledger.head_after
    if new_head is not None:
        write_head(keys, Path(data_dir), new_head[0], new_head[1], now)
    ctx.engine.dispose()
    restored = open_store(data_dir, clock=clock, key_dir=key_dir)
    assert load_keys(key_dir, store_id) is not None
    return restored


def _fit(table: Table, data: dict[str, Any]) -> dict[str, Any]:
    """A row from HQ as the table takes it: its columns only."""
    return {c.name: data.get(c.name) for c in table.columns if c.name in data}


def _list(answer: dict[str, Any], name: str) -> list[dict[str, Any]]:
    items = answer.get(name)
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise _failed(f"总部的应答里没有 {name} 列表", f"HQ's answer holds no list of {name}")
    return items


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _set_aside(path: Path, stamp: str) -> Path | None:
    if not path.exists():
        return None
    aside = path.with_name(f"{path.name}.replaced-{stamp}")
    os.replace(path, aside)
    return aside


def _discard(db_path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(str(db_path) + suffix).unlink(missing_ok=True)


def _failed(zh_detail: str, en_detail: str) -> RestoreFailed:
    return RestoreFailed(
        f"从总部恢复失败：{zh_detail}（数据目录未改动）",
        f"Restore from HQ failed: {en_detail} (the data folder is left as it was)",
    )
