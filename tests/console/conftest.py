"""The HQ console on both HQ databases (SQLite file and a fresh PostgreSQL database), over
the seeded chain of tests/console/chain_seed.py, through the real HQ app."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from hq import migrate
from hq.engine import open_engine
from hq.server import create_app
from tests.console.chain_seed import PASSWORD, SeededChain, seed_chain
from tests.sync_support.hq_databases import hq_database

SECRET = "console-test-secret-0123456789abcdef0123"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class Clock:
    """HQ's clock for a test: moves only when told (lockouts last 15 minutes)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@dataclass
class Console:
    engine: Engine
    client: TestClient
    clock: Clock
    chain: SeededChain

    def csrf(self, path: str = "/console/sign-in") -> str:
        found = _CSRF.search(self.client.get(path).text)
        assert found, f"no CSRF token on {path}"
        return found.group(1)

    def sign_in(self, login: str, password: str = PASSWORD) -> httpx.Response:
        token = self.csrf()
        return self.client.post(
            "/console/sign-in",
            data={"login": login, "password": password, "csrf": token},
            follow_redirects=False,
        )

    def as_(self, login: str) -> Console:
        """Signed in as `login` (a fresh cookie jar)."""
        self.client.cookies.clear()
        response = self.sign_in(login)
        assert response.status_code == 303, response.text
        return self

    def post(self, path: str, data: dict[str, str], page: str) -> httpx.Response:
        """A form POST with the CSRF token of `page` (where the form is)."""
        return self.client.post(
            path, data={**data, "csrf": self.csrf(page)}, follow_redirects=False
        )


@pytest.fixture(params=["sqlite", "postgresql"])
def hq_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty HQ database of each kind, fresh for each test."""
    with hq_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def console(hq_url: str) -> Iterator[Console]:
    engine = open_engine(hq_url)
    migrate.upgrade(engine)
    clock = Clock(datetime.now(UTC).replace(microsecond=0))
    try:
        chain = seed_chain(engine, clock.now)
        app = create_app(engine, clock, console_secret=SECRET)
        with TestClient(app) as client:
            yield Console(engine, client, clock, chain)
    finally:
        engine.dispose()
