"""The HQ database's engine, from a URL: `postgresql+psycopg://…` in production, a SQLite
file under the user data folder when none is given."""

from __future__ import annotations

from pathlib import Path

import platformdirs
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

APP_NAME = "pos-hq"


def default_url() -> str:
    return f"sqlite:///{Path(platformdirs.user_data_dir(APP_NAME)) / 'hq.sqlite3'}"


def open_engine(url: str) -> Engine:
    """An engine for `url`; a SQLite file's folder is made, and foreign keys enforced (SQLite
    leaves them off unless asked on every connection)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)

    @event.listens_for(engine, "connect")
    def _foreign_keys_on(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    return engine
