"""Fixtures of the sync tests: an empty HQ database of each kind (SQLite and PostgreSQL), HQ
serving it, a fault proxy in front of HQ, and real till stores to sync."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.sync_support.fault_proxy import FaultProxy
from tests.sync_support.hq_databases import hq_database
from tests.sync_support.hq_thread import HqThread
from tests.sync_support.tills import SyncedTill, Template, build_template, make_till

TILL_CODES = ("SH01-01", "SH01-02", "SH01-03")


@pytest.fixture(params=["sqlite", "postgresql"])
def hq_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty HQ database, fresh for each test."""
    with hq_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def hq(hq_url: str) -> Iterator[HqThread]:
    """HQ's server (uvicorn, real HTTP on loopback) on that database."""
    with HqThread(hq_url) as server:
        yield server


@pytest.fixture
def proxy(hq: HqThread) -> Iterator[FaultProxy]:
    with FaultProxy("127.0.0.1", hq.port) as running:
        yield running


@pytest.fixture(scope="session")
def till_templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Template]:
    """A store of its own for each till code the sync tests use, made once per session."""
    return {
        code: build_template(tmp_path_factory.mktemp(f"till-template-{code}"))
        for code in TILL_CODES
    }


@pytest.fixture
def new_till(till_templates, tmp_path: Path) -> Iterator[Callable[..., SyncedTill]]:
    """new_till("SH01-02") → a till store of SH01 with a member card and an open shift."""
    made: list[SyncedTill] = []

    def make(code: str = "SH01-01", card_no: str | None = None) -> SyncedTill:
        card = card_no or f"8866{len(made) + 1:04d}"
        till = make_till(till_templates[code], tmp_path, code, card)
        made.append(till)
        return till

    yield make
    for till in made:
        till.close()
