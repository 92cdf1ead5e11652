"""Time the store reports that read a whole ledger or search all sales: 负债 (liabilities on a
day), 销售分析 (a day and the month), the sales journal (by receipt, by member, by amount,
a day's first page) and a member's history, on the z_report bench store.

    .venv/bin/python bench/store_reports.py --db .bench-tmp/z-report --days 30 --sales-per-day 50000

Builds (or reuses) the same store as z_report.py; prints one line per report with its median
and the ledger's size. Targets: each ≤ 1 s, the month's analysis ≤ 5 s.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from common import DEFAULT_TMP, PASSWORD
from z_report import FIRST_DAY, build_or_reuse, time_runs

from pos_app.services.liabilities import liabilities
from pos_app.services.member_history import member_history
from pos_app.services.sales_analysis import sales_analysis
from pos_app.services.sales_journal import JournalQuery, sales_journal
from pos_app.services.sign_in import sign_in

TARGET_S = 1.0
MONTH_TARGET_S = 5.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", type=Path, default=DEFAULT_TMP / "z-report", help="store folder")
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--sales-per-day", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    ctx, _admin, _ = build_or_reuse(args.db, args.days, args.sales_per_day)
    manager = sign_in(ctx, "manager", PASSWORD)
    path = ctx.engine.url.database
    assert path is not None
    con = sqlite3.connect(path)
    entries = con.execute("SELECT count(*) FROM ledger_entry").fetchone()[0]
    sale = con.execute(
        "SELECT receipt_no, total_fen, member_id FROM sale WHERE member_id IS NOT NULL "
        "ORDER BY business_time DESC LIMIT 1"
    ).fetchone()
    member_no = con.execute("SELECT member_no FROM member WHERE id = ?", (sale[2],)).fetchone()[0]
    con.close()
    first, last = FIRST_DAY, FIRST_DAY + timedelta(days=args.days - 1)
    day = FIRST_DAY + timedelta(days=args.days // 2)
    print(f"{entries:,} ledger entries")
    ok = True
    cases: list[tuple[str, Any, float]] = [
        (f"liabilities at the end of {last}", lambda: liabilities(ctx, manager, last), TARGET_S),
        (f"liabilities at the end of {day}", lambda: liabilities(ctx, manager, day), TARGET_S),
        (f"sales analysis of {day}", lambda: sales_analysis(ctx, manager, day, day, 20), TARGET_S),
        (
            "sales analysis of the month",
            lambda: sales_analysis(ctx, manager, first, last, 20),
            MONTH_TARGET_S,
        ),
        (
            "journal by receipt number",
            lambda: sales_journal(ctx, manager, JournalQuery(receipt_no=sale[0])),
            TARGET_S,
        ),
        (
            "journal by member",
            lambda: sales_journal(ctx, manager, JournalQuery(member=member_no)),
            TARGET_S,
        ),
        (
            "journal by amount",
            lambda: sales_journal(ctx, manager, JournalQuery(amount_fen=sale[1])),
            TARGET_S,
        ),
        (
            f"journal of {day}, first page",
            lambda: sales_journal(ctx, manager, JournalQuery(date_from=day, date_to=day)),
            TARGET_S,
        ),
        ("member history", lambda: member_history(ctx, manager, member_no), TARGET_S),
    ]
    for label, fn, target in cases:
        _, samples = time_runs(fn, args.runs)
        median = statistics.median(samples)
        met = median <= target
        ok &= met
        print(
            f"  {label}: median {median * 1e3:.0f} ms (target ≤ {target:g} s: "
            f"{'met' if met else 'NOT met'})"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
