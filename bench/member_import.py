"""Benchmark: import N members with cards (and opening balances) from a generated CSV.

    .venv/bin/python bench/member_import.py [--rows 1000000] [--verify] [--keep]

Makes a fresh store under .bench-tmp (same disk as the data), generates the CSV there (not
timed), imports it through `pos_app.services.member_import.import_members` with a progress
line, and prints total seconds and rows/s against the target (≤ 60 s for a million).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from common import DEFAULT_TMP, Progress, member_csv, store_with_rules

from pos_app.services.member_import import import_members
from pos_app.services.verify import verify_ledger

TARGET_S_PER_MILLION = 60.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="members in the file")
    parser.add_argument("--chunk", type=int, default=None, help="rows per transaction")
    parser.add_argument("--tmp", type=Path, default=DEFAULT_TMP, help="work folder")
    parser.add_argument("--verify", action="store_true", help="run verify afterwards (slow)")
    parser.add_argument("--keep", action="store_true", help="keep the store and CSV")
    args = parser.parse_args()

    args.tmp.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="import-", dir=args.tmp))
    try:
        csv_path = work / "members.csv"
        started = time.perf_counter()
        member_csv(csv_path, args.rows)
        print(
            f"generated {args.rows:,} rows ({csv_path.stat().st_size / 1e6:.0f} MB) "
            f"in {time.perf_counter() - started:.1f} s (not part of the import)"
        )
        ctx, admin, _ = store_with_rules(work / "store")
        extra = {"chunk_rows": args.chunk} if args.chunk else {}
        started = time.perf_counter()
        result = import_members(ctx, admin, csv_path, progress=Progress("importing"), **extra)
        seconds = time.perf_counter() - started
        if not result.ok or result.imported != args.rows:
            print(f"import FAILED: {result.error_count} errors, {result.imported} imported")
            for error in result.errors[:10]:
                print("  ", error.message("en"))
            return 1
        size = sum(p.stat().st_size for p in (work / "store").iterdir()) / 1e9
        target = TARGET_S_PER_MILLION * args.rows / 1_000_000
        print(
            f"imported {result.imported:,} members with cards, {result.entries:,} ledger "
            f"entries, in {result.chunks} transactions; store {size:.2f} GB"
        )
        print(
            f"member import: {seconds:.1f} s for {args.rows:,} rows → "
            f"{args.rows / seconds:,.0f} rows/s, {result.entries / seconds:,.0f} entries/s "
            f"(target ≤ {target:.0f} s: {'met' if seconds <= target else 'NOT met'})"
        )
        if args.verify:
            started = time.perf_counter()
            report = verify_ledger(ctx)
            print(
                f"verify: {'OK' if report.ok else 'FAILED'} — {report.entries:,} entries, "
                f"{report.members:,} members, {report.cards:,} cards in "
                f"{time.perf_counter() - started:.1f} s"
            )
            if not report.ok:
                for problem in report.problems[:10]:
                    print("  ", problem)
                return 1
        ctx.engine.dispose()
        return 0
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
