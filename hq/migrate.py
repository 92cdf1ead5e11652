"""Run the HQ's Alembic migrations (hq/migrations, separate from the till's)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision(engine: Engine) -> str | None:
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


# The revision that made the chain views (chain_card, positions, the feed): a database made
# before it holds tills' entries the views must be rebuilt from.
CHAIN_VIEWS_REVISION = "0003"


def upgrade(engine: Engine) -> bool:
    """Bring the database to the newest schema; False (and nothing done) when it is there."""
    before = current_revision(engine)
    if before == head_revision(engine):
        return False
    command.upgrade(alembic_config(engine), "head")
    if before is not None and _older(engine, before, CHAIN_VIEWS_REVISION):
        _rebuild_chain_views(engine)
    return True


def _older(engine: Engine, revision: str, than: str) -> bool:
    """Whether `revision` comes before `than` in the migrations' history."""
    script = ScriptDirectory.from_config(alembic_config(engine))
    return revision in {r.revision for r in script.iterate_revisions(than, "base")} - {than}


def _rebuild_chain_views(engine: Engine) -> None:
    # Imported here: the chain views pull in the models and the till's domain, which a bare
    # schema upgrade does not need.
    from sqlalchemy.orm import Session

    from hq.admin import iso
    from hq.chain_views import rebuild

    with Session(engine) as session, session.begin():
        rebuild(session, iso(datetime.now(UTC)))
