"""Checking the ledger's hash chain and MACs, streaming straight off the sqlite3 driver.

Why not through SQLAlchemy: verify reads every entry of a ledger that grows by millions, and
building an ORM object per entry cost more than all the checking. Here each entry is one
tuple, and its canonical bytes are built by SQLite's `json_object` (in C) with the keys in
sorted order: for the text and integer values a ledger holds this is byte for byte what
`ledger_chain.canonical_bytes` produces (`json.dumps(..., sort_keys=True, separators=(",",
":"), ensure_ascii=False)`); where the two could ever differ, an entry that fails the fast
check is checked again the reference way before it is reported.

Kept free of the services (and of SQLAlchemy) so that it can run in a worker process while the
main process replays the balances: on two cores the two halves of verify run side by side.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sqlite3
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from pos_app.domain.ledger_chain import (
    GENESIS_HASH,
    HASHED_FIELDS,
    HASHED_WHEN_SET,
    MacChecker,
    chain_hash,
)

MAX_PROBLEMS = 50

_SORTED_FIELDS = sorted(HASHED_FIELDS)
_WITH_TILL = sorted((*HASHED_FIELDS, *HASHED_WHEN_SET))


def _json_object(names: list[str]) -> str:
    return "json_object(" + ", ".join(f"'{name}', {name}" for name in names) + ")"


# The bytes the hash covers (prev_hash, then the canonical JSON) come out as one BLOB, so
# they reach hashlib without a round trip through a Python str. An entry's till is in its
# canonical JSON only when set (entries older than till identity have none).
_CHAIN_SQL = (
    "SELECT store_seq, entry_id, prev_hash, hash, mac, CAST(coalesce(prev_hash, '') || "
    f"CASE WHEN till_id IS NULL THEN {_json_object(_SORTED_FIELDS)} "
    f"ELSE {_json_object(_WITH_TILL)} END"
    " AS BLOB) FROM ledger_entry WHERE store_id = ? AND store_seq BETWEEN ? AND ? "
    "ORDER BY store_seq"
)
_ENTRY_FIELDS = (*HASHED_FIELDS, *HASHED_WHEN_SET)
_ENTRY_SQL = (
    "SELECT " + ", ".join(_ENTRY_FIELDS) + " FROM ledger_entry WHERE store_id = ? AND store_seq = ?"
)


@dataclass
class ChainResult:
    """What the chain check found over entries first..last."""

    checked: int = 0
    last_seq: int = 0
    last_hash: str = GENESIS_HASH
    unsealed: int = 0  # entries at or after keyed_from_seq without a MAC
    problems: list[tuple[int, str, str]] = field(default_factory=list)  # (seq, entry_id, text)
    problem_count: int = 0
    hashes_at: dict[int, str] = field(default_factory=dict)  # the hashes asked for by seq
    seconds: float = 0.0

    def add(self, seq: int, entry_id: str, message: str) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append((seq, entry_id, message))


def connect_read_only(db_path: Path) -> sqlite3.Connection:
    """A connection that cannot write, in autocommit mode so the caller decides the snapshot
    (BEGIN … a first SELECT … COMMIT)."""
    conn = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None)
    conn.execute("PRAGMA query_only = ON")
    return conn


def check_chain(
    db_path: Path,
    store_id: str,
    mac_key: bytes | None,
    keyed_from_seq: int,
    last_seq: int,
    want_seqs: frozenset[int] = frozenset(),
) -> ChainResult:
    """Check sequence, links, hashes and MACs of the entries 1..last_seq. With no key
    (`mac_key` None) the MACs are not checked: the caller reports that itself."""
    started = time.perf_counter()
    result = ChainResult()
    conn = connect_read_only(db_path)
    try:
        _check(conn, result, store_id, mac_key, keyed_from_seq, last_seq, want_seqs)
    finally:
        conn.close()
    result.seconds = time.perf_counter() - started
    return result


class ChainCheckProcess:
    """`check_chain` in a child Python process, started now, collected with `result()`.

    A plain subprocess (`python -m db.chain_check`) rather than multiprocessing: a spawned
    multiprocessing child re-imports the parent's main module, which for an app or a test
    runner may start it all over again; this child imports only this module. The arguments,
    the key among them, go through a pipe, never the command line (which others can read).
    """

    def __init__(
        self,
        db_path: Path,
        store_id: str,
        mac_key: bytes | None,
        keyed_from_seq: int,
        last_seq: int,
        want_seqs: frozenset[int] = frozenset(),
    ) -> None:
        request = {
            "db_path": str(db_path),
            "store_id": store_id,
            "mac_key": base64.b64encode(mac_key).decode("ascii") if mac_key else None,
            "keyed_from_seq": keyed_from_seq,
            "last_seq": last_seq,
            "want_seqs": sorted(want_seqs),
        }
        self._process = subprocess.Popen(
            [sys.executable, "-m", "db.chain_check"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=str(Path(__file__).resolve().parent.parent),
        )
        assert self._process.stdin is not None
        self._process.stdin.write(json.dumps(request).encode("ascii"))
        self._process.stdin.close()

    def result(self) -> ChainResult:
        # stdin is already closed, so not communicate(); the child writes to stderr only if it
        # crashes (a short traceback), so reading stdout to its end first cannot deadlock.
        assert self._process.stdout is not None and self._process.stderr is not None
        out = self._process.stdout.read()
        err = self._process.stderr.read()
        self._process.wait()
        if self._process.returncode != 0:
            raise RuntimeError(f"the chain check process failed: {err.decode(errors='replace')}")
        data = json.loads(out)
        data["problems"] = [tuple(p) for p in data["problems"]]
        data["hashes_at"] = {int(k): v for k, v in data["hashes_at"].items()}
        return ChainResult(**data)

    def kill(self) -> None:
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait()


def _main() -> None:
    request = json.loads(sys.stdin.read())
    key = request["mac_key"]
    result = check_chain(
        Path(request["db_path"]),
        request["store_id"],
        base64.b64decode(key) if key else None,
        int(request["keyed_from_seq"]),
        int(request["last_seq"]),
        frozenset(request["want_seqs"]),
    )
    sys.stdout.write(json.dumps(asdict(result)))


def _check(
    conn: sqlite3.Connection,
    result: ChainResult,
    store_id: str,
    mac_key: bytes | None,
    keyed_from_seq: int,
    last_seq: int,
    want_seqs: frozenset[int],
) -> None:
    sha256 = hashlib.sha256
    macs = MacChecker(mac_key) if mac_key is not None else None
    # MacChecker.mac, inlined: a method call per entry is a few percent of the whole pass.
    inner_copy = macs.inner.copy if macs is not None else None
    outer_copy = macs.outer.copy if macs is not None else None
    prev, expected, checked, unsealed = GENESIS_HASH, 1, 0, 0
    add = result.add
    rows = conn.execute(_CHAIN_SQL, (store_id, 1, last_seq))
    for seq, entry_id, prev_hash, entry_hash, mac, hashed in rows:
        checked += 1
        if entry_hash.__class__ is not str:
            entry_hash = str(entry_hash)  # a tampered column: reported below, not a crash
        if seq != expected:
            add(seq, entry_id, f"sequence gap: expected {expected}")
        expected = seq + 1
        if prev_hash != prev:
            add(seq, entry_id, "prev_hash does not link to the previous entry")
        if sha256(hashed).hexdigest() != entry_hash and not _reference_ok(
            conn, store_id, seq, prev_hash, entry_hash
        ):
            add(seq, entry_id, "hash does not match the entry's content (altered outside the app)")
        if seq >= keyed_from_seq:
            if mac is None:
                unsealed += 1
                add(seq, entry_id, "the entry has no MAC: it was not written by the app")
            elif inner_copy is not None and outer_copy is not None:
                inner = inner_copy()
                inner.update(entry_hash.encode())
                outer = outer_copy()
                outer.update(inner.digest())
                if mac != outer.hexdigest():
                    add(
                        seq,
                        entry_id,
                        "MAC does not match: the entry was rewritten or re-hashed outside the app",
                    )
        if seq in want_seqs:
            result.hashes_at[seq] = entry_hash
        prev = entry_hash
    result.checked, result.unsealed = checked, unsealed
    result.last_seq, result.last_hash = expected - 1, prev


def _reference_ok(
    conn: sqlite3.Connection, store_id: str, seq: int, prev_hash: str, entry_hash: str
) -> bool:
    # The fast path's bytes come from SQLite; before calling an entry altered, hash it the
    # way the app wrote it.
    row = conn.execute(_ENTRY_SQL, (store_id, seq)).fetchone()
    if row is None:
        return False
    try:
        return chain_hash(prev_hash, dict(zip(_ENTRY_FIELDS, row, strict=True))) == entry_hash
    except Exception:  # noqa: BLE001 — a column of the wrong type: not the app's entry
        return False


if __name__ == "__main__":
    _main()
