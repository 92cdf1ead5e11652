"""Verify a store: the database file's integrity, the sealed hash chain, and every projection
recomputed from the entries — cards, members, points lots, coupons, service passes, operators,
sales against their ledger entries, the chain heads recorded on Z reports and day closes, and
the head recorded beside the key after the last write.

It reads only (one read transaction, one snapshot), never raises (a database too damaged to
read is itself the finding), and reports the first broken entry by its sequence number and
entry id, and every projection that does not match what the entries say.

Speed: a ledger grows by millions of entries, so the entries stream straight off the sqlite3
driver as tuples (no ORM objects), and on a large ledger the chain check (hashes, links, MACs)
runs in a worker process while this process replays the balances (`db/chain_check.py`).
`PRAGMA integrity_check` runs first, on a thread of its own: SQLite checks the file in C with
the GIL released, so it overlaps the ledger pass instead of adding to it.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from db.chain_check import ChainCheckProcess, ChainResult, check_chain, connect_read_only
from pos_app.domain.card_lifecycle import mask_card_no
from pos_app.domain.entry_kinds import CARD_STATE_AFTER, EntryKind
from pos_app.domain.errors import DomainError
from pos_app.services.chain_head import HeadRecord, read_head
from pos_app.services.context import StoreContext
from pos_app.services.coupons import verify_coupons
from pos_app.services.operator_records import verify_operators
from pos_app.services.passes import verify_passes
from pos_app.services.sale_checks import verify_sales
from pos_app.services.store_secret import StoreKeys, key_path

MAX_PROBLEMS = 50
_DIGITS = re.compile(r"\d+")
INTEGRITY_LINES = 10
# Below this many entries the chain is checked in this process: starting a worker costs more
# than it saves.
PARALLEL_FROM = 200_000
PROGRESS_EVERY = 50_000


@dataclass(frozen=True)
class Problem:
    where: str
    message: str  # English
    store_seq: int | None = None
    entry_id: str | None = None
    # A stable code and the Chinese text, for the problems that have them (till and HQ
    # checks); the older findings are English only.
    code: str | None = None
    zh: str | None = None


@dataclass
class VerifyReport:
    entries: int = 0
    cards: int = 0
    members: int = 0
    problems: list[Problem] = field(default_factory=list)
    # Things worth knowing that are not problems (no head record for a moved data folder).
    notes: list[str] = field(default_factory=list)
    integrity_ok: bool = True
    head_seq: int = 0
    head_hash: str = ""
    till_id: str | None = None  # the till whose ledger this is (None: an older file)
    # HQ's acknowledged head as the till last recorded it (0: never synced).
    hq_acked_seq: int = 0
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)
    problem_count: int = 0  # every problem found; `problems` keeps the first MAX_PROBLEMS

    @property
    def ok(self) -> bool:
        return not self.problem_count

    @property
    def first_bad_entry(self) -> Problem | None:
        with_seq = [p for p in self.problems if p.store_seq is not None]
        return min(with_seq, key=lambda p: p.store_seq or 0) if with_seq else None

    def add(self, problem: Problem) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)

    def fingerprint(self) -> str:
        """Identifies this set of problems: an acknowledgement covers exactly these. Numbers
        in the messages are left out, so a card found wrong stays the same problem while it
        keeps being used (its balances move on); where a problem is stays in."""
        keys = sorted({f"{p.where}|{_DIGITS.sub('N', p.message)}" for p in self.problems})
        return hashlib.sha256("\n".join(keys).encode()).hexdigest()

    def first_problem_text(self) -> str:
        first = self.first_bad_entry or (self.problems[0] if self.problems else None)
        return f"{first.where}: {first.message}" if first else ""


def verify_ledger(
    ctx: StoreContext,
    progress: Callable[[int], None] | None = None,
    *,
    parallel_from: int = PARALLEL_FROM,
) -> VerifyReport:
    """Verify the store's own database (read-only; never raises)."""
    started = time.perf_counter()
    report = VerifyReport()
    try:
        db_path = Path(str(ctx.engine.url.database))
        keys, key_problem = _keys(ctx)
        head = read_head(keys, ctx.data_dir) if keys is not None and ctx.data_dir else None
        if key_problem:
            report.add(Problem("key", key_problem))
        elif keys is not None and head is None and ctx.data_dir is not None:
            report.notes.append(
                "no head record for this data folder (moved, or a copy): truncation at the "
                "end of the ledger is checked again from the next write on"
            )
        _verify_file(db_path, keys, head, report, progress, parallel_from)
    except Exception as exc:  # noqa: BLE001 — verify reports; it never raises
        report.add(Problem("verify", f"verify stopped: {_describe(exc)}"))
    report.seconds = time.perf_counter() - started
    return report


