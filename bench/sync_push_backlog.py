"""Benchmark: one till's backlog (50,000 ledger entries) pushed to HQ and acknowledged.

    .venv/bin/python bench/sync_push_backlog.py [--entries 50000] [--hq-db URL] [--tmp DIR]

A store is made in --tmp (init, an admin, N `operator_changed` entries written through the
app's own use-case frame: hashed, chained and sealed like any), HQ runs as `pos-hq serve` in
a process of its own on a free loopback port (database --hq-db, default a PostgreSQL
database created on 127.0.0.1:5432 and dropped afterwards), the till is enrolled with
`pos-app sync setup`'s service, and `push` is timed from the first request to HQ's last
acknowledgement. In the same run, the till-side floor: reading the same batches off the
store (`next_batch`) and encoding them as JSON, with no network. Prints both and their
ratio; exits 1 when the push takes 5 s or more (the target).
"""

from __future__ import annotations

import argparse
import json
import secrets
import shutil
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg
from psycopg import sql
from sqlalchemy import select

from db.engine import read_session
from db.models import Operator
from pos_app.domain.permissions import Permission
from pos_app.services.context import open_store
from pos_app.services.operator_records import record_operator_change
from pos_app.services.sign_in import sign_in
from pos_app.services.store_setup import init_store
from pos_app.services.sync_setup import setup
from pos_app.services.use_case import use_case
from pos_app.sync.outbox import next_batch
from pos_app.sync.pusher import push

PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=3"
POS_HQ = str(Path(sys.executable).parent / "pos-hq")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _hq(db_url: str, *args: str) -> dict[str, object]:
    done = subprocess.run(
        [POS_HQ, "--db", db_url, "--json", *args], capture_output=True, text=True, check=True
    )
    data: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return data


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=50_000)
    parser.add_argument("--hq-db", default=None)
    parser.add_argument("--tmp", type=Path, default=None)
    args = parser.parse_args()
    work = args.tmp or Path(__file__).resolve().parent.parent / ".bench-tmp" / "sync-push"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    pg_name = None
    db_url = args.hq_db
    if db_url is None:
        pg_name = f"pos_hq_bench_{secrets.token_hex(4)}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(pg_name)))
        db_url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{pg_name}"
    server = None
    try:
        ctx = open_store(work / "store", key_dir=work / "keys")
        init_store(ctx, "SH01", "基准门店", "admin", "admin12345")
        admin = sign_in(ctx, "admin", "admin12345")
        started = time.perf_counter()
        left = args.entries
        while left > 0:
            chunk = min(left, 10_000)
            with use_case(ctx, admin, Permission.OPERATOR_MANAGE) as uc:
                op = uc.session.scalars(select(Operator)).one()
                for _ in range(chunk):
                    record_operator_change(uc, op, "reviewed")
            left -= chunk
        print(f"store: {args.entries:,} entries written in {time.perf_counter() - started:.1f} s")

        _hq(db_url, "init")
        _hq(db_url, "store", "add", "--code", "SH01", "--name", "基准门店")
        token = str(_hq(db_url, "till", "enroll", "--store", "SH01")["token"])
        port = _free_port()
        log = (work / "hq.log").open("wb")
        server = subprocess.Popen(
            [POS_HQ, "--db", db_url, "serve", "--host", "127.0.0.1", "--port", str(port)],
            stdout=log,
            stderr=log,
        )
        url = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                httpx.get(url + "/health", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        setup(ctx, admin, url, token)

        # The floor: the same batches read off the store and encoded, no network.
        store_id = ctx.store.id
        started = time.perf_counter()
        seq, outbox, items = 0, 0, 0
        while True:
            with read_session(ctx.engine) as session:
                batch = next_batch(session, store_id, seq, outbox)
            if not len(batch):
                break
            json.dumps(batch.body(), ensure_ascii=False, separators=(",", ":")).encode()
            items += len(batch)
            seq = batch.entries[-1]["seq"] if batch.entries else seq
            outbox = batch.rows[-1]["outbox_id"] if batch.rows else outbox
        floor = time.perf_counter() - started

        started = time.perf_counter()
        outcome = push(ctx)
        took = time.perf_counter() - started
        print(
            f"push: {outcome.result.value}, {outcome.sent_entries:,} entries + "
            f"{outcome.sent_rows} rows in {outcome.batches} batches: {took:.2f} s "
            f"({outcome.sent_entries / took:,.0f} entries/s) at {datetime.now(UTC):%H:%M:%S}"
        )
        print(f"floor (read + encode the same {items:,} items, no network): {floor:.2f} s")
        print(f"ratio push / floor: {took / floor:.1f}x")
        status = _hq(db_url, "status")
        print(f"HQ holds: {status['tills']}")
        return 0 if outcome.ok and took < 5.0 else 1
    finally:
        if server is not None:
            server.kill()
            server.wait()
        if pg_name is not None:
            with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
                admin.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                        sql.Identifier(pg_name)
                    )
                )


if __name__ == "__main__":
    sys.exit(main())
