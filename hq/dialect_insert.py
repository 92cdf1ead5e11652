"""INSERT … ON CONFLICT for the database at hand: PostgreSQL and SQLite spell it the same,
but SQLAlchemy builds it from each dialect's own `insert`."""

from __future__ import annotations

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite


def conflict_insert(connection: Connection, table: Table) -> postgresql.Insert | sqlite.Insert:
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