def verify_file(
    db_path: Path,
    keys: StoreKeys | None,
    progress: Callable[[int], None] | None = None,
    *,
    parallel_from: int = PARALLEL_FROM,
    integrity_check: bool = True,
) -> VerifyReport:
    """Verify a database file (a backup) with the store's keys; never raises.
    (`integrity_check=False` is for the benchmark, which times the ledger pass alone.)"""
    started = time.perf_counter()
    report = VerifyReport()
    try:
        _verify_file(db_path, keys, None, report, progress, parallel_from, integrity_check)
    except Exception as exc:  # noqa: BLE001 — verify reports; it never raises
        report.add(Problem("verify", f"verify stopped: {_describe(exc)}"))
    report.seconds = time.perf_counter() - started
    return report


def unreadable(exc: BaseException) -> VerifyReport:
    """The report on a store whose database cannot even be opened."""
    report = VerifyReport(integrity_ok=False)
    report.add(Problem("database", _describe(exc)))
    return report


def _keys(ctx: StoreContext) -> tuple[StoreKeys | None, str | None]:
    try:
        keys = ctx.keys
    except DomainError as exc:
        return None, exc.en
    if keys is None:
        return None, (
            f"the store's key file {key_path(ctx.key_dir, ctx.store.id)} is missing: the "
            "entries' MACs and the operators' seals cannot be checked"
        )
    return keys, None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, sqlite3.DatabaseError | DBAPIError):
        cause = exc.orig if isinstance(exc, DBAPIError) else exc
        return f"the database cannot be read ({cause})"
    return f"{type(exc).__name__}: {exc}"


def _verify_file(
    db_path: Path,
    keys: StoreKeys | None,
    head: HeadRecord | None,
    report: VerifyReport,
    progress: Callable[[int], None] | None,
    parallel_from: int,
    integrity_check: bool = True,
) -> None:
    if not db_path.exists():
        report.add(Problem("database", f"no database file at {db_path}"))
        return
    integrity = _IntegrityCheck(db_path, integrity_check)
    try:
        with _snapshot(db_path) as session:
            conn = session.connection().connection.driver_connection
            assert isinstance(conn, sqlite3.Connection)
            has_till = _has_table(conn, "till")
            own = "SELECT store_id FROM till" if has_till else "SELECT id FROM store"
            store_id = conn.execute(own).fetchone()
            if store_id is None:
                report.add(Problem("store", "the database holds no store"))
                return
            _verify_snapshot(
                db_path, str(store_id[0]), conn, session, keys, head, report, progress,
                parallel_from, integrity,
            )  # fmt: skip
    finally:
        integrity.join(report)


