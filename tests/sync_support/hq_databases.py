"""Empty HQ databases for a test: a SQLite file, or a PostgreSQL database of its own on
127.0.0.1:5432 (trust auth, user postgres) that is dropped afterwards.

Without a reachable PostgreSQL a developer's run skips the PostgreSQL half; under CI=true it
fails instead, since production runs on PostgreSQL.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=3"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def postgres_admin() -> psycopg.Connection:
    """An autocommit connection to the server's `postgres` database, or skip/fail."""
    try:
        return psycopg.connect(PG_ADMIN, autocommit=True)
    except psycopg.OperationalError as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"PostgreSQL at 127.0.0.1:5432 is required in CI: {exc}")
        pytest.skip(f"no PostgreSQL at 127.0.0.1:5432: {exc}")


@contextmanager
def postgres_database(prefix: str = "pos_hq_sync") -> Iterator[str]:
    """A fresh PostgreSQL database's SQLAlchemy URL, dropped (with its connections) after."""
    name = f"{prefix}_{secrets.token_hex(6)}"
    with postgres_admin() as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield PG_URL.format(name=name)
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@contextmanager
def hq_database(kind: str, folder: Path) -> Iterator[str]:
    """An empty HQ database of `kind` ("sqlite" or "postgresql")."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / f'hq-{secrets.token_hex(4)}.sqlite3'}"
        return
    if kind != "postgresql":
        raise ValueError(f"unknown HQ database kind {kind!r}")
    with postgres_database() as url:
        yield url
