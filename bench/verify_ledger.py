"""Benchmark: `verify` over a store of 1,000,000 members (about 2.66 M ledger entries).

    .venv/bin/python bench/verify_ledger.py [--db .bench-tmp/verify-1m] [--rows 1000000]

Builds the store on first use by importing a generated member file (as member_import.py
does) and reuses it afterwards. Then, in one run, on the same file:

- the physical limits: the ledger's rows streamed off the sqlite3 driver doing nothing with
  them, and the same rows with each entry's SHA-256 taken (the least any chain check does);
- the ledger pass of verify alone (chain, links and MACs in a worker process beside the
  balance replay), without integrity_check — the entries/s the target is about;
- the whole `verify` as `pos-app verify` runs it: integrity_check on its own thread, the
  ledger pass, every projection compared — total seconds and the time of each phase.

Prints the figures and exits 1 when the ledger pass is below 200,000 entries/s.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path

from common import DEFAULT_TMP, Progress, member_csv, open_existing, store_with_rules

from db.chain_check import connect_read_only
from pos_app.domain.ledger_chain import HASHED_FIELDS, HASHED_WHEN_SET
from pos_app.services.context import DB_FILENAME, StoreContext
from pos_app.services.member_import import import_members
from pos_app.services.verify import verify_file, verify_ledger

TARGET_ENTRIES_PER_S = 200_000


def build(db: Path, rows: int) -> StoreContext:
    found = open_existing(db)
    if found is not None:
        return found[0]
    db.mkdir(parents=True, exist_ok=True)
    csv_path = db.parent / f"{db.name}-members.csv"
    member_csv(csv_path, rows)
    ctx, admin, _ = store_with_rules(db)
    started = time.perf_counter()
    result = import_members(ctx, admin, csv_path, progress=Progress("building the store"))
    csv_path.unlink()
    print(f"built: {result.entries:,} entries in {time.perf_counter() - started:.0f} s")
    return ctx


def bare_rates(db_path: Path) -> tuple[int, float, float]:
    """(rows, rows/s, rows/s hashed): each entry's hashed bytes (prev_hash, then its
    canonical JSON, built by SQLite) streamed off the driver doing nothing with them, and
    the same with their SHA-256 taken — the least any check of the chain does."""
    # As verify builds them: an entry's till is in its bytes only when set.
    body = ", ".join(f"'{name}', {name}" for name in sorted(HASHED_FIELDS))
    with_till = ", ".join(
        f"'{name}', {name}" for name in sorted((*HASHED_FIELDS, *HASHED_WHEN_SET))
    )
    sql = (
        "SELECT CAST(prev_hash || CASE WHEN till_id IS NULL THEN "
        f"json_object({body}) ELSE json_object({with_till}) END AS BLOB) FROM ledger_entry "
        "ORDER BY store_id, store_seq"
    )
    conn = connect_read_only(db_path)
    try:
        started = time.perf_counter()
        n = sum(1 for _ in conn.execute(sql))
        bare = n / (time.perf_counter() - started)
        sha256 = hashlib.sha256
        started = time.perf_counter()
        for (hashed_bytes,) in conn.execute(sql):
            sha256(hashed_bytes).hexdigest()
        hashed = n / (time.perf_counter() - started)
    finally:
        conn.close()
    return n, bare, hashed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", type=Path, default=DEFAULT_TMP / "verify-1m", help="store")
    parser.add_argument("--rows", type=int, default=1_000_000, help="members when building")
    args = parser.parse_args()

    ctx = build(args.db, args.rows)
    db_path = args.db / DB_FILENAME
    size = sum(p.stat().st_size for p in args.db.iterdir() if p.is_file()) / 1e9
    n, bare, hashed = bare_rates(db_path)
    print(f"store: {n:,} ledger entries, {size:.2f} GB")
    print(
        f"physical limit, one core: the entries' hashed bytes streamed off the driver "
        f"{bare:,.0f}/s; streamed + SHA-256 {hashed:,.0f}/s"
    )

    ledger = verify_file(db_path, ctx.keys, integrity_check=False)
    if not ledger.ok:
        print("verify FAILED:", ledger.problems[:3])
        return 1
    rate = ledger.entries / ledger.phases["ledger"]
    print(
        f"ledger pass alone: {ledger.entries:,} entries in {ledger.phases['ledger']:.1f} s "
        f"(chain worker {ledger.phases['chain']:.1f} s, replay {ledger.phases['replay']:.1f} s)"
        f" → {rate:,.0f} entries/s = {rate / hashed:.2f}× stream + SHA-256 on one core"
    )

    full = verify_ledger(ctx)
    phases = ", ".join(f"{k} {v:.1f} s" for k, v in full.phases.items())
    print(
        f"pos-app verify: {'OK' if full.ok else 'PROBLEMS'} in {full.seconds:.1f} s "
        f"({full.entries / full.seconds:,.0f} entries/s overall; {phases})"
    )
    met = rate >= TARGET_ENTRIES_PER_S
    print(
        f"verify ledger pass {rate:,.0f} entries/s (target ≥ {TARGET_ENTRIES_PER_S:,}: "
        f"{'met' if met else 'NOT met'})"
    )
    ctx.engine.dispose()
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
