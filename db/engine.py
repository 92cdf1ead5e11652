"""SQLite engine set-up: WAL, synchronous=FULL, foreign keys, BEGIN IMMEDIATE writers.

pysqlite's own transaction handling is switched off so that SQLAlchemy's "begin" event can
issue BEGIN IMMEDIATE: a writer takes the write lock before it reads the balance it is about
to change, so two writers can never both read the same old balance.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session

BUSY_TIMEOUT_MS = 10_000


def make_engine(path: Path | str) -> Engine:
    """An engine on a SQLite file with the pragmas the ledger relies on."""
    engine = create_engine(f"sqlite:///{path}", future=True)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # let the "begin" event below decide
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("begin", "IMMEDIATE")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


@contextmanager
def write_session(engine: Engine) -> Iterator[Session]:
    """One write transaction (BEGIN IMMEDIATE … COMMIT), rolled back whole on any error."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        yield session


@contextmanager
def read_session(engine: Engine) -> Iterator[Session]:
    """A read transaction that does not take the write lock (WAL readers never block)."""
    with Session(engine.execution_options(begin="DEFERRED")) as session, session.begin():
        yield session