class _IntegrityCheck:
    """PRAGMA integrity_check on a connection and a thread of its own."""

    def __init__(self, db_path: Path, run: bool = True) -> None:
        self.lines: list[str] = []
        self.error: BaseException | None = None
        self.seconds = 0.0
        self.thread = threading.Thread(
            target=self._run if run else lambda _path: None,
            args=(db_path,),
            name="verify-integrity",
            daemon=True,
        )
        self.thread.start()

    def _run(self, db_path: Path) -> None:
        started = time.perf_counter()
        try:
            conn = connect_read_only(db_path)
            try:
                rows = conn.execute(f"PRAGMA integrity_check({INTEGRITY_LINES})").fetchall()
                self.lines = [str(r[0]) for r in rows]
            finally:
                conn.close()
        except Exception as exc:  # noqa: BLE001 — reported by join()
            self.error = exc
        self.seconds = time.perf_counter() - started

    def join(self, report: VerifyReport) -> None:
        self.thread.join()
        report.phases["integrity_check"] = self.seconds
        found = [f"the database cannot be read ({self.error})"] if self.error else []
        found += [line for line in self.lines if line != "ok"]
        if found:
            report.integrity_ok = False
            # First: a damaged file explains whatever else verify found.
            report.problems[:0] = [
                Problem("database", f"integrity_check: {line}") for line in found
            ][:MAX_PROBLEMS]
            report.problem_count += len(found)
            del report.problems[MAX_PROBLEMS:]


def _read_only_engine(db_path: Path) -> Engine:
    """An engine that can only read the file, whose sessions hold one snapshot (BEGIN …)."""
    conn = connect_read_only(db_path)
    engine = create_engine("sqlite://", creator=lambda: conn, poolclass=StaticPool)

    @event.listens_for(engine, "begin")
    def _on_begin(sa_conn: Any) -> None:
        sa_conn.exec_driver_sql("BEGIN")

    return engine


@contextmanager
def _snapshot(db_path: Path) -> Iterator[Session]:
    engine = _read_only_engine(db_path)
    try:
        with Session(engine) as session, session.begin():
            yield session
    finally:
        engine.dispose()


def _verify_snapshot(
    db_path: Path,
    store_id: str,
    conn: sqlite3.Connection,
    session: Session,
    keys: StoreKeys | None,
    head: HeadRecord | None,
    report: VerifyReport,
    progress: Callable[[int], None] | None,
    parallel_from: int,
    integrity: _IntegrityCheck,
) -> None:
    last_seq, count = conn.execute(
        "SELECT coalesce(max(store_seq), 0), count(*) FROM ledger_entry WHERE store_id = ?",
        (store_id,),
    ).fetchone()
    foreign = conn.execute(
        "SELECT count(*) FROM ledger_entry WHERE store_id != ?", (store_id,)
    ).fetchone()[0]
    if foreign:
        report.add(Problem("ledger", f"{foreign} entries belong to another store"))
    report.till_id = _own_till(conn)
    if report.till_id is not None:
        _check_till_of_entries(conn, store_id, report.till_id, report)
    hq = _hq_state(conn)
    recorded_heads = _recorded_heads(conn, store_id)
    want = frozenset(seq for seq, _, _, _ in recorded_heads)
    if head is not None:
        want |= {head.seq}
    if hq is not None and hq.acked_seq > 0:
        want |= {hq.acked_seq}
    chain_args = (
        db_path, store_id, keys.ledger_mac if keys else None,
        keys.keyed_from_seq if keys else 1, last_seq, want,
    )  # fmt: skip
    started = time.perf_counter()
    worker = None
    # A bundled app (PyInstaller) has no interpreter to start the worker with: it checks the
    # chain itself, one pass after the other.
    if count >= parallel_from and not getattr(sys, "frozen", False):
        worker = ChainCheckProcess(*chain_args)
    # The replay reports into a report of its own: the chain's findings come first, since
    # an altered entry explains the balances that follow from it.
    replayed = VerifyReport()
    try:
        replay = _Replay(replayed)
        replay.run(conn, store_id, last_seq, progress)
        report.phases["replay"] = time.perf_counter() - started
        chain = worker.result() if worker is not None else check_chain(*chain_args)
    finally:
        if worker is not None:
            worker.kill()
    report.phases["chain"] = chain.seconds
    report.phases["ledger"] = time.perf_counter() - started
    report.entries = chain.checked
    report.head_seq, report.head_hash = chain.last_seq, chain.last_hash
    for seq, entry_id, message in chain.problems:
        report.add(Problem(f"#{seq} {entry_id}", message, seq, entry_id))
    report.problem_count += chain.problem_count - len(chain.problems)
    _check_heads(recorded_heads, head, chain, report)
    if hq is not None:
        report.hq_acked_seq = hq.acked_seq
        _check_hq_head(hq, chain, report)
    for problem in replayed.problems:
        report.add(problem)
    report.problem_count += replayed.problem_count - len(replayed.problems)

    started = time.perf_counter()
    replay.report = report
    replay.compare_cards(conn)
    replay.compare_members(conn)
    for where, message in verify_sales(conn):
        report.add(Problem(where, message))
    # Coupons, service passes and operators keep their own projections; each module replays
    # its own, in this same snapshot.
    for where, message in verify_coupons(session) + verify_passes(session):
        report.add(Problem(where, message))
    for where, message in verify_operators(session, keys):
        report.add(Problem(where, message))
    report.phases["projections"] = time.perf_counter() - started


