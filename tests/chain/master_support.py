"""HQ master data for the chain tests: an HQ database (SQLite or a fresh PostgreSQL) with
regions, stores and tills, the feed item a till would receive, and applying it at a real
till store inside a use case, as the feed apply does."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from hq import admin, migrate
from hq.engine import open_engine
from hq.master_feed import BUILDERS
from hq.models import FeedChange, Till
from pos_app.domain.permissions import Permission
from pos_app.services.master_apply import APPLIERS
from pos_app.services.use_case import use_case
from tests.conftest import StoreFixture
from tests.sync_support.hq_databases import hq_database

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


@dataclass
class ChainHq:
    """An HQ database with region EAST (stores SH01, SH02), NORTH (BJ01), one till each."""

    engine: Engine

    def session(self) -> Session:
        return Session(self.engine)

    def item(self, kind: str, key: str, till_code: str) -> dict[str, Any] | None:
        """What till `till_code` receives for the change (kind, key)."""
        with self.session() as session:
            till = session.scalars(select(Till).where(Till.code == till_code)).one()
            return BUILDERS[kind](session, key, till)

    def changes(self, kind: str) -> list[FeedChange]:
        with self.session() as session:
            rows = session.scalars(
                select(FeedChange).where(FeedChange.kind == kind).order_by(FeedChange.id)
            )
            return list(rows)


@pytest.fixture(params=["sqlite", "postgresql"])
def chain_hq(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ChainHq]:
    with hq_database(request.param, tmp_path) as url:
        engine = open_engine(url)
        try:
            migrate.upgrade(engine)
            with Session(engine) as session, session.begin():
                admin.add_region(session, "EAST", "华东", NOW)
                admin.add_region(session, "NORTH", "华北", NOW)
                for code, region in (("SH01", "EAST"), ("SH02", "EAST"), ("BJ01", "NORTH")):
                    admin.add_store(session, code, f"门店 {code}", NOW, region)
                    admin.enroll_till(session, code, NOW)
            yield ChainHq(engine)
        finally:
            engine.dispose()


def apply_item(store: StoreFixture, kind: str, data: dict[str, Any]) -> None:
    """Apply one feed item at the till in a write transaction of its own (the feed apply
    runs one per pull, as the till's admin or its sync operator)."""
    with use_case(store.ctx, store.admin, Permission.SYNC_SETUP, target=kind) as uc:
        APPLIERS[kind](uc, data)
