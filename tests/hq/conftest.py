"""Every HQ test runs on both databases: a SQLite file, and a PostgreSQL database of its own
(created on 127.0.0.1:5432 as user postgres, trust auth, and dropped afterwards).

Without a reachable PostgreSQL the PostgreSQL half is skipped on a developer's machine, but
fails in CI (CI=true): production runs on PostgreSQL, so CI must never pass without it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from hq import migrate
from hq.admin import till_status
from hq.engine import open_engine
from hq.models import Till
from hq.server import create_app
from tests.hq.signing_till import SigningTill, add_store_and_till, body_of, enroll
from tests.sync_support.hq_databases import hq_database


@pytest.fixture(params=["sqlite", "postgresql"])
def hq_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty HQ database, fresh for each test."""
    with hq_database(request.param, tmp_path) as url:
        yield url


@dataclass
class Hq:
    """An initialised HQ database with store SH01 and its till SH01-01 enrolled (through
    POST /v1/enroll), served by the real FastAPI app through Starlette's TestClient."""

    url: str
    engine: Engine
    client: TestClient
    till: SigningTill = field(init=False)

    def push(
        self,
        entries: Sequence[dict[str, Any]] = (),
        rows: Sequence[dict[str, Any]] = (),
        *,
        signer: SigningTill | None = None,
        path_till: str | None = None,
        now: datetime | None = None,
        nonce: str | None = None,
    ) -> httpx.Response:
        signer = signer or self.till
        path = f"/v1/tills/{path_till or signer.code}/batches"
        body = body_of({"entries": list(entries), "rows": list(rows)})
        headers = signer.headers("POST", path, body, now=now, nonce=nonce)
        return self.client.post(path, content=body, headers=headers)

    def get(self, path: str, signer: SigningTill | None = None) -> httpx.Response:
        return self.client.get(path, headers=(signer or self.till).headers("GET", path))

    def new_till(self, store: str = "SH01") -> SigningTill:
        with Session(self.engine) as session, session.begin():
            token = add_store_and_till(session, store)
            code = session.scalars(select(Till.code).order_by(Till.id.desc())).first()
        assert code is not None
        till = SigningTill(code)
        assert enroll(self.client, till, token).status_code == 200
        return till

    def status(self) -> dict[str, dict[str, object]]:
        with Session(self.engine) as session:
            return {t["till"]: t for t in till_status(session)}  # type: ignore[misc]


@pytest.fixture
def hq(hq_url: str) -> Iterator[Hq]:
    engine = open_engine(hq_url)
    migrate.upgrade(engine)
    try:
        with TestClient(create_app(engine)) as client:
            hq = Hq(hq_url, engine, client)
            hq.till = hq.new_till()
            assert hq.till.code == "SH01-01"
            yield hq
    finally:
        engine.dispose()
