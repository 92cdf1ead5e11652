"""Benchmark: find a member by card and by mobile in a store of a million members.

    .venv/bin/python bench/member_lookup.py [--db .bench-tmp/lookup-1m] [--members 1000000]
                                            [--lookups 2000]

The store is built once (by importing a generated CSV with `import_members`, which is timed
and printed too) and reused from --db on later runs. Then, for random cards and mobiles of
that store, it times:

- the service path a till uses: `members.lookup_by_card` / `members.lookup_by_mobile`
  (permission check, the member, their referrer, all their cards, the tier name), and
  `members.show_member` (the general ORM path) for comparison;
- the physical floor: one indexed SELECT returning the same data on an open sqlite3
  connection (no permission check, no objects).

It prints p50/p99 for each and the ratio service/raw (target ≤ 3).
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import sys
import time
from collections.abc import Callable
from pathlib import Path

from common import DEFAULT_TMP, Progress, member_csv, open_existing, store_with_rules, summary_ms

from pos_app.services import members
from pos_app.services.auth import Actor
from pos_app.services.context import DB_FILENAME, StoreContext
from pos_app.services.member_import import import_members

TARGET_RATIO = 3.0

# The same data as the service returns: the member, their referrer's number, all their cards.
RAW_BY_CARD = """
SELECT m.member_no, m.name, m.mobile, m.gender, m.birthday, m.email, m.tier_code,
       m.points_balance, m.created_at, r.member_no,
       c.card_no, c.media, c.state, c.principal_fen, c.bonus_fen, c.pin_hash, c.pin_failures
FROM card AS k
JOIN member AS m ON m.id = k.member_id
LEFT JOIN member AS r ON r.id = m.referrer_id
LEFT JOIN card AS c ON c.member_id = m.id
WHERE k.card_no = ?
ORDER BY c.created_at, c.id
"""
RAW_BY_MOBILE = """
SELECT m.member_no, m.name, m.mobile, m.gender, m.birthday, m.email, m.tier_code,
       m.points_balance, m.created_at, r.member_no,
       c.card_no, c.media, c.state, c.principal_fen, c.bonus_fen, c.pin_hash, c.pin_failures
