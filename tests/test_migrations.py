"""Alembic migrations: head matches the models, upgrades are idempotent, downgrades work."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

import db.migrate
from db.engine import make_engine
from db.migrate import alembic_config, is_current, upgrade
from db.models import Base
from pos_app.services.context import DB_FILENAME, open_store
from tests.services.support import ledger_count

TRIGGERS = {"ledger_entry_no_update", "ledger_entry_no_delete"}


@pytest.fixture
def engine(tmp_path):
    engine = make_engine(tmp_path / "fresh.sqlite3")
    yield engine
    engine.dispose()


def drift(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
        conn.rollback()
    return diff


def triggers(engine):
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'ledger_entry'"
        ).all()
        conn.rollback()
    return {name for (name,) in rows}


def current_revision(engine):
    with engine.connect() as conn:
        revision = MigrationContext.configure(conn).get_current_revision()
        conn.rollback()
    return revision


def head(engine):
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def test_an_empty_database_migrated_to_head_matches_the_models(engine):
    assert not is_current(engine)
    upgrade(engine)
    assert current_revision(engine) == head(engine)
    assert is_current(engine)
    assert drift(engine) == []
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())


def test_the_append_only_triggers_exist_after_migration(engine):
    upgrade(engine)
    assert triggers(engine) == TRIGGERS


def test_downgrade_to_base_then_upgrade_again(engine):
    upgrade(engine)
    command.downgrade(alembic_config(engine), "base")
    assert current_revision(engine) is None
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    assert triggers(engine) == set()
    upgrade(engine)
    assert current_revision(engine) == head(engine)
    assert drift(engine) == []
    assert triggers(engine) == TRIGGERS


def test_open_store_on_a_current_database_is_a_no_op(store, monkeypatch):
    entries_before = ledger_count(store)
    store.ctx.engine.dispose()

    def must_not_run(*args, **kwargs):
        raise AssertionError("upgrade ran on a current database")

    monkeypatch.setattr(command, "upgrade", must_not_run)
    ctx = open_store(store.data_dir, clock=store.clock)
    try:
        assert is_current(ctx.engine)
        assert ctx.store.code == "SH01"
    finally:
        ctx.engine.dispose()
    monkeypatch.undo()
    store.ctx = open_store(store.data_dir, clock=store.clock)
    assert ledger_count(store) == entries_before
    assert (store.data_dir / DB_FILENAME).exists()


def test_open_store_creates_and_migrates_a_new_database(tmp_path):
    ctx = open_store(tmp_path / "new-store")
    try:
        assert is_current(ctx.engine)
        assert triggers(ctx.engine) == TRIGGERS
        assert drift(ctx.engine) == []
    finally:
        ctx.engine.dispose()


def test_the_head_read_from_the_revision_files_is_alembics(engine):
    # is_current reads it without importing Alembic; it must be the head Alembic would find.
    assert db.migrate._head_revision() == head(engine)
