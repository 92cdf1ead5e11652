"""An HQ for the sync benchmarks: a PostgreSQL database of the run's own (created on
127.0.0.1:5432 and dropped afterwards, unless --db names one), migrated, served by
`pos-hq serve` as production runs it, and the bare-COPY baseline of its entry table."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from hq import migrate
from hq.engine import open_engine

PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
POS_HQ = Path(sys.executable).with_name("pos-hq")


@contextmanager
def hq_database(url: str | None) -> Iterator[str]:
    """`url` as given, or a fresh PostgreSQL database dropped when the run ends."""
    if url is not None:
        yield url
        return
    name = f"pos_hq_bench_{secrets.token_hex(4)}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def migrated_engine(url: str) -> Engine:
    engine = open_engine(url)
    migrate.upgrade(engine)
    return engine


def libpq_dsn(url: str) -> str:
    """The psycopg connection string of a SQLAlchemy PostgreSQL URL."""
    parsed = make_url(url)
    parts = {
        "host": parsed.host or "127.0.0.1",
        "port": parsed.port or 5432,
        "user": parsed.username or "postgres",
        "dbname": parsed.database,
    }
    if parsed.password:
        parts["password"] = parsed.password
    return " ".join(f"{k}={v}" for k, v in parts.items())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def served(url: str, log: Path, workers: int = 1) -> Iterator[str]:
    """`pos-hq serve --workers N` on a free loopback port until the block ends; yields its
    base URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [str(POS_HQ), "--db", url, "serve", "--host", "127.0.0.1", "--port", str(port)]
            + ["--workers", str(workers)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{base}/health", timeout=1) as response:
                    json.load(response)
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"pos-hq serve did not start; see {log}") from None
                time.sleep(0.05)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)


ENTRY_COLUMNS = (
    "till_id",
    "seq",
    "entry_id",
    "source_store_id",
    "source_till_id",
    "kind",
    "member_id",
    "card_id",
    "operator_id",
    "approved_by_id",
    "business_time",
    "wall_time",
    "principal_delta",
    "bonus_delta",
    "points_delta",
    "amount_fen",
    "tender",
    "related_entry_id",
    "rules_version",
    "payload",
    "prev_hash",
    "hash",
    "received_at",
)


def held_entries(dsn: str) -> list[tuple[Any, ...]]:
    """Every entry row HQ holds, in (till, seq) order: the rows the COPY baseline writes."""
    columns = sql.SQL(", ").join(sql.Identifier(c) for c in ENTRY_COLUMNS)
    with psycopg.connect(dsn) as conn:
        query = sql.SQL("SELECT {} FROM hq_ledger_entry ORDER BY till_id, seq").format(columns)
        return list(conn.execute(query))


def bare_copy_seconds(dsn: str, rows: Sequence[tuple[Any, ...]], chunk: int = 1000) -> float:
    """The physical limit: the same rows COPYed into a table shaped like HQ's entry table
    (its keys and indexes), one transaction per `chunk` rows as ingest commits per batch."""
    columns = sql.SQL(", ").join(sql.Identifier(c) for c in ENTRY_COLUMNS)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_bare_copy")
        conn.execute(
            "CREATE TABLE bench_bare_copy (LIKE hq_ledger_entry INCLUDING DEFAULTS "
            "INCLUDING CONSTRAINTS INCLUDING INDEXES)"
        )
        copy = sql.SQL("COPY bench_bare_copy ({}) FROM STDIN").format(columns)
        started = time.perf_counter()
        for start in range(0, len(rows), chunk):
            with conn.transaction(), conn.cursor() as cur, cur.copy(copy) as writer:
                for row in rows[start : start + chunk]:
                    writer.write_row(row)
        elapsed = time.perf_counter() - started
        conn.execute("DROP TABLE bench_bare_copy")
    return elapsed
