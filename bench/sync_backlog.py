"""Benchmark: one till's 24 h backlog (50,000 ledger entries) acknowledged by HQ end to end.

    .venv/bin/python bench/sync_backlog.py [--entries 50000] [--topups 2000] [--db URL]

A real till store (`pos-app init`, the example rules) enrolled at a real HQ (`pos-hq serve`
on a PostgreSQL database of the run's own) collects a day's backlog while HQ is away:
`--topups` real top-ups on 50 member cards (which also change card rows) and the rest of the
entries as operator records written through the ledger in bulk (quick to make; an entry is
an entry to sync). Not timed. Then, timed: `pos_app.sync.push` — reading the ledger, signing,
HTTP to HQ, HQ's checks of every hash and link, inserts, acknowledgement — until HQ holds it all.

In the same run, on the same rows (the physical limits):
- bare ingest: `hq.ingest.ingest_batch` called in-process with the same 1,000-entry batches
  into a second HQ database (no HTTP, no signature, no reading of the till);
- bare COPY: the rows HQ holds, COPYed into a table shaped like HQ's entry table, in one
  transaction and in one transaction per 1,000 rows.

Prints the figures and ratios; exits 1 when the end-to-end push takes 5 s or more.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from common import DEFAULT_TMP, Progress, store_with_rules
from hq_server import (
    bare_copy_seconds,
    held_entries,
    hq_database,
    libpq_dsn,
    migrated_engine,
    served,
)
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from db.engine import read_session
from db.models import Operator
from hq import admin
from hq.ingest import ingest_batch
from pos_app.domain.permissions import Permission
from pos_app.services import stored_value
from pos_app.services.auth import Actor
from pos_app.services.cards import issue_card
from pos_app.services.context import StoreContext
from pos_app.services.members import register_member
from pos_app.services.operator_records import record_operator_change
from pos_app.services.shifts import open_shift
from pos_app.services.sync_setup import setup
from pos_app.services.use_case import use_case
from pos_app.sync.outbox import entries_after
from pos_app.sync.pusher import push

TARGET_SECONDS = 5.0
STORE = "BM01"
CARDS = 50


def enroll(engine: Engine) -> tuple[str, str]:
    """(till, one-time token) of a new till of STORE at HQ."""
    now = datetime.now(UTC)
    with Session(engine) as session, session.begin():
        admin.add_store(session, STORE, "基准测试门店 Bench Store", now)
        enrollment = admin.enroll_till(session, STORE, now)
        return enrollment.till, enrollment.token


def day_of_trading(
    ctx: StoreContext, admin_actor: Actor, cashier: Actor, entries: int, topups: int
) -> None:
    """`topups` real top-ups on CARDS cards, then operator records up to `entries` in all."""
    open_shift(ctx, cashier, 0)
    progress = Progress("making the backlog")
    cards = []
    for n in range(CARDS):
        member = register_member(ctx, cashier, f"139{n:08d}", f"会员{n}")
        card_no = f"8899{n:06d}"
        issue_card(ctx, cashier, member.member_no, card_no)
        cards.append(card_no)
    for n in range(topups):
        stored_value.top_up(ctx, cashier, cards[n % CARDS], 5000 + 100 * (n % 20))
        progress(n + 1, entries)
    with read_session(ctx.engine) as session:
        done = len(entries_after(session, ctx.store.id, 0, 10**9))
    while done < entries:
        step = min(5000, entries - done)
        with use_case(ctx, admin_actor, Permission.OPERATOR_MANAGE) as uc:
            op = uc.session.scalars(select(Operator).where(Operator.login == "cashier")).one()
            for _ in range(step):
                record_operator_change(uc, op, "reviewed")
        done += step
        progress(done, entries)


def bare_ingest_seconds(url: str, till: str, ctx: StoreContext) -> tuple[float, int]:
    """The same entries, 1,000 a batch, straight into `ingest_batch` on a fresh HQ database
    (the request bodies are encoded before the clock starts, as they arrive at HQ)."""
    with read_session(ctx.engine) as session:
        entries = entries_after(session, ctx.store.id, 0, 10**9)
    engine = migrated_engine(url)
    try:
        enroll(engine)
        bodies = [
            json.dumps({"entries": entries[start : start + 1000], "rows": []}).encode()
            for start in range(0, len(entries), 1000)
        ]
        started = time.perf_counter()
        for body in bodies:
            ingest_batch(engine, till, body, datetime.now(UTC))
        return time.perf_counter() - started, len(entries)
    finally:
        engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, default=50_000, help="ledger entries in the backlog")
    parser.add_argument("--topups", type=int, default=1_000, help="of which real top-ups")
    parser.add_argument("--db", help="HQ database URL (default: a fresh PostgreSQL database)")
    parser.add_argument("--tmp", type=Path, default=DEFAULT_TMP, help="work folder")
    args = parser.parse_args()
    work = args.tmp / "sync-backlog"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)

    with hq_database(args.db) as url, hq_database(None) as bare_url:
        engine = migrated_engine(url)
        till, token = enroll(engine)
        engine.dispose()
        ctx, admin_actor, cashier = store_with_rules(work / "till", STORE)
        with served(url, work / "hq.log") as base:
            setup(ctx, admin_actor, base, token)
            started = time.perf_counter()
            day_of_trading(ctx, admin_actor, cashier, args.entries, args.topups)
            print(f"backlog made in {time.perf_counter() - started:.0f} s (not timed)")
            started = time.perf_counter()
            outcome = push(ctx)
            seconds = time.perf_counter() - started
        n = outcome.sent_entries
        print(
            f"push: {n:,} entries and {outcome.sent_rows:,} rows in {outcome.batches} batches, "
            f"acknowledged end to end in {seconds:.2f} s → {n / seconds:,.0f} entries/s "
            f"({outcome.result.value}, pending {outcome.pending})",
            flush=True,
        )
        dsn = libpq_dsn(url)
        rows = held_entries(dsn)
        copy_one = bare_copy_seconds(dsn, rows, chunk=len(rows))
        copy_batched = bare_copy_seconds(dsn, rows, chunk=1000)
        ingest_seconds, ingest_entries = bare_ingest_seconds(bare_url, till, ctx)
        ctx.engine.dispose()

    print(
        f"bare ingest_batch (no HTTP, no signature): {ingest_entries:,} entries in "
        f"{ingest_seconds:.2f} s → {ingest_entries / ingest_seconds:,.0f} entries/s"
    )
    print(
        f"bare COPY of the same {len(rows):,} rows: one transaction {copy_one:.2f} s "
        f"({len(rows) / copy_one:,.0f}/s); 1,000 per transaction {copy_batched:.2f} s "
        f"({len(rows) / copy_batched:,.0f}/s)"
    )
    print(
        f"summary: {n:,}-entry backlog acknowledged in {seconds:.2f} s "
        f"(target < {TARGET_SECONDS:.0f} s); ratio to bare ingest {seconds / ingest_seconds:.2f}, "
        f"to COPY per 1,000 {seconds / copy_batched:.2f}, to one COPY {seconds / copy_one:.2f}; "
        f"HQ holds {len(rows):,}"
    )
    ok = outcome.ok and len(rows) == n and seconds < TARGET_SECONDS
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
