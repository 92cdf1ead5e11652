"""The feed under concurrent writers on PostgreSQL (docs/chain-protocol.md, "Down"): ids come
from `feed_clock` under its row lock, so a writer that took an id later commits later, and a
reader's cursor never passes a change that was still uncommitted when it read."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from hq import admin, migrate
from hq.engine import open_engine
from hq.feed import BUILDERS, pulling_till, read_feed
from hq.feed_changes import Change, record_changes
from hq.models import FeedChange
from tests.sync_support.hq_databases import postgres_database

NOW = "2026-03-02T02:00:00.000000+00:00"
WRITERS = 4
CHANGES_EACH = 25


@pytest.fixture
def pg_engine() -> Iterator[Engine]:
    with postgres_database("pos_hq_feed") as url:
        engine = open_engine(url)
        migrate.upgrade(engine)
        try:
            yield engine
        finally:
            engine.dispose()


def test_a_cursor_never_skips_a_change_of_concurrent_writers(
    pg_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A kind of its own whose every key exists (the registry is open to new kinds).
    monkeypatch.setitem(BUILDERS, "probe", lambda _s, _till, keys: {k: {"key": k} for k in keys})
    with Session(pg_engine) as s, s.begin():
        admin.add_store(s, "SH01", "上海", datetime.now(UTC))
        admin.enroll_till(s, "SH01", datetime.now(UTC))
    errors: list[BaseException] = []
    done = threading.Event()

    def write(writer: int) -> None:
        try:
            for n in range(CHANGES_EACH):
                with Session(pg_engine) as s, s.begin():
                    record_changes(s, [Change("probe", f"w{writer}-{n}")], NOW)
                    # Hold the clock's lock a moment: later writers wait, readers read on.
                    time.sleep(0.002 * (writer + 1))
        except BaseException as exc:  # noqa: BLE001 — reported below
            errors.append(exc)

    seen: list[int] = []

    def read() -> None:
        cursor = 0
        try:
            while True:
                finished = done.is_set()
                with Session(pg_engine) as s, s.begin():
                    page = read_feed(s, pulling_till(s, "SH01-01"), cursor, 7)
                ids = [item["id"] for item in page.items]
                assert ids == sorted(ids) and all(i > cursor for i in ids)
                seen.extend(ids)
                cursor = page.cursor
                if finished and not page.more:
                    return
        except BaseException as exc:  # noqa: BLE001 — reported below
            errors.append(exc)

    writers = [threading.Thread(target=write, args=(w,)) for w in range(WRITERS)]
    reader = threading.Thread(target=read)
    reader.start()
    for t in writers:
        t.start()
    for t in writers:
        t.join(60)
    done.set()
    reader.join(60)
    assert not errors, errors
    with Session(pg_engine) as s:
        written = list(s.scalars(select(FeedChange.id).order_by(FeedChange.id)))
    # Every change, each once, though the reader paged while the writers were committing.
    assert written == list(range(1, WRITERS * CHANGES_EACH + 1))
    assert seen == written