def _has_table(conn: sqlite3.Connection, name: str) -> bool:
    # A backup made before tills had ids (migration 0007) has neither `till` nor `sync_state`.
    row = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
    ).fetchone()
    return row is not None


def _own_till(conn: sqlite3.Connection) -> str | None:
    if not _has_table(conn, "till"):
        return None
    row = conn.execute("SELECT id FROM till ORDER BY id").fetchone()
    return str(row[0]) if row else None


def _check_till_of_entries(
    conn: sqlite3.Connection, store_id: str, till_id: str, report: VerifyReport
) -> None:
    """Every entry that names a till names this one: the chain is this till's own, so an
    entry of another till was put here (a copied or merged database)."""
    count, first, other = conn.execute(
        "SELECT count(*), min(store_seq), min(till_id) FROM ledger_entry "
        "WHERE store_id = ? AND till_id IS NOT NULL AND till_id != ?",
        (store_id, till_id),
    ).fetchone()
    if count:
        report.add(
            Problem(
                "ledger",
                f"{count} entries name another till ({other}, first #{first}), "
                f"not this till {till_id}",
                first,
                code="foreign_till",
                zh=f"有 {count} 条账本记录属于其他收银机（{other}，首条 #{first}），"
                f"不是本机 {till_id} 的",
            )
        )


@dataclass(frozen=True)
class _HqState:
    acked_seq: int
    acked_hash: str | None
    fork_seq: int | None
    fork_detected_at: str | None


def _hq_state(conn: sqlite3.Connection) -> _HqState | None:
    """What HQ acknowledged, as this till recorded it (None when sync is not set up)."""
    if not _has_table(conn, "sync_state"):
        return None
    row = conn.execute(
        "SELECT acked_seq, acked_hash, fork_seq, fork_detected_at FROM sync_state ORDER BY id"
    ).fetchone()
    if row is None:
        return None
    return _HqState(int(row[0] or 0), row[1], row[2], row[3])


def _check_hq_head(hq: _HqState, chain: ChainResult, report: VerifyReport) -> None:
    """The chain must still hold the entry HQ acknowledged, unchanged: HQ keeps a copy off
    this machine, so a tail cut short or rewritten and re-sealed with the key (which the
    local checks alone cannot tell from a genuine chain) differs from it."""
    if hq.acked_seq > 0:
        found = chain.hashes_at.get(hq.acked_seq)
        if found is None:
            report.add(
                Problem(
                    "HQ head",
                    f"HQ holds this till's entries up to #{hq.acked_seq}, but the ledger ends "
                    f"at #{chain.last_seq}: entries were deleted, or an older copy of the "
                    "database was put back",
                    chain.last_seq + 1,
                    code="hq_head_missing",
                    zh=f"总部已确认收到本机账本到第 {hq.acked_seq} 条，但本地账本只到第 "
                    f"{chain.last_seq} 条：有记录被删除，或放回了旧的数据库副本",
                )
            )
        elif found != hq.acked_hash:
            report.add(
                Problem(
                    f"#{hq.acked_seq}",
                    f"entry #{hq.acked_seq} differs from the one HQ acknowledged "
                    f"({(hq.acked_hash or '')[:16]}…): the ledger was rewritten up to there",
                    hq.acked_seq,
                    code="hq_head_rewritten",
                    zh=f"第 {hq.acked_seq} 条账本记录与总部确认收到的不同：账本在此之前被改写过",
                )
            )
    if hq.fork_seq is not None:
        report.add(
            Problem(
                "HQ fork",
                f"HQ holds a different entry #{hq.fork_seq} for this till (a fork, found "
                f"{(hq.fork_detected_at or '')[:19]}): sync is stopped until it is resolved",
                hq.fork_seq,
                code="hq_fork",
                zh=f"总部保存的本机第 {hq.fork_seq} 条账本记录与本地不同（分叉，发现于 "
                f"{(hq.fork_detected_at or '')[:19]}）：同步已停止，需先处理",
            )
        )