FROM member AS m
LEFT JOIN member AS r ON r.id = m.referrer_id
LEFT JOIN card AS c ON c.member_id = m.id
WHERE m.mobile = ?
ORDER BY c.created_at, c.id
"""


def build_or_reuse(db: Path, count: int) -> tuple[StoreContext, Actor, Actor]:
    existing = open_existing(db)
    if existing is not None:
        ctx = existing[0]
        with sqlite3.connect(db / DB_FILENAME) as conn:
            have = conn.execute("SELECT count(*) FROM member").fetchone()[0]
        if have >= count:
            print(f"reusing {db}: {have:,} members")
            return existing
        ctx.engine.dispose()
        raise SystemExit(f"{db} holds {have:,} members, fewer than {count:,}: remove it first")
    db.mkdir(parents=True, exist_ok=True)
    ctx, admin, cashier = store_with_rules(db)
    csv_path = db / "members.csv"
    member_csv(csv_path, count)
    started = time.perf_counter()
    result = import_members(ctx, admin, csv_path, progress=Progress("importing"))
    seconds = time.perf_counter() - started
    csv_path.unlink()
    if not result.ok:
        raise SystemExit(f"import failed: {result.errors[:5]}")
    print(
        f"member import: {seconds:.1f} s for {count:,} rows → {count / seconds:,.0f} rows/s, "
        f"{result.entries:,} entries (target ≤ {60 * count / 1_000_000:.0f} s)"
    )
    return ctx, admin, cashier


def sample_keys(db: Path, n: int, seed: int) -> tuple[list[str], list[str]]:
    """Random issued card numbers and member mobiles of the store."""
    with sqlite3.connect(db / DB_FILENAME) as conn:
        top = conn.execute("SELECT max(rowid) FROM card").fetchone()[0]
        rng = random.Random(seed)
        picks = [rng.randrange(1, top + 1) for _ in range(n * 2)]
        rows = []
        for i in range(0, len(picks), 500):
            chunk = picks[i : i + 500]
            rows += conn.execute(
                "SELECT c.card_no, m.mobile FROM card c JOIN member m ON m.id = c.member_id "
                f"WHERE c.rowid IN ({','.join('?' * len(chunk))})",
                chunk,
            ).fetchall()
    rng.shuffle(rows)
    rows = rows[:n]
    return [r[0] for r in rows], [r[1] for r in rows]


def time_each(fn: Callable[[str], object], keys: list[str]) -> list[float]:
    out = []
    for key in keys:
        started = time.perf_counter()
        fn(key)
        out.append(time.perf_counter() - started)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", type=Path, default=DEFAULT_TMP / "lookup-1m", help="store dir")
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--lookups", type=int, default=2000, help="lookups of each kind")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    ctx, _, cashier = build_or_reuse(args.db, args.members)
    cards, mobiles = sample_keys(args.db, args.lookups, args.seed)
    raw = sqlite3.connect(args.db / DB_FILENAME, isolation_level=None)
    raw.execute("PRAGMA journal_mode=WAL")

    def raw_card(card_no: str) -> list[tuple[object, ...]]:
        rows = raw.execute(RAW_BY_CARD, (card_no,)).fetchall()
        assert rows
        return rows

    def raw_mobile(mobile: str) -> list[tuple[object, ...]]:
        rows = raw.execute(RAW_BY_MOBILE, (mobile,)).fetchall()
        assert rows
        return rows

    def svc_card(card_no: str) -> members.MemberView:
        return members.lookup_by_card(ctx, cashier, card_no)

    def svc_mobile(mobile: str) -> members.MemberView:
        return members.lookup_by_mobile(ctx, cashier, mobile)

    def show_card(card_no: str) -> members.MemberView:
        return members.show_member(ctx, cashier, card_no=card_no)

    def show_mobile(mobile: str) -> members.MemberView:
        return members.show_member(ctx, cashier, mobile=mobile)

    # Same answers both ways (a spot check), then warm up every path.
    view = svc_card(cards[0])
    assert view == show_card(cards[0])
    assert view.member_no == raw_card(cards[0])[0][0]
    assert svc_mobile(mobiles[0]) == show_mobile(mobiles[0])
    for fn, keys in (
        (raw_card, cards),
        (svc_card, cards),
        (show_card, cards),
        (raw_mobile, mobiles),
        (svc_mobile, mobiles),
        (show_mobile, mobiles),
    ):
        time_each(fn, keys[:200])

    # Alternate the paths in rounds of 100 keys, each round in a different order, so that no
    # path is always the first to touch a key's pages (or always gets them warm).
    paths: dict[str, tuple[Callable[[str], object], list[str]]] = {
        "raw_card": (raw_card, cards),
        "svc_card": (svc_card, cards),
        "show_card": (show_card, cards),
        "raw_mob": (raw_mobile, mobiles),
        "svc_mob": (svc_mobile, mobiles),
        "show_mob": (show_mobile, mobiles),
    }
    results: dict[str, list[float]] = {k: [] for k in paths}
    orders = [
        ("raw_card", "svc_card", "show_card"),
        ("svc_card", "show_card", "raw_card"),
        ("show_card", "raw_card", "svc_card"),
    ]
    step = 100
    for n, i in enumerate(range(0, len(cards), step)):
        for key in orders[n % 3] + tuple(k.replace("card", "mob") for k in orders[n % 3]):
            fn, keys = paths[key]
            results[key] += time_each(fn, keys[i : i + step])
    raw.close()
    ctx.engine.dispose()

    print(f"{len(cards):,} lookups of each kind in a store of {args.members:,} members")
    print(f"{'path':<42} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8}")
    labels = {
        "raw_card": "raw SELECT by card (sqlite3)",
        "svc_card": "members.lookup_by_card",
        "show_card": "members.show_member(card_no=…)",
        "raw_mob": "raw SELECT by mobile (sqlite3)",
        "svc_mob": "members.lookup_by_mobile",
        "show_mob": "members.show_member(mobile=…)",
    }
    for key, label in labels.items():
        p50, p99, mean = summary_ms(results[key])
        print(f"{label:<42} {p50:8.3f} {p99:8.3f} {mean:8.3f}")
    ok = True
    for what, svc, show, base in (
        ("card", "svc_card", "show_card", "raw_card"),
        ("mobile", "svc_mob", "show_mob", "raw_mob"),
    ):
        s50, s99, _ = summary_ms(results[svc])
        r50, r99, _ = summary_ms(results[base])
        o50, _, _ = summary_ms(results[show])
        ratio = s50 / r50
        ok = ok and ratio <= TARGET_RATIO
        print(
            f"member lookup by {what}: service p50 {s50:.3f} ms (p99 {s99:.3f}) vs raw indexed "
            f"SELECT p50 {r50:.3f} ms (p99 {r99:.3f}) → ratio {ratio:.2f} "
            f"(target ≤ {TARGET_RATIO:.1f}); show_member p50 {o50:.3f} ms "
            f"(ratio {o50 / r50:.1f})"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