def _recorded_heads(conn: sqlite3.Connection, store_id: str) -> list[tuple[int, str, int, str]]:
    """(recorded seq, recorded hash, entry seq, kind) of every head a Z report or day close
    recorded."""
    out = []
    rows = conn.execute(
        "SELECT store_seq, kind, payload FROM ledger_entry WHERE store_id = ? AND kind IN (?, ?)",
        (store_id, EntryKind.SHIFT_CLOSED.value, EntryKind.DAY_CLOSED.value),
    )
    for seq, kind, payload in rows:
        try:
            recorded = json.loads(payload or "{}").get("chain_head")
        except ValueError:
            continue  # the hash check reports an entry whose payload was mangled
        if isinstance(recorded, dict) and "seq" in recorded and "hash" in recorded:
            out.append((int(recorded["seq"]), str(recorded["hash"]), seq, kind))
    return out


def _check_heads(
    recorded: list[tuple[int, str, int, str]],
    head: HeadRecord | None,
    chain: ChainResult,
    report: VerifyReport,
) -> None:
    for seq, expected_hash, at_seq, kind in recorded:
        what = "Z report" if kind == EntryKind.SHIFT_CLOSED else "day close"
        found = chain.hashes_at.get(seq)
        if found != expected_hash:
            report.add(
                Problem(
                    f"#{at_seq}",
                    f"the {what} recorded the ledger's head as #{seq} {expected_hash[:16]}…, "
                    + ("but that entry is gone" if found is None else "but that entry differs"),
                    at_seq,
                )
            )
    if head is None:
        return
    if not head.genuine:
        report.add(Problem("head record", "the head recorded beside the key is not genuine"))
    elif head.seq > chain.last_seq:
        report.add(
            Problem(
                "ledger",
                f"the ledger ends at #{chain.last_seq} but entry #{head.seq} was written "
                f"({head.at[:19]}): entries #{chain.last_seq + 1}…#{head.seq} are missing "
                "(deleted, or an older copy of the database was put back)",
                chain.last_seq + 1,
            )
        )
    elif chain.hashes_at.get(head.seq) != head.hash:
        report.add(
            Problem(
                f"#{head.seq}",
                f"entry #{head.seq} differs from the one recorded when it was written",
                head.seq,
            )
        )


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
        EntryKind.CARD_SYNCED,
    }
)
_AMOUNT_CHECKED = frozenset(
    {
        EntryKind.TOPUP,
        EntryKind.SV_PAYMENT,
        EntryKind.CARD_CANCELLED,
        EntryKind.SV_PAYMENT_REFUNDED,
        EntryKind.CARD_REPLACED_IN,
        EntryKind.TOPUP_REFUNDED,
    }
)
_REMEMBERED = frozenset({EntryKind.SV_PAYMENT, EntryKind.CARD_REPLACED_OUT, EntryKind.TOPUP})
# The few payload fields the replay needs are picked out by SQLite (in C): `detail` is the
# tier a member registered with or moved to, the points a lot paid towards debt, the PIN tries a
# replacement card carries over, or a cancellation's fee; the whole payload comes along only
# for entries that take points from lots (it lists them). The last column is the tier lock a
# manual tier change set ('' when it set none, which clears an earlier lock).
_REPLAY_SQL = """
SELECT store_seq, entry_id, kind, member_id, card_id, principal_delta, bonus_delta,
       points_delta, amount_fen, related_entry_id,
       CASE WHEN points_delta < 0 THEN payload END,
       CASE
         WHEN NOT json_valid(coalesce(payload, '{}')) THEN NULL
         WHEN kind = 'member_registered' THEN json_extract(payload, '$.tier')
         WHEN kind = 'tier_changed' THEN json_extract(payload, '$.to')
         WHEN kind = 'card_synced' THEN json_extract(payload, '$.state')
         WHEN points_delta > 0 THEN coalesce(json_extract(payload, '$.debt_paid'), 0)
         WHEN kind = 'card_replaced_in' THEN coalesce(json_extract(payload, '$.pin_failures'), 0)
         WHEN kind = 'card_cancelled' THEN coalesce(json_extract(payload, '$.fee_fen'), 0)
       END,
       CASE
         WHEN kind = 'tier_changed' AND json_valid(payload)
              AND json_extract(payload, '$.reason') = 'manual'
         THEN coalesce(json_extract(payload, '$.locked_until'), '')
       END,
       CASE
         WHEN kind = 'points_synced' AND json_valid(payload)
         THEN json_extract(payload, '$.tier')
       END
FROM ledger_entry
WHERE store_id = ? AND store_seq <= ?
ORDER BY store_seq
"""


class _Card:
    __slots__ = ("principal", "bonus", "state", "pin_failures", "last_seq", "mirrored")

    def __init__(self) -> None:
        self.principal = self.bonus = self.pin_failures = self.last_seq = 0
        self.state: str | None = None
        # Mirrored from the chain: the local balance may go below zero (a debt HQ found, or
        # spending here that the other tills' figures have not caught up with).
        self.mirrored = False


class _Member:
    __slots__ = ("points", "debt", "tier", "tier_locked_until", "lots", "last_seq", "chain_lot")

    def __init__(self) -> None:
        self.points = self.debt = self.last_seq = 0
        self.tier: str | None = None
        self.chain_lot: str | None = None  # the first points_synced entry (chain-protocol.md)
        self.tier_locked_until: str | None = None
        self.lots: dict[str, int] = {}


class _Replay:
    """Recompute cards and members from the entries, in order, and check each money entry
    against itself and against the entry it reverses."""

    def __init__(self, report: VerifyReport) -> None:
        self.report = report
        self.cards: dict[str, _Card] = {}
        self.members: dict[str, _Member] = {}
        # Per money entry that may be reversed: (principal, bonus, amount) still reversible.
        self.moves: dict[str, tuple[int, int, int]] = {}

    def problem(self, seq: int, entry_id: str, message: str) -> None:
        self.report.add(Problem(f"#{seq} {entry_id}", message, seq, entry_id))

    def run(
        self,
        conn: sqlite3.Connection,
        store_id: str,
        last_seq: int,
        progress: Callable[[int], None] | None,
    ) -> None:
        cards, members, problem = self.cards, self.members, self.problem
        state_after = CARD_STATE_AFTER
        money_kinds, amount_checked = _MONEY_KINDS, _AMOUNT_CHECKED
        pin_failed = EntryKind.PIN_FAILED
        pin_cleared = (EntryKind.PIN_RESET, EntryKind.PIN_SET)
        replaced_in = EntryKind.CARD_REPLACED_IN
        card_synced, points_synced = EntryKind.CARD_SYNCED, EntryKind.POINTS_SYNCED
        tier_kinds = (EntryKind.MEMBER_REGISTERED, EntryKind.TIER_CHANGED)
        remembered = _REMEMBERED
        n = 0
        for row in conn.execute(_REPLAY_SQL, (store_id, last_seq)):
            (
                seq,
                entry_id,
                kind,
                member_id,
                card_id,
                p,
                b,
                pts,
                amount,
                related,
                _,
                detail,
                lock,
                hq_tier,
            ) = row
            n += 1
            if progress is not None and n % PROGRESS_EVERY == 0:
                progress(n)
            if card_id is not None:
                c = cards.get(card_id)
                if c is None:
                    c = cards[card_id] = _Card()
                c.last_seq = seq
                if kind == card_synced:
                    c.mirrored = True
                    if detail is not None:
                        c.state = str(detail)
                if p or b:
                    c.principal += p
                    c.bonus += b
                    if (c.principal < 0 or c.bonus < 0) and not c.mirrored:
                        problem(seq, entry_id, "a card balance went below zero")
                after = state_after.get(kind)
                if after is not None:
                    c.state = after
                if kind == pin_failed:
                    c.pin_failures += 1
                elif kind in pin_cleared:
                    c.pin_failures = 0
                elif kind == replaced_in:
                    c.pin_failures = _int(detail)
            elif p or b:
                problem(seq, entry_id, "money moved without a card")
            if (p or b) and kind not in money_kinds:
                problem(seq, entry_id, f"{kind}: money moved by an entry that cannot move money")
            elif kind in amount_checked or kind in remembered:
                self._check_amounts(row)
            if member_id is None:
                continue
            m = members.get(member_id)
            if m is None:
                m = members[member_id] = _Member()
            m.last_seq = seq
            if kind in tier_kinds:
                m.tier = detail
                if lock is not None:
                    m.tier_locked_until = lock or None
            if kind == points_synced:
                if m.chain_lot is None:
                    m.chain_lot = entry_id
                    m.lots[entry_id] = 0
                if hq_tier is not None:  # another store's member: its tier as HQ knows it
                    m.tier = hq_tier
            if pts:
                self._points(m, row, kind == points_synced)

    def _points(self, m: _Member, row: tuple[Any, ...], mirror: bool = False) -> None:
        seq, entry_id, pts = row[0], row[1], row[7]
        if pts > 0:
            debt_paid = _int(row[11])
            # Points from other tills all go to the member's one chain lot.
            lot_id = m.chain_lot if mirror and m.chain_lot is not None else entry_id
            m.lots[lot_id] = m.lots.get(lot_id, 0) + pts - debt_paid
            m.debt -= debt_paid
        else:
            payload = _load(row[10])
            taken = 0
            for lot_id, lot_points in payload.get("lots", []):
                left = m.lots.get(lot_id, 0) - lot_points
                m.lots[lot_id] = left
                taken += lot_points
                if left < 0:
                    self.problem(seq, entry_id, "a points lot went below zero")
            debt_added = int(payload.get("debt_added", 0))
            m.debt += debt_added
            if taken + debt_added != -pts:
                self.problem(seq, entry_id, "points taken from lots do not add up")
        m.points += pts
        if m.debt < 0:
            self.problem(seq, entry_id, "points debt went below zero")

    def _check_amounts(self, row: tuple[Any, ...]) -> None:
        """Each money entry must agree with itself and with the entry it reverses: a
        rewritten entry whose amount and balance change disagree is caught here."""
        seq, entry_id, kind, _, _, p, b, _, amount, related, _, detail, _, _ = row
        moves = self.moves
        ok = True
        if kind == EntryKind.TOPUP:
            ok = amount == p > 0 and b >= 0
        elif kind == EntryKind.SV_PAYMENT:
            ok = amount == -(p + b) > 0 and p <= 0 and b <= 0
        elif kind == EntryKind.CARD_CANCELLED:
            ok = amount + _int(detail) == -p and b <= 0
        elif kind == EntryKind.SV_PAYMENT_REFUNDED:
            # A payment may come back in parts (a sale returned line by line), never beyond.
            original = moves.get(related or "")
            ok = (
                original is not None
                and amount == p + b > 0
                and 0 <= p <= -original[0]
                and 0 <= b <= -original[1]
            )
            if original is not None and ok:
                moves[related or ""] = (original[0] + p, original[1] + b, original[2] - amount)
        elif kind == EntryKind.CARD_REPLACED_IN:
            original = moves.pop(related or "", None)  # pop: reversed at most once
            ok = original is not None and (p, b) == (-original[0], -original[1])
        elif kind == EntryKind.TOPUP_REFUNDED:
            original = moves.pop(related or "", None)
            ok = (
                original is not None
                and p == -original[0]
                and -original[1] <= b <= 0
                and amount == max(0, original[0] - (original[1] + b))
            )
        if kind in _REMEMBERED:
            moves[entry_id] = (p, b, amount)
        if not ok:
            self.problem(
                seq,
                entry_id,
                f"{kind}: amounts do not agree with the balance change "
                "or with the entry it reverses",
            )

    def compare_cards(self, conn: sqlite3.Connection) -> None:
        report, cards, empty = self.report, self.cards, _Card()
        rows = conn.execute(
            "SELECT id, card_no, principal_fen, bonus_fen, state, pin_failures, stock_batch_id "
            "FROM card"
        )
        for card_id, card_no, principal, bonus, state, pin_failures, batch in rows:
            report.cards += 1
            r = cards.get(card_id, empty)
            expected_state = r.state or ("in_stock" if batch else None)
            if (principal, bonus, state, pin_failures) == (
                r.principal,
                r.bonus,
                expected_state,
                r.pin_failures,
            ):
                continue
            for name, stored, recomputed in (
                ("principal_fen", principal, r.principal),
                ("bonus_fen", bonus, r.bonus),
                ("state", state, expected_state),
                ("pin_failures", pin_failures, r.pin_failures),
            ):
                if stored != recomputed:
                    report.add(
                        Problem(
                            f"card {mask_card_no(str(card_no))}",
                            f"{name} is {stored} but the ledger says {recomputed}"
                            + (f" (last entry #{r.last_seq})" if r.last_seq else ""),
                        )
                    )

    def compare_members(self, conn: sqlite3.Connection) -> None:
        report, members, empty = self.report, self.members, _Member()
        lots = {
            lot_id: (member_id, remaining)
            for lot_id, member_id, remaining in conn.execute(
                "SELECT id, member_id, remaining FROM point_lot"
            )
        }
        report.members = 0
        rows = conn.execute(
            "SELECT id, member_no, points_balance, points_debt, tier_code, tier_locked_until "
            "FROM member"
        )
        for member_id, member_no, points, debt, tier, locked_until in rows:
            report.members += 1
            r = members.get(member_id, empty)
            where = f"member {member_no}"
            for name, stored, recomputed in (
                ("points_balance", points, r.points),
                ("points_debt", debt, r.debt),
                ("tier_code", tier, r.tier),
                ("tier_locked_until", locked_until, r.tier_locked_until),
            ):
                if stored != recomputed:
                    report.add(
                        Problem(
                            where,
                            f"{name} is {stored} but the ledger says {recomputed}"
                            + (f" (last entry #{r.last_seq})" if r.last_seq else ""),
                        )
                    )
            total = 0
            for lot_id, remaining in r.lots.items():
                total += remaining
                stored_lot = lots.pop(lot_id, None)
                if stored_lot is None or stored_lot != (member_id, remaining):
                    report.add(
                        Problem(
                            where,
                            f"points lot {lot_id} holds "
                            f"{stored_lot[1] if stored_lot else 'nothing'} "
                            f"but the ledger says {remaining}",
                        )
                    )
            if total - r.debt != r.points:
                report.add(Problem(where, "lots less debt differ from points"))
        for lot_id in lots:
            report.add(Problem(f"points lot {lot_id}", "no ledger entry created this lot"))


def _int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0  # a mangled payload: the hash check reports the entry itself


def _load(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}  # the hash check reports the entry; here it simply says nothing
    return value if isinstance(value, dict) else {}
